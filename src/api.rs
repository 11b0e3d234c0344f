//! The KubeStash `v1alpha1` API as Rust types, one module per kind, plus the generated
//! CustomResourceDefinitions.

pub mod addons;
pub mod appcatalog;
pub mod common;
pub mod core;
pub mod storage;

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use kube::CustomResourceExt;

/// The only served version of every KubeStash kind.
pub const VERSION: &str = "v1alpha1";
/// Finalizer on objects whose state lives outside Kubernetes.
pub const CLEANUP_FINALIZER: &str = "kubestash.com/cleanup";
/// Label on every object the operator manages.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "kubestash.com";
/// Offshoot label: name of the invoking BackupConfiguration, BackupBatch or RestoreSession.
pub const INVOKER_NAME_LABEL: &str = "kubestash.com/invoker-name";
/// Offshoot label: namespace of the invoker.
pub const INVOKER_NAMESPACE_LABEL: &str = "kubestash.com/invoker-namespace";
/// Offshoot label: kind of the invoker.
pub const INVOKER_KIND_LABEL: &str = "kubestash.com/invoker-kind";
/// Offshoot label: session name.
pub const SESSION_NAME_LABEL: &str = "kubestash.com/session-name";
/// Snapshot label: repository name.
pub const REPOSITORY_NAME_LABEL: &str = "kubestash.com/repo-name";
/// Snapshot label: kind of the backed-up application.
pub const APP_REF_KIND_LABEL: &str = "kubestash.com/app-ref-kind";
/// Snapshot label: namespace of the backed-up application.
pub const APP_REF_NAMESPACE_LABEL: &str = "kubestash.com/app-ref-namespace";
/// Snapshot label: name of the backed-up application.
pub const APP_REF_NAME_LABEL: &str = "kubestash.com/app-ref-name";
/// Encryption Secret key holding the restic password.
pub const RESTIC_PASSWORD_KEY: &str = "RESTIC_PASSWORD";

/// Every CustomResourceDefinition this project serves: the 14 KubeStash kinds and AppBinding,
/// ordered by group and plural.
pub fn crds() -> Vec<CustomResourceDefinition> {
    let mut definitions = vec![
        addons::Addon::crd(),
        addons::Function::crd(),
        appcatalog::AppBinding::crd(),
        core::BackupBatch::crd(),
        core::BackupBlueprint::crd(),
        core::BackupConfiguration::crd(),
        core::BackupSession::crd(),
        core::BackupVerificationSession::crd(),
        core::BackupVerifier::crd(),
        core::HookTemplate::crd(),
        core::RestoreSession::crd(),
        storage::BackupStorage::crd(),
        storage::Repository::crd(),
        storage::RetentionPolicy::crd(),
        storage::Snapshot::crd(),
    ];
    let kubernetes = kubernetes_descriptions();
    for definition in &mut definitions {
        for version in &mut definition.spec.versions {
            if let Some(schema) = version
                .schema
                .as_mut()
                .and_then(|schema| schema.open_api_v3_schema.as_mut())
            {
                strip_descriptions(schema, &kubernetes);
            }
        }
    }
    definitions.sort_by_key(crd_file_name);
    definitions
}

/// The committed `crds/` files, compiled in. Generating the CRDs from the types ([`crds`])
/// costs seconds of CPU (the schemas of the embedded pod templates are deep), which every
/// `operator run`, `install` and `demo` would pay at start; these are the same documents,
/// which the drift test (`crds/` against [`crds`]) keeps true.
const COMMITTED_CRDS: [&str; 15] = [
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/addons.kubestash.com_addons.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/addons.kubestash.com_functions.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/appcatalog.appscode.com_appbindings.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupbatches.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupblueprints.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupconfigurations.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupsessions.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupverificationsession.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_backupverifier.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_hooktemplates.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/core.kubestash.com_restoresessions.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/storage.kubestash.com_backupstorages.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/storage.kubestash.com_repositories.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/storage.kubestash.com_retentionpolicies.yaml"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/storage.kubestash.com_snapshots.yaml"
    )),
];

/// The CustomResourceDefinitions as JSON objects, ready to apply, parsed from the committed
/// `crds/` files (see [`crds`] for the source of truth) one at a time as the iterator goes:
/// all fifteen at once were the operator's start-up peak (~15 MB of JSON values).
pub fn crd_manifests() -> impl Iterator<Item = serde_json::Value> {
    COMMITTED_CRDS
        .iter()
        .map(|text| serde_yaml::from_str(text).expect("the committed CRDs are valid YAML"))
}

/// Descriptions that come from the embedded Kubernetes types (Affinity, Volume, Probe, ...).
///
/// Dropping them from our CRDs keeps every CRD well under the 256 KiB that `kubectl apply`'s
/// last-applied annotation allows (with them, BackupConfiguration alone is ~880 KB of JSON),
/// while our own field descriptions, which `kubectl explain` shows, stay.
fn kubernetes_descriptions() -> BTreeSet<String> {
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let _ = (
        generator.subschema_for::<core::Volume>(),
        generator.subschema_for::<core::VolumeMount>(),
        generator.subschema_for::<core::VolumeDevice>(),
        generator.subschema_for::<core::PersistentVolumeClaim>(),
        generator.subschema_for::<core::PersistentVolumeClaimTemplate>(),
        generator.subschema_for::<core::PodSecurityContext>(),
        generator.subschema_for::<core::SecurityContext>(),
        generator.subschema_for::<core::Affinity>(),
        generator.subschema_for::<core::Toleration>(),
        generator.subschema_for::<core::TopologySpreadConstraint>(),
        generator.subschema_for::<core::PodReadinessGate>(),
        generator.subschema_for::<core::ResourceRequirements>(),
        generator.subschema_for::<core::Probe>(),
        generator.subschema_for::<core::Lifecycle>(),
        generator.subschema_for::<core::EnvVar>(),
        generator.subschema_for::<core::EnvFromSource>(),
        generator.subschema_for::<core::ContainerPort>(),
        generator.subschema_for::<core::TypedLocalObjectReference>(),
        generator.subschema_for::<meta::OwnerReference>(),
        generator.subschema_for::<meta::LabelSelector>(),
    );
    let mut descriptions = BTreeSet::new();
    for definition in generator.definitions().values() {
        collect_descriptions(definition, &mut descriptions);
    }
    descriptions
}

fn collect_descriptions(value: &serde_json::Value, descriptions: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("description", serde_json::Value::String(text)) => {
                        descriptions.insert(text.clone());
                    }
                    _ => collect_descriptions(child, descriptions),
                }
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|item| collect_descriptions(item, descriptions)),
        _ => {}
    }
}

fn strip_descriptions(schema: &mut JSONSchemaProps, kubernetes: &BTreeSet<String>) {
    if schema
        .description
        .as_ref()
        .is_some_and(|text| kubernetes.contains(text))
    {
        schema.description = None;
    }
    for property in schema
        .properties
        .iter_mut()
        .flat_map(|properties| properties.values_mut())
    {
        strip_descriptions(property, kubernetes);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = schema.items.as_mut() {
        strip_descriptions(items, kubernetes);
    }
    if let Some(JSONSchemaPropsOrBool::Schema(additional)) = schema.additional_properties.as_mut() {
        strip_descriptions(additional, kubernetes);
    }
}

/// The file name of a CRD in `crds/`: `<group>_<plural>.yaml`.
pub fn crd_file_name(definition: &CustomResourceDefinition) -> String {
    format!(
        "{}_{}.yaml",
        definition.spec.group, definition.spec.names.plural
    )
}

/// A CRD as the YAML document committed in `crds/`.
pub fn crd_yaml(definition: &CustomResourceDefinition) -> String {
    serde_yaml::to_string(definition).expect("a CustomResourceDefinition always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Walks a schema the way the API server's structural-schema check does and returns the
    /// paths that break it.
    fn structural_problems(schema: &Value, path: &str, problems: &mut Vec<String>) {
        let Some(object) = schema.as_object() else {
            return;
        };
        if object.contains_key("$ref") {
            problems.push(format!("{path}: $ref"));
        }
        for key in ["anyOf", "oneOf", "allOf", "not"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array) {
                for branch in branches {
                    for forbidden in [
                        "type",
                        "description",
                        "default",
                        "nullable",
                        "additionalProperties",
                    ] {
                        if branch.get(forbidden).is_some() {
                            problems.push(format!(
                                "{path}.{key}: `{forbidden}` inside a logical junctor"
                            ));
                        }
                    }
                }
            }
        }
        let preserves =
            object.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        let int_or_string = object.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
        if object.get("type").is_none() && !preserves && !int_or_string {
            problems.push(format!("{path}: no type"));
        }
        if object.contains_key("properties") && object.contains_key("additionalProperties") {
            problems.push(format!("{path}: both properties and additionalProperties"));
        }
        if object.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
            let required: Vec<&str> = object
                .get("items")
                .and_then(|items| items.get("required"))
                .and_then(Value::as_array)
                .map(|required| required.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for key in object
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !required.contains(&key.as_str().unwrap_or_default()) {
                    problems.push(format!("{path}: list-map key {key} is not required"));
                }
            }
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                structural_problems(property, &format!("{path}.{name}"), problems);
            }
        }
        if let Some(items) = object.get("items") {
            structural_problems(items, &format!("{path}[]"), problems);
        }
        if let Some(additional) = object
            .get("additionalProperties")
            .filter(|value| value.is_object())
        {
            structural_problems(additional, &format!("{path}{{}}"), problems);
        }
    }

    #[test]
    fn every_kind_has_one_structural_crd() {
        let definitions = crds();
        assert_eq!(definitions.len(), 15, "14 KubeStash kinds and AppBinding");
        for definition in &definitions {
            let name = definition.metadata.name.clone().unwrap_or_default();
            assert_eq!(definition.spec.versions.len(), 1, "{name}");
            let version = &definition.spec.versions[0];
            assert_eq!(version.name, VERSION, "{name}");
            let schema = serde_json::to_value(
                version
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap(),
            )
            .unwrap();
            let mut problems = Vec::new();
            structural_problems(&schema, &name, &mut problems);
            assert!(
                problems.is_empty(),
                "{name} is not structural:\n{}",
                problems.join("\n")
            );
        }
    }

    #[test]
    fn names_scopes_and_short_names_match_kubestash() {
        let definitions = crds();
        let find = |plural: &str| {
            definitions
                .iter()
                .find(|definition| definition.spec.names.plural == plural)
                .unwrap()
                .clone()
        };
        assert_eq!(find("addons").spec.scope, "Cluster");
        assert_eq!(find("functions").spec.scope, "Cluster");
        assert_eq!(
            find("functions").spec.names.short_names,
            Some(vec!["fn".to_string()])
        );
        assert_eq!(
            find("repositories").spec.names.short_names,
            Some(vec!["repo".to_string()])
        );
        assert_eq!(
            find("backupconfigurations").spec.names.short_names,
            Some(vec!["bc".to_string()])
        );
        assert_eq!(
            find("restoresessions").spec.names.short_names,
            Some(vec!["restore".to_string()])
        );
        assert_eq!(find("backupverifier").spec.names.kind, "BackupVerifier");
        assert_eq!(
            find("backupverificationsession").spec.names.kind,
            "BackupVerificationSession"
        );
        assert_eq!(find("backupstorages").spec.scope, "Namespaced");
        let categories = find("snapshots").spec.names.categories.unwrap();
        assert_eq!(categories, ["kubestash", "appscode"]);
        assert!(find("retentionpolicies").spec.versions[0]
            .subresources
            .is_none());
        assert!(find("snapshots").spec.versions[0]
            .subresources
            .as_ref()
            .unwrap()
            .status
            .is_some());
    }

    #[test]
    fn every_crd_fits_the_last_applied_annotation() {
        for definition in crds() {
            let size = serde_json::to_vec(&definition).unwrap().len();
            assert!(
                size < 200 * 1024,
                "{} is {size} bytes of JSON",
                crd_file_name(&definition)
            );
            let text = crd_yaml(&definition);
            assert!(
                text.contains("description: Scheduling constraints.")
                    || !text.contains("affinity:")
            );
        }
    }

    #[test]
    fn crd_file_names_follow_group_and_plural() {
        let names: Vec<String> = crds().iter().map(crd_file_name).collect();
        assert!(names.contains(&"storage.kubestash.com_backupstorages.yaml".to_string()));
        assert!(names.contains(&"core.kubestash.com_backupverifier.yaml".to_string()));
        assert!(names.contains(&"appcatalog.appscode.com_appbindings.yaml".to_string()));
    }

    #[test]
    fn the_compiled_in_crds_are_the_generated_ones() {
        let generated: Vec<serde_json::Value> = crds()
            .iter()
            .map(|crd| serde_json::to_value(crd).unwrap())
            .collect();
        assert!(
            crd_manifests().collect::<Vec<_>>() == generated,
            "crds/ is stale: run `cargo run -p kubectl-kubestash -- crds --out crds`"
        );
    }

    #[test]
    fn acronym_fields_keep_kubestash_spelling() {
        let snapshot: storage::SnapshotSpec =
            serde_json::from_value(serde_json::json!({"repository": "r", "snapshotID": "01H"}))
                .unwrap();
        assert_eq!(snapshot.snapshot_id.as_deref(), Some("01H"));
        let s3: storage::S3Spec = serde_json::from_value(
            serde_json::json!({"endpoint": "e", "bucket": "b", "insecureTLS": true}),
        )
        .unwrap();
        assert_eq!(s3.insecure_tls, Some(true));
        let text = serde_json::to_string(&s3).unwrap();
        assert!(text.contains("\"insecureTLS\":true"), "{text}");
    }
}
