//! Validation of KubeStash objects as pure functions, shared by the operator, the webhook
//! rules and `kubectl kubestash validate`. Every finding names the kind, object, field path
//! and reason.

mod addons;
mod core;
mod cross;
mod session;
mod storage;
pub mod usage_policy;

use std::fmt;

use serde::Serialize;

use crate::object::{Object, ObjectKey};

pub use cross::validate_set;
pub use usage_policy::{label_selector_matches, namespace_allowed, NamespaceAccess};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The object is rejected.
    Error,
    /// The object is accepted, but something is probably not what the author meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// One problem with one field of one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Kind of the object.
    pub kind: String,
    /// Namespace of the object, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    pub name: String,
    /// Field path, e.g. `spec.sessions[0].scheduler.schedule`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl Finding {
    /// The object the finding is about.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}: {}", self.key(), self.field, self.reason)
    }
}

/// Collects the findings of one object.
pub(crate) struct Findings {
    key: ObjectKey,
    items: Vec<Finding>,
}

impl Findings {
    pub(crate) fn new(key: ObjectKey) -> Self {
        Self {
            key,
            items: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.push(Severity::Error, field.into(), reason.into());
    }

    pub(crate) fn warning(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.push(Severity::Warning, field.into(), reason.into());
    }

    fn push(&mut self, severity: Severity, field: String, reason: String) {
        self.items.push(Finding {
            severity,
            kind: self.key.kind.clone(),
            namespace: self.key.namespace.clone(),
            name: self.key.name.clone(),
            field,
            reason,
        });
    }

    pub(crate) fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// Validates one object on its own (the rules a validating webhook applies to it alone).
pub fn validate_object(object: &Object) -> Vec<Finding> {
    let mut findings = Findings::new(object.key());
    if object.is_kubestash() && findings.key.name.is_empty() {
        findings.error("metadata.name", "name is required");
    }
    match object {
        Object::BackupStorage(storage) => storage::backup_storage(storage, &mut findings),
        Object::Repository(repository) => storage::repository(repository, &mut findings),
        Object::RetentionPolicy(policy) => storage::retention_policy(policy, &mut findings),
        Object::Snapshot(snapshot) => storage::snapshot(snapshot, &mut findings),
        Object::BackupConfiguration(configuration) => {
            core::backup_configuration(configuration, &mut findings)
        }
        Object::BackupSession(session) => core::backup_session(session, &mut findings),
        Object::RestoreSession(session) => core::restore_session(session, &mut findings),
        Object::HookTemplate(template) => core::hook_template(template, &mut findings),
        Object::BackupBlueprint(blueprint) => core::backup_blueprint(blueprint, &mut findings),
        Object::BackupBatch(batch) => core::backup_batch(batch, &mut findings),
        Object::BackupVerifier(verifier) => core::backup_verifier(verifier, &mut findings),
        Object::BackupVerificationSession(session) => {
            core::backup_verification_session(session, &mut findings)
        }
        Object::Addon(addon) => addons::addon(addon, &mut findings),
        Object::Function(function) => addons::function(function, &mut findings),
        Object::AppBinding(_) | Object::Other(_) => {}
    }
    findings.into_vec()
}

/// Checks a Go duration field.
pub(crate) fn check_duration(findings: &mut Findings, field: &str, value: Option<&str>) {
    if let Some(text) = value {
        if let Err(error) = crate::duration::parse_go_duration(text) {
            findings.error(field, error.to_string());
        }
    }
}

/// Names that occur more than once, in order of their second occurrence.
pub(crate) fn duplicates<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    let mut repeated = Vec::new();
    for name in names {
        if !seen.insert(name) && !repeated.contains(&name) {
            repeated.push(name);
        }
    }
    repeated
}
