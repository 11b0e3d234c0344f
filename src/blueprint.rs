//! Auto-backup: resolving a BackupBlueprint's template for an annotated target into the
//! BackupConfiguration the operator creates (`kubectl kubestash blueprint preview` shows the
//! same result).

use std::collections::BTreeMap;

use kube::api::ObjectMeta;
use serde_json::Value;

use crate::api::common::TypedObjectReference;
use crate::api::core::{
    BackendReference, BackupBlueprint, BackupConfiguration, BackupConfigurationSpec, Session,
    BLUEPRINT_SESSIONS_ANNOTATION, VARIABLES_ANNOTATION_PREFIX,
};
use crate::api::{INVOKER_NAMESPACE_LABEL, INVOKER_NAME_LABEL};
use crate::object::annotations_of;
use crate::placeholder::substitute_value;
use crate::validation::{namespace_allowed, NamespaceAccess};

/// The object a blueprint is applied to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Annotations (blueprint reference and `variables.kubestash.com/*`).
    pub annotations: BTreeMap<String, String>,
}

impl Target {
    /// Reads a target from a Kubernetes object given as JSON.
    pub fn from_value(value: &Value) -> Option<Self> {
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Some(Self {
            api_version: text("/apiVersion")?,
            kind: text("/kind")?,
            namespace: text("/metadata/namespace").unwrap_or_else(|| "default".into()),
            name: text("/metadata/name")?,
            annotations: annotations_of(value),
        })
    }

    /// The API group of the target (`""` for the core group).
    pub fn api_group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(group, _)| group)
            .unwrap_or("")
    }

    /// Variables given by `variables.kubestash.com/<name>` annotations.
    pub fn variables(&self) -> BTreeMap<String, String> {
        self.annotations
            .iter()
            .filter_map(|(key, value)| {
                key.strip_prefix(VARIABLES_ANNOTATION_PREFIX)
                    .map(|name| (name.to_string(), value.clone()))
            })
            .collect()
    }
}

/// A resolved blueprint.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The BackupConfiguration to create.
    pub configuration: BackupConfiguration,
    /// Placeholders that no annotation or built-in resolved, in order of appearance.
    pub unresolved: Vec<String>,
}

impl Resolution {
    /// The unresolved placeholders as `${name}` and the annotations that would give them
    /// values (`variables.kubestash.com/<name>`); `None` when everything resolved.
    pub fn missing(&self) -> Option<(String, String)> {
        if self.unresolved.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .unresolved
            .iter()
            .map(|name| format!("${{{name}}}"))
            .collect();
        let annotations: Vec<String> = self
            .unresolved
            .iter()
            .map(|name| format!("{VARIABLES_ANNOTATION_PREFIX}{name}"))
            .collect();
        Some((names.join(", "), annotations.join(", ")))
    }
}

/// Why a blueprint cannot be applied to a target at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlueprintError {
    /// The blueprint has no template.
    #[error("BackupBlueprint {blueprint} has no spec.backupConfigurationTemplate")]
    NoTemplate {
        /// `namespace/name` of the blueprint.
        blueprint: String,
    },
    /// The blueprint's usage policy denies the target's namespace.
    #[error("BackupBlueprint {blueprint} cannot be used from namespace `{namespace}`: {reason}")]
    NotAllowed {
        /// `namespace/name` of the blueprint.
        blueprint: String,
        /// The target's namespace.
        namespace: String,
        /// Why.
        reason: String,
    },
    /// The session-names annotation names sessions the blueprint lacks.
    #[error("annotation {BLUEPRINT_SESSIONS_ANNOTATION} names unknown sessions of BackupBlueprint {blueprint}: {names} (known: {known})")]
    UnknownSessions {
        /// `namespace/name` of the blueprint.
        blueprint: String,
        /// The unknown names.
        names: String,
        /// The blueprint's sessions.
        known: String,
    },
    /// The substituted template no longer fits the API types.
    #[error("BackupBlueprint {blueprint}: the resolved template is not a valid BackupConfiguration: {reason}")]
    Invalid {
        /// `namespace/name` of the blueprint.
        blueprint: String,
        /// Why.
        reason: String,
    },
}

/// The name of the BackupConfiguration generated for a target: `<lowercase kind>-<name>`.
pub fn configuration_name(target: &Target) -> String {
    format!("{}-{}", target.kind.to_lowercase(), target.name)
}

/// Resolves `blueprint` for `target`. Variables come from the target's
/// `variables.kubestash.com/*` annotations; `namespace`, `targetName`, `targetKind` and
/// `targetApiGroup` fall back to the target's own identity when not annotated.
pub fn resolve(
    blueprint: &BackupBlueprint,
    target: &Target,
    target_namespace_labels: Option<&BTreeMap<String, String>>,
) -> Result<Resolution, BlueprintError> {
    let blueprint_namespace = blueprint
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let blueprint_name = blueprint.metadata.name.clone().unwrap_or_default();
    let display = format!("{blueprint_namespace}/{blueprint_name}");
    let Some(template) = &blueprint.spec.backup_configuration_template else {
        return Err(BlueprintError::NoTemplate { blueprint: display });
    };
    let access = namespace_allowed(
        blueprint.spec.usage_policy.as_ref(),
        &blueprint_namespace,
        &target.namespace,
        target_namespace_labels,
    );
    if let NamespaceAccess::Denied(reason) = access {
        return Err(BlueprintError::NotAllowed {
            blueprint: display,
            namespace: target.namespace.clone(),
            reason,
        });
    }

    let mut sessions = template.sessions.clone().unwrap_or_default();
    if let Some(selected) = target.annotations.get(BLUEPRINT_SESSIONS_ANNOTATION) {
        let wanted: Vec<&str> = selected
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        let unknown: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|name| !sessions.iter().any(|session| session.config.name == *name))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = sessions
                .iter()
                .map(|session| session.config.name.as_str())
                .collect();
            return Err(BlueprintError::UnknownSessions {
                blueprint: display,
                names: unknown.join(", "),
                known: known.join(", "),
            });
        }
        sessions.retain(|session| wanted.contains(&session.config.name.as_str()));
    }

    let mut variables = target.variables();
    let built_ins = [
        ("namespace", target.namespace.clone()),
        ("targetName", target.name.clone()),
        ("targetKind", target.kind.clone()),
        ("targetApiGroup", target.api_group().to_string()),
    ];
    for (name, value) in built_ins {
        variables.entry(name.to_string()).or_insert(value);
    }
    let lookup = |name: &str| variables.get(name).cloned();
    let mut unresolved = Vec::new();
    let invalid = |reason: String| BlueprintError::Invalid {
        blueprint: display.clone(),
        reason,
    };

    let mut sessions_value =
        serde_json::to_value(&sessions).map_err(|error| invalid(error.to_string()))?;
    substitute_value(&mut sessions_value, &lookup, &mut unresolved);
    let sessions: Vec<Session> =
        serde_json::from_value(sessions_value).map_err(|error| invalid(error.to_string()))?;
    let mut backends_value = serde_json::to_value(template.backends.clone().unwrap_or_default())
        .map_err(|error| invalid(error.to_string()))?;
    substitute_value(&mut backends_value, &lookup, &mut unresolved);
    let backends: Vec<BackendReference> =
        serde_json::from_value(backends_value).map_err(|error| invalid(error.to_string()))?;

    let namespace = template
        .namespace
        .clone()
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or_else(|| blueprint_namespace.clone());
    let labels = BTreeMap::from([
        (INVOKER_NAME_LABEL.to_string(), blueprint_name.clone()),
        (
            INVOKER_NAMESPACE_LABEL.to_string(),
            blueprint_namespace.clone(),
        ),
    ]);
    let configuration = BackupConfiguration {
        metadata: ObjectMeta {
            name: Some(configuration_name(target)),
            namespace: Some(namespace),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        spec: BackupConfigurationSpec {
            target: Some(TypedObjectReference {
                api_group: Some(target.api_group().to_string()),
                kind: Some(target.kind.clone()),
                namespace: Some(target.namespace.clone()),
                name: target.name.clone(),
            }),
            backends: (!backends.is_empty()).then_some(backends),
            sessions: Some(sessions),
            paused: false,
        },
        status: None,
    };
    Ok(Resolution {
        configuration,
        unresolved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{parse_documents, Object};

    fn example(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/examples/auto-backup")
            .join(name);
        std::fs::read_to_string(path).expect("the shared examples are beside the repository")
    }

    fn blueprint() -> BackupBlueprint {
        match parse_documents(&example("backupblueprint.yaml"))
            .remove(0)
            .unwrap()
            .0
        {
            Object::BackupBlueprint(blueprint) => blueprint,
            other => panic!("not a blueprint: {other:?}"),
        }
    }

    fn deployment() -> Target {
        let (_, value) = parse_documents(&example("deployment.yaml"))
            .remove(0)
            .unwrap();
        Target::from_value(&value).unwrap()
    }

    #[test]
    fn the_example_resolves_every_variable() {
        let resolution = resolve(&blueprint(), &deployment(), None).unwrap();
        assert!(
            resolution.unresolved.is_empty(),
            "{:?}",
            resolution.unresolved
        );
        let configuration = resolution.configuration;
        assert_eq!(
            configuration.metadata.name.as_deref(),
            Some("deployment-invoices")
        );
        assert_eq!(configuration.metadata.namespace.as_deref(), Some("shop"));
        let labels = configuration.metadata.labels.unwrap();
        assert_eq!(labels[INVOKER_NAME_LABEL], "team-workloads");
        let target = configuration.spec.target.unwrap();
        assert_eq!(
            (
                target.api_group.as_deref(),
                target.kind.as_deref(),
                target.name.as_str()
            ),
            (Some("apps"), Some("Deployment"), "invoices")
        );
        let session = &configuration.spec.sessions.unwrap()[0];
        assert_eq!(
            session.config.scheduler.as_ref().unwrap().schedule,
            "15 3 * * *"
        );
        let repository = &session.repositories.as_ref().unwrap()[0];
        assert_eq!(repository.name, "invoices-repo");
        assert_eq!(repository.directory, "shop/invoices");
        let parameters = session.addon.as_ref().unwrap().tasks.as_ref().unwrap()[0]
            .params
            .clone()
            .unwrap();
        assert_eq!(parameters["paths"], "/srv/invoices");
    }

    #[test]
    fn a_missing_variable_is_reported_by_name() {
        let mut target = deployment();
        target.annotations.remove("variables.kubestash.com/paths");
        let resolution = resolve(&blueprint(), &target, None).unwrap();
        assert_eq!(resolution.unresolved, ["paths"]);
    }

    #[test]
    fn built_in_variables_fill_in_for_missing_annotations() {
        let mut target = deployment();
        target
            .annotations
            .remove("variables.kubestash.com/namespace");
        target
            .annotations
            .remove("variables.kubestash.com/targetName");
        let resolution = resolve(&blueprint(), &target, None).unwrap();
        assert!(resolution.unresolved.is_empty());
        let sessions = resolution.configuration.spec.sessions.unwrap();
        assert_eq!(
            sessions[0].repositories.as_ref().unwrap()[0].directory,
            "shop/invoices"
        );
    }

    #[test]
    fn unknown_session_names_are_rejected() {
        let mut target = deployment();
        target
            .annotations
            .insert(BLUEPRINT_SESSIONS_ANNOTATION.into(), "daily,weekly".into());
        let error = resolve(&blueprint(), &target, None).unwrap_err();
        assert!(error.to_string().contains("weekly"), "{error}");
    }

    #[test]
    fn a_same_namespace_blueprint_refuses_other_namespaces() {
        let mut blueprint = blueprint();
        blueprint.spec.usage_policy = None;
        let mut target = deployment();
        target.namespace = "elsewhere".into();
        assert!(matches!(
            resolve(&blueprint, &target, None),
            Err(BlueprintError::NotAllowed { .. })
        ));
    }
}
