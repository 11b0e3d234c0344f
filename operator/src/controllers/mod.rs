//! The reconcilers, one per kind, and [`run`], which runs them all until shutdown.

pub mod autobackup;
pub mod configuration;
pub mod repository;
pub mod restore;
pub mod session;
pub mod snapshot;
pub mod storage;
pub mod wipe;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use crate::metrics::Metrics;
use crate::{Error, Result};

/// Field manager of everything the operator applies.
pub const FIELD_MANAGER: &str = "kubestash-operator";
/// ServiceAccount the backup, restore and sync Jobs run as.
pub const EXECUTOR_ACCOUNT: &str = "kubestash-executor";
/// ClusterRole that account is bound to (part of the install bundle).
pub const EXECUTOR_ROLE: &str = "kubestash-executor";
/// ServiceAccount of manifest (kubedump) backup and restore Jobs, which read and create
/// objects of every kind.
pub const MANIFEST_EXECUTOR_ACCOUNT: &str = "kubestash-manifest-executor";
/// ClusterRole of that account (part of the install bundle).
pub const MANIFEST_EXECUTOR_ROLE: &str = "kubestash-manifest-executor";

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Image of the Jobs and CronJobs it creates.
    pub image: String,
    /// Namespace of its Lease.
    pub namespace: String,
    /// Where to serve `/metrics`, `/healthz` and `/readyz`.
    pub metrics_addr: Option<SocketAddr>,
    /// Take the leader Lease before acting (off only in tests that run one operator).
    pub leader_election: bool,
    /// Identity written into the Lease.
    pub identity: String,
    /// How long a backup or restore Job's pod may stay Pending (an image that cannot be
    /// pulled, a pod that cannot be scheduled) before its component fails; zero waits for
    /// the session's own timeout.
    pub pending_pod_timeout: std::time::Duration,
}

/// The default of [`Options::pending_pod_timeout`].
pub const PENDING_POD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

impl Default for Options {
    fn default() -> Self {
        Self {
            image: crate::IMAGE.to_string(),
            namespace: crate::DEFAULT_NAMESPACE.to_string(),
            metrics_addr: None,
            leader_election: true,
            identity: crate::leader::default_identity(),
            pending_pod_timeout: PENDING_POD_TIMEOUT,
        }
    }
}

/// What every reconciler shares.
pub struct Context {
    /// The client.
    pub client: Client,
    /// Options.
    pub options: Options,
    /// Counters and gauges.
    pub metrics: Arc<Metrics>,
    accounts: Mutex<HashSet<String>>,
}

impl Context {
    /// A context for `client`.
    pub fn new(client: Client, options: Options) -> Arc<Self> {
        Arc::new(Self {
            client,
            options,
            metrics: Arc::new(Metrics::default()),
            accounts: Mutex::new(HashSet::new()),
        })
    }

    /// Makes sure `namespace` has the executor ServiceAccount, bound to the executor role.
    pub async fn ensure_executor_account(&self, namespace: &str) -> Result<String> {
        self.ensure_account(namespace, EXECUTOR_ACCOUNT, EXECUTOR_ROLE)
            .await
    }

    /// The ServiceAccount of manifest backup and restore Jobs in `namespace`, bound to the
    /// role that may list and create every kind; created on first use.
    pub async fn ensure_manifest_executor_account(&self, namespace: &str) -> Result<String> {
        self.ensure_account(namespace, MANIFEST_EXECUTOR_ACCOUNT, MANIFEST_EXECUTOR_ROLE)
            .await
    }

    async fn ensure_account(&self, namespace: &str, account: &str, role: &str) -> Result<String> {
        let key = format!("{namespace}/{account}");
        if self.accounts.lock().expect("not poisoned").contains(&key) {
            return Ok(account.to_string());
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        accounts
            .patch(
                account,
                &params,
                &Patch::Apply(json!({
                    "apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": account, "namespace": namespace,
                                 "labels": {crate::MANAGED_BY.0: crate::MANAGED_BY.1}},
                })),
            )
            .await?;
        let bindings: Api<ClusterRoleBinding> = Api::all(self.client.clone());
        let binding = format!("{role}-{namespace}");
        bindings
            .patch(
                &binding,
                &params,
                &Patch::Apply(json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": binding, "labels": {crate::MANAGED_BY.0: crate::MANAGED_BY.1}},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
                })),
            )
            .await?;
        self.accounts.lock().expect("not poisoned").insert(key);
        Ok(account.to_string())
    }

    /// Creates `job` unless a Job of that name exists; returns the Job either way.
    pub async fn ensure_job(&self, job: &Job) -> Result<Job> {
        let namespace = job.namespace().unwrap_or_default();
        let api: Api<Job> = Api::namespaced(self.client.clone(), &namespace);
        match api.create(&PostParams::default(), job).await {
            Ok(created) => {
                self.metrics.jobs_created.inc();
                Ok(created)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                Ok(api.get(&job.name_any()).await?)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// How a Job ended: `Some(Ok(()))` complete, `Some(Err(reason))` failed, `None` running.
pub fn job_outcome(job: &Job) -> Option<std::result::Result<(), String>> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    for condition in conditions {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" | "SuccessCriteriaMet" => return Some(Ok(())),
            "Failed" | "FailureTarget" => {
                return Some(Err(condition
                    .message
                    .clone()
                    .or(condition.reason.clone())
                    .unwrap_or_else(|| "the Job failed".into())))
            }
            _ => {}
        }
    }
    None
}

/// The node a Job is pinned to (`nodeName`, as a DaemonSet's per-node Jobs are) when that node
/// no longer exists: the Job's pod can never start there, so it would wait for good.
pub async fn lost_node(client: &Client, job: &Job) -> Option<String> {
    let node = job
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .and_then(|spec| spec.node_name.clone())?;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    match nodes.get_opt(&node).await {
        Ok(found) => found.is_none().then_some(node),
        // Not allowed to read nodes (an older ClusterRole) or the API is briefly away: the
        // Job is left to its own outcome and the session's deadline.
        Err(error) => {
            tracing::debug!(%node, %error, "unable to check the node of a Job");
            None
        }
    }
}

/// The condition a session gets when a pod of its Jobs stayed Pending too long (KubeStash's
/// name).
pub const POD_PENDING_CONDITION: &str = "PodHasBeenInPendingStateForLongerThanExpected";

/// Why a Job's pod cannot start, once one has been Pending for longer than `limit`: the
/// waiting reason of a container (`ErrImagePull`, `CreateContainerConfigError`, ...) or the
/// scheduler's message. `None` while it may still start, or when `limit` is zero.
pub async fn stuck_pod(client: &Client, job: &Job, limit: std::time::Duration) -> Option<String> {
    if limit.is_zero() {
        return None;
    }
    let namespace = job.namespace().unwrap_or_default();
    let pods = job_pods(client, job).await?;
    let now = chrono::Utc::now();
    pods.iter().find_map(|pod| {
        let status = pod.status.as_ref()?;
        if status.phase.as_deref() != Some("Pending") || pod.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let created = pod.metadata.creation_timestamp.as_ref()?;
        let pending = (now - crate::util::to_chrono(created)).to_std().ok()?;
        if pending < limit {
            return None;
        }
        let waiting = status
            .init_container_statuses
            .iter()
            .chain(status.container_statuses.iter())
            .flatten()
            .filter_map(|container| container.state.as_ref()?.waiting.as_ref())
            .find(|waiting| waiting.reason.as_deref() != Some("PodInitializing"))
            .map(|waiting| {
                format!(
                    "{}: {}",
                    waiting.reason.clone().unwrap_or_default(),
                    waiting.message.clone().unwrap_or_default()
                )
            });
        let unscheduled = || {
            status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.reason.clone().unwrap_or_default(),
                        c.message.clone().unwrap_or_default()
                    )
                })
        };
        let why = waiting
            .or_else(unscheduled)
            .unwrap_or_else(|| "not started".into());
        Some(format!(
            "pod `{namespace}/{}` of Job `{}` has been Pending for more than {} ({why})",
            pod.name_any(),
            job.name_any(),
            kubestash::duration::format_go_duration(limit)
        ))
    })
}

/// Ends a session's Job whose pod stayed Pending longer than the operator allows (see
/// [`stuck_pod`]): the Job is deleted and the session `name` of `api` gets the
/// [`POD_PENDING_CONDITION`]. Returns why, or `None` while the pod may still start.
pub(crate) async fn end_stuck_job<K>(
    ctx: &Context,
    api: &Api<K>,
    name: &str,
    job: &Job,
) -> Result<Option<String>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    let Some(stuck) = stuck_pod(&ctx.client, job, ctx.options.pending_pod_timeout).await else {
        return Ok(None);
    };
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
    let _ = jobs
        .delete(&job.name_any(), &kube::api::DeleteParams::background())
        .await;
    let mut conditions = crate::util::fresh_conditions(api, name).await?;
    crate::util::set_condition(
        &mut conditions,
        crate::util::condition(POD_PENDING_CONDITION, true, "PodPending", stuck.clone()),
    );
    crate::util::patch_status(api, name, serde_json::json!({"conditions": conditions})).await?;
    Ok(Some(stuck))
}

/// Creates a Job, waits until it ends and returns the last `log_lines` lines of its log; the
/// Job is deleted either way. A failed Job is an error naming it, with its last log line.
/// Callers bound the wait with their own timeout.
pub async fn run_job(client: &Client, job: &Job, log_lines: i64) -> Result<String> {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let api: Api<Job> = Api::namespaced(client.clone(), &namespace);
    api.create(&PostParams::default(), job).await?;
    let (finished, outcome) = loop {
        let current = api.get(&name).await?;
        if let Some(outcome) = job_outcome(&current) {
            break (current, outcome);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let logs = job_log_tail(client, &finished, log_lines)
        .await
        .unwrap_or_default();
    let _ = api
        .delete(&name, &kube::api::DeleteParams::background())
        .await;
    match outcome {
        Ok(()) => Ok(logs),
        Err(reason) => {
            let last = logs.lines().last().unwrap_or_default();
            Err(Error::msg(format!(
                "Job `{namespace}/{name}` failed ({reason}): {last}"
            )))
        }
    }
}

/// The pods of a Job; `None` when they cannot be listed.
async fn job_pods(client: &Client, job: &Job) -> Option<Vec<k8s_openapi::api::core::v1::Pod>> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(client.clone(), &job.namespace().unwrap_or_default());
    let selector = format!("job-name={}", job.name_any());
    let list = pods
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .ok()?;
    Some(list.items)
}

/// The last lines of the logs of a Job's pods, for error messages.
pub async fn job_log_tail(client: &Client, job: &Job, lines: i64) -> Option<String> {
    use k8s_openapi::api::core::v1::Pod;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &job.namespace().unwrap_or_default());
    let pod = job_pods(client, job)
        .await?
        .into_iter()
        .max_by_key(|p| p.metadata.creation_timestamp.clone())?;
    let text = pods
        .logs(
            &pod.name_any(),
            &kube::api::LogParams {
                tail_lines: Some(lines),
                ..Default::default()
            },
        )
        .await
        .ok()?;
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// How many reconciles of one kind run at once. Unbounded, a restart with 1,000
/// configurations started 1,000 reconciles (and their requests) together, which is what the
/// operator's memory peaked on; a bound keeps the work the same and the peak small.
pub const CONCURRENCY: u16 = 16;

/// A controller over `api` whose cache keeps objects without `managedFields` and kubectl's
/// last-applied annotation. No reconciler reads them, and with a thousand objects per kind
/// they are a good part of the cache.
pub(crate) fn lean_controller<K>(
    api: Api<K>,
    config: kube::runtime::watcher::Config,
) -> kube::runtime::Controller<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    use kube::runtime::WatchStreamExt;
    let (reader, writer) = kube::runtime::reflector::store();
    let stream = kube::runtime::watcher(api, config)
        .modify(|object: &mut K| crate::util::slim(object.meta_mut()));
    let stream = kube::runtime::reflector(writer, stream).applied_objects();
    kube::runtime::Controller::for_stream(stream, reader)
}

/// A controller whose cache holds only the metadata of `api`'s objects (without
/// `managedFields`); its reconciler reads the whole object when it runs (see [`full`]). For
/// the kinds that come by the thousand, this keeps the operator's memory flat.
pub(crate) fn metadata_controller<K>(
    api: Api<K>,
    config: kube::runtime::watcher::Config,
) -> kube::runtime::Controller<kube::core::PartialObjectMeta<K>>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    use kube::runtime::WatchStreamExt;
    let (reader, writer) = kube::runtime::reflector::store();
    // Every caller watches across namespaces.
    let api: Api<kube::core::PartialObjectMeta<K>> = Api::all(api.into_client());
    let stream = kube::runtime::watcher(api, config).modify(
        |object: &mut kube::core::PartialObjectMeta<K>| crate::util::slim(&mut object.metadata),
    );
    let stream = kube::runtime::reflector(writer, stream).applied_objects();
    kube::runtime::Controller::for_stream(stream, reader)
}

/// The whole object behind a metadata-only cache entry, as the API server has it now;
/// `None` once it is gone.
pub(crate) async fn full<K>(
    ctx: &Context,
    object: &kube::core::PartialObjectMeta<K>,
) -> Result<Option<Arc<K>>>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(
        ctx.client.clone(),
        object.metadata.namespace.as_deref().unwrap_or_default(),
    );
    Ok(api
        .get_opt(object.metadata.name.as_deref().unwrap_or_default())
        .await?
        .map(Arc::new))
}

/// The settings of every watch: the initial list (and each relist) comes in pages of
/// [`crate::util::LIST_PAGE`] objects. At the watcher's default of 500, the controllers of a
/// restarted operator each parsed 500 objects with their `managedFields` at once, which is
/// what its memory peaked on.
pub(crate) fn watch_config() -> kube::runtime::watcher::Config {
    kube::runtime::watcher::Config::default().page_size(crate::util::LIST_PAGE)
}

/// The settings every controller runs with.
pub(crate) fn controller_config() -> kube::runtime::controller::Config {
    kube::runtime::controller::Config::default().concurrency(CONCURRENCY)
}

/// The error policy of every controller: log, count, retry with a short delay.
pub fn on_error<K: kube::Resource<DynamicType = ()>>(
    object: Arc<K>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    tracing::warn!(
        kind = %K::kind(&()),
        name = %object.meta().name.clone().unwrap_or_default(),
        %error,
        "reconcile failed"
    );
    ctx.metrics.reconcile_errors.inc();
    Action::requeue(Duration::from_secs(5))
}

/// Drives a controller stream to the end, counting reconciles.
pub(crate) async fn drain<S, T, E>(stream: S, ctx: Arc<Context>)
where
    S: futures::Stream<Item = std::result::Result<T, E>>,
{
    stream
        .for_each(|_| {
            ctx.metrics.reconciles.inc();
            futures::future::ready(())
        })
        .await;
}

/// Wraps a reconcile to time it.
pub(crate) async fn timed<F: Future<Output = Result<Action>>>(
    ctx: &Context,
    kind: &'static str,
    work: F,
) -> Result<Action> {
    let started = std::time::Instant::now();
    let result = work.await;
    ctx.metrics.observe_reconcile(kind, started.elapsed());
    result
}

/// Labels every object the operator creates carries.
pub fn managed_labels(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([(
        crate::MANAGED_BY.0.to_string(),
        crate::MANAGED_BY.1.to_string(),
    )]);
    for (key, value) in extra {
        labels.insert(key.to_string(), value.to_string());
    }
    labels
}

/// How long stopping controllers may finish their reconciles before they are aborted.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs every controller until `shutdown` resolves. With leader election, waits for the
/// Lease first and stops when it is lost.
pub async fn run(
    client: Client,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let ctx = Context::new(client.clone(), options.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let on_shutdown = stop_tx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = on_shutdown.send(true);
    });
    let mut metrics_task = None;
    if let Some(address) = options.metrics_addr {
        let listener = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(%address, "serving metrics and health");
        metrics_task = Some(tokio::spawn(crate::metrics::serve(
            listener,
            ctx.metrics.clone(),
        )));
    }
    let mut lease = None;
    if options.leader_election {
        let mut stop = stop_rx.clone();
        let acquired = tokio::select! {
            lease = crate::leader::acquire(&client, &options.namespace, &options.identity) => Some(lease?),
            _ = stop.wait_for(|stopped| *stopped) => None,
        };
        match acquired {
            Some(held) => lease = Some(held),
            None => return Ok(()),
        }
    }
    ctx.metrics
        .ready
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!("controllers starting");
    let mut handles = vec![
        tokio::spawn(storage::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(configuration::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(configuration::run_batches(ctx.clone(), stop_rx.clone())),
        tokio::spawn(repository::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(session::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(snapshot::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(restore::run(ctx.clone(), stop_rx.clone())),
        tokio::spawn(autobackup::run(ctx.clone(), stop_rx.clone())),
    ];
    let mut controllers = Box::pin(futures::future::join_all(handles.iter_mut()));
    let mut stop = stop_rx.clone();
    let lost = async {
        match &mut lease {
            Some(lease) => lease.lost().await,
            None => std::future::pending().await,
        }
    };
    // How long the controllers may finish their reconciles: none once the Lease is lost,
    // as a successor may take it over a few seconds later.
    let grace = tokio::select! {
        _ = &mut controllers => None,
        _ = stop.wait_for(|stopped| *stopped) => Some(SHUTDOWN_GRACE),
        _ = lost => {
            tracing::error!("the leader Lease was lost; stopping");
            Some(std::time::Duration::ZERO)
        },
    };
    if let Some(grace) = grace {
        // The controllers stop before the Lease is given up, so a successor never acts
        // while reconciles of this process still run.
        let _ = stop_tx.send(true);
        if tokio::time::timeout(grace, &mut controllers).await.is_err() {
            tracing::warn!("controllers did not stop in time; aborting them");
        }
        drop(controllers);
        for handle in &handles {
            handle.abort();
        }
    }
    if let Some(lease) = lease {
        lease.release().await;
    }
    if let Some(task) = metrics_task {
        task.abort();
    }
    Ok(())
}

/// A graceful-shutdown future for a controller from the stop channel.
pub(crate) async fn stopper(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}
