//! BackupConfiguration and BackupBatch: validated with the rules `kubectl kubestash validate`
//! uses; backends, retention policies, targets and Addons resolved; one Repository per
//! repository entry and one CronJob per session (whose Job runs the executor's `trigger`);
//! status with phase, backends, repositories, dependencies, targets and next schedules. Both
//! kinds go through one reconciler over [`Invoker`].

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Client, ResourceExt};
use kubestash::api::addons::Addon;
use kubestash::api::common::{ObjectReference, TypedObjectReference};
use kubestash::api::core::{BackupBatch, BackupConfiguration};
use kubestash::api::storage::{BackupStorage, Repository, RetentionPolicy};
use kubestash::naming;
use kubestash::object::Object;
use kubestash::schedule::CronSchedule;
use kubestash::validation::{self, NamespaceAccess, Severity};
use serde_json::{json, Value};

use super::{managed_labels, Context, FIELD_MANAGER};
use crate::invoker::{Invoker, BATCH, CONFIGURATION};
use crate::util::{self, condition, set_condition};
use crate::{Result, LABEL_INVOKER_KIND, LABEL_INVOKER_NAME, LABEL_SESSION};

/// The label selector of the Repositories and CronJobs an invoker kind makes.
fn owned_by(kind: &str) -> String {
    format!("{LABEL_INVOKER_KIND}={kind}")
}

/// What the invoker reconciler needs of a kind that invokes backups.
trait InvokerObject:
    kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The kind, for labels and metrics.
    const KIND: &'static str;
    /// The common view.
    fn invoker(&self) -> Invoker;
    /// The object for the admission rules.
    fn checked(&self) -> Object;
    /// `status` as JSON, to compare with the wanted one.
    fn status_value(&self) -> Value;
}

impl InvokerObject for BackupConfiguration {
    const KIND: &'static str = CONFIGURATION;
    fn invoker(&self) -> Invoker {
        Invoker::from_configuration(self)
    }
    fn checked(&self) -> Object {
        Object::BackupConfiguration(self.clone())
    }
    fn status_value(&self) -> Value {
        serde_json::to_value(self.status.clone().unwrap_or_default()).unwrap_or(Value::Null)
    }
}

impl InvokerObject for BackupBatch {
    const KIND: &'static str = BATCH;
    fn invoker(&self) -> Invoker {
        Invoker::from_batch(self)
    }
    fn checked(&self) -> Object {
        Object::BackupBatch(self.clone())
    }
    fn status_value(&self) -> Value {
        serde_json::to_value(self.status.clone().unwrap_or_default()).unwrap_or(Value::Null)
    }
}

/// Runs the BackupConfiguration controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    run_kind::<BackupConfiguration>(ctx, stop).await;
}

/// Runs the BackupBatch controller until `stop`.
pub async fn run_batches(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    run_kind::<BackupBatch>(ctx, stop).await;
}

/// Seconds until an invoker that is not Ready yet is looked at again.
const NOT_READY_RECHECK: u64 = 3;
/// After this many seconds not Ready, an invoker is looked at every
/// [`NOT_READY_SLOW_RECHECK`] seconds.
const NOT_READY_PATIENCE: u64 = 120;
/// Seconds between looks at an invoker that has long not been Ready.
const NOT_READY_SLOW_RECHECK: u64 = 30;

async fn run_kind<K: InvokerObject>(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller =
        super::metadata_controller(Api::<K>::all(client.clone()), super::watch_config())
            .owns(
                Api::<Repository>::all(client.clone()),
                super::watch_config().labels(&owned_by(K::KIND)),
            )
            .owns(
                Api::<CronJob>::all(client.clone()),
                super::watch_config().labels(&owned_by(K::KIND)),
            )
            .with_config(super::controller_config())
            .graceful_shutdown_on(super::stopper(stop))
            .run(
                |object, ctx| async move {
                    let work = async {
                        let Some(object) = super::full::<K>(&ctx, &object).await? else {
                            ctx.metrics.invoker_deleted(
                                object.metadata.namespace.as_deref().unwrap_or_default(),
                                K::KIND,
                                object.metadata.name.as_deref().unwrap_or_default(),
                            );
                            return Ok(Action::await_change());
                        };
                        if object.meta().deletion_timestamp.is_some() {
                            return Ok(Action::await_change());
                        }
                        let invoker = object.invoker();
                        let api: Api<K> = Api::namespaced(ctx.client.clone(), &invoker.namespace);
                        if let Some(backends) = default_backends(&ctx.client, &invoker).await? {
                            // What KubeStash's webhook does on admission; the patch comes
                            // back as a change. Guarded by the version read, so an edit
                            // made meanwhile is not overwritten.
                            util::patch_merge(
                                &api,
                                &invoker.name,
                                json!({
                                    "metadata": {"resourceVersion": object.meta().resource_version},
                                    "spec": {"backends": backends},
                                }),
                            )
                            .await?;
                            return Ok(Action::await_change());
                        }
                        let restoring =
                            super::restore::release_orphaned_pauses(&ctx.client, &api, &object)
                                .await?;
                        let action = reconcile(
                            &ctx,
                            &invoker,
                            &object.checked(),
                            &api,
                            object.status_value(),
                        )
                        .await?;
                        // While restores hold its pause, look again soon: one deleted mid-way
                        // leaves no event here.
                        let not_ready = Action::requeue(Duration::from_secs(NOT_READY_RECHECK));
                        Ok(if restoring && action != not_ready {
                            Action::requeue(Duration::from_secs(10))
                        } else {
                            action
                        })
                    };
                    super::timed(&ctx.clone(), K::KIND, work).await
                },
                super::on_error,
                ctx.clone(),
            );
    super::drain(controller.boxed(), ctx).await;
}

/// The CronJob of a session of a BackupConfiguration.
pub fn cronjob_name(configuration: &str, session: &str) -> String {
    naming::valid_name("trigger", configuration, session)
}

/// The CronJob of a session of an invoker. A batch's carries `batch-` so that a batch and a
/// configuration of the same name never share one.
pub fn invoker_cronjob_name(invoker: &Invoker, session: &str) -> String {
    if invoker.kind == BATCH {
        naming::valid_name("trigger-batch", &invoker.name, session)
    } else {
        cronjob_name(&invoker.name, session)
    }
}

/// Whether the target object exists.
pub async fn target_exists(
    client: &Client,
    target: &TypedObjectReference,
    namespace: &str,
) -> Result<bool> {
    let namespace = target.namespace_or(namespace);
    let group = target.api_group.clone().unwrap_or_default();
    let kind = target.kind.clone().unwrap_or_default();
    let resource = if group.is_empty() {
        let plural = match kind.as_str() {
            "PersistentVolumeClaim" => "persistentvolumeclaims".to_string(),
            other => format!("{}s", other.to_lowercase()),
        };
        ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: kind.clone(),
            plural,
        }
    } else {
        // A group that is not served means no such target; a discovery that failed (the API
        // server busy) is an error to retry, not a missing target that fails backups.
        let discovered = match kube::discovery::oneshot::group(client, &group).await {
            Ok(discovered) => discovered,
            Err(kube::Error::Discovery(_)) => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        match discovered.recommended_kind(&kind) {
            Some((resource, _)) => resource,
            None => return Ok(false),
        }
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    Ok(api.get_opt(&target.name).await?.is_some())
}

/// The backends with the defaults KubeStash's webhook fills in: the default BackupStorage
/// (`spec.default: true`) when there are no backends or one names no storage, and the
/// default RetentionPolicy where a backend names none. A default in the object's own
/// namespace wins; otherwise the one default of another namespace whose usage policy lets
/// this namespace in. `None` when nothing changes.
async fn default_backends(
    client: &Client,
    invoker: &Invoker,
) -> Result<Option<Vec<kubestash::api::core::BackendReference>>> {
    let mut backends = invoker.backends.clone();
    let wants_storage = backends.is_empty() || backends.iter().any(|b| b.storage_ref.is_none());
    // A retention policy is filled in on admission only (a configuration this controller
    // has not seen yet, or one it is giving a storage): one that runs without a policy on
    // purpose keeps every snapshot when a default policy appears later.
    let admitting = invoker.conditions.is_empty() || wants_storage;
    let wants_policy =
        admitting && (backends.is_empty() || backends.iter().any(|b| b.retention_policy.is_none()));
    if !wants_storage && !wants_policy {
        return Ok(None);
    }
    let namespace = &invoker.namespace;
    let labels = namespace_labels(client, namespace).await;
    if wants_storage {
        let storages = Api::<BackupStorage>::all(client.clone())
            .list(&ListParams::default())
            .await?
            .items;
        let storages = candidates(storages, |s| (s.spec.default, s.spec.usage_policy.clone()));
        let Some(storage) = pick_default(storages, namespace, labels.as_ref()) else {
            return Ok(None);
        };
        if backends.is_empty() {
            backends.push(kubestash::api::core::BackendReference {
                name: "default".into(),
                ..Default::default()
            });
        }
        for backend in backends.iter_mut().filter(|b| b.storage_ref.is_none()) {
            backend.storage_ref = Some(storage.clone());
        }
    }
    if admitting && backends.iter().any(|b| b.retention_policy.is_none()) {
        let policies = Api::<RetentionPolicy>::all(client.clone())
            .list(&ListParams::default())
            .await?
            .items;
        let policies = candidates(policies, |p| (p.spec.default, p.spec.usage_policy.clone()));
        if let Some(policy) = pick_default(policies, namespace, labels.as_ref()) {
            for backend in backends.iter_mut().filter(|b| b.retention_policy.is_none()) {
                backend.retention_policy = Some(policy.clone());
            }
        }
    }
    Ok((backends != invoker.backends).then_some(backends))
}

/// The objects marked default, as `(namespace, name, usage policy)`; `marks` reads an
/// object's `spec.default` and `spec.usagePolicy`.
fn candidates<K: ResourceExt>(
    objects: Vec<K>,
    marks: impl Fn(&K) -> (bool, Option<kubestash::api::common::UsagePolicy>),
) -> impl Iterator<Item = (String, String, Option<kubestash::api::common::UsagePolicy>)> {
    objects.into_iter().filter_map(move |object| {
        let (default, policy) = marks(&object);
        default.then(|| {
            (
                object.namespace().unwrap_or_default(),
                object.name_any(),
                policy,
            )
        })
    })
}

/// The default among `(namespace, name, usage policy)` candidates for an object in
/// `namespace`: the only one in that namespace, else the only one elsewhere that admits it.
fn pick_default(
    candidates: impl Iterator<Item = (String, String, Option<kubestash::api::common::UsagePolicy>)>,
    namespace: &str,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> Option<ObjectReference> {
    let (own, others): (Vec<_>, Vec<_>) = candidates.partition(|(ns, _, _)| ns == namespace);
    let chosen = match own.as_slice() {
        [one] => Some(one.clone()),
        [] => {
            let admitted: Vec<_> = others
                .into_iter()
                .filter(|(ns, _, policy)| {
                    validation::namespace_allowed(policy.as_ref(), ns, namespace, labels)
                        == NamespaceAccess::Allowed
                })
                .collect();
            match admitted.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    chosen.map(|(namespace, name, _)| ObjectReference {
        namespace: Some(namespace),
        name,
    })
}

async fn namespace_labels(
    client: &Client,
    namespace: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let api: Api<Namespace> = Api::all(client.clone());
    api.get_opt(namespace)
        .await
        .ok()
        .flatten()
        .map(|n| n.labels().clone())
}

async fn reconcile<K>(
    ctx: &Context,
    invoker: &Invoker,
    checked: &Object,
    api: &Api<K>,
    old: Value,
) -> Result<Action>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let client = &ctx.client;
    let namespace = invoker.namespace.clone();
    let name = invoker.name.clone();
    let kind = invoker.kind;
    let mut conditions = invoker.conditions.clone();

    // 1. The admission rules.
    let errors: Vec<String> = validation::validate_object(checked)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.reason))
        .collect();
    if !errors.is_empty() {
        set_condition(
            &mut conditions,
            condition(
                "ValidationPassed",
                false,
                "ValidationFailed",
                errors.join("; "),
            ),
        );
        util::patch_status(
            api,
            &name,
            json!({"phase": "Invalid", "conditions": conditions}),
        )
        .await?;
        return Ok(Action::await_change());
    }
    let labels = namespace_labels(client, &namespace).await;
    let mut problems: Vec<String> = Vec::new();
    let mut denied: Vec<String> = Vec::new();
    let mut invalid_policy = false;

    // 2. Backends: storages and retention policies.
    let mut backends = Vec::new();
    let mut storages_ready = true;
    if invoker.backends.is_empty() || invoker.backends.iter().any(|b| b.storage_ref.is_none()) {
        problems.push(format!(
            "spec.backends: no BackupStorage named and no single default one (spec.default: true) usable from namespace `{namespace}`"
        ));
    }
    for backend in &invoker.backends {
        let mut entry = json!({"name": backend.name});
        let mut ready = false;
        if let Some(reference) = &backend.storage_ref {
            let storage_ns = reference.namespace_or(&namespace).to_string();
            let storages: Api<BackupStorage> = Api::namespaced(client.clone(), &storage_ns);
            let reference_json = json!({"namespace": storage_ns, "name": reference.name});
            match util::get_opt(&storages, &reference.name).await? {
                None => {
                    let reason =
                        format!("BackupStorage `{storage_ns}/{}` not found", reference.name);
                    problems.push(reason.clone());
                    entry["storage"] = json!({"ref": reference_json, "reason": reason});
                }
                Some(storage) => {
                    let access = validation::namespace_allowed(
                        storage.spec.usage_policy.as_ref(),
                        &storage_ns,
                        &namespace,
                        labels.as_ref(),
                    );
                    let phase = storage
                        .status
                        .as_ref()
                        .and_then(|s| s.phase)
                        .map(|p| format!("{p:?}"));
                    let mut reason = None;
                    if let NamespaceAccess::Denied(why) = access {
                        let text = format!("BackupStorage `{storage_ns}/{}` may not be used from namespace `{namespace}`: {why}", reference.name);
                        denied.push(format!(
                            "spec.backends[{}].storageRef: {text}",
                            backend.name
                        ));
                        reason = Some(text);
                    } else if phase.as_deref() == Some("Ready") {
                        ready = true;
                    } else {
                        let why = util::find(
                            storage.status.as_ref().and_then(|s| s.conditions.as_ref()),
                            "BackendSecretFound",
                        )
                        .filter(|c| c.status == "False")
                        .or_else(|| {
                            util::find(
                                storage.status.as_ref().and_then(|s| s.conditions.as_ref()),
                                "BackendInitialized",
                            )
                            .filter(|c| c.status == "False")
                        })
                        .and_then(|c| c.message.clone())
                        .unwrap_or_else(|| "not initialized yet".into());
                        let text = format!(
                            "BackupStorage `{storage_ns}/{}` is not Ready: {why}",
                            reference.name
                        );
                        problems.push(text.clone());
                        reason = Some(text);
                    }
                    entry["storage"] =
                        json!({"ref": reference_json, "phase": phase, "reason": reason});
                }
            }
        }
        if let Some(reference) = &backend.retention_policy {
            let policy_ns = reference.namespace_or(&namespace).to_string();
            let policies: Api<RetentionPolicy> = Api::namespaced(client.clone(), &policy_ns);
            let reference_json = json!({"namespace": policy_ns, "name": reference.name});
            match util::get_opt(&policies, &reference.name).await? {
                None => {
                    let reason =
                        format!("RetentionPolicy `{policy_ns}/{}` not found", reference.name);
                    problems.push(reason.clone());
                    ready = false;
                    entry["retentionPolicy"] =
                        json!({"ref": reference_json, "found": false, "reason": reason});
                }
                Some(policy) => {
                    let access = validation::namespace_allowed(
                        policy.spec.usage_policy.as_ref(),
                        &policy_ns,
                        &namespace,
                        labels.as_ref(),
                    );
                    // Applied without the CLI's validation, an invalid policy would
                    // otherwise keep every snapshot without a word.
                    let invalid: Vec<String> =
                        validation::validate_object(&Object::RetentionPolicy(policy.clone()))
                            .into_iter()
                            .filter(|f| f.severity == Severity::Error)
                            .map(|f| format!("{}: {}", f.field, f.reason))
                            .collect();
                    let reason = if let NamespaceAccess::Denied(why) = access {
                        let text = format!("RetentionPolicy `{policy_ns}/{}` may not be used from namespace `{namespace}`: {why}", reference.name);
                        denied.push(format!(
                            "spec.backends[{}].retentionPolicy: {text}",
                            backend.name
                        ));
                        Some(text)
                    } else if !invalid.is_empty() {
                        let text = format!(
                            "RetentionPolicy `{policy_ns}/{}` is invalid: {}",
                            reference.name,
                            invalid.join("; ")
                        );
                        denied.push(format!(
                            "spec.backends[{}].retentionPolicy: {text}",
                            backend.name
                        ));
                        invalid_policy = true;
                        Some(text)
                    } else {
                        None
                    };
                    entry["retentionPolicy"] =
                        json!({"ref": reference_json, "found": true, "reason": reason});
                }
            }
        }
        entry["ready"] = json!(ready);
        storages_ready &= ready;
        backends.push(entry);
    }
    if !denied.is_empty() {
        set_condition(
            &mut conditions,
            condition(
                "ValidationPassed",
                false,
                if invalid_policy {
                    "RetentionPolicyInvalid"
                } else {
                    "UsagePolicyDenied"
                },
                denied.join("; "),
            ),
        );
        util::patch_status(
            api,
            &name,
            json!({"phase": "Invalid", "backends": backends, "conditions": conditions}),
        )
        .await?;
        return Ok(Action::requeue(Duration::from_secs(60)));
    }
    set_condition(
        &mut conditions,
        condition("ValidationPassed", true, "ValidationSucceeded", ""),
    );

    // 3. Targets and Addons.
    let mut targets_status = Vec::new();
    for (id, target) in &invoker.targets {
        let found = target_exists(client, target, &namespace).await?;
        if !found {
            let within = id
                .as_ref()
                .map(|id| format!(" (spec.targets[{id}])"))
                .unwrap_or_default();
            problems.push(format!(
                "target {} `{}/{}` not found{within}",
                target.kind.as_deref().unwrap_or_default(),
                target.namespace_or(&namespace),
                target.name
            ));
        }
        targets_status.push(json!({
            "apiGroup": target.api_group, "kind": target.kind,
            "namespace": target.namespace_or(&namespace), "name": target.name, "found": found,
        }));
    }
    let target_found = targets_status.iter().all(|t| t["found"] == json!(true));
    let addons: Api<Addon> = Api::all(client.clone());
    let mut dependencies = Vec::new();
    for unit in invoker.sessions.iter().flat_map(|s| s.units.iter()) {
        let Some(addon_info) = &unit.addon else {
            continue;
        };
        let addon = util::get_opt(&addons, &addon_info.name).await?;
        if addon.is_none() {
            problems.push(format!("Addon `{}` not found", addon_info.name));
        }
        if let Some(addon) = &addon {
            for task in addon_info.tasks.iter().flatten() {
                if addon.spec.backup_task(&task.name).is_none() {
                    problems.push(format!(
                        "Addon `{}` has no backup task `{}`",
                        addon_info.name, task.name
                    ));
                }
            }
        }
        let entry = json!({"apiGroup": "addons.kubestash.com", "kind": "Addon", "name": addon_info.name, "found": addon.is_some()});
        if !dependencies.contains(&entry) {
            dependencies.push(entry);
        }
    }

    // 4. Repositories.
    let mut repositories_status = Vec::new();
    let owner = invoker.owner.clone();
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    let mut written: Vec<String> = Vec::new();
    for session in &invoker.sessions {
        let mut entries = Vec::new();
        for unit in &session.units {
            for info in &unit.repositories {
                entries.push((unit, info));
            }
        }
        for (unit, info) in entries {
            // One Repository backs up one target: a batch may not share it between two.
            if shared_repository(invoker, &unit.app_ref, &info.name) {
                let text = format!(
                    "Repository `{namespace}/{}` is used for more than one target",
                    info.name
                );
                return repository_conflict(api, &name, &invoker.conditions, &mut conditions, text)
                    .await;
            }
            if written.contains(&info.name) {
                continue;
            }
            written.push(info.name.clone());
            let Some(storage_ref) = invoker.backend_of(info).and_then(|b| b.storage_ref.clone())
            else {
                continue;
            };
            let repositories: Api<Repository> = Api::namespaced(client.clone(), &namespace);
            if let Some(existing) = util::get_opt(&repositories, &info.name).await? {
                let same_owner = existing
                    .owner_references()
                    .iter()
                    .any(|o| o.uid == owner.uid);
                let same_storage = existing.spec.storage_ref.name == storage_ref.name
                    && existing.spec.storage_ref.namespace_or(&namespace)
                        == storage_ref.namespace_or(&namespace);
                // Another configuration's (or batch's) Repository is not taken over, even
                // for the same target: both would rewrite it in turn, and deleting either
                // would delete it under the other.
                let other_controller = existing
                    .owner_references()
                    .iter()
                    .any(|o| o.controller == Some(true) && o.uid != owner.uid);
                let text = if !same_owner
                    && (!same_storage || existing.spec.app_ref != unit.app_ref)
                {
                    Some(format!("sessions[{}].repositories[{}]: Repository `{namespace}/{}` already exists for another target or storage", session.config.name, info.name, info.name))
                } else if other_controller {
                    Some(format!("sessions[{}].repositories[{}]: Repository `{namespace}/{}` belongs to another {}", session.config.name, info.name, info.name, existing.owner_references().iter().find(|o| o.controller == Some(true)).map(|o| o.kind.as_str()).unwrap_or("owner")))
                } else if !kubestash::engine::layout::same_directory(
                    &existing.spec.path,
                    &info.directory,
                ) {
                    // A Repository's directory does not move (KubeStash's webhook refuses
                    // it): its snapshots are in the old one.
                    Some(format!("sessions[{}].repositories[{}].directory: Repository `{namespace}/{}` keeps its snapshots in `{}`; a Repository's directory cannot change (use a new repository name)", session.config.name, info.name, info.name, existing.spec.path))
                } else {
                    None
                };
                if let Some(text) = text {
                    return repository_conflict(
                        api,
                        &name,
                        &invoker.conditions,
                        &mut conditions,
                        text,
                    )
                    .await;
                }
            }
            let encryption = info.encryption_secret.clone().map(|s| ObjectReference {
                namespace: Some(s.namespace_or(&namespace).to_string()),
                name: s.name,
            });
            let deletion_policy = match info.deletion_policy {
                Some(kubestash::api::core::session::DeletionPolicy::WipeOut) => "WipeOut",
                _ => "Delete",
            };
            let body = json!({
                "apiVersion": "storage.kubestash.com/v1alpha1",
                "kind": "Repository",
                "metadata": {
                    "name": info.name, "namespace": namespace,
                    "labels": managed_labels(&[(LABEL_INVOKER_KIND, kind), (LABEL_INVOKER_NAME, &name)]),
                    "ownerReferences": [owner],
                },
                "spec": {
                    "appRef": unit.app_ref,
                    "storageRef": {"namespace": storage_ref.namespace_or(&namespace), "name": storage_ref.name},
                    "path": info.directory,
                    "deletionPolicy": deletion_policy,
                    "encryptionSecret": encryption,
                },
            });
            let repository = repositories
                .patch(&info.name, &apply, &Patch::Apply(body))
                .await?;
            let phase = repository.status.as_ref().and_then(|s| s.phase);
            let ready = matches!(phase, Some(kubestash::api::storage::RepositoryPhase::Ready));
            if !ready {
                problems.push(format!("Repository `{}` is not initialized yet", info.name));
            }
            repositories_status.push(
                json!({"name": info.name, "phase": if ready { "Ready" } else { "NotReady" }}),
            );
        }
    }

    // 5. One CronJob per session.
    let cronjobs: Api<CronJob> = Api::namespaced(client.clone(), &namespace);
    let account = ctx.ensure_executor_account(&namespace).await?;
    let mut sessions_status = Vec::new();
    let mut wanted = Vec::new();
    for session in &invoker.sessions {
        let session_name = &session.config.name;
        let Some(scheduler) = &session.config.scheduler else {
            continue;
        };
        let cron_name = invoker_cronjob_name(invoker, session_name);
        wanted.push(cron_name.clone());
        // Names can meet (configuration `a-b`, session `c` and configuration `a`, session
        // `b-c`): another invoker's CronJob is not taken over, or the two would fire each
        // other's backups.
        if let Some(existing) = util::get_opt(&cronjobs, &cron_name).await? {
            let labels = existing.labels();
            let label = |key: &str| labels.get(key).map(String::as_str);
            if label(LABEL_INVOKER_KIND) != Some(kind)
                || label(LABEL_INVOKER_NAME) != Some(name.as_str())
                || label(LABEL_SESSION) != Some(session_name.as_str())
            {
                problems.push(format!(
                    "session `{session_name}`: CronJob `{namespace}/{cron_name}` belongs to {} `{}` (session `{}`); rename the session",
                    label(LABEL_INVOKER_KIND).unwrap_or("another invoker"),
                    label(LABEL_INVOKER_NAME).unwrap_or_default(),
                    label(LABEL_SESSION).unwrap_or_default()
                ));
                continue;
            }
        }
        let job_template = &scheduler.job_template;
        // The trigger pod runs where, and as, the jobTemplate says (a restricted namespace,
        // tainted nodes, a private registry); its resources are the backup's, not its own.
        let pod_settings = job_template
            .template
            .as_ref()
            .and_then(|t| t.spec.clone())
            .unwrap_or_default();
        let mut trigger_container = json!({
            "name": "trigger",
            "image": ctx.options.image,
            "args": ["executor", "trigger", format!("--namespace={namespace}"),
                     format!("--invoker-kind={kind}"), format!("--invoker-name={name}"),
                     format!("--session={session_name}")],
        });
        if let Some(context) = &pod_settings.container_security_context {
            trigger_container["securityContext"] = json!(context);
        }
        let mut trigger_pod = json!({
            "restartPolicy": "Never",
            "serviceAccountName": account,
            "containers": [trigger_container],
        });
        crate::jobs::apply_pod_settings(&mut trigger_pod, &pod_settings);
        let template = job_template.template.as_ref();
        let (mut pod_labels, pod_annotations) =
            crate::jobs::template_meta(template.and_then(|t| t.metadata.as_ref()));
        pod_labels.extend(managed_labels(&[]));
        let (mut job_labels, job_annotations) =
            crate::jobs::template_meta(template.and_then(|t| t.controller.as_ref()));
        job_labels.extend(managed_labels(&[
            (LABEL_INVOKER_NAME, &name),
            (LABEL_SESSION, session_name),
        ]));
        let body = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {
                "name": cron_name, "namespace": namespace,
                "labels": managed_labels(&[(LABEL_INVOKER_KIND, kind), (LABEL_INVOKER_NAME, &name), (LABEL_SESSION, session_name)]),
                "ownerReferences": [owner],
            },
            "spec": {
                "schedule": scheduler.schedule,
                "suspend": invoker.paused || scheduler.suspend.unwrap_or(false),
                "concurrencyPolicy": scheduler.concurrency_policy.map(|p| format!("{p:?}")).unwrap_or_else(|| "Forbid".into()),
                "startingDeadlineSeconds": scheduler.starting_deadline_seconds,
                "successfulJobsHistoryLimit": scheduler.successful_jobs_history_limit.unwrap_or(1),
                "failedJobsHistoryLimit": scheduler.failed_jobs_history_limit.unwrap_or(1),
                "jobTemplate": {
                    "metadata": {"labels": job_labels, "annotations": (!job_annotations.is_empty()).then_some(job_annotations)},
                    "spec": {
                        "backoffLimit": job_template.backoff_limit.unwrap_or(1),
                        "activeDeadlineSeconds": job_template.active_deadline_seconds,
                        "ttlSecondsAfterFinished": job_template.ttl_seconds_after_finished,
                        "template": {
                            "metadata": {"labels": pod_labels, "annotations": (!pod_annotations.is_empty()).then_some(pod_annotations)},
                            "spec": trigger_pod,
                        },
                    },
                },
            },
        });
        let body = strip_nulls(body);
        cronjobs
            .patch(&cron_name, &apply, &Patch::Apply(body))
            .await?;
        let next = CronSchedule::parse(&scheduler.schedule)
            .ok()
            .and_then(|s| s.next_after(chrono::Utc::now()))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        sessions_status.push(json!({"name": session_name, "nextSchedule": next}));
    }
    let existing = cronjobs
        .list(&ListParams::default().labels(&format!(
            "{LABEL_INVOKER_NAME}={name},{LABEL_INVOKER_KIND}={kind}"
        )))
        .await?;
    for cron in existing.items {
        if !wanted.contains(&cron.name_any()) {
            let _ = cronjobs
                .delete(&cron.name_any(), &DeleteParams::background())
                .await;
        }
    }
    set_condition(
        &mut conditions,
        condition(
            "SchedulerEnsured",
            true,
            "SchedulerEnsured",
            format!("{} CronJob(s) in place", wanted.len()),
        ),
    );

    let ready = problems.is_empty() && storages_ready && target_found;
    set_condition(
        &mut conditions,
        condition(
            "Ready",
            ready,
            if ready { "Ready" } else { "NotReady" },
            problems.join("; "),
        ),
    );
    let mut status = json!({
        "phase": if ready { "Ready" } else { "NotReady" },
        "backends": backends,
        "repositories": repositories_status,
        "dependencies": dependencies,
        "sessions": sessions_status,
        "conditions": conditions,
    });
    if kind == BATCH {
        status["targets"] = json!(targets_status);
    } else if !targets_status.is_empty() {
        status["targetFound"] = json!(target_found);
    }
    if changed(&old, &status) {
        util::patch_status(api, &name, status).await?;
    }
    // Not Ready for a while (a target that is gone, a storage that does not come up): looked
    // at less often, instead of rerunning every request every few seconds for good.
    let not_ready_for = util::find(Some(&conditions), "Ready")
        .filter(|c| c.status == "False")
        .and_then(|c| {
            (chrono::Utc::now() - util::to_chrono(&c.last_transition_time))
                .to_std()
                .ok()
        })
        .unwrap_or_default();
    Ok(Action::requeue(Duration::from_secs(if ready {
        120
    } else if not_ready_for > Duration::from_secs(NOT_READY_PATIENCE) {
        NOT_READY_SLOW_RECHECK
    } else {
        NOT_READY_RECHECK
    })))
}

/// Marks the invoker Invalid for a repository that clashes, and checks again later.
/// `recorded` are the conditions the invoker has now; a conflict it already records is not
/// written again (the reconcile set ValidationPassed to True on its way here, which would
/// move its transition time on every pass).
async fn repository_conflict<K>(
    api: &Api<K>,
    name: &str,
    recorded: &[kubestash::api::common::Condition],
    conditions: &mut Vec<kubestash::api::common::Condition>,
    text: String,
) -> Result<Action>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let conflict = condition("ValidationPassed", false, "RepositoryConflict", text);
    let already = recorded.iter().find(|c| {
        c.type_ == conflict.type_
            && c.status == conflict.status
            && c.reason == conflict.reason
            && c.message == conflict.message
    });
    set_condition(conditions, already.cloned().unwrap_or(conflict));
    if conditions.as_slice() != recorded {
        util::patch_status(
            api,
            name,
            json!({"phase": "Invalid", "conditions": conditions}),
        )
        .await?;
    }
    Ok(Action::requeue(Duration::from_secs(60)))
}

/// Whether a repository is also used for a target other than `app_ref`.
fn shared_repository(
    invoker: &Invoker,
    app_ref: &Option<TypedObjectReference>,
    repository: &str,
) -> bool {
    invoker
        .sessions
        .iter()
        .flat_map(|s| s.units.iter())
        .any(|other| {
            other.app_ref != *app_ref && other.repositories.iter().any(|r| r.name == repository)
        })
}

/// Whether `wanted` differs from `current` (ignoring condition transition times).
fn changed(current: &Value, wanted: &Value) -> bool {
    fn scrub(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, v)| k.as_str() != "lastTransitionTime" && !v.is_null())
                    .map(|(k, v)| (k.clone(), scrub(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(scrub).collect()),
            other => other.clone(),
        }
    }
    scrub(current) != scrub(wanted)
}

/// Drops null members (server-side apply would own them as nulls).
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestash::api::common::{AllowedNamespaces, FromNamespaces, UsagePolicy};

    fn all() -> Option<UsagePolicy> {
        Some(UsagePolicy {
            allowed_namespaces: Some(AllowedNamespaces {
                from: FromNamespaces::All,
                selector: None,
            }),
        })
    }

    fn candidate(
        ns: &str,
        name: &str,
        policy: Option<UsagePolicy>,
    ) -> (String, String, Option<UsagePolicy>) {
        (ns.into(), name.into(), policy)
    }

    #[test]
    fn the_own_namespace_default_wins_and_two_elsewhere_are_ambiguous() {
        let picked =
            |candidates: Vec<_>| pick_default(candidates.into_iter(), "shop", None).map(|r| r.name);
        assert_eq!(
            picked(vec![
                candidate("ops", "shared", all()),
                candidate("shop", "own", None)
            ]),
            Some("own".into())
        );
        assert_eq!(
            picked(vec![candidate("ops", "shared", all())]),
            Some("shared".into())
        );
        // `Same` (the default policy) keeps another namespace's default to itself.
        assert_eq!(picked(vec![candidate("ops", "private", None)]), None);
        assert_eq!(
            picked(vec![
                candidate("ops", "a", all()),
                candidate("infra", "b", all())
            ]),
            None
        );
        assert_eq!(
            picked(vec![
                candidate("shop", "a", None),
                candidate("shop", "b", None)
            ]),
            None
        );
    }
}
