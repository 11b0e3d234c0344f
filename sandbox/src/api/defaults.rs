//! Server-side defaulting of built-in kinds (the fields a real server fills and clients come
//! to rely on) and the immutable fields it protects.

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::names;
use crate::registry::ResourceType;
use crate::validation::FieldError;

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn object_at<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value[key].is_object() {
        value[key] = json!({});
    }
    value[key].as_object_mut().expect("made an object")
}

fn default_pod_spec(spec: &mut Value) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    set_default(map, "restartPolicy", json!("Always"));
    set_default(map, "dnsPolicy", json!("ClusterFirst"));
    set_default(map, "schedulerName", json!("default-scheduler"));
    set_default(map, "terminationGracePeriodSeconds", json!(30));
    set_default(map, "securityContext", json!({}));
    if map.contains_key("serviceAccountName") || !map.contains_key("serviceAccount") {
        set_default(map, "serviceAccountName", json!("default"));
    }
    for list in ["containers", "initContainers"] {
        if let Some(containers) = map.get_mut(list).and_then(Value::as_array_mut) {
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                set_default(
                    container,
                    "terminationMessagePath",
                    json!("/dev/termination-log"),
                );
                set_default(container, "terminationMessagePolicy", json!("File"));
                let image = container
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let pull = if image.ends_with(":latest")
                    || !image.rsplit('/').next().unwrap_or_default().contains(':')
                {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                set_default(container, "imagePullPolicy", json!(pull));
                set_default(container, "resources", json!({}));
            }
        }
    }
}

fn default_template(object: &mut Value, path: &[&str]) {
    let mut current = &mut *object;
    for segment in path {
        if current.get(*segment).is_none() {
            return;
        }
        current = &mut current[*segment];
    }
    default_pod_spec(&mut current["spec"]);
}

fn convert_string_data(object: &mut Value) {
    let Some(string_data) = object.get("stringData").and_then(Value::as_object).cloned() else {
        return;
    };
    let data = object_at(object, "data");
    for (key, value) in string_data {
        let text = value.as_str().unwrap_or_default();
        data.insert(
            key,
            json!(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("stringData");
    }
}

fn next_cluster_ip() -> String {
    let value = names::random_u64();
    format!("10.96.{}.{}", (value >> 8) % 256, (value % 253) + 2)
}

/// Fills the defaults of a built-in object; `old` is the stored object on updates.
/// The first of the paths defaulting writes into that holds something other than an object
/// (a body such as `{"spec": {"template": "x"}}`), as `spec.template`.
pub(crate) fn misshapen(object: &Value) -> Option<String> {
    const PATHS: [&[&str]; 12] = [
        &["metadata"],
        &["metadata", "labels"],
        &["metadata", "annotations"],
        &["spec"],
        &["spec", "selector"],
        &["spec", "template"],
        &["spec", "template", "metadata"],
        &["spec", "template", "spec"],
        &["spec", "jobTemplate"],
        &["spec", "jobTemplate", "spec"],
        &["spec", "jobTemplate", "spec", "template"],
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ];
    if !object.is_object() {
        return Some(String::new());
    }
    PATHS.iter().find_map(|path| {
        let mut value = object;
        for (depth, key) in path.iter().enumerate() {
            match value.get(*key) {
                None | Some(Value::Null) => return None,
                Some(next) if next.is_object() => value = next,
                Some(_) => return Some(path[..=depth].join(".")),
            }
        }
        None
    })
}

pub(crate) fn apply(resource: &ResourceType, object: &mut Value, old: Option<&Value>) {
    if resource.custom {
        return;
    }
    let creating = old.is_none();
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "namespaces") => {
            let name = super::name_of(object).to_string();
            object_at(&mut object["metadata"], "labels")
                .insert("kubernetes.io/metadata.name".to_string(), json!(name));
            if creating {
                set_default(
                    object_at(object, "spec"),
                    "finalizers",
                    json!(["kubernetes"]),
                );
                object["status"] = json!({"phase": "Active"});
            }
        }
        ("", "secrets") => {
            convert_string_data(object);
            if let Some(map) = object.as_object_mut() {
                set_default(map, "type", json!("Opaque"));
            }
        }
        ("", "pods") => {
            default_pod_spec(&mut object["spec"]);
            if creating {
                object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
            }
        }
        ("", "services") => {
            let spec = object_at(object, "spec");
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
            if !external {
                let ip = old
                    .and_then(|old| old["spec"]["clusterIP"].as_str().map(str::to_string))
                    .unwrap_or_else(next_cluster_ip);
                set_default(spec, "clusterIP", json!(ip));
                let ip = spec["clusterIP"].clone();
                set_default(spec, "clusterIPs", json!([ip]));
                set_default(spec, "ipFamilies", json!(["IPv4"]));
                set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                set_default(spec, "internalTrafficPolicy", json!("Cluster"));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(port, "protocol", json!("TCP"));
                    let number = port.get("port").cloned().unwrap_or(Value::Null);
                    set_default(port, "targetPort", number);
                }
            }
            if creating {
                object["status"] = json!({"loadBalancer": {}});
            }
        }
        ("", "persistentvolumeclaims") => {
            set_default(object_at(object, "spec"), "volumeMode", json!("Filesystem"));
            if creating {
                object["status"] = json!({"phase": "Pending"});
            }
        }
        ("", "persistentvolumes") => {
            let spec = object_at(object, "spec");
            set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            set_default(spec, "volumeMode", json!("Filesystem"));
            if creating {
                object["status"] = json!({"phase": "Available"});
            }
        }
        ("apps", "deployments") => {
            let spec = object_at(object, "spec");
            set_default(spec, "replicas", json!(1));
            set_default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            );
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            default_template(object, &["spec", "template"]);
        }
        ("apps", "statefulsets") => {
            let spec = object_at(object, "spec");
            set_default(spec, "replicas", json!(1));
            set_default(spec, "podManagementPolicy", json!("OrderedReady"));
            set_default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            default_template(object, &["spec", "template"]);
        }
        ("apps", "daemonsets") => {
            let spec = object_at(object, "spec");
            set_default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
            set_default(spec, "revisionHistoryLimit", json!(10));
            default_template(object, &["spec", "template"]);
        }
        ("apps", "replicasets") => {
            set_default(object_at(object, "spec"), "replicas", json!(1));
            default_template(object, &["spec", "template"]);
        }
        ("batch", "jobs") => default_job(object),
        ("batch", "cronjobs") => {
            let spec = object_at(object, "spec");
            set_default(spec, "concurrencyPolicy", json!("Allow"));
            set_default(spec, "suspend", json!(false));
            set_default(spec, "successfulJobsHistoryLimit", json!(3));
            set_default(spec, "failedJobsHistoryLimit", json!(1));
            default_template(object, &["spec", "jobTemplate", "spec", "template"]);
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            set_default(
                object_at(object, "spec"),
                "conversion",
                json!({"strategy": "None"}),
            );
        }
        _ => {}
    }
}

fn default_job(object: &mut Value) {
    let uid = super::uid_of(object).to_string();
    let name = super::name_of(object).to_string();
    let spec = object_at(object, "spec");
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completions", json!(1));
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual {
        set_default(
            spec,
            "selector",
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
        let template = spec.entry("template").or_insert_with(|| json!({}));
        let labels = object_at(object_at_value(template, "metadata"), "labels");
        for (key, value) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("job-name", &name),
        ] {
            labels
                .entry(key.to_string())
                .or_insert_with(|| json!(value));
        }
    }
    default_template(object, &["spec", "template"]);
}

fn object_at_value<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    if !value[key].is_object() {
        value[key] = json!({});
    }
    &mut value[key]
}

/// Errors for changes to fields a real server treats as immutable.
pub(crate) fn immutable_fields(
    resource: &ResourceType,
    old: &Value,
    new: &Value,
) -> Vec<FieldError> {
    if resource.custom {
        return Vec::new();
    }
    let fields: &[&str] = match (resource.group.as_str(), resource.plural.as_str()) {
        ("batch", "jobs") => &["selector", "template"],
        ("apps", "deployments" | "replicasets" | "daemonsets" | "statefulsets") => &["selector"],
        ("", "persistentvolumeclaims") => &["accessModes", "storageClassName", "volumeMode"],
        _ => &[],
    };
    let mut errors = Vec::new();
    for field in fields {
        let before = &old["spec"][*field];
        let after = &new["spec"][*field];
        if before != after && !before.is_null() {
            errors.push(FieldError::immutable(&format!("spec.{field}")));
        }
    }
    if matches!(
        (resource.group.as_str(), resource.plural.as_str()),
        ("", "secrets" | "configmaps")
    ) && old["immutable"].as_bool() == Some(true)
        && (old["data"] != new["data"] || old["binaryData"] != new["binaryData"])
    {
        errors.push(FieldError::forbidden(
            "data",
            "field is immutable when `immutable` is set",
        ));
    }
    errors
}
