//! Listing: label and field selectors, `limit`/`continue` pagination with tokens in the
//! apiserver's format, and the resource version a list is consistent at.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};

use super::{ApiError, Cluster};
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{ObjectName, StoreState};

/// Selection and paging of a list or watch.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

impl ListQuery {
    /// Parses selectors and paging, rejecting field labels the resource does not support.
    pub fn parse(
        resource: &ResourceType,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        limit: Option<&str>,
        continue_token: Option<&str>,
    ) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(label_selector.unwrap_or_default())
            .map_err(|error| ApiError::bad_request(error.to_string()))?;
        let fields = FieldSelector::parse(field_selector.unwrap_or_default())
            .map_err(|error| ApiError::bad_request(error.to_string()))?;
        for requirement in &fields.requirements {
            if !resource.supports_field_label(&requirement.field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {}",
                    requirement.field
                )));
            }
        }
        let limit = match limit {
            Some(text) if !text.is_empty() => Some(
                text.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("invalid limit \"{text}\"")))?,
            ),
            _ => None,
        };
        Ok(Self {
            labels,
            fields,
            limit: limit.filter(|limit| *limit > 0).map(|limit| limit as usize),
            continue_token: continue_token
                .filter(|token| !token.is_empty())
                .map(str::to_string),
        })
    }

    /// Whether an object passes both selectors.
    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }
}

/// A page of a list.
#[derive(Debug, Clone)]
pub(crate) struct ListResult {
    pub items: Vec<Arc<Value>>,
    pub revision: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// Encodes a continue token the way the apiserver does (base64 JSON with `rv` and `start`).
pub(crate) fn continue_token(revision: u64, last: &ObjectName) -> String {
    let start = format!("{}/{}\u{0}", last.0, last.1);
    let payload = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start});
    base64::engine::general_purpose::URL_SAFE.encode(payload.to_string())
}

/// The position after which a continued list goes on, and the revision its first page was
/// served at.
fn decode_continue(token: &str) -> Result<(ObjectName, Option<u64>), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .map_err(|_| invalid())?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let start = payload["start"].as_str().ok_or_else(invalid)?;
    let start = start.trim_end_matches('\u{0}');
    let (namespace, name) = start.split_once('/').ok_or_else(invalid)?;
    let revision = payload["rv"].as_u64();
    Ok(((namespace.to_string(), name.to_string()), revision))
}

impl Cluster {
    /// Lists objects.
    pub fn list(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        query: &ListQuery,
    ) -> Result<ListResult, ApiError> {
        let state = self.lock();
        self.list_locked(&state, resource, namespace, query)
    }

    /// Lists with the store locked.
    pub(crate) fn list_locked(
        &self,
        state: &StoreState,
        resource: &ResourceType,
        namespace: Option<&str>,
        query: &ListQuery,
    ) -> Result<ListResult, ApiError> {
        let namespace = namespace.filter(|_| resource.namespaced);
        let continued = query
            .continue_token
            .as_deref()
            .map(decode_continue)
            .transpose()?;
        // Every page reports the first page's revision, as the apiserver serves them all
        // from one snapshot: a watch from it then replays what changed while paging. (The
        // items are current ones; the replay covers the difference.)
        let revision = continued
            .as_ref()
            .and_then(|(_, revision)| *revision)
            .unwrap_or_else(|| state.revision());
        let after = continued.map(|(after, _)| after);
        if let (Some(name), None) = (query.fields.pinned_name(), &after) {
            if let Some(namespace) = namespace {
                let key = (namespace.to_string(), name.to_string());
                let items = state
                    .get(&resource.storage_key(), &key)
                    .filter(|object| query.matches(object))
                    .into_iter()
                    .collect();
                return Ok(ListResult {
                    items,
                    revision,
                    continue_token: None,
                    remaining: None,
                });
            }
        }
        let mut items = Vec::new();
        let mut iterator = state
            .range(&resource.storage_key(), namespace, after.as_ref())
            .filter(|(_, object)| query.matches(object));
        let mut last_key = None;
        for (key, object) in iterator.by_ref() {
            items.push(object.clone());
            if query.limit.is_some_and(|limit| items.len() >= limit) {
                last_key = Some(key.clone());
                break;
            }
        }
        let remaining = match last_key {
            Some(_) => iterator.count(),
            None => 0,
        };
        let (continue_token, remaining) = match last_key {
            Some(last) if remaining > 0 => (Some(continue_token(revision, &last)), Some(remaining)),
            _ => (None, None),
        };
        Ok(ListResult {
            items,
            revision,
            continue_token,
            remaining,
        })
    }
}
