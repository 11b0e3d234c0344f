//! Decoding of the Kubernetes protobuf envelope for the few bodies kubectl sends that way
//! (`kubectl create namespace|configmap|secret`): object metadata plus ConfigMap and Secret
//! data. Other protobuf bodies are refused with 415.

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::api::ApiError;

const MAGIC: &[u8] = b"k8s\x00";

struct Reader<'a> {
    bytes: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first()?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn next(&mut self) -> Option<Option<(u64, Field<'a>)>> {
        if self.bytes.is_empty() {
            return Some(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            2 => {
                let length = self.varint()? as usize;
                if length > self.bytes.len() {
                    return None;
                }
                let (value, rest) = self.bytes.split_at(length);
                self.bytes = rest;
                Field::Bytes(value)
            }
            1 => {
                self.bytes = self.bytes.get(8..)?;
                Field::Varint(0)
            }
            5 => {
                self.bytes = self.bytes.get(4..)?;
                Field::Varint(0)
            }
            _ => return None,
        };
        Some(Some((key >> 3, field)))
    }

    fn fields(bytes: &'a [u8]) -> Option<Vec<(u64, Field<'a>)>> {
        let mut reader = Reader { bytes };
        let mut fields = Vec::new();
        while let Some(field) = reader.next()? {
            fields.push(field);
        }
        Some(fields)
    }
}

fn text(bytes: &[u8]) -> Value {
    json!(String::from_utf8_lossy(bytes))
}

fn map_entry(bytes: &[u8], binary: bool) -> Option<(String, Value)> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (number, field) in Reader::fields(bytes)? {
        if let Field::Bytes(content) = field {
            match number {
                1 => key = String::from_utf8_lossy(content).into_owned(),
                2 if binary => {
                    value = json!(base64::engine::general_purpose::STANDARD.encode(content))
                }
                2 => value = text(content),
                _ => {}
            }
        }
    }
    Some((key, value))
}

fn metadata(bytes: &[u8]) -> Option<Value> {
    let mut metadata = Map::new();
    for (number, field) in Reader::fields(bytes)? {
        let Field::Bytes(content) = field else {
            continue;
        };
        let name = match number {
            1 => "name",
            2 => "generateName",
            3 => "namespace",
            6 => "resourceVersion",
            11 | 12 => {
                let key = if number == 11 {
                    "labels"
                } else {
                    "annotations"
                };
                let (entry_key, entry_value) = map_entry(content, false)?;
                let map = metadata.entry(key).or_insert_with(|| json!({}));
                map[entry_key] = entry_value;
                continue;
            }
            14 => {
                let list = metadata.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(items) = list.as_array_mut() {
                    items.push(text(content));
                }
                continue;
            }
            _ => continue,
        };
        metadata.insert(name.to_string(), text(content));
    }
    Some(Value::Object(metadata))
}

/// Decodes a protobuf request body into JSON, for the kinds kubectl creates that way.
pub(crate) fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let malformed = || ApiError::bad_request("unable to decode the protobuf request body");
    let envelope = body.strip_prefix(MAGIC).ok_or_else(malformed)?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, field) in Reader::fields(envelope).ok_or_else(malformed)? {
        let Field::Bytes(content) = field else {
            continue;
        };
        match number {
            1 => {
                for (type_number, type_field) in Reader::fields(content).ok_or_else(malformed)? {
                    if let Field::Bytes(value) = type_field {
                        match type_number {
                            1 => api_version = String::from_utf8_lossy(value).into_owned(),
                            2 => kind = String::from_utf8_lossy(value).into_owned(),
                            _ => {}
                        }
                    }
                }
            }
            2 => raw = content,
            _ => {}
        }
    }
    if !matches!(kind.as_str(), "Namespace" | "ConfigMap" | "Secret") {
        return Err(ApiError::unsupported_body(
            "application/vnd.kubernetes.protobuf",
        ));
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    for (number, field) in Reader::fields(raw).ok_or_else(malformed)? {
        match (kind.as_str(), number, field) {
            (_, 1, Field::Bytes(content)) => {
                object["metadata"] = metadata(content).ok_or_else(malformed)?
            }
            ("ConfigMap" | "Secret", 2, Field::Bytes(content)) => {
                let (key, value) = map_entry(content, kind == "Secret").ok_or_else(malformed)?;
                if !object["data"].is_object() {
                    object["data"] = json!({});
                }
                object["data"][key] = value;
            }
            ("ConfigMap", 3, Field::Bytes(content)) => {
                let (key, value) = map_entry(content, true).ok_or_else(malformed)?;
                if !object["binaryData"].is_object() {
                    object["binaryData"] = json!({});
                }
                object["binaryData"][key] = value;
            }
            ("Secret", 3, Field::Bytes(content)) => object["type"] = text(content),
            ("Secret", 4, Field::Bytes(content)) => {
                let (key, value) = map_entry(content, false).ok_or_else(malformed)?;
                if !object["stringData"].is_object() {
                    object["stringData"] = json!({});
                }
                object["stringData"][key] = value;
            }
            ("ConfigMap", 4, Field::Varint(value)) | ("Secret", 5, Field::Varint(value)) => {
                object["immutable"] = json!(value != 0)
            }
            _ => {}
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u8, content: &[u8]) -> Vec<u8> {
        let mut bytes = vec![(number << 3) | 2, content.len() as u8];
        bytes.extend_from_slice(content);
        bytes
    }

    #[test]
    fn a_namespace_envelope_decodes_to_json() {
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let label = [field(1, b"team"), field(2, b"a")].concat();
        let metadata = [field(1, b"shop"), field(11, &label)].concat();
        let raw = field(1, &metadata);
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "a"}}})
        );
    }
}
