//! The KubeStash `v1alpha1` API as Rust types, one module per kind, plus the generated
//! CustomResourceDefinitions.

pub mod addons;
pub mod appcatalog;
pub mod common;
pub mod core;
pub mod storage;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
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
    definitions.sort_by(|left, right| crd_file_name(left).cmp(&crd_file_name(right)));
    definitions
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
