//! The two kinds that invoke backups, seen one way: a BackupConfiguration backs up one
//! target per session, a BackupBatch several. The session controller, the CronJob trigger,
//! the retention executor and the invoker controllers work on [`Invoker`], so a batch runs
//! through the same code as a configuration.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Api, Client, ResourceExt};
use kubestash::api::common::{Condition, PodTemplateSpec, TypedObjectReference};
use kubestash::api::core::session::{
    AddonInfo, BackendReference, BackendStatus, BackupInvokerPhase, RepositoryInfo, SessionConfig,
};
use kubestash::api::core::{BackupBatch, BackupConfiguration};

use crate::util;
use crate::Result;

/// Kind of a BackupConfiguration.
pub const CONFIGURATION: &str = "BackupConfiguration";
/// Kind of a BackupBatch.
pub const BATCH: &str = "BackupBatch";
/// Env var of a batch's backup Job: the repositories of the target it backs up. The
/// executor writes only into the session's Snapshots of those repositories.
pub const REPOSITORIES_ENV: &str = "KUBESTASH_TARGET_REPOSITORIES";

/// One target of one session: what to back up, with which Addon, into which repositories.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Unit {
    /// The batch's identifier of the target (`spec.targets[].name`); `None` for a
    /// configuration.
    pub target: Option<String>,
    /// The object backed up.
    pub app_ref: Option<TypedObjectReference>,
    /// The Addon and its tasks.
    pub addon: Option<AddonInfo>,
    /// Repositories written.
    pub repositories: Vec<RepositoryInfo>,
}

impl Unit {
    /// The Snapshot component a Job of this unit writes, as recorded in the session's
    /// component list: `<target>/<component>` in a batch, the component alone otherwise.
    pub fn job_key(&self, component: &str) -> String {
        match &self.target {
            Some(target) => format!("{target}/{component}"),
            None => component.to_string(),
        }
    }
}

/// One session of an invoker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InvokerSession {
    /// Schedule, hooks, retries, timeout, history limit.
    pub config: SessionConfig,
    /// The targets this session backs up.
    pub units: Vec<Unit>,
}

impl InvokerSession {
    /// The unit a component-list entry (see [`Unit::job_key`]) belongs to, and the component.
    pub fn unit_of<'a>(&'a self, key: &'a str) -> Option<(&'a Unit, &'a str)> {
        match key.split_once('/') {
            Some((target, component)) => self
                .units
                .iter()
                .find(|u| u.target.as_deref() == Some(target))
                .map(|u| (u, component)),
            None => self
                .units
                .iter()
                .find(|u| u.target.is_none())
                .map(|u| (u, key)),
        }
    }

    /// Every repository of the session.
    pub fn repositories(&self) -> impl Iterator<Item = &RepositoryInfo> {
        self.units.iter().flat_map(|u| u.repositories.iter())
    }

    /// The Addon pod template every target of the session agrees on, for a Job that works
    /// for them all (retention): a batch whose targets set different ones (one pinned to a
    /// node, say) gets none rather than the first target's.
    pub fn shared_pod_template(&self) -> Option<PodTemplateSpec> {
        let mut templates = self
            .units
            .iter()
            .map(|u| u.addon.as_ref().and_then(|a| a.job_template.clone()));
        let first = templates.next()??;
        templates
            .all(|template| template.as_ref() == Some(&first))
            .then_some(first)
    }
}

/// A BackupConfiguration or BackupBatch.
#[derive(Clone, Debug, Default)]
pub struct Invoker {
    /// [`CONFIGURATION`] or [`BATCH`].
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// A controller reference to the invoker.
    pub owner: OwnerReference,
    /// Backends.
    pub backends: Vec<BackendReference>,
    /// Whether the schedules are suspended.
    pub paused: bool,
    /// The sessions.
    pub sessions: Vec<InvokerSession>,
    /// Every target with its batch identifier.
    pub targets: Vec<(Option<String>, TypedObjectReference)>,
    /// `status.phase`.
    pub phase: Option<BackupInvokerPhase>,
    /// `status.conditions`.
    pub conditions: Vec<Condition>,
    /// `status.backends`.
    pub backend_status: Vec<BackendStatus>,
    /// Whether the status says a target is missing.
    pub target_missing: bool,
}

impl Invoker {
    /// The view of a BackupConfiguration.
    pub fn from_configuration(configuration: &BackupConfiguration) -> Self {
        let status = configuration.status.clone().unwrap_or_default();
        let target = configuration.spec.target.clone();
        Self {
            kind: CONFIGURATION,
            name: configuration.name_any(),
            namespace: configuration.namespace().unwrap_or_default(),
            owner: util::owner_reference(configuration, true),
            backends: configuration.spec.backends.clone().unwrap_or_default(),
            paused: configuration.spec.paused,
            sessions: configuration
                .spec
                .sessions
                .iter()
                .flatten()
                .map(|session| InvokerSession {
                    config: session.config.clone(),
                    units: vec![Unit {
                        target: None,
                        app_ref: target.clone(),
                        addon: session.addon.clone(),
                        repositories: session.repositories.clone().unwrap_or_default(),
                    }],
                })
                .collect(),
            targets: target.into_iter().map(|t| (None, t)).collect(),
            phase: status.phase,
            conditions: status.conditions.unwrap_or_default(),
            backend_status: status.backends.unwrap_or_default(),
            target_missing: status.target_found == Some(false),
        }
    }

    /// The view of a BackupBatch. A session target naming no `spec.targets[]` entry gets no
    /// object (validation reports it).
    pub fn from_batch(batch: &BackupBatch) -> Self {
        let status = batch.status.clone().unwrap_or_default();
        let targets: Vec<(Option<String>, TypedObjectReference)> = batch
            .spec
            .targets
            .iter()
            .flatten()
            .filter_map(|t| Some((Some(t.name.clone()), t.app_ref.clone()?)))
            .collect();
        let app_ref = |name: &str| {
            targets
                .iter()
                .find(|(id, _)| id.as_deref() == Some(name))
                .map(|(_, r)| r.clone())
        };
        Self {
            kind: BATCH,
            name: batch.name_any(),
            namespace: batch.namespace().unwrap_or_default(),
            owner: util::owner_reference(batch, true),
            backends: batch.spec.backends.clone().unwrap_or_default(),
            paused: batch.spec.paused,
            sessions: batch
                .spec
                .sessions
                .iter()
                .flatten()
                .map(|session| InvokerSession {
                    config: session.config.clone(),
                    units: session
                        .targets
                        .iter()
                        .flatten()
                        .map(|t| Unit {
                            target: Some(t.name.clone()),
                            app_ref: app_ref(&t.name),
                            addon: t.addon.clone(),
                            repositories: t.repositories.clone().unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
            phase: status.phase,
            conditions: status.conditions.unwrap_or_default(),
            backend_status: status.backends.unwrap_or_default(),
            target_missing: status
                .targets
                .iter()
                .flatten()
                .any(|t| t.found == Some(false)),
            targets,
        }
    }

    /// Reads the invoker `kind`/`name`. `Ok(Err(reason))` when it does not exist or the kind
    /// cannot invoke a backup.
    pub async fn fetch(
        client: &Client,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Result<std::result::Result<Self, String>> {
        match kind {
            CONFIGURATION => {
                let api: Api<BackupConfiguration> = Api::namespaced(client.clone(), namespace);
                Ok(util::get_opt(&api, name)
                    .await?
                    .map(|c| Self::from_configuration(&c))
                    .ok_or_else(|| format!("{CONFIGURATION} `{namespace}/{name}` not found")))
            }
            BATCH => {
                let api: Api<BackupBatch> = Api::namespaced(client.clone(), namespace);
                Ok(util::get_opt(&api, name)
                    .await?
                    .map(|b| Self::from_batch(&b))
                    .ok_or_else(|| format!("{BATCH} `{namespace}/{name}` not found")))
            }
            other => Ok(Err(format!(
                "invoker kind `{other}` cannot invoke a backup; use {CONFIGURATION} or {BATCH}"
            ))),
        }
    }

    /// `Kind namespace/name`, for messages.
    pub fn display(&self) -> String {
        format!("{} `{}/{}`", self.kind, self.namespace, self.name)
    }

    /// The session `name`.
    pub fn session(&self, name: &str) -> Option<&InvokerSession> {
        self.sessions.iter().find(|s| s.config.name == name)
    }

    /// The backend a repository names; one that names none uses the first.
    pub fn backend_of(&self, repository: &RepositoryInfo) -> Option<&BackendReference> {
        let wanted = repository.backend.as_deref().unwrap_or_default();
        self.backends
            .iter()
            .find(|b| wanted.is_empty() || b.name == wanted)
    }

    /// Whether any backend has a retention policy.
    pub fn has_retention(&self) -> bool {
        self.backends.iter().any(|b| b.retention_policy.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> BackupBatch {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "BackupBatch",
            "metadata": {"name": "shop", "namespace": "demo", "uid": "u1"},
            "spec": {
                "backends": [{"name": "local", "storageRef": {"name": "s"}}],
                "targets": [
                    {"name": "web", "appRef": {"apiGroup": "apps", "kind": "Deployment", "name": "web"}},
                    {"name": "data", "appRef": {"kind": "PersistentVolumeClaim", "name": "data"}},
                ],
                "sessions": [{
                    "name": "nightly",
                    "targets": [
                        {"name": "web", "addon": {"name": "workload-addon"}, "repositories": [{"name": "web-repo", "backend": "local", "directory": "web"}]},
                        {"name": "data", "addon": {"name": "pvc-addon"}, "repositories": [{"name": "data-repo", "backend": "local", "directory": "data"}]},
                    ],
                }],
                "paused": true,
            },
            "status": {"targets": [{"kind": "Deployment", "name": "web", "found": true}, {"kind": "PersistentVolumeClaim", "name": "data", "found": false}]},
        }))
        .unwrap()
    }

    #[test]
    fn a_batch_session_has_one_unit_per_target_with_its_object() {
        let invoker = Invoker::from_batch(&batch());
        assert_eq!(invoker.kind, BATCH);
        assert!(invoker.paused);
        assert!(invoker.target_missing);
        let session = invoker.session("nightly").unwrap();
        let names: Vec<_> = session
            .units
            .iter()
            .map(|u| (u.target.clone().unwrap(), u.app_ref.clone().unwrap().name))
            .collect();
        assert_eq!(
            names,
            [("web".into(), "web".into()), ("data".into(), "data".into())]
        );
        let repositories: Vec<_> = session.repositories().map(|r| r.name.as_str()).collect();
        assert_eq!(repositories, ["web-repo", "data-repo"]);
        assert_eq!(invoker.owner.kind, "BackupBatch");
        assert_eq!(invoker.owner.controller, Some(true));
    }

    #[test]
    fn a_repository_without_a_backend_uses_the_first() {
        let mut invoker = Invoker::from_batch(&batch());
        invoker.backends.push(BackendReference {
            name: "remote".into(),
            ..Default::default()
        });
        let named = |backend: Option<&str>| RepositoryInfo {
            name: "r".into(),
            backend: backend.map(str::to_string),
            ..Default::default()
        };
        let of = |info: &RepositoryInfo| invoker.backend_of(info).map(|b| b.name.clone());
        assert_eq!(of(&named(None)).as_deref(), Some("local"));
        assert_eq!(of(&named(Some(""))).as_deref(), Some("local"));
        assert_eq!(of(&named(Some("remote"))).as_deref(), Some("remote"));
        assert_eq!(of(&named(Some("gone"))), None);
    }

    #[test]
    fn component_keys_name_the_batch_target_and_read_back() {
        let invoker = Invoker::from_batch(&batch());
        let session = invoker.session("nightly").unwrap();
        let key = session.units[1].job_key("dump");
        assert_eq!(key, "data/dump");
        let (unit, component) = session.unit_of(&key).unwrap();
        assert_eq!(unit.target.as_deref(), Some("data"));
        assert_eq!(component, "dump");
        assert!(session.unit_of("nobody/dump").is_none());
    }

    #[test]
    fn only_a_pod_template_all_targets_share_is_the_sessions() {
        let template = |node: &str| -> Option<PodTemplateSpec> {
            Some(
                serde_json::from_value(
                    serde_json::json!({"spec": {"nodeSelector": {"node": node}}}),
                )
                .unwrap(),
            )
        };
        let invoker = Invoker::from_batch(&batch());
        let mut session = invoker.session("nightly").unwrap().clone();
        assert_eq!(session.shared_pod_template(), None);
        for unit in &mut session.units {
            unit.addon.as_mut().unwrap().job_template = template("a");
        }
        assert_eq!(session.shared_pod_template(), template("a"));
        session.units[1].addon.as_mut().unwrap().job_template = template("b");
        assert_eq!(session.shared_pod_template(), None);
        session.units[1].addon.as_mut().unwrap().job_template = None;
        assert_eq!(session.shared_pod_template(), None);
    }

    #[test]
    fn a_configuration_is_one_unit_keyed_by_the_component_alone() {
        let configuration: BackupConfiguration = serde_json::from_value(serde_json::json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "BackupConfiguration",
            "metadata": {"name": "c", "namespace": "demo"},
            "spec": {
                "target": {"kind": "Deployment", "name": "web"},
                "sessions": [{"name": "s", "addon": {"name": "workload-addon"}, "repositories": [{"name": "r"}]}],
            },
            "status": {"targetFound": false},
        }))
        .unwrap();
        let invoker = Invoker::from_configuration(&configuration);
        assert!(invoker.target_missing);
        let session = invoker.session("s").unwrap();
        assert_eq!(session.units.len(), 1);
        assert_eq!(session.units[0].job_key("dump"), "dump");
        let (unit, component) = session.unit_of("dump").unwrap();
        assert_eq!(unit.app_ref.as_ref().unwrap().name, "web");
        assert_eq!(component, "dump");
    }
}
