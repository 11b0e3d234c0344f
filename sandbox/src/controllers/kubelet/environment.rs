//! What a container process sees: its volumes materialized on the host, the mount map
//! (`KUBESTASH_SANDBOX_MOUNTS`), its environment with Secret/ConfigMap/downward-API values
//! resolved and `$(VAR)` references expanded, and its program and arguments.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

use super::super::{claim_dir, Settings};
use crate::api::{name_of, namespace_of, uid_of, Cluster};

/// A volume or value the pod needs is not there yet (the pod waits, as on a real node).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NotReady(pub String);

fn decoded(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap_or_default())
        .unwrap_or_default()
}

/// Files of a Secret (`data`, base64) or ConfigMap (`data` and `binaryData`).
fn source_files(
    cluster: &Cluster,
    namespace: &str,
    source: &Value,
    secret: bool,
) -> Result<BTreeMap<String, Vec<u8>>, NotReady> {
    let (plural, name_field) = if secret {
        ("secrets", "secretName")
    } else {
        ("configmaps", "name")
    };
    let name = source[name_field].as_str().unwrap_or_default();
    let optional = source["optional"].as_bool() == Some(true);
    let object = match cluster.get(&cluster.builtin("", plural), namespace, name) {
        Ok(object) => object,
        Err(_) if optional => return Ok(BTreeMap::new()),
        Err(_) => return Err(NotReady(format!("{plural} \"{name}\" not found"))),
    };
    let mut files = BTreeMap::new();
    for (key, value) in object["data"].as_object().into_iter().flatten() {
        let bytes = if secret {
            decoded(value)
        } else {
            value.as_str().unwrap_or_default().as_bytes().to_vec()
        };
        files.insert(key.clone(), bytes);
    }
    for (key, value) in object["binaryData"].as_object().into_iter().flatten() {
        files.insert(key.clone(), decoded(value));
    }
    if let Some(items) = source["items"].as_array() {
        let mut selected = BTreeMap::new();
        for item in items {
            let key = item["key"].as_str().unwrap_or_default();
            if let Some(bytes) = files.get(key) {
                selected.insert(
                    item["path"].as_str().unwrap_or(key).to_string(),
                    bytes.clone(),
                );
            }
        }
        return Ok(selected);
    }
    Ok(files)
}

fn write_files(directory: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), NotReady> {
    for (relative, bytes) in files {
        let path = directory.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                NotReady(format!("failed to create `{}`: {error}", parent.display()))
            })?;
        }
        std::fs::write(&path, bytes)
            .map_err(|error| NotReady(format!("failed to write `{}`: {error}", path.display())))?;
    }
    Ok(())
}

/// The scratch directory of a pod.
pub(crate) fn pod_dir(cluster: &Cluster, pod: &Value) -> PathBuf {
    let uid = uid_of(pod);
    cluster
        .data_dir
        .join("pods")
        .join(namespace_of(pod))
        .join(format!("{}-{}", name_of(pod), &uid[..uid.len().min(8)]))
}

/// Materializes the pod's volumes; returns the host path of each volume by name.
pub(crate) fn prepare_volumes(
    cluster: &Cluster,
    pod: &Value,
) -> Result<BTreeMap<String, PathBuf>, NotReady> {
    let namespace = namespace_of(pod);
    let base = pod_dir(cluster, pod).join("volumes");
    let mut volumes = BTreeMap::new();
    for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or_default().to_string();
        let scratch = base.join(&name);
        let create = |path: &Path| {
            std::fs::create_dir_all(path).map_err(|error| {
                NotReady(format!("failed to create `{}`: {error}", path.display()))
            })
        };
        let path = if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            let claims = cluster.builtin("", "persistentvolumeclaims");
            let bound = cluster
                .get(&claims, namespace, claim)
                .map(|claim| claim["status"]["phase"] == "Bound")
                .unwrap_or(false);
            if !bound {
                return Err(NotReady(format!(
                    "persistentvolumeclaim \"{claim}\" is not bound"
                )));
            }
            let directory = claim_dir(cluster, namespace, claim);
            create(&directory)?;
            directory
        } else if volume.get("secret").is_some() || volume.get("configMap").is_some() {
            let secret = volume.get("secret").is_some();
            let source = if secret {
                &volume["secret"]
            } else {
                &volume["configMap"]
            };
            create(&scratch)?;
            write_files(&scratch, &source_files(cluster, namespace, source, secret)?)?;
            scratch
        } else if let Some(path) = volume["hostPath"]["path"].as_str() {
            let path = PathBuf::from(path);
            if matches!(
                volume["hostPath"]["type"].as_str(),
                Some("DirectoryOrCreate")
            ) || !path.exists()
            {
                create(&path)?;
            }
            path
        } else if let Some(sources) = volume["projected"]["sources"].as_array() {
            create(&scratch)?;
            for source in sources {
                if source.get("secret").is_some() {
                    let mut secret = source["secret"].clone();
                    secret["secretName"] = secret["name"].clone();
                    write_files(&scratch, &source_files(cluster, namespace, &secret, true)?)?;
                } else if source.get("configMap").is_some() {
                    write_files(
                        &scratch,
                        &source_files(cluster, namespace, &source["configMap"], false)?,
                    )?;
                }
            }
            scratch
        } else {
            create(&scratch)?;
            scratch
        };
        volumes.insert(name, path);
    }
    Ok(volumes)
}

/// `{mountPath: host path}` for one container.
pub(crate) fn mounts(
    container: &Value,
    volumes: &BTreeMap<String, PathBuf>,
) -> BTreeMap<String, String> {
    let mut mounts = BTreeMap::new();
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let Some(host) = volumes.get(mount["name"].as_str().unwrap_or_default()) else {
            continue;
        };
        let mut host = host.clone();
        if let Some(sub_path) = mount["subPath"]
            .as_str()
            .filter(|sub_path| !sub_path.is_empty())
        {
            host = host.join(sub_path);
            if !host.exists() {
                let _ = std::fs::create_dir_all(&host);
            }
        }
        if let Some(path) = mount["mountPath"].as_str() {
            mounts.insert(path.to_string(), host.display().to_string());
        }
    }
    mounts
}

/// Expands `$(NAME)` references; `$$(NAME)` escapes to a literal `$(NAME)`.
pub(crate) fn expand(text: &str, environment: &BTreeMap<String, String>) -> String {
    let mut result = String::new();
    let mut rest = text;
    while let Some(position) = rest.find('$') {
        result.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        if let Some(escaped) = after.strip_prefix("$(") {
            result.push_str("$(");
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match environment.get(name) {
                        Some(value) => result.push_str(value),
                        None => {
                            result.push_str("$(");
                            result.push_str(name);
                            result.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    result.push('$');
                    rest = after;
                }
            }
        } else {
            result.push('$');
            rest = after;
        }
    }
    result.push_str(rest);
    result
}

fn field_reference(pod: &Value, path: &str) -> String {
    match path {
        "status.podIP" => super::pod_ip(pod),
        "status.hostIP" => "127.0.0.1".to_string(),
        other => crate::selector::field_value(pod, other),
    }
}

fn key_of(
    cluster: &Cluster,
    namespace: &str,
    reference: &Value,
    secret: bool,
) -> Result<Option<String>, NotReady> {
    let plural = if secret { "secrets" } else { "configmaps" };
    let name = reference["name"].as_str().unwrap_or_default();
    let key = reference["key"].as_str().unwrap_or_default();
    let optional = reference["optional"].as_bool() == Some(true);
    let value = cluster
        .get(&cluster.builtin("", plural), namespace, name)
        .ok()
        .and_then(|object| object["data"].get(key).cloned());
    match value {
        Some(value) if secret => Ok(Some(String::from_utf8_lossy(&decoded(&value)).into_owned())),
        Some(value) => Ok(value.as_str().map(str::to_string)),
        None if optional => Ok(None),
        None => Err(NotReady(format!(
            "couldn't find key {key} in {plural} {namespace}/{name}"
        ))),
    }
}

/// The container's own environment (`envFrom`, then `env`), resolved.
pub(crate) fn container_environment(
    cluster: &Cluster,
    pod: &Value,
    container: &Value,
) -> Result<BTreeMap<String, String>, NotReady> {
    let namespace = namespace_of(pod);
    let mut environment = BTreeMap::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let prefix = source["prefix"].as_str().unwrap_or_default();
        let (reference, secret) = if source.get("secretRef").is_some() {
            (&source["secretRef"], true)
        } else {
            (&source["configMapRef"], false)
        };
        let mut volume_source = reference.clone();
        volume_source["secretName"] = reference["name"].clone();
        for (key, bytes) in source_files(cluster, namespace, &volume_source, secret)? {
            environment.insert(
                format!("{prefix}{key}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            );
        }
    }
    for variable in container["env"].as_array().into_iter().flatten() {
        let name = variable["name"].as_str().unwrap_or_default().to_string();
        let value = if let Some(value) = variable["value"].as_str() {
            Some(expand(value, &environment))
        } else if let Some(path) = variable["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            Some(field_reference(pod, path))
        } else if variable["valueFrom"].get("secretKeyRef").is_some() {
            key_of(
                cluster,
                namespace,
                &variable["valueFrom"]["secretKeyRef"],
                true,
            )?
        } else if variable["valueFrom"].get("configMapKeyRef").is_some() {
            key_of(
                cluster,
                namespace,
                &variable["valueFrom"]["configMapKeyRef"],
                false,
            )?
        } else {
            Some(String::new())
        };
        if let Some(value) = value {
            environment.insert(name, value);
        }
    }
    Ok(environment)
}

/// The program and arguments of a container (see the crate docs for the rules).
pub(crate) fn command_line(
    settings: &Settings,
    container: &Value,
    environment: &BTreeMap<String, String>,
) -> (PathBuf, Vec<String>) {
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|text| expand(text, environment))
            .collect()
    };
    let command = strings(&container["command"]);
    let arguments = strings(&container["args"]);
    match command.split_first() {
        Some((first, rest)) => {
            let is_project_binary = Path::new(first)
                .file_name()
                .is_some_and(|name| name == "kubectl-kubestash");
            let program = if is_project_binary {
                settings.binary.clone()
            } else {
                PathBuf::from(first)
            };
            let mut all = rest.to_vec();
            all.extend(arguments);
            (program, all)
        }
        None => (settings.binary.clone(), arguments),
    }
}

/// The mount map as the JSON the executor reads.
pub(crate) fn mounts_json(mounts: &BTreeMap<String, String>) -> String {
    json!(mounts).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_and_escapes_stay_literal() {
        let environment = BTreeMap::from([("A".to_string(), "1".to_string())]);
        assert_eq!(
            expand("x-$(A)-$(B)-$$(A)-$", &environment),
            "x-1-$(B)-$(A)-$"
        );
    }

    #[test]
    fn a_kubectl_kubestash_command_means_the_configured_binary() {
        let settings = Settings {
            project_image: "image".to_string(),
            binary: PathBuf::from("/opt/bin/real"),
            kubeconfig: PathBuf::from("/tmp/kubeconfig"),
        };
        let environment = BTreeMap::new();
        let container =
            json!({"command": ["/usr/local/bin/kubectl-kubestash", "operator"], "args": ["run"]});
        assert_eq!(
            command_line(&settings, &container, &environment),
            (
                PathBuf::from("/opt/bin/real"),
                vec!["operator".to_string(), "run".to_string()]
            )
        );
        let shell = json!({"command": ["/bin/sh", "-c"], "args": ["exit 3"]});
        assert_eq!(
            command_line(&settings, &shell, &environment).0,
            PathBuf::from("/bin/sh")
        );
        let only_arguments = json!({"args": ["version"]});
        assert_eq!(
            command_line(&settings, &only_arguments, &environment),
            (PathBuf::from("/opt/bin/real"), vec!["version".to_string()])
        );
    }

    #[test]
    fn mounts_map_mount_paths_to_volume_directories_with_sub_paths() {
        let volumes = BTreeMap::from([("data".to_string(), PathBuf::from("/host/data"))]);
        let container = json!({"volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/app"},
            {"name": "missing", "mountPath": "/nowhere"}
        ]});
        let mounts = mounts(&container, &volumes);
        assert_eq!(
            mounts,
            BTreeMap::from([("/var/lib/app".to_string(), "/host/data".to_string())])
        );
    }
}
