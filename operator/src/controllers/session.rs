//! BackupSession: one Snapshot per repository, the Addon task's Function resolved into one
//! Job per component (per target of a BackupBatch), retention after success, history cleanup, retries and deadlines. A
//! session never stays Running: a lost Job, a failed executor or an expired deadline ends
//! it Failed with a condition saying why.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Volume, VolumeMount};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use kubestash::api::addons::{Addon, Function};
use kubestash::api::core::{BackupSession, BackupSessionPhase};
use kubestash::api::storage::{Repository, Snapshot, SnapshotPhase};
use kubestash::naming;
use serde_json::{json, Value};

use super::snapshot::snapshot_phase;
use super::{end_stuck_job, job_log_tail, job_outcome, lost_node, managed_labels, Context};
use crate::backend;
use crate::hooks;
use crate::invoker::{Invoker, InvokerSession, Unit, REPOSITORIES_ENV};
use crate::jobs::{self, JobSpec};
use crate::util::{self, condition, set_condition};
use crate::{
    Error, Result, LABEL_BACKUP_SESSION, LABEL_INVOKER_KIND, LABEL_INVOKER_NAME, LABEL_SESSION,
};

/// Annotation listing the components of a session's Jobs.
pub const COMPONENTS_ANNOTATION: &str = "kubestash.com/components";
/// How long a session waits for its configuration to become Ready before failing.
const READY_WAIT: i64 = 90;

/// Runs the controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller = super::metadata_controller(
        Api::<BackupSession>::all(client.clone()),
        super::watch_config(),
    )
    .owns(
        Api::<Job>::all(client.clone()),
        super::watch_config().labels(LABEL_BACKUP_SESSION),
    )
    .watches(
        Api::<Snapshot>::all(client.clone()),
        super::watch_config(),
        |snapshot| {
            let session = snapshot.spec.backup_session.clone()?;
            Some(ObjectRef::new(&session).within(&snapshot.namespace().unwrap_or_default()))
        },
    )
    .with_config(super::controller_config())
    .graceful_shutdown_on(super::stopper(stop))
    .run(
        |object, ctx| async move {
            super::timed(&ctx.clone(), "BackupSession", reconcile(object, ctx)).await
        },
        super::on_error,
        ctx.clone(),
    );
    super::drain(controller.boxed(), ctx).await;
}

/// The Job of one component of a session.
pub fn backup_job_name(session: &str, component: &str) -> String {
    naming::valid_name(session, component, "")
}

/// The Job of a component-list entry (see [`Unit::job_key`]).
fn job_name(session: &str, key: &str) -> String {
    backup_job_name(session, &key.replace('/', "-"))
}

/// The retention Job of a session.
pub fn retention_job_name(session: &str) -> String {
    naming::valid_name("retention", session, "")
}

/// A 26-character ULID-like id (time-ordered, Crockford base32).
pub fn ulid() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = chrono::Utc::now().timestamp_millis() as u128;
    let mut random: u128 = 0;
    for byte in std::collections::hash_map::RandomState::new()
        .hash_one(std::process::id())
        .to_le_bytes()
    {
        random = (random << 8) | u128::from(byte);
    }
    let value = (millis << 80) | (random & ((1u128 << 80) - 1));
    (0..26)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

use std::hash::BuildHasher;

struct Run {
    ctx: Arc<Context>,
    session: Arc<BackupSession>,
    api: Api<BackupSession>,
    namespace: String,
    name: String,
    /// The invoker and its session entry, once resolved: their post-backup hooks run on
    /// every failure.
    resolved: std::sync::OnceLock<(Invoker, InvokerSession)>,
}

impl Run {
    fn status(&self) -> kubestash::api::core::BackupSessionStatus {
        self.session.status.clone().unwrap_or_default()
    }

    fn conditions(&self) -> Vec<kubestash::api::common::Condition> {
        self.status().conditions.unwrap_or_default()
    }

    fn duration(&self) -> String {
        kubestash::duration::format_go_duration(util::since_creation(&self.session.metadata))
    }

    /// Ends the session with `phase` and a condition of `type_`.
    async fn finish(
        &self,
        phase: BackupSessionPhase,
        type_: &str,
        reason: &str,
        message: String,
        extra: Value,
    ) -> Result<Action> {
        let message = self.post_hooks_before_end(phase, message).await?;
        let mut conditions = util::fresh_conditions(&self.api, &self.name).await?;
        let status_flag =
            matches!(phase, BackupSessionPhase::Succeeded) || type_ == "BackupSkipped";
        set_condition(
            &mut conditions,
            condition(type_, status_flag, reason, message.clone()),
        );
        let mut status =
            json!({"phase": phase, "duration": self.duration(), "conditions": conditions});
        if let Value::Object(map) = extra {
            for (key, value) in map {
                status[key] = value;
            }
        }
        util::patch_status(&self.api, &self.name, status).await?;
        let label = format!("{phase:?}");
        self.ctx.metrics.session_finished(&label);
        tracing::info!(session = %self.name, namespace = %self.namespace, phase = %label, %message, "backup session finished");
        Ok(Action::requeue(Duration::from_secs(1)))
    }

    /// The hooks of this session, with a summary in `phase` (and `error`).
    fn hooks<'a>(&'a self, invoker: &Invoker, phase: &str, error: &str) -> hooks::Hooks<'a> {
        // A batch of several targets has no single target to report.
        let target = match invoker.targets.as_slice() {
            [(_, target)] => target.clone(),
            _ => Default::default(),
        };
        hooks::Hooks {
            ctx: &self.ctx,
            namespace: &self.namespace,
            session: &self.name,
            owner: Some(util::owner_reference(self.session.as_ref(), false)),
            summary: hooks::Summary {
                name: self.name.clone(),
                namespace: self.namespace.clone(),
                invoker: kubestash::api::common::TypedObjectReference {
                    api_group: Some("core.kubestash.com".into()),
                    kind: Some(invoker.kind.into()),
                    namespace: Some(self.namespace.clone()),
                    name: invoker.name.clone(),
                },
                target,
                phase: phase.into(),
                duration: self.duration(),
                error: error.into(),
            },
        }
    }

    /// Runs the session's pre-backup hooks once; `Some` when one failed and ended the session.
    async fn pre_hooks(
        &self,
        invoker: &Invoker,
        session: &InvokerSession,
    ) -> Result<Option<Action>> {
        let list = session
            .config
            .hooks
            .as_ref()
            .and_then(|h| h.pre_backup.clone())
            .unwrap_or_default();
        let runner = self.hooks(invoker, "Running", "");
        let failure = hooks::run_recorded(
            &self.api,
            &self.name,
            &runner,
            &list,
            None,
            "PreBackupHooksExecutionSucceeded",
        )
        .await?;
        match failure {
            Some(error) => Ok(Some(
                self.fail(
                    "PreBackupHooksExecutionSucceeded",
                    "PreBackupHookFailed",
                    format!("pre-backup {error}; the backup did not run"),
                )
                .await?,
            )),
            None => Ok(None),
        }
    }

    /// Runs the session's post-backup hooks once for an outcome; returns their failure.
    async fn post_hooks(
        &self,
        invoker: &Invoker,
        session: &InvokerSession,
        error: Option<&str>,
        skipped: bool,
    ) -> Result<Option<String>> {
        let list = session
            .config
            .hooks
            .as_ref()
            .and_then(|h| h.post_backup.clone())
            .unwrap_or_default();
        // What the hooks' summary reports as the session's phase.
        let phase = match (error, skipped) {
            (_, true) => "Skipped",
            (Some(_), false) => "Failed",
            (None, false) => "Succeeded",
        };
        let runner = self.hooks(invoker, phase, error.unwrap_or_default());
        hooks::run_recorded(
            &self.api,
            &self.name,
            &runner,
            &list,
            Some(error.is_none()),
            "PostBackupHooksExecutionSucceeded",
        )
        .await
    }

    /// Runs the post-backup hooks of a session about to end without them, once it got as far
    /// as its hooks or its backup (pre hooks ran, or it is Running): on a failure (an
    /// `OnFailure` notification, an `Always` clean-up) and on a skip after the pre-backup
    /// hooks (the operator restarted in between), so what they did is undone. A session that
    /// never started (its target missing, say) runs none. Returns the message with the
    /// hooks' failure added.
    async fn post_hooks_before_end(
        &self,
        phase: BackupSessionPhase,
        message: String,
    ) -> Result<String> {
        let Some((invoker, session)) = self.resolved.get() else {
            return Ok(message);
        };
        if !matches!(
            phase,
            BackupSessionPhase::Failed | BackupSessionPhase::Skipped
        ) {
            return Ok(message);
        }
        let fresh = self
            .api
            .get_status(&self.name)
            .await?
            .status
            .unwrap_or_default();
        let conditions = fresh.conditions.unwrap_or_default();
        let ran = |type_: &str| util::find(Some(&conditions), type_).is_some();
        let started = ran("PreBackupHooksExecutionSucceeded")
            || (phase == BackupSessionPhase::Failed
                && fresh.phase == Some(BackupSessionPhase::Running));
        if ran("PostBackupHooksExecutionSucceeded") || !started {
            return Ok(message);
        }
        Ok(
            match self
                .post_hooks(
                    invoker,
                    session,
                    Some(&message),
                    phase == BackupSessionPhase::Skipped,
                )
                .await?
            {
                Some(hook_error) => format!("{message}; post-backup {hook_error}"),
                None => message,
            },
        )
    }

    async fn fail(&self, type_: &str, reason: &str, message: String) -> Result<Action> {
        self.finish(
            BackupSessionPhase::Failed,
            type_,
            reason,
            message,
            Value::Null,
        )
        .await
    }
}

async fn reconcile(
    session: Arc<kube::core::PartialObjectMeta<BackupSession>>,
    ctx: Arc<Context>,
) -> Result<Action> {
    if session.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = session.namespace().unwrap_or_default();
    // The cache may lag behind our own status writes; act on what the server has.
    let api: Api<BackupSession> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(session) = util::get_opt(&api, &session.name_any()).await? else {
        return Ok(Action::await_change());
    };
    let session = Arc::new(session);
    let run = Run {
        api: Api::namespaced(ctx.client.clone(), &namespace),
        name: session.name_any(),
        namespace,
        ctx,
        session,
        resolved: std::sync::OnceLock::new(),
    };
    let phase = run.status().phase;
    if phase.is_some_and(|p| p.is_final()) {
        return finalize(&run).await;
    }
    let Some(invoker) = run.session.spec.invoker.clone() else {
        return run
            .fail(
                "BackupExecutorEnsured",
                "InvokerMissing",
                "spec.invoker is required".into(),
            )
            .await;
    };
    let invoker = match Invoker::fetch(
        &run.ctx.client,
        &run.namespace,
        &invoker.kind,
        &invoker.name,
    )
    .await?
    {
        Ok(invoker) => invoker,
        Err(reason) => {
            return run
                .fail("BackupExecutorEnsured", "InvokerNotFound", reason)
                .await
        }
    };
    let session_name = run.session.spec.session.clone().unwrap_or_default();
    let Some(session_config) = invoker.session(&session_name).cloned() else {
        return run
            .fail(
                "BackupExecutorEnsured",
                "SessionNotFound",
                format!("{} has no session `{session_name}`", invoker.display()),
            )
            .await;
    };
    let _ = run.resolved.set((invoker.clone(), session_config.clone()));
    // Before anything else, whatever the phase: a session that cannot get going ends at
    // its deadline too.
    if let Some(deadline) = &run.status().backup_deadline {
        if chrono::Utc::now() > util::to_chrono(deadline) {
            return timed_out(&run, &invoker, &session_config).await;
        }
    }
    let outcome = match phase {
        None | Some(BackupSessionPhase::Pending) => start(&run, &invoker, &session_config).await,
        _ => progress(&run, &invoker, &session_config).await,
    };
    match outcome {
        Err(Error::Kube(error)) => match util::refused(&error) {
            Some(why) => {
                let message = format!("the API server refused a request of this session: {why}");
                // Refused once the backups succeeded: the retention Job.
                let (type_, reason) = if backed_up(&run).await? {
                    ("BackupSucceeded", "RetentionPolicyFailed")
                } else {
                    ("BackupExecutorEnsured", "RequestRefused")
                };
                abort(&run, &invoker, &session_config, type_, reason, message).await
            }
            None => Err(Error::Kube(error)),
        },
        other => other,
    }
}

/// Everything planned for one session: snapshots per repository and Jobs per component,
/// each Job keyed by its component-list entry (see [`Unit::job_key`]).
struct Plan {
    snapshots: Vec<Snapshot>,
    jobs: Vec<(String, Job)>,
}

async fn plan(run: &Run, invoker: &Invoker, session: &InvokerSession) -> Result<Plan> {
    let mut plan = Plan {
        snapshots: Vec::new(),
        jobs: Vec::new(),
    };
    if session.units.is_empty() {
        return Err(Error::msg(format!(
            "session `{}` has no targets",
            session.config.name
        )));
    }
    for unit in &session.units {
        plan_unit(run, invoker, session, unit, &mut plan).await?;
    }
    Ok(plan)
}

/// Plans one target of a session: its Snapshots and its Jobs.
async fn plan_unit(
    run: &Run,
    invoker: &Invoker,
    session: &InvokerSession,
    unit: &Unit,
    plan: &mut Plan,
) -> Result<()> {
    let client = &run.ctx.client;
    let namespace = &run.namespace;
    let session_name = &session.config.name;
    let within = match &unit.target {
        Some(target) => format!("session `{session_name}` target `{target}`"),
        None => format!("session `{session_name}`"),
    };
    let created = run
        .session
        .metadata
        .creation_timestamp
        .as_ref()
        .map(util::to_chrono)
        .unwrap_or_else(chrono::Utc::now);
    let repositories_api: Api<Repository> = Api::namespaced(client.clone(), namespace);
    let mut storage_volumes: Vec<(Volume, VolumeMount)> = Vec::new();
    let mut repository_names = Vec::new();
    for info in &unit.repositories {
        let repository = util::get_opt(&repositories_api, &info.name)
            .await?
            .ok_or_else(|| {
                Error::msg(format!("Repository `{namespace}/{}` not found", info.name))
            })?;
        backend::encryption_password(
            client,
            namespace,
            repository
                .spec
                .encryption_secret
                .as_ref()
                .or(info.encryption_secret.as_ref()),
        )
        .await?;
        let storage = backend::repository_storage(client, &repository).await?;
        add_storage_volume(&mut storage_volumes, &storage);
        let mut snapshot: Snapshot = serde_json::from_value(json!({
            "apiVersion": "storage.kubestash.com/v1alpha1",
            "kind": "Snapshot",
            "metadata": {
                "name": naming::snapshot_name(&info.name, &invoker.name, session_name, created.timestamp()),
                "namespace": namespace,
                "labels": managed_labels(&[
                    ("kubestash.com/repo-name", &info.name),
                    (LABEL_INVOKER_NAME, &invoker.name),
                    (LABEL_SESSION, session_name),
                    (LABEL_BACKUP_SESSION, &run.name),
                ]),
                "ownerReferences": [util::owner_reference(&repository, false)],
            },
            "spec": {
                "snapshotID": ulid(),
                "type": "FullBackup",
                "repository": info.name,
                "session": session_name,
                "backupSession": run.name,
                "version": "v1",
                "appRef": unit.app_ref,
                "deletionPolicy": repository.spec.deletion_policy,
            },
        }))?;
        snapshot.metadata.labels.get_or_insert_default();
        plan.snapshots.push(snapshot);
        repository_names.push(info.name.clone());
    }
    if repository_names.is_empty() {
        return Err(Error::msg(format!("{within} has no repositories")));
    }
    let addon_info = unit
        .addon
        .clone()
        .ok_or_else(|| Error::msg(format!("{within} has no addon")))?;
    let addons: Api<Addon> = Api::all(client.clone());
    let addon = util::get_opt(&addons, &addon_info.name)
        .await?
        .ok_or_else(|| Error::msg(format!("Addon `{}` not found", addon_info.name)))?;
    let functions: Api<Function> = Api::all(client.clone());
    let account = run.ctx.ensure_executor_account(namespace).await?;
    for task_ref in addon_info.tasks.iter().flatten() {
        let task = addon.spec.backup_task(&task_ref.name).ok_or_else(|| {
            Error::msg(format!(
                "Addon `{}` has no backup task `{}` ({within}, addon.tasks)",
                addon_info.name, task_ref.name
            ))
        })?;
        let function = util::get_opt(&functions, &task.function)
            .await?
            .ok_or_else(|| {
                Error::msg(format!(
                    "Function `{}` of Addon `{}` not found",
                    task.function, addon_info.name
                ))
            })?;
        let manifest = jobs::is_manifest_function(&function);
        // Only a manifest dump may list every kind.
        let account = if manifest {
            run.ctx.ensure_manifest_executor_account(namespace).await?
        } else {
            account.clone()
        };
        let components =
            jobs::plan_components(client, unit.app_ref.as_ref(), namespace, task_ref, manifest)
                .await?;
        for component in components {
            let mut variables = BTreeMap::from([
                ("namespace".to_string(), namespace.clone()),
                ("backupSession".to_string(), run.name.clone()),
                ("invokerKind".to_string(), invoker.kind.to_string()),
                ("invokerName".to_string(), invoker.name.clone()),
                ("taskName".to_string(), task_ref.name.clone()),
                ("COMPONENT_NAME".to_string(), component.component.clone()),
            ]);
            variables.extend(component.variables.clone());
            let (image, args, mut volumes, mut mounts) = jobs::resolve_function(
                &function, task, task_ref, &variables,
            )
            .map_err(|missing| {
                Error::msg(format!(
                    "Function `{}` of task `{}` cannot be resolved: {} unresolved",
                    task.function,
                    task_ref.name,
                    missing.join(", ")
                ))
            })?;
            volumes.extend(component.volumes.clone());
            // The target's volumes are only read: mounted read-only, a backup can never
            // change the data it copies (a DaemonSet's hostPath directories above all).
            mounts.extend(component.mounts.iter().cloned().map(|mut mount| {
                mount.read_only = Some(true);
                mount
            }));
            for (volume, mount) in &storage_volumes {
                volumes.push(volume.clone());
                mounts.push(mount.clone());
            }
            let key = unit.job_key(&component.component);
            if plan.jobs.iter().any(|(k, _)| *k == key) {
                return Err(Error::msg(format!(
                    "{within}: two tasks write component `{}`",
                    component.component
                )));
            }
            // In a batch, each Job writes only its own target's Snapshots.
            let env = match unit.target {
                Some(_) => vec![(REPOSITORIES_ENV.to_string(), repository_names.join(","))],
                None => Vec::new(),
            };
            let name = job_name(&run.name, &key);
            if plan
                .jobs
                .iter()
                .any(|(_, job)| job.metadata.name.as_deref() == Some(name.as_str()))
            {
                return Err(Error::msg(format!(
                    "{within}: component `{}` would share the Job name `{name}` with another target's; rename a target",
                    component.component
                )));
            }
            let job = jobs::build_job(JobSpec {
                name,
                namespace: namespace.clone(),
                labels: managed_labels(&[
                    (LABEL_BACKUP_SESSION, &run.name),
                    (LABEL_INVOKER_KIND, invoker.kind),
                    (LABEL_INVOKER_NAME, &invoker.name),
                    ("kubestash.com/component", &component.component),
                ]),
                owner: Some(util::owner_reference(run.session.as_ref(), true)),
                image,
                args,
                env,
                volumes,
                mounts,
                job_template: session
                    .config
                    .scheduler
                    .as_ref()
                    .map(|s| s.job_template.clone()),
                pod_template: addon_info.job_template.clone(),
                service_account: Some(account.clone()),
                node: component.node.clone(),
                ..JobSpec::default()
            });
            plan.jobs.push((key, job));
        }
    }
    Ok(())
}

/// Plans the session; a problem with the inputs (not the API server) ends it Failed.
async fn plan_or_fail(
    run: &Run,
    invoker: &Invoker,
    session: &InvokerSession,
) -> Result<std::result::Result<Plan, Action>> {
    match plan(run, invoker, session).await {
        Ok(plan) => Ok(Ok(plan)),
        Err(Error::Kube(error)) => Err(Error::Kube(error)),
        Err(error) => run
            .fail(
                "BackupExecutorEnsured",
                "BackupExecutorFailed",
                error.to_string(),
            )
            .await
            .map(Err),
    }
}

/// Creates a session's Snapshot. An existing one of the same name is this session's (created
/// before the operator restarted) or belongs to another session created in the same second:
/// then the next second's name is taken, so two sessions never write into one Snapshot.
async fn create_own_snapshot(
    api: &Api<Snapshot>,
    run: &Run,
    invoker: &Invoker,
    mut snapshot: Snapshot,
) -> Result<Snapshot> {
    let base = run
        .session
        .metadata
        .creation_timestamp
        .as_ref()
        .map(util::to_chrono)
        .unwrap_or_else(chrono::Utc::now)
        .timestamp();
    let session_name = run.session.spec.session.clone().unwrap_or_default();
    for offset in 0..60 {
        if offset > 0 {
            snapshot.metadata.name = Some(naming::snapshot_name(
                &snapshot.spec.repository,
                &invoker.name,
                &session_name,
                base + offset,
            ));
        }
        match api.create(&PostParams::default(), &snapshot).await {
            Ok(_) => return Ok(snapshot),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let existing = api.get(&snapshot.name_any()).await?;
                if existing.spec.backup_session.as_deref() == Some(run.name.as_str()) {
                    return Ok(snapshot);
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(Error::msg(format!(
        "no free Snapshot name for repository `{}`: 60 Snapshots of other sessions hold the names after `{}`",
        snapshot.spec.repository,
        snapshot.name_any()
    )))
}

/// Whether `other`, a session of the same invoker and session as `me`, runs instead of `me`:
/// the older of two unfinished sessions goes first and the newer one is skipped. Each
/// defers only to older ones, so two sessions reconciled at the same moment never both go
/// ahead (a check for "Running" alone let both pass before either was marked).
fn goes_first(other: &BackupSession, me: &BackupSession) -> bool {
    let order = |session: &BackupSession| {
        (
            session.metadata.creation_timestamp.clone().map(|t| t.0),
            session.name_any(),
        )
    };
    other.name_any() != me.name_any()
        && other.metadata.deletion_timestamp.is_none()
        && other.spec.invoker.as_ref().map(|i| (&i.kind, &i.name))
            == me.spec.invoker.as_ref().map(|i| (&i.kind, &i.name))
        && other.spec.session == me.spec.session
        && !other
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(|phase| phase.is_final())
        && order(other) < order(me)
}

async fn start(run: &Run, invoker: &Invoker, session: &InvokerSession) -> Result<Action> {
    let client = &run.ctx.client;
    if invoker.paused {
        return run
            .finish(
                BackupSessionPhase::Skipped,
                "BackupSkipped",
                &format!("{}Paused", invoker.kind),
                format!("{} `{}` is paused", invoker.kind, invoker.name),
                Value::Null,
            )
            .await;
    }
    let others = util::list_all(&run.api, &ListParams::default()).await?;
    let busy = others.iter().find(|other| goes_first(other, &run.session));
    if let Some(other) = busy {
        return run
            .finish(
                BackupSessionPhase::Skipped,
                "BackupSkipped",
                "AnotherSessionRunning",
                format!(
                    "BackupSession `{}` of the same session is still {}",
                    other.name_any(),
                    match other.status.as_ref().and_then(|s| s.phase) {
                        Some(BackupSessionPhase::Running) => "running",
                        _ => "about to run",
                    }
                ),
                Value::Null,
            )
            .await;
    }
    match invoker.phase {
        Some(kubestash::api::core::session::BackupInvokerPhase::Invalid) => {
            let why = util::find(Some(&invoker.conditions), "ValidationPassed")
                .and_then(|c| c.message.clone())
                .unwrap_or_default();
            return run
                .fail(
                    "BackupExecutorEnsured",
                    "InvokerInvalid",
                    format!("{} `{}` is Invalid: {why}", invoker.kind, invoker.name),
                )
                .await;
        }
        Some(kubestash::api::core::session::BackupInvokerPhase::Ready) => {}
        _ => {
            let age = util::since_creation(&run.session.metadata).as_secs() as i64;
            let why = util::find(Some(&invoker.conditions), "Ready")
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| "not reconciled yet".into());
            // Wait only while the configuration is still settling; a missing target or a
            // storage that failed to initialize will not fix itself.
            let permanent = invoker.target_missing
                || invoker.backend_status.iter().any(|b| {
                    b.storage
                        .as_ref()
                        .and_then(|s| s.reason.as_deref())
                        .is_some_and(|r| !r.ends_with("not initialized yet"))
                        || b.retention_policy
                            .as_ref()
                            .is_some_and(|r| r.found == Some(false))
                });
            if age < READY_WAIT && !permanent {
                let mut conditions = run.conditions();
                set_condition(
                    &mut conditions,
                    condition(
                        "BackupExecutorEnsured",
                        false,
                        "WaitingForInvoker",
                        format!(
                            "waiting for {} `{}` to become Ready: {why}",
                            invoker.kind, invoker.name
                        ),
                    ),
                );
                if run.status().phase.is_none() {
                    util::patch_status(
                        &run.api,
                        &run.name,
                        json!({"phase": "Pending", "conditions": conditions}),
                    )
                    .await?;
                }
                return Ok(Action::requeue(Duration::from_secs(2)));
            }
            return run
                .fail(
                    "BackupExecutorEnsured",
                    "InvokerNotReady",
                    format!("{} `{}` is not Ready: {why}", invoker.kind, invoker.name),
                )
                .await;
        }
    }
    if run.status().backup_deadline.is_none() {
        if let Some(timeout) = backup_timeout(run, session) {
            // From the session's start, hooks and Job creation included; kept when the
            // operator restarts and starts over.
            let deadline =
                chrono::Utc::now() + chrono::Duration::from_std(timeout).unwrap_or_default();
            util::patch_status(
                &run.api,
                &run.name,
                json!({"backupDeadline": util::from_chrono(deadline)}),
            )
            .await?;
        }
    }
    let plan = match plan_or_fail(run, invoker, session).await? {
        Ok(plan) => plan,
        Err(action) => return Ok(action),
    };
    let has_pre_hooks = session
        .config
        .hooks
        .as_ref()
        .is_some_and(|h| h.pre_backup.as_ref().is_some_and(|list| !list.is_empty()));
    if has_pre_hooks && run.status().phase != Some(BackupSessionPhase::Running) {
        // Running from here on, so a session triggered while the hooks run is skipped
        // rather than backing up alongside.
        util::patch_status(&run.api, &run.name, json!({"phase": "Running"})).await?;
    }
    if let Some(action) = run.pre_hooks(invoker, session).await? {
        return Ok(action);
    }
    // Snapshots first: the executor writes into them.
    let mut entries = Vec::new();
    for snapshot in &plan.snapshots {
        // Each Snapshot gets the components of its own target.
        let total_components = plan
            .jobs
            .iter()
            .filter(|(key, _)| {
                session.unit_of(key).is_some_and(|(unit, _)| {
                    unit.repositories
                        .iter()
                        .any(|r| r.name == snapshot.spec.repository)
                })
            })
            .count() as i32;
        let api: Api<Snapshot> = Api::namespaced(client.clone(), &run.namespace);
        let snapshot = &create_own_snapshot(&api, run, invoker, snapshot.clone()).await?;
        util::patch_status(
            &api,
            &snapshot.name_any(),
            json!({
                "phase": "Pending",
                "snapshotTime": util::now(),
                "totalComponents": total_components,
            }),
        )
        .await?;
        entries.push(json!({
            "name": snapshot.name_any(),
            "phase": "Pending",
            "appRef": snapshot.spec.app_ref,
            "repository": snapshot.spec.repository,
        }));
    }
    let components: Vec<String> = plan.jobs.iter().map(|(c, _)| c.clone()).collect();
    util::patch_merge(
        &run.api,
        &run.name,
        json!({"metadata": {"annotations": {COMPONENTS_ANNOTATION: components.join(",")}}}),
    )
    .await?;
    let mut conditions = util::fresh_conditions(&run.api, &run.name).await?;
    set_condition(
        &mut conditions,
        condition(
            "SnapshotsEnsured",
            true,
            "SnapshotsEnsured",
            format!("{} Snapshot(s) created", entries.len()),
        ),
    );
    let status = json!({
        "phase": "Running",
        "totalSnapshots": entries.len(),
        "snapshots": entries,
        "conditions": conditions,
    });
    util::patch_status(&run.api, &run.name, status).await?;
    for (_, job) in &plan.jobs {
        run.ctx.ensure_job(job).await?;
    }
    let mut conditions = run
        .api
        .get_status(&run.name)
        .await?
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default();
    set_condition(
        &mut conditions,
        condition(
            "BackupExecutorEnsured",
            true,
            "BackupExecutorEnsured",
            format!("{} backup Job(s) created", plan.jobs.len()),
        ),
    );
    util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
    Ok(Action::requeue(Duration::from_secs(10)))
}

/// The session's `backupTimeout`, or its configuration session's.
fn backup_timeout(run: &Run, session: &InvokerSession) -> Option<Duration> {
    backup_timeout_text(run, session).and_then(|t| kubestash::duration::parse_go_duration(&t).ok())
}

/// The `backupTimeout` as written, the session's or its configuration session's.
fn backup_timeout_text(run: &Run, session: &InvokerSession) -> Option<String> {
    run.session
        .spec
        .backup_timeout
        .clone()
        .or(session.config.backup_timeout.clone())
}

/// Ends a session whose `backupDeadline` passed. Once every snapshot succeeded, the backup
/// itself is not blamed: the session fails for its retention (the retention Job is left to
/// finish, as killing a prune would leave its exclusive lock behind for half an hour).
async fn timed_out(run: &Run, invoker: &Invoker, session: &InvokerSession) -> Result<Action> {
    let timeout = backup_timeout_text(run, session).unwrap_or_default();
    if backed_up(run).await? {
        let message = format!(
            "backup succeeded but retention did not finish within the backupTimeout ({timeout})"
        );
        return abort(
            run,
            invoker,
            session,
            "BackupSucceeded",
            "RetentionPolicyFailed",
            message,
        )
        .await;
    }
    let message = format!("the backup did not finish within its backupTimeout ({timeout})");
    abort(
        run,
        invoker,
        session,
        "BackupExecutorEnsured",
        "BackupTimeoutExceeded",
        message,
    )
    .await
}

/// Whether every Snapshot of the session succeeded (what is left is retention).
async fn backed_up(run: &Run) -> Result<bool> {
    let expected = run.status().snapshots.as_ref().map(Vec::len).unwrap_or(0);
    let snapshots = session_snapshots(run).await?;
    Ok(expected > 0
        && snapshots.len() == expected
        && snapshots
            .iter()
            .all(|snapshot| snapshot_phase(snapshot) == SnapshotPhase::Succeeded))
}

/// Ends a session early: the backup Jobs still running are deleted, their components fail
/// with `message` in the session's Snapshots, the post-backup hooks run, and the session
/// fails with a condition of `type_`.
async fn abort(
    run: &Run,
    invoker: &Invoker,
    session: &InvokerSession,
    type_: &str,
    reason: &str,
    message: String,
) -> Result<Action> {
    let jobs_api: Api<Job> = Api::namespaced(run.ctx.client.clone(), &run.namespace);
    for component in components_of(run) {
        let _ = jobs_api
            .delete(
                &job_name(&run.name, &component),
                &DeleteParams::background(),
            )
            .await;
        fail_component(run, session, &component, &message).await?;
    }
    let message = match run
        .post_hooks(invoker, session, Some(&message), false)
        .await?
    {
        Some(hook_error) => format!("{message}; post-backup {hook_error}"),
        None => message,
    };
    run.fail(type_, reason, message).await
}

/// The components of a session's Jobs, as recorded when they were planned.
fn components_of(run: &Run) -> Vec<String> {
    util::comma_list(run.session.annotations().get(COMPONENTS_ANNOTATION))
}

async fn session_snapshots(run: &Run) -> Result<Vec<Snapshot>> {
    let api: Api<Snapshot> = Api::namespaced(run.ctx.client.clone(), &run.namespace);
    let mut found = Vec::new();
    for entry in run.status().snapshots.iter().flatten() {
        if let Some(snapshot) = util::get_opt(&api, &entry.name).await? {
            found.push(snapshot);
        }
    }
    Ok(found)
}

/// Marks the component of a component-list entry Failed in every snapshot of its target
/// where it has not finished.
async fn fail_component(run: &Run, session: &InvokerSession, key: &str, error: &str) -> Result<()> {
    let api: Api<Snapshot> = Api::namespaced(run.ctx.client.clone(), &run.namespace);
    let Some((unit, component)) = session.unit_of(key) else {
        return Ok(());
    };
    for mut snapshot in session_snapshots(run).await? {
        if !unit
            .repositories
            .iter()
            .any(|r| r.name == snapshot.spec.repository)
        {
            continue;
        }
        // Guarded by the version read: an executor that recorded the component's end since
        // (its Job ran into the deadline as it finished) keeps what it wrote.
        let mut written = false;
        for _ in 0..util::GUARDED_TRIES {
            let current = snapshot
                .status
                .as_ref()
                .and_then(|s| s.components.as_ref())
                .and_then(|c| c.get(component))
                .and_then(|c| c.phase);
            if matches!(
                current,
                Some(SnapshotPhase::Succeeded) | Some(SnapshotPhase::Failed)
            ) {
                written = true;
                break;
            }
            let failed = json!({"components": {component: {"phase": "Failed", "error": error}}});
            if util::patch_status_at(&api, &snapshot, failed)
                .await?
                .is_some()
            {
                written = true;
                break;
            }
            snapshot = api.get(&snapshot.name_any()).await?;
        }
        if !written {
            return Err(crate::Error::msg(format!(
                "snapshot `{}` kept changing while component `{component}` was failed",
                snapshot.name_any()
            )));
        }
    }
    Ok(())
}

/// What the Snapshots of a component's repositories record for it, read when its Job is gone
/// or failed: an error already recorded (e.g. for a Job this operator deleted because its
/// node was gone) is not reported again, and a component the executor finished stays done.
enum Recorded {
    /// Every repository has the component Succeeded: the Job finished and was then removed
    /// (a `ttlSecondsAfterFinished` from the jobTemplate, say), or it was marked failed
    /// after the executor's last write (its deadline passed as the pod exited, say).
    Succeeded,
    /// The executor recorded this failure.
    Failed(String),
    /// Nothing final.
    Unknown,
}

async fn recorded_outcome(run: &Run, session: &InvokerSession, key: &str) -> Result<Recorded> {
    let Some((unit, component)) = session.unit_of(key) else {
        return Ok(Recorded::Unknown);
    };
    let statuses: Vec<_> = session_snapshots(run)
        .await?
        .into_iter()
        .filter(|snapshot| {
            unit.repositories
                .iter()
                .any(|r| r.name == snapshot.spec.repository)
        })
        .map(|snapshot| {
            snapshot
                .status
                .and_then(|status| status.components)
                .and_then(|mut components| components.remove(component))
        })
        .collect();
    if let Some(error) = statuses.iter().flatten().find_map(|status| {
        (status.phase == Some(SnapshotPhase::Failed))
            .then(|| status.error.clone().unwrap_or_default())
    }) {
        return Ok(Recorded::Failed(error));
    }
    let all_succeeded = statuses.len() == unit.repositories.len()
        && statuses.iter().all(|status| {
            status
                .as_ref()
                .is_some_and(|status| status.phase == Some(SnapshotPhase::Succeeded))
        });
    Ok(if all_succeeded && !statuses.is_empty() {
        Recorded::Succeeded
    } else {
        Recorded::Unknown
    })
}

async fn progress(run: &Run, invoker: &Invoker, session: &InvokerSession) -> Result<Action> {
    let client = &run.ctx.client;
    let status = run.status();
    let jobs_api: Api<Job> = Api::namespaced(client.clone(), &run.namespace);
    if !util::is_true(status.conditions.as_ref(), "SnapshotsEnsured") {
        // Running since the pre hooks began, but the operator stopped before the snapshots:
        // pick up where it left (hooks that ran are not run again).
        return start(run, invoker, session).await;
    }
    if !util::is_true(status.conditions.as_ref(), "BackupExecutorEnsured") {
        // The operator stopped between creating the snapshots and the Jobs: finish that.
        let plan = match plan_or_fail(run, invoker, session).await? {
            Ok(plan) => plan,
            Err(action) => return Ok(action),
        };
        for (_, job) in &plan.jobs {
            run.ctx.ensure_job(job).await?;
        }
        let mut conditions = run.conditions();
        set_condition(
            &mut conditions,
            condition(
                "BackupExecutorEnsured",
                true,
                "BackupExecutorEnsured",
                format!("{} backup Job(s) created", plan.jobs.len()),
            ),
        );
        util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let components = components_of(run);
    let mut running = false;
    let mut failures = Vec::new();
    for component in &components {
        let job_name = job_name(&run.name, component);
        match util::get_opt(&jobs_api, &job_name).await? {
            None => {
                let message = match recorded_outcome(run, session, component).await? {
                    Recorded::Succeeded => continue,
                    Recorded::Failed(recorded) if !recorded.is_empty() => recorded,
                    Recorded::Failed(_) | Recorded::Unknown => format!(
                        "backup Job `{}/{job_name}` was deleted before it finished",
                        run.namespace
                    ),
                };
                fail_component(run, session, component, &message).await?;
                failures.push(message);
            }
            Some(job) => match job_outcome(&job) {
                None => match lost_node(client, &job).await {
                    Some(node) => {
                        let _ = jobs_api
                            .delete(&job_name, &DeleteParams::background())
                            .await;
                        let message = format!(
                            "backup Job `{}/{job_name}` is pinned to node `{node}`, which no longer exists",
                            run.namespace
                        );
                        fail_component(run, session, component, &message).await?;
                        failures.push(message);
                    }
                    None => match end_stuck_job(&run.ctx, &run.api, &run.name, &job).await? {
                        Some(stuck) => {
                            fail_component(run, session, component, &stuck).await?;
                            failures.push(stuck);
                        }
                        None => running = true,
                    },
                },
                Some(Ok(())) => {}
                Some(Err(reason)) => {
                    // The backup is in every repository and recorded: the Job's failure
                    // came after the executor's work, and failing the component would
                    // contradict the snapshots restic lists.
                    if matches!(
                        recorded_outcome(run, session, component).await?,
                        Recorded::Succeeded
                    ) {
                        tracing::warn!(session = %run.name, job = %job_name, %reason, "backup Job failed after its executor recorded the component Succeeded; keeping that");
                        continue;
                    }
                    let logs = job_log_tail(client, &job, 3)
                        .await
                        .map(|l| format!(" (last log lines: {l})"))
                        .unwrap_or_default();
                    let message = format!(
                        "backup Job `{}/{job_name}` failed: {reason}{logs}",
                        run.namespace
                    );
                    fail_component(run, session, component, &message).await?;
                    failures.push(message);
                }
            },
        }
    }
    if running && failures.is_empty() {
        refresh_snapshot_entries(run).await?;
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    if running {
        // Let the rest finish; the failure is already recorded on the snapshots.
        refresh_snapshot_entries(run).await?;
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let snapshots = session_snapshots(run).await?;
    let entries = refresh_snapshot_entries(run).await?;
    let mut errors: Vec<String> = failures;
    for snapshot in &snapshots {
        for (component, status) in snapshot
            .status
            .as_ref()
            .and_then(|s| s.components.clone())
            .unwrap_or_default()
        {
            if status.phase == Some(SnapshotPhase::Failed) {
                let error = status.error.clone().unwrap_or_else(|| "failed".into());
                let line = format!(
                    "Snapshot `{}` component `{component}`: {error}",
                    snapshot.name_any()
                );
                if !errors
                    .iter()
                    .any(|e| error.contains(e.as_str()) || e.contains(&error))
                {
                    errors.push(line);
                }
            }
        }
        let uploaded = util::find(
            snapshot.status.as_ref().and_then(|s| s.conditions.as_ref()),
            "SnapshotMetadataUploaded",
        );
        if snapshot_phase(snapshot) == SnapshotPhase::Running && uploaded.is_none() {
            // Every Job ended and none recorded the copy into the backend (an executor killed
            // between its last two writes): Failed, rather than Running for good.
            let message = "the backup Jobs ended before the Snapshot was copied into the backend";
            let mut conditions = snapshot
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            set_condition(
                &mut conditions,
                condition(
                    "SnapshotMetadataUploaded",
                    false,
                    "SnapshotMetadataUploadFailed",
                    message,
                ),
            );
            let snapshots_api: Api<Snapshot> = Api::namespaced(client.clone(), &run.namespace);
            util::patch_status(
                &snapshots_api,
                &snapshot.name_any(),
                json!({"conditions": conditions}),
            )
            .await?;
            errors.push(format!("Snapshot `{}`: {message}", snapshot.name_any()));
        }
        if snapshot_phase(snapshot) != SnapshotPhase::Succeeded && errors.is_empty() {
            errors.push(format!(
                "Snapshot `{}` did not succeed (phase {:?})",
                snapshot.name_any(),
                snapshot_phase(snapshot)
            ));
        }
    }
    if snapshots.len() < status.snapshots.as_ref().map(Vec::len).unwrap_or(0) {
        errors.push("a Snapshot of this session was deleted before it finished".into());
    }
    if !errors.is_empty() {
        let message = errors.join("; ");
        let message = match run
            .post_hooks(invoker, session, Some(&message), false)
            .await?
        {
            Some(hook_error) => format!("{message}; post-backup {hook_error}"),
            None => message,
        };
        return run
            .finish(
                BackupSessionPhase::Failed,
                "BackupSucceeded",
                "BackupFailed",
                message,
                json!({"snapshots": entries}),
            )
            .await;
    }
    // Retention, once every snapshot succeeded.
    let retention_job = retention_job_name(&run.name);
    let has_policies = invoker.has_retention();
    if has_policies {
        let job = match util::get_opt(&jobs_api, &retention_job).await? {
            Some(job) => job,
            None => {
                let job = retention_job_spec(run, invoker, session).await?;
                run.ctx.ensure_job(&job).await?;
                let mut conditions = run.conditions();
                set_condition(
                    &mut conditions,
                    condition(
                        "RetentionPolicyExecutorEnsured",
                        true,
                        "RetentionPolicyExecutorEnsured",
                        format!("Job `{retention_job}` created"),
                    ),
                );
                util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
                return Ok(Action::requeue(Duration::from_secs(5)));
            }
        };
        match job_outcome(&job) {
            None => return Ok(Action::requeue(Duration::from_secs(5))),
            Some(Ok(())) => {}
            Some(Err(reason)) => {
                let fresh = run.api.get_status(&run.name).await?;
                let recorded: Vec<String> = fresh
                    .status
                    .and_then(|s| s.retention_policy)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.error)
                    .collect();
                let message = if recorded.is_empty() {
                    format!("retention Job `{retention_job}` failed: {reason}")
                } else {
                    recorded.join("; ")
                };
                let message = format!("backup succeeded but retention failed: {message}");
                let message = match run
                    .post_hooks(invoker, session, Some(&message), false)
                    .await?
                {
                    Some(hook_error) => format!("{message}; post-backup {hook_error}"),
                    None => message,
                };
                return run
                    .finish(
                        BackupSessionPhase::Failed,
                        "BackupSucceeded",
                        "RetentionPolicyFailed",
                        message,
                        json!({"snapshots": entries}),
                    )
                    .await;
            }
        }
    }
    if let Some(hook_error) = run.post_hooks(invoker, session, None, false).await? {
        return run
            .finish(
                BackupSessionPhase::Failed,
                "PostBackupHooksExecutionSucceeded",
                "PostBackupHookFailed",
                format!("the backup succeeded but post-backup {hook_error}"),
                json!({"snapshots": entries}),
            )
            .await;
    }
    let size: u64 = snapshots
        .iter()
        .flat_map(|s| {
            s.status
                .as_ref()
                .and_then(|s| s.components.clone())
                .unwrap_or_default()
                .into_values()
        })
        .filter_map(|c| c.size.as_deref().and_then(util::parse_human_bytes))
        .sum();
    let seconds = util::since_creation(&run.session.metadata).as_secs_f64();
    run.ctx.metrics.backup_succeeded(
        &run.namespace,
        invoker.kind,
        &invoker.name,
        chrono::Utc::now().timestamp() as f64,
        seconds,
        size as f64,
    );
    run.finish(
        BackupSessionPhase::Succeeded,
        "BackupSucceeded",
        "BackupSucceeded",
        format!("{} snapshot(s) taken", snapshots.len()),
        json!({"snapshots": entries}),
    )
    .await
}

/// Copies the snapshots' phases into `status.snapshots`.
async fn refresh_snapshot_entries(run: &Run) -> Result<Vec<Value>> {
    let snapshots = session_snapshots(run).await?;
    let mut entries = Vec::new();
    for entry in run.status().snapshots.iter().flatten() {
        let phase = snapshots
            .iter()
            .find(|s| s.name_any() == entry.name)
            .map(snapshot_phase)
            .unwrap_or(SnapshotPhase::Failed);
        let mut value = serde_json::to_value(entry)?;
        value["phase"] = json!(phase);
        entries.push(value);
    }
    let current: Vec<Value> = run
        .status()
        .snapshots
        .iter()
        .flatten()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    if current != entries {
        util::patch_status(&run.api, &run.name, json!({"snapshots": entries})).await?;
    }
    Ok(entries)
}

/// Adds the volume of a local storage once per mount path (several local storages get
/// numbered volume names).
fn add_storage_volume(
    volumes: &mut Vec<(Volume, VolumeMount)>,
    storage: &kubestash::api::storage::BackupStorage,
) {
    let Some((mut volume, mount)) = jobs::storage_volume(storage) else {
        return;
    };
    if volumes
        .iter()
        .any(|(_, m)| m.mount_path == mount.mount_path)
    {
        return;
    }
    if !volumes.is_empty() {
        volume.name = format!("{}-{}", jobs::STORAGE_VOLUME, volumes.len());
    }
    let mount = VolumeMount {
        name: volume.name.clone(),
        ..mount
    };
    volumes.push((volume, mount));
}

async fn retention_job_spec(run: &Run, invoker: &Invoker, session: &InvokerSession) -> Result<Job> {
    let client = &run.ctx.client;
    let repositories_api: Api<Repository> = Api::namespaced(client.clone(), &run.namespace);
    let mut storage_volumes: Vec<(Volume, VolumeMount)> = Vec::new();
    for info in session.repositories() {
        let Some(repository) = util::get_opt(&repositories_api, &info.name).await? else {
            continue;
        };
        let storage = backend::repository_storage(client, &repository).await?;
        add_storage_volume(&mut storage_volumes, &storage);
    }
    let (volumes, mounts): (Vec<Volume>, Vec<VolumeMount>) = storage_volumes.into_iter().unzip();
    let account = run.ctx.ensure_executor_account(&run.namespace).await?;
    Ok(jobs::build_job(JobSpec {
        name: retention_job_name(&run.name),
        namespace: run.namespace.clone(),
        labels: managed_labels(&[
            (LABEL_BACKUP_SESSION, &run.name),
            (LABEL_INVOKER_NAME, &invoker.name),
        ]),
        owner: Some(util::owner_reference(run.session.as_ref(), true)),
        image: run.ctx.options.image.clone(),
        args: vec![
            "executor".into(),
            "retention".into(),
            format!("--namespace={}", run.namespace),
            format!("--backupsession={}", run.name),
        ],
        volumes,
        mounts,
        job_template: session.config.scheduler.as_ref().map(|s| {
            kubestash::api::core::session::JobTemplate {
                backoff_limit: Some(1),
                template: s.job_template.template.clone(),
                ..Default::default()
            }
        }),
        pod_template: session.shared_pod_template(),
        service_account: Some(account),
        ..JobSpec::default()
    }))
}

/// Work after a final phase: history cleanup and retries.
async fn finalize(run: &Run) -> Result<Action> {
    let status = run.status();
    let client = &run.ctx.client;
    let invoker = run.session.spec.invoker.clone();
    let configuration = match &invoker {
        Some(invoker) => Invoker::fetch(client, &run.namespace, &invoker.kind, &invoker.name)
            .await?
            .ok(),
        None => None,
    };
    let session_name = run.session.spec.session.clone().unwrap_or_default();
    let session = configuration
        .as_ref()
        .and_then(|c| c.session(&session_name).cloned());
    // Retry a failed session.
    let retry_left = run.session.spec.retry_left.unwrap_or(0);
    if status.phase == Some(BackupSessionPhase::Failed)
        && retry_left > 0
        && status.retried != Some(true)
    {
        if let (Some(configuration), Some(session)) = (&configuration, &session) {
            if configuration.paused {
                // Nothing here watches the invoker: look again for the resume.
                return Ok(Action::requeue(Duration::from_secs(30)));
            }
            let delay = session
                .config
                .retry_config
                .as_ref()
                .and_then(|r| r.delay.clone())
                .and_then(|d| kubestash::duration::parse_go_duration(&d).ok())
                .unwrap_or_default();
            let next = match &status.next_retry {
                Some(next) => util::to_chrono(next),
                None => {
                    let next =
                        chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    util::patch_status(
                        &run.api,
                        &run.name,
                        json!({"nextRetry": util::from_chrono(next)}),
                    )
                    .await?;
                    next
                }
            };
            let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
            if !wait.is_zero() {
                return Ok(Action::requeue(wait));
            }
            // A retry created before the operator stopped, ahead of `retried` being written.
            let made_before = util::list_all(&run.api, &ListParams::default())
                .await?
                .into_iter()
                .any(|other| {
                    other.annotations().get(crate::ANNOTATION_RETRY_OF) == Some(&run.name)
                });
            let mut seconds = chrono::Utc::now().timestamp();
            let mut created = made_before;
            while !created {
                let mut retry = crate::sessions::backup_session(
                    configuration,
                    &session_name,
                    seconds,
                    Some(retry_left - 1),
                )?;
                retry
                    .annotations_mut()
                    .insert(crate::ANNOTATION_RETRY_OF.into(), run.name.clone());
                match run.api.create(&PostParams::default(), &retry).await {
                    Ok(retry) => {
                        tracing::info!(session = %run.name, retry = %retry.name_any(), "retrying a failed backup session");
                        created = true;
                    }
                    Err(kube::Error::Api(status)) if status.code == 409 => seconds += 1,
                    Err(error) => return Err(error.into()),
                }
            }
            util::patch_status(&run.api, &run.name, json!({"retried": true})).await?;
        }
    }
    // Keep the newest `sessionHistoryLimit` finished sessions of this session.
    if !util::is_true(status.conditions.as_ref(), "SessionHistoryCleaned") {
        let limit = session
            .as_ref()
            .map(|s| s.config.session_history_limit)
            .unwrap_or(1)
            .max(1) as usize;
        let mut finished: Vec<BackupSession> = util::list_all(&run.api, &ListParams::default())
            .await?
            .into_iter()
            .filter(|other| {
                other.spec.invoker.as_ref().map(|i| (&i.kind, &i.name))
                    == invoker.as_ref().map(|i| (&i.kind, &i.name))
                    && other.spec.session == run.session.spec.session
                    && other
                        .status
                        .as_ref()
                        .and_then(|s| s.phase)
                        .is_some_and(|p| p.is_final())
            })
            .collect();
        finished.sort_by_key(|s| {
            std::cmp::Reverse((
                s.metadata.creation_timestamp.clone().map(|t| t.0),
                s.name_any(),
            ))
        });
        let mut removed = 0;
        for old in finished.iter().skip(limit) {
            // A failed session whose retry is not made yet still has work to do (and a
            // `backup now --follow-retries` may be waiting on it).
            let awaiting_retry = old.status.as_ref().is_some_and(|s| {
                s.phase == Some(BackupSessionPhase::Failed) && s.retried != Some(true)
            }) && old.spec.retry_left.unwrap_or(0) > 0;
            if old.name_any() == run.name || awaiting_retry {
                continue;
            }
            let _ = run
                .api
                .delete(&old.name_any(), &DeleteParams::background())
                .await;
            removed += 1;
        }
        let mut conditions = status.conditions.clone().unwrap_or_default();
        set_condition(
            &mut conditions,
            condition(
                "SessionHistoryCleaned",
                true,
                "SessionHistoryCleaned",
                format!("{removed} old session(s) removed"),
            ),
        );
        util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod order_tests {
    use super::*;

    fn session(name: &str, seconds: i64, phase: Option<&str>) -> BackupSession {
        serde_json::from_value(json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "BackupSession",
            "metadata": {
                "name": name,
                "namespace": "shop",
                "creationTimestamp": chrono::DateTime::from_timestamp(1_700_000_000 + seconds, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
            "spec": {
                "invoker": {"apiGroup": "core.kubestash.com", "kind": "BackupConfiguration", "name": "orders-backup"},
                "session": "nightly",
            },
            "status": phase.map(|phase| json!({"phase": phase})).unwrap_or(json!({})),
        }))
        .unwrap()
    }

    #[test]
    fn the_older_unfinished_session_goes_first_and_never_the_other_way() {
        let older = session("a", 0, None);
        let newer = session("b", 1, None);
        assert!(
            goes_first(&older, &newer),
            "an older session not yet started"
        );
        assert!(!goes_first(&newer, &older), "never defer to a newer one");
        assert!(goes_first(&session("a", 0, Some("Running")), &newer));
        assert!(
            !goes_first(&session("a", 0, Some("Failed")), &newer),
            "finished"
        );
        // Same second: the name decides.
        assert!(goes_first(&session("a", 1, Some("Pending")), &newer));
        assert!(!goes_first(&newer, &session("a", 1, Some("Pending"))));
        let mut other_session = session("a", 0, None);
        other_session.spec.session = Some("hourly".into());
        assert!(
            !goes_first(&other_session, &newer),
            "another session of the invoker"
        );
        assert!(!goes_first(&newer, &newer), "not itself");
    }
}
