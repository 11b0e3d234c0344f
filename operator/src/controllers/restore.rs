//! RestoreSession: resolves the snapshot (`latest` = the newest Succeeded Snapshot of the
//! repository), pauses backups of the same target, runs one restore Job per component
//! through the Addon's restore task, reports per-component status, enforces
//! restoreTimeout and resumes the paused backups at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{DeleteParams, ListParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use kubestash::api::addons::{Addon, Function};
use kubestash::api::common::TypedObjectReference;
use kubestash::api::core::restore_session::{RestorePhase, LATEST_SNAPSHOT};
use kubestash::api::core::{
    BackupBatch, BackupConfiguration, ComponentRestoreStatus, RestoreSession,
};
use kubestash::api::storage::{Repository, Snapshot, SnapshotPhase};
use kubestash::naming;
use kubestash::object::Object;
use kubestash::validation::{self, Severity};
use serde_json::{json, Value};

use super::configuration::target_exists;
use super::snapshot::snapshot_phase;
use super::{end_stuck_job, job_log_tail, job_outcome, lost_node, managed_labels, Context};
use crate::backend;
use crate::hooks;
use crate::invoker::Invoker;
use crate::jobs::{self, JobSpec};
use crate::util::{self, condition, set_condition};
use crate::{Error, Result, LABEL_RESTORE_SESSION};

/// Annotation on a BackupConfiguration a restore paused.
const PAUSED_BY: &str = "kubestash.com/paused-by-restore";

/// Runs the controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller = super::lean_controller(
        Api::<RestoreSession>::all(client.clone()),
        super::watch_config(),
    )
    .owns(
        Api::<Job>::all(client.clone()),
        super::watch_config().labels(LABEL_RESTORE_SESSION),
    )
    .with_config(super::controller_config())
    .graceful_shutdown_on(super::stopper(stop))
    .run(
        |object, ctx| async move {
            super::timed(&ctx.clone(), "RestoreSession", reconcile(object, ctx)).await
        },
        super::on_error,
        ctx.clone(),
    );
    super::drain(controller.boxed(), ctx).await;
}

/// The Job of one component of a restore.
pub fn restore_job_name(restore: &str, component: &str) -> String {
    naming::valid_name("restore", restore, component)
}

/// The newest Succeeded Snapshot of a repository.
pub async fn latest_snapshot(
    client: &kube::Client,
    namespace: &str,
    repository: &str,
) -> Result<Option<Snapshot>> {
    let api: Api<Snapshot> = Api::namespaced(client.clone(), namespace);
    let mut candidates: Vec<Snapshot> = util::list_all(&api, &ListParams::default())
        .await?
        .into_iter()
        .filter(|s| {
            s.spec.repository == repository && snapshot_phase(s) == SnapshotPhase::Succeeded
        })
        .collect();
    candidates.sort_by_key(|s| {
        std::cmp::Reverse((
            s.status
                .as_ref()
                .and_then(|st| st.snapshot_time.clone())
                .or(s.metadata.creation_timestamp.clone())
                .map(|t| t.0),
            s.name_any(),
        ))
    });
    Ok(candidates.into_iter().next())
}

struct Run {
    ctx: Arc<Context>,
    restore: Arc<RestoreSession>,
    api: Api<RestoreSession>,
    namespace: String,
    name: String,
}

impl Run {
    fn conditions(&self) -> Vec<kubestash::api::common::Condition> {
        self.restore
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
    }

    fn duration(&self) -> String {
        kubestash::duration::format_go_duration(util::since_creation(&self.restore.metadata))
    }

    async fn finish(
        &self,
        phase: RestorePhase,
        type_: &str,
        reason: &str,
        message: String,
    ) -> Result<Action> {
        // A failure once the restore got as far as its hooks or its Jobs runs the
        // post-restore hooks that have not run yet (an `OnFailure` notification, an `Always`
        // clean-up after the pre-restore hooks). A restore that never started (a mistyped
        // snapshot) runs none.
        let fresh = self
            .api
            .get_status(&self.name)
            .await?
            .status
            .unwrap_or_default();
        let conditions = fresh.conditions.unwrap_or_default();
        let ran = |type_: &str| util::find(Some(&conditions), type_).is_some();
        let started =
            ran("PreRestoreHooksExecutionSucceeded") || fresh.phase == Some(RestorePhase::Running);
        let message = if phase == RestorePhase::Failed
            && started
            && !ran("PostRestoreHooksExecutionSucceeded")
        {
            match self.hooks(true, Some(&message)).await? {
                Some(hook_error) => format!("{message}; post-restore {hook_error}"),
                None => message,
            }
        } else {
            message
        };
        let mut conditions = util::fresh_conditions(&self.api, &self.name).await?;
        set_condition(
            &mut conditions,
            condition(
                type_,
                phase == RestorePhase::Succeeded,
                reason,
                message.clone(),
            ),
        );
        util::patch_status(
            &self.api,
            &self.name,
            json!({"phase": phase, "duration": self.duration(), "conditions": conditions}),
        )
        .await?;
        tracing::info!(restore = %self.name, namespace = %self.namespace, phase = ?phase, %message, "restore session finished");
        Ok(Action::requeue(Duration::from_secs(1)))
    }
}

impl Run {
    /// Runs the pre-restore (`error: None`, `post: false`) or post-restore hooks once and
    /// records them; returns their failure.
    async fn hooks(&self, post: bool, error: Option<&str>) -> Result<Option<String>> {
        let spec_hooks = self.restore.spec.hooks.clone().unwrap_or_default();
        let (list, succeeded, condition_type) = if post {
            (
                spec_hooks.post_restore.unwrap_or_default(),
                Some(error.is_none()),
                "PostRestoreHooksExecutionSucceeded",
            )
        } else {
            (
                spec_hooks.pre_restore.unwrap_or_default(),
                None,
                "PreRestoreHooksExecutionSucceeded",
            )
        };
        let phase = match (post, error) {
            (false, _) => "Running",
            (true, None) => "Succeeded",
            (true, Some(_)) => "Failed",
        };
        let runner = hooks::Hooks {
            ctx: &self.ctx,
            namespace: &self.namespace,
            session: &self.name,
            owner: Some(util::owner_reference(self.restore.as_ref(), false)),
            summary: hooks::Summary {
                name: self.name.clone(),
                namespace: self.namespace.clone(),
                invoker: kubestash::api::common::TypedObjectReference {
                    api_group: Some("core.kubestash.com".into()),
                    kind: Some("RestoreSession".into()),
                    namespace: Some(self.namespace.clone()),
                    name: self.name.clone(),
                },
                target: self.restore.spec.target.clone().unwrap_or_default(),
                phase: phase.into(),
                duration: self.duration(),
                error: error.unwrap_or_default().into(),
            },
        };
        hooks::run_recorded(
            &self.api,
            &self.name,
            &runner,
            &list,
            succeeded,
            condition_type,
        )
        .await
    }
}

async fn reconcile(restore: Arc<RestoreSession>, ctx: Arc<Context>) -> Result<Action> {
    if restore.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = restore.namespace().unwrap_or_default();
    // The cache may lag behind our own status writes; act on what the server has.
    let api: Api<RestoreSession> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(restore) = util::get_opt(&api, &restore.name_any()).await? else {
        return Ok(Action::await_change());
    };
    let restore = Arc::new(restore);
    let run = Run {
        api: Api::namespaced(ctx.client.clone(), &namespace),
        name: restore.name_any(),
        namespace,
        ctx,
        restore,
    };
    let phase = run.restore.status.as_ref().and_then(|s| s.phase);
    let outcome = match phase {
        Some(phase) if phase.is_final() => return resume_backups(&run).await,
        Some(RestorePhase::Running) => progress(&run).await,
        _ => start(&run).await,
    };
    match outcome {
        Err(Error::Kube(error)) => match util::refused(&error) {
            Some(why) => {
                let message = format!("the API server refused a request of this restore: {why}");
                abort(&run, "RequestRefused", message).await
            }
            None => Err(Error::Kube(error)),
        },
        other => other,
    }
}

async fn start(run: &Run) -> Result<Action> {
    let client = &run.ctx.client;
    let errors: Vec<String> =
        validation::validate_object(&Object::RestoreSession(run.restore.as_ref().clone()))
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.field, f.reason))
            .collect();
    if !errors.is_empty() {
        return run
            .finish(
                RestorePhase::Invalid,
                "ValidationPassed",
                "ValidationFailed",
                errors.join("; "),
            )
            .await;
    }
    let spec = &run.restore.spec;
    let source = spec.data_source.clone().unwrap_or_default();
    let source_namespace = source
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.namespace.clone());
    // A start the operator did not finish recorded the snapshot it chose: the Jobs it may
    // have created restore that one, even if a newer snapshot is `latest` by now.
    let chosen = run
        .restore
        .status
        .as_ref()
        .and_then(|status| status.dependencies.as_ref())
        .and_then(|dependencies| {
            dependencies
                .iter()
                .find(|dependency| dependency.kind.as_deref() == Some("Snapshot"))
        })
        .map(|dependency| dependency.name.clone());
    let wanted = chosen.unwrap_or_else(|| {
        source
            .snapshot
            .clone()
            .unwrap_or_else(|| LATEST_SNAPSHOT.into())
    });
    let snapshot = if wanted == LATEST_SNAPSHOT {
        let repository = source.repository.clone().unwrap_or_default();
        match latest_snapshot(client, &source_namespace, &repository).await? {
            Some(snapshot) => snapshot,
            None => {
                return run
                    .finish(RestorePhase::Failed, "RestoreExecutorEnsured", "SnapshotNotFound", format!("Repository `{source_namespace}/{repository}` has no Succeeded Snapshot to restore (dataSource.snapshot: latest)"))
                    .await
            }
        }
    } else {
        let api: Api<Snapshot> = Api::namespaced(client.clone(), &source_namespace);
        match util::get_opt(&api, &wanted).await? {
            Some(snapshot) => snapshot,
            None => {
                return run
                    .finish(
                        RestorePhase::Failed,
                        "RestoreExecutorEnsured",
                        "SnapshotNotFound",
                        format!(
                        "Snapshot `{source_namespace}/{wanted}` not found (dataSource.snapshot)"
                    ),
                    )
                    .await
            }
        }
    };
    if snapshot_phase(&snapshot) != SnapshotPhase::Succeeded {
        return run
            .finish(
                RestorePhase::Failed,
                "RestoreExecutorEnsured",
                "SnapshotNotSucceeded",
                format!(
                    "Snapshot `{source_namespace}/{}` is {:?}, not Succeeded",
                    snapshot.name_any(),
                    snapshot_phase(&snapshot)
                ),
            )
            .await;
    }
    match plan_and_create(run, &snapshot, &source_namespace).await {
        Ok(action) => Ok(action),
        Err(Error::Kube(error)) => Err(Error::Kube(error)),
        Err(error) => {
            run.finish(
                RestorePhase::Failed,
                "RestoreExecutorEnsured",
                "RestoreExecutorFailed",
                error.to_string(),
            )
            .await
        }
    }
}

/// The target's volume set a snapshot component is restored into: the one of the same name,
/// else the only one when the snapshot has a single component. Several components never go
/// into one volume set: their Jobs would write over each other.
fn volume_set_for<'a>(
    plans: &'a [jobs::ComponentPlan],
    component: &str,
    components: usize,
) -> Option<&'a jobs::ComponentPlan> {
    plans
        .iter()
        .find(|plan| plan.component == component)
        .or_else(|| (plans.len() == 1 && components == 1).then(|| &plans[0]))
}

async fn plan_and_create(run: &Run, snapshot: &Snapshot, source_namespace: &str) -> Result<Action> {
    let client = &run.ctx.client;
    let spec = &run.restore.spec;
    let source = spec.data_source.clone().unwrap_or_default();
    let repositories: Api<Repository> = Api::namespaced(client.clone(), source_namespace);
    let repository = util::get_opt(&repositories, &snapshot.spec.repository)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "Repository `{source_namespace}/{}` not found",
                snapshot.spec.repository
            ))
        })?;
    // A Secret the RestoreSession names is in its namespace unless it says otherwise; the
    // Repository's own is in the Repository's, as the executor reads them.
    match source.encryption_secret.as_ref() {
        Some(secret) => backend::encryption_password(client, &run.namespace, Some(secret)).await?,
        None => {
            backend::encryption_password(
                client,
                source_namespace,
                repository.spec.encryption_secret.as_ref(),
            )
            .await?
        }
    };
    let storage = backend::repository_storage(client, &repository).await?;
    let mut target_found = None;
    if let Some(target) = &spec.target {
        let found = target_exists(client, target, &run.namespace).await?;
        target_found = Some(found);
        if !found {
            return Err(Error::msg(format!(
                "restore target {} `{}/{}` not found (spec.target)",
                target.kind.as_deref().unwrap_or_default(),
                target.namespace_or(&run.namespace),
                target.name
            )));
        }
    }
    let addon_info = spec
        .addon
        .clone()
        .ok_or_else(|| Error::msg("spec.addon is required"))?;
    let addons: Api<Addon> = Api::all(client.clone());
    let addon = util::get_opt(&addons, &addon_info.name)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "Addon `{}` not found (spec.addon.name)",
                addon_info.name
            ))
        })?;
    let task_ref = addon_info
        .tasks
        .clone()
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| Error::msg("spec.addon.tasks needs a restore task"))?;
    let task = addon.spec.restore_task(&task_ref.name).ok_or_else(|| {
        Error::msg(format!(
            "Addon `{}` has no restore task `{}` (spec.addon.tasks[0].name)",
            addon_info.name, task_ref.name
        ))
    })?;
    let functions: Api<Function> = Api::all(client.clone());
    let function = util::get_opt(&functions, &task.function)
        .await?
        .ok_or_else(|| Error::msg(format!("Function `{}` not found", task.function)))?;
    let manifest = jobs::is_manifest_function(&function);
    let snapshot_components: Vec<String> = snapshot
        .status
        .as_ref()
        .and_then(|s| s.components.clone())
        .unwrap_or_default()
        .into_keys()
        .collect();
    let components: Vec<String> = match &source.components {
        Some(wanted) if !wanted.is_empty() => {
            for component in wanted {
                if !snapshot_components.contains(component) {
                    return Err(Error::msg(format!(
                        "dataSource.components: Snapshot `{}` has no component `{component}` (it has: {})",
                        snapshot.name_any(),
                        snapshot_components.join(", ")
                    )));
                }
            }
            wanted.clone()
        }
        _ => snapshot_components.clone(),
    };
    let plans = jobs::plan_components(
        client,
        spec.target.as_ref(),
        &run.namespace,
        &task_ref,
        manifest,
    )
    .await?;
    // Only a manifest restore may create objects of every kind.
    let account = if manifest {
        run.ctx
            .ensure_manifest_executor_account(&run.namespace)
            .await?
    } else {
        run.ctx.ensure_executor_account(&run.namespace).await?
    };
    let mut jobs_out = Vec::new();
    for component in &components {
        let plan = volume_set_for(&plans, component, components.len())
            .ok_or_else(|| Error::msg(format!("component `{component}` of Snapshot `{}` has no matching volume set in the target (it has {}); choose the components to restore in spec.dataSource.components", snapshot.name_any(), plans.iter().map(|p| format!("`{}`", p.component)).collect::<Vec<_>>().join(", "))))?;
        let mut variables = BTreeMap::from([
            ("namespace".to_string(), run.namespace.clone()),
            ("restoreSession".to_string(), run.name.clone()),
            ("snapshot".to_string(), snapshot.name_any()),
            ("taskName".to_string(), task_ref.name.clone()),
        ]);
        variables.extend(plan.variables.clone());
        variables.insert("COMPONENT_NAME".into(), component.clone());
        let (image, args, mut volumes, mut mounts) =
            jobs::resolve_function(&function, task, &task_ref, &variables).map_err(|missing| {
                Error::msg(format!(
                    "Function `{}` cannot be resolved: {} unresolved",
                    task.function,
                    missing.join(", ")
                ))
            })?;
        volumes.extend(plan.volumes.clone());
        mounts.extend(plan.mounts.clone());
        if let Some((volume, mount)) = jobs::storage_volume(&storage) {
            volumes.push(volume);
            mounts.push(mount);
        }
        jobs_out.push(jobs::build_job(JobSpec {
            name: restore_job_name(&run.name, component),
            namespace: run.namespace.clone(),
            labels: managed_labels(&[
                (LABEL_RESTORE_SESSION, &run.name),
                ("kubestash.com/component", component),
            ]),
            owner: Some(util::owner_reference(run.restore.as_ref(), true)),
            image,
            args,
            volumes,
            mounts,
            job_template: None,
            pod_template: addon_info.job_template.clone(),
            service_account: Some(account.clone()),
            node: plan.node.clone(),
            ..JobSpec::default()
        }));
    }
    if let Some(error) = run.hooks(false, None).await? {
        return run
            .finish(
                RestorePhase::Failed,
                "PreRestoreHooksExecutionSucceeded",
                "PreRestoreHookFailed",
                format!("pre-restore {error}; nothing was restored"),
            )
            .await;
    }
    // Pause backups of the same target while restoring.
    let mut paused = Vec::new();
    if let Some(target) = &spec.target {
        let target_ns = target.namespace_or(&run.namespace).to_string();
        let me = marker(run);
        let configurations: Api<BackupConfiguration> = Api::namespaced(client.clone(), &target_ns);
        pause_invokers(
            &configurations,
            Invoker::from_configuration,
            target,
            &target_ns,
            &me,
            &mut paused,
        )
        .await?;
        // A batch that backs the target up together with others pauses as a whole.
        let batches: Api<BackupBatch> = Api::namespaced(client.clone(), &target_ns);
        pause_invokers(
            &batches,
            Invoker::from_batch,
            target,
            &target_ns,
            &me,
            &mut paused,
        )
        .await?;
    }
    let timeout = spec
        .restore_timeout
        .as_deref()
        .and_then(|t| kubestash::duration::parse_go_duration(t).ok());
    let mut conditions = util::fresh_conditions(&run.api, &run.name).await?;
    set_condition(
        &mut conditions,
        condition("ValidationPassed", true, "ValidationSucceeded", ""),
    );
    if target_found.is_some() {
        set_condition(
            &mut conditions,
            condition("RestoreTargetFound", true, "TargetAvailable", ""),
        );
    }
    // Components an earlier start's Jobs already reported keep what they reported.
    let reported = run
        .restore
        .status
        .as_ref()
        .and_then(|status| status.components.clone())
        .unwrap_or_default();
    let component_status: serde_json::Map<String, Value> = components
        .iter()
        .map(|c| {
            let status = reported
                .get(c)
                .filter(|status| status.phase.is_some())
                .and_then(|status| serde_json::to_value(status).ok())
                .unwrap_or_else(|| json!({"phase": "Pending"}));
            (c.clone(), status)
        })
        .collect();
    let mut status = json!({
        "phase": "Running",
        "targetFound": target_found,
        "totalComponents": components.len(),
        "components": component_status,
        "dependencies": [
            {"apiGroup": "storage.kubestash.com", "kind": "Snapshot", "namespace": source_namespace, "name": snapshot.name_any(), "found": true},
            {"apiGroup": "addons.kubestash.com", "kind": "Addon", "name": addon_info.name, "found": true},
        ],
        "pausedBackups": paused,
        "conditions": conditions,
    });
    // Set once: a restart that plans again keeps the first deadline.
    let earlier_deadline = run
        .restore
        .status
        .as_ref()
        .and_then(|s| s.restore_deadline.clone());
    if let Some(deadline) = earlier_deadline {
        status["restoreDeadline"] = json!(deadline);
    } else if let Some(timeout) = timeout {
        let deadline = chrono::Utc::now() + chrono::Duration::from_std(timeout).unwrap_or_default();
        status["restoreDeadline"] = json!(util::from_chrono(deadline));
    }
    util::patch_status(&run.api, &run.name, status).await?;
    for job in &jobs_out {
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
            "RestoreExecutorEnsured",
            true,
            "RestoreExecutorEnsured",
            format!("{} restore Job(s) created", jobs_out.len()),
        ),
    );
    util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
    Ok(Action::requeue(Duration::from_secs(5)))
}

/// Whether a component has not recorded its end.
fn unfinished(status: &ComponentRestoreStatus) -> bool {
    !matches!(
        status.phase,
        Some(RestorePhase::Succeeded) | Some(RestorePhase::Failed)
    )
}

/// Marks Failed with `message` every component `chosen` picks, over a fresh read of the
/// restore and only while it is as read: a component whose executor recorded its end
/// meanwhile keeps it.
async fn fail_components(
    run: &Run,
    chosen: impl Fn(&str, &ComponentRestoreStatus) -> bool,
    message: &str,
) -> Result<()> {
    for _ in 0..util::GUARDED_TRIES {
        let fresh = run.api.get_status(&run.name).await?;
        let mut patch = serde_json::Map::new();
        for (component, status) in fresh
            .status
            .as_ref()
            .and_then(|status| status.components.clone())
            .unwrap_or_default()
        {
            if chosen(&component, &status) {
                patch.insert(component, json!({"phase": "Failed", "error": message}));
            }
        }
        if patch.is_empty()
            || util::patch_status_at(&run.api, &fresh, json!({"components": patch}))
                .await?
                .is_some()
        {
            return Ok(());
        }
    }
    Err(crate::Error::msg(format!(
        "restore `{}` kept changing while its components were failed",
        run.name
    )))
}

/// Ends a restore early: the Jobs of components that did not finish are deleted and those
/// components fail with `message` (what finished stays Succeeded), the post-restore hooks
/// run, and the restore fails with `reason`.
async fn abort(run: &Run, reason: &str, message: String) -> Result<Action> {
    let jobs_api: Api<Job> = Api::namespaced(run.ctx.client.clone(), &run.namespace);
    let components = run
        .restore
        .status
        .as_ref()
        .and_then(|status| status.components.clone())
        .unwrap_or_default();
    for (component, status) in &components {
        if status.phase == Some(RestorePhase::Succeeded) {
            continue;
        }
        let _ = jobs_api
            .delete(
                &restore_job_name(&run.name, component),
                &DeleteParams::background(),
            )
            .await;
    }
    fail_components(run, |_, status| unfinished(status), &message).await?;
    let message = match run.hooks(true, Some(&message)).await? {
        Some(hook_error) => format!("{message}; post-restore {hook_error}"),
        None => message,
    };
    run.finish(
        RestorePhase::Failed,
        "RestoreExecutorEnsured",
        reason,
        message,
    )
    .await
}

/// Whether the RestoreSession's status, as the API server has it now, records `component`
/// Succeeded.
async fn component_succeeded(run: &Run, component: &str) -> Result<bool> {
    let fresh = run.api.get_status(&run.name).await?;
    Ok(fresh
        .status
        .and_then(|s| s.components)
        .and_then(|mut c| c.remove(component))
        .is_some_and(|c| c.phase == Some(RestorePhase::Succeeded)))
}

async fn progress(run: &Run) -> Result<Action> {
    let client = &run.ctx.client;
    let status = run.restore.status.clone().unwrap_or_default();
    let components: Vec<String> = status
        .components
        .clone()
        .unwrap_or_default()
        .into_keys()
        .collect();
    let jobs_api: Api<Job> = Api::namespaced(client.clone(), &run.namespace);
    // Before anything else: a restore whose Jobs cannot be created ends at its deadline.
    if let Some(deadline) = &status.restore_deadline {
        if chrono::Utc::now() > util::to_chrono(deadline) {
            let message = format!(
                "the restore did not finish within its restoreTimeout ({})",
                run.restore.spec.restore_timeout.clone().unwrap_or_default()
            );
            return abort(run, "RestoreTimeoutExceeded", message).await;
        }
    }
    if !util::is_true(status.conditions.as_ref(), "RestoreExecutorEnsured") {
        // Created the status but not (all) the Jobs before a restart: recreate them.
        let fresh_phase = json!({"phase": "Pending"});
        util::patch_status(&run.api, &run.name, fresh_phase).await?;
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let mut running = false;
    let mut errors = Vec::new();
    for component in &components {
        let job_name = restore_job_name(&run.name, component);
        let recorded = status
            .components
            .as_ref()
            .and_then(|c| c.get(component))
            .cloned()
            .unwrap_or_default();
        let failure = match util::get_opt(&jobs_api, &job_name).await? {
            // Finished and then removed (a jobTemplate's ttlSecondsAfterFinished, say).
            None if recorded.phase == Some(RestorePhase::Succeeded) => None,
            None => Some(format!(
                "restore Job `{}/{job_name}` was deleted before it finished",
                run.namespace
            )),
            Some(job) => match job_outcome(&job) {
                None => match lost_node(client, &job).await {
                    Some(node) => {
                        let _ = jobs_api
                            .delete(&job_name, &DeleteParams::background())
                            .await;
                        Some(format!(
                            "restore Job `{}/{job_name}` is pinned to node `{node}`, which no longer exists",
                            run.namespace
                        ))
                    }
                    None => {
                        let stuck = end_stuck_job(&run.ctx, &run.api, &run.name, &job).await?;
                        running = stuck.is_none();
                        stuck
                    }
                },
                Some(Ok(())) => None,
                // Marked failed after its executor recorded the component Succeeded (its
                // deadline passing as the pod exits, say): the data is restored and the
                // status says so. Read afresh, the cached status may predate that write.
                Some(Err(reason)) if component_succeeded(run, component).await? => {
                    tracing::warn!(restore = %run.name, job = %job_name, %reason, "restore Job failed after its executor recorded the component Succeeded; keeping that");
                    None
                }
                Some(Err(reason)) => {
                    let logs = job_log_tail(client, &job, 3)
                        .await
                        .map(|l| format!(" (last log lines: {l})"))
                        .unwrap_or_default();
                    Some(format!(
                        "restore Job `{}/{job_name}` failed: {reason}{logs}",
                        run.namespace
                    ))
                }
            },
        };
        if let Some(failure) = failure {
            let message = recorded.error.clone().unwrap_or(failure);
            if recorded.phase != Some(RestorePhase::Failed) {
                // Not over an end its executor recorded as the Job finished.
                fail_components(
                    run,
                    |name, status| name == component.as_str() && unfinished(status),
                    &message,
                )
                .await?;
            }
            errors.push(format!("component `{component}`: {message}"));
        } else if recorded.phase == Some(RestorePhase::Failed) {
            errors.push(format!(
                "component `{component}`: {}",
                recorded.error.unwrap_or_default()
            ));
        }
    }
    if running {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let fresh = run.api.get_status(&run.name).await?;
    let all_succeeded = fresh
        .status
        .as_ref()
        .and_then(|s| s.components.clone())
        .unwrap_or_default()
        .values()
        .all(|c| c.phase == Some(RestorePhase::Succeeded));
    if errors.is_empty() && all_succeeded {
        if let Some(hook_error) = run.hooks(true, None).await? {
            return run
                .finish(
                    RestorePhase::Failed,
                    "PostRestoreHooksExecutionSucceeded",
                    "PostRestoreHookFailed",
                    format!("the restore succeeded but post-restore {hook_error}"),
                )
                .await;
        }
        run.finish(
            RestorePhase::Succeeded,
            "RestoreSucceeded",
            "RestoreSucceeded",
            format!("{} component(s) restored", components.len()),
        )
        .await
    } else {
        if errors.is_empty() {
            errors.push("the restore Job ended without reporting its components".into());
        }
        if let Some(hook_error) = run.hooks(true, Some(&errors.join("; "))).await? {
            errors.push(format!("post-restore {hook_error}"));
        }
        run.finish(
            RestorePhase::Failed,
            "RestoreSucceeded",
            "RestoreFailed",
            errors.join("; "),
        )
        .await
    }
}

/// Joins the pause of every invoker in `api` that backs up `target`, recording each in
/// `paused` (for `status.pausedBackups`).
async fn pause_invokers<K>(
    api: &Api<K>,
    view: fn(&K) -> Invoker,
    target: &TypedObjectReference,
    target_ns: &str,
    me: &str,
    paused: &mut Vec<Value>,
) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for object in util::list_all(api, &ListParams::default()).await? {
        let invoker = view(&object);
        let same = invoker.targets.iter().any(|(_, t)| {
            t.name == target.name && t.kind == target.kind && t.namespace_or(target_ns) == target_ns
        });
        if same && hold_pause(api, view, &invoker.name, me).await? {
            paused.push(json!({"apiGroup": "core.kubestash.com", "kind": invoker.kind, "namespace": target_ns, "name": invoker.name}));
        }
    }
    Ok(())
}

/// How a restore names itself in the pause annotation.
fn marker(run: &Run) -> String {
    format!("{}/{}", run.namespace, run.name)
}

/// The restores holding a pause, from the annotation (a comma-separated list).
fn holders(annotations: &BTreeMap<String, String>) -> Vec<String> {
    util::comma_list(annotations.get(PAUSED_BY))
}

/// Joins the pause of an invoker: pauses it if it runs, or adds this restore to the restores
/// already holding it. A pause someone set by hand is left alone (`false`).
async fn hold_pause<K>(api: &Api<K>, view: fn(&K) -> Invoker, name: &str, me: &str) -> Result<bool>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    // Read, then patch guarded by that read's resourceVersion, so a holder another restore
    // writes meanwhile is never lost: on a conflict, read again.
    for _ in 0..5 {
        let Some(object) = util::get_opt(api, name).await? else {
            return Ok(false);
        };
        let mut holders = holders(object.annotations());
        if view(&object).paused && holders.is_empty() {
            return Ok(false);
        }
        if !holders.iter().any(|h| h == me) {
            holders.push(me.to_string());
        }
        let patch = json!({"metadata": {"annotations": {PAUSED_BY: holders.join(",")}, "resourceVersion": object.resource_version()}, "spec": {"paused": true}});
        if patch_unless_conflict(api, name, patch).await? {
            return Ok(true);
        }
    }
    Err(crate::Error::msg(format!(
        "the pause of `{name}` kept changing while restore `{me}` joined it"
    )))
}

/// A merge patch carrying a resourceVersion; `false` when the object changed since.
async fn patch_unless_conflict<K>(api: &Api<K>, name: &str, patch: Value) -> Result<bool>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Lets go of the pause that restores which are gone still hold on `object`: a RestoreSession
/// deleted while it ran (or while the operator was down) never resumes what it paused.
/// Returns whether a live restore still holds the pause.
pub(crate) async fn release_orphaned_pauses<K>(
    client: &kube::Client,
    api: &Api<K>,
    object: &K,
) -> Result<bool>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut live = false;
    for holder in holders(object.annotations()) {
        let alive = match holder.split_once('/') {
            Some((namespace, name)) => {
                let restores: Api<RestoreSession> = Api::namespaced(client.clone(), namespace);
                util::get_opt(&restores, name)
                    .await?
                    .is_some_and(|restore| {
                        let resumed = restore.status.as_ref().is_some_and(|status| {
                            util::is_true(status.conditions.as_ref(), "BackupsResumed")
                        });
                        restore.metadata.deletion_timestamp.is_none() && !resumed
                    })
            }
            None => false,
        };
        if alive {
            live = true;
        } else {
            tracing::info!(invoker = %object.name_any(), restore = %holder, "releasing the pause of a restore that is gone");
            release_pause(api, &object.name_any(), &holder).await?;
        }
    }
    Ok(live)
}

/// Leaves the pause of an invoker; the last restore to leave resumes it.
async fn release_pause<K>(api: &Api<K>, name: &str, me: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    // Read, then patch guarded by that read's resourceVersion, so a restore that joins the
    // pause meanwhile is never dropped (and never resumed under): on a conflict, read again.
    for _ in 0..5 {
        let Some(object) = util::get_opt(api, name).await? else {
            return Ok(());
        };
        let all = holders(object.annotations());
        if !all.iter().any(|h| h == me) {
            // Someone took the pause over by hand; it is theirs to lift.
            return Ok(());
        }
        let rest: Vec<String> = all.into_iter().filter(|h| h != me).collect();
        let version = object.resource_version();
        let patch = if rest.is_empty() {
            json!({"metadata": {"annotations": {PAUSED_BY: null}, "resourceVersion": version}, "spec": {"paused": false}})
        } else {
            json!({"metadata": {"annotations": {PAUSED_BY: rest.join(",")}, "resourceVersion": version}})
        };
        if patch_unless_conflict(api, name, patch).await? {
            return Ok(());
        }
    }
    Err(crate::Error::msg(format!(
        "the pause of `{name}` kept changing while restore `{me}` let go of it"
    )))
}

async fn resume_backups(run: &Run) -> Result<Action> {
    let status = run.restore.status.clone().unwrap_or_default();
    if util::is_true(status.conditions.as_ref(), "BackupsResumed") {
        return Ok(Action::await_change());
    }
    for paused in status.paused_backups.iter().flatten() {
        let namespace = paused.namespace_or(&run.namespace).to_string();
        if paused.kind.as_deref() == Some("BackupBatch") {
            let api: Api<BackupBatch> = Api::namespaced(run.ctx.client.clone(), &namespace);
            release_pause(&api, &paused.name, &marker(run)).await?;
        } else {
            let api: Api<BackupConfiguration> = Api::namespaced(run.ctx.client.clone(), &namespace);
            release_pause(&api, &paused.name, &marker(run)).await?;
        }
    }
    let mut conditions = run.conditions();
    let count = status.paused_backups.as_ref().map(Vec::len).unwrap_or(0);
    set_condition(
        &mut conditions,
        condition(
            "BackupsResumed",
            true,
            "BackupsResumed",
            format!("{count} paused backup(s) resumed"),
        ),
    );
    util::patch_status(&run.api, &run.name, json!({"conditions": conditions})).await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod volume_set_tests {
    use super::*;

    fn plan(component: &str) -> jobs::ComponentPlan {
        jobs::ComponentPlan {
            component: component.into(),
            ..Default::default()
        }
    }

    #[test]
    fn components_go_to_their_own_volume_set_and_never_share_one() {
        let one = [plan("pod-0")];
        assert_eq!(volume_set_for(&one, "pod-0", 3).unwrap().component, "pod-0");
        assert!(
            volume_set_for(&one, "pod-1", 3).is_none(),
            "pod-1 would overwrite pod-0"
        );
        assert_eq!(volume_set_for(&one, "dump", 1).unwrap().component, "pod-0");
        let two = [plan("pod-0"), plan("pod-1")];
        assert!(volume_set_for(&two, "dump", 1).is_none());
        assert_eq!(volume_set_for(&two, "pod-1", 2).unwrap().component, "pod-1");
    }
}
