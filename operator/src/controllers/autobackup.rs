//! Auto-backup (flow 8): a Deployment, StatefulSet, DaemonSet or PersistentVolumeClaim
//! annotated with `blueprint.kubestash.com/name` and `…/namespace` gets the BackupConfiguration
//! `<kind>-<name>` resolved from that BackupBlueprint (`kubestash::blueprint::resolve`, the
//! same code as `blueprint preview`).
//!
//! The targets are watched as metadata only. Every relevant change schedules a sweep that
//! compares what the annotations ask for with the configurations generated so far (those
//! labelled `kubestash.com/invoker-name`) and applies the difference:
//! - a new or changed resolution is applied (server-side, forced);
//! - a configuration whose target is gone or no longer annotated is deleted;
//! - when its blueprint is gone, it is deleted only if the blueprint said
//!   `deletionPolicy: OnDelete` (remembered in an annotation);
//! - a target that cannot be resolved (blueprint missing or not allowed, unresolved
//!   `${variables}`, a name taken by a hand-made configuration) gets a Warning Event naming
//!   the cause; an existing configuration is then left as it is.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    Event, EventSource, Namespace, ObjectReference, PersistentVolumeClaim,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};
use kubestash::api::core::{
    BackupBlueprint, BackupConfiguration, BlueprintDeletionPolicy, BLUEPRINT_NAMESPACE_ANNOTATION,
    BLUEPRINT_NAME_ANNOTATION,
};
use kubestash::api::{INVOKER_NAMESPACE_LABEL, INVOKER_NAME_LABEL};
use kubestash::blueprint::{self, Target};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::Context;
use crate::Result;

/// Annotation marking a configuration generated here, naming its target
/// (`<Kind>/<namespace>/<name>`); configurations without it are never touched.
pub const TARGET_ANNOTATION: &str = "kubestash.com/auto-backup-target";
/// Annotation on a generated configuration remembering the blueprint's deletion policy.
pub const DELETION_POLICY_ANNOTATION: &str = "kubestash.com/blueprint-deletion-policy";
/// Field manager of the generated configurations.
const FIELD_MANAGER: &str = "kubestash-auto-backup";
/// A sweep also runs this often, to retry what failed for reasons no watch reports.
const RESWEEP: Duration = Duration::from_secs(60);

/// The kinds whose annotations are watched.
struct Targets {
    deployments: Store<PartialObjectMeta<Deployment>>,
    statefulsets: Store<PartialObjectMeta<StatefulSet>>,
    daemonsets: Store<PartialObjectMeta<DaemonSet>>,
    claims: Store<PartialObjectMeta<PersistentVolumeClaim>>,
}

/// A target as the sweep sees it.
#[derive(Clone, Debug)]
struct Found {
    target: Target,
    uid: Option<String>,
}

fn found<K: Resource<DynamicType = ()>>(object: &PartialObjectMeta<K>, api_version: &str) -> Found {
    Found {
        target: Target {
            api_version: api_version.to_string(),
            kind: K::kind(&()).to_string(),
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
            annotations: object.annotations().clone(),
        },
        uid: object.uid(),
    }
}

impl Targets {
    /// Every watched object, annotated or not.
    fn all(&self) -> Vec<Found> {
        let mut all: Vec<Found> = Vec::new();
        all.extend(
            self.deployments
                .state()
                .iter()
                .map(|o| found(o.as_ref(), "apps/v1")),
        );
        all.extend(
            self.statefulsets
                .state()
                .iter()
                .map(|o| found(o.as_ref(), "apps/v1")),
        );
        all.extend(
            self.daemonsets
                .state()
                .iter()
                .map(|o| found(o.as_ref(), "apps/v1")),
        );
        all.extend(self.claims.state().iter().map(|o| found(o.as_ref(), "v1")));
        all
    }
}

/// Keeps the backend defaults the configuration controller filled in (the default storage
/// and retention policy, as KubeStash's webhook does) where the blueprint leaves them out.
/// Without them the sweep saw a change on every pass and applied the backends back without
/// the defaults: a configuration kept every snapshot, or the two rewrote it in turn.
fn keep_defaults(generated: &mut BackupConfiguration, current: &BackupConfiguration) {
    let Some(filled) = current.spec.backends.as_ref() else {
        return;
    };
    match generated.spec.backends.as_mut() {
        None => generated.spec.backends = Some(filled.clone()),
        Some(backends) if backends.is_empty() => *backends = filled.clone(),
        Some(backends) => {
            for backend in backends {
                let Some(theirs) = filled.iter().find(|b| b.name == backend.name) else {
                    continue;
                };
                if backend.storage_ref.is_none() {
                    backend.storage_ref = theirs.storage_ref.clone();
                }
                if backend.retention_policy.is_none() {
                    backend.retention_policy = theirs.retention_policy.clone();
                }
            }
        }
    }
}

fn annotated(annotations: &BTreeMap<String, String>) -> Option<(String, String)> {
    let name = annotations.get(BLUEPRINT_NAME_ANNOTATION)?;
    let namespace = annotations.get(BLUEPRINT_NAMESPACE_ANNOTATION)?;
    Some((namespace.clone(), name.clone()))
}

/// Keeps a store filled from `stream`, waking `notify` on every change `relevant` accepts
/// and once the initial list is in.
fn reflect<K, S>(
    stream: S,
    notify: Arc<Notify>,
    relevant: impl Fn(&K) -> bool + Send + 'static,
) -> (Store<K>, impl std::future::Future<Output = ()>)
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    S: Stream<Item = std::result::Result<watcher::Event<K>, watcher::Error>> + Send,
{
    let (store, writer) = reflector::store::<K>();
    let task = async move {
        let stream = reflector::reflector(
            writer,
            stream
                .modify(|object| object.meta_mut().managed_fields = None)
                .default_backoff(),
        );
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            let wake = match &event {
                Ok(watcher::Event::Apply(object) | watcher::Event::Delete(object)) => {
                    relevant(object)
                }
                Ok(watcher::Event::InitDone) => true,
                _ => false,
            };
            if wake {
                notify.notify_one();
            }
        }
    };
    (store, task)
}

fn meta_stream<K>(
    client: &kube::Client,
) -> impl Stream<Item = std::result::Result<watcher::Event<PartialObjectMeta<K>>, watcher::Error>> + Send
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher(
        Api::<PartialObjectMeta<K>>::all(client.clone()),
        super::watch_config(),
    )
}

/// A change of a target matters when it is annotated (or was just deleted while annotated),
/// or when a configuration was generated for it: its annotation may just have been removed.
/// Unannotated objects changing status, the common case, wake nothing.
fn target_relevant<K: Resource<DynamicType = ()>>(
    generated: Store<BackupConfiguration>,
) -> impl Fn(&PartialObjectMeta<K>) -> bool + Send + 'static {
    move |object| {
        annotated(object.annotations()).is_some()
            || generated.state().iter().any(|configuration| {
                configuration.spec.target.as_ref().is_some_and(|target| {
                    target.name == object.name_any()
                        && target.kind.as_deref() == Some(K::kind(&()).as_ref())
                        && target.namespace == object.namespace()
                })
            })
    }
}

/// Runs the auto-backup loop until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let notify = Arc::new(Notify::new());
    let (generated, t7) = reflect(
        watcher(
            Api::<BackupConfiguration>::all(client.clone()),
            super::watch_config().labels(INVOKER_NAME_LABEL),
        ),
        notify.clone(),
        |_| true,
    );
    let (deployments, t1) = reflect(
        meta_stream::<Deployment>(&client),
        notify.clone(),
        target_relevant(generated.clone()),
    );
    let (statefulsets, t2) = reflect(
        meta_stream::<StatefulSet>(&client),
        notify.clone(),
        target_relevant(generated.clone()),
    );
    let (daemonsets, t3) = reflect(
        meta_stream::<DaemonSet>(&client),
        notify.clone(),
        target_relevant(generated.clone()),
    );
    let (claims, t4) = reflect(
        meta_stream::<PersistentVolumeClaim>(&client),
        notify.clone(),
        target_relevant(generated.clone()),
    );
    let (namespaces, t5) = reflect(meta_stream::<Namespace>(&client), notify.clone(), |_| false);
    let (blueprints, t6) = reflect(
        watcher(
            Api::<BackupBlueprint>::all(client.clone()),
            super::watch_config(),
        ),
        notify.clone(),
        |_| true,
    );
    let tasks = [
        tokio::spawn(t1),
        tokio::spawn(t2),
        tokio::spawn(t3),
        tokio::spawn(t4),
        tokio::spawn(t5),
        tokio::spawn(t6),
        tokio::spawn(t7),
    ];
    let state = Sweeper {
        ctx,
        targets: Targets {
            deployments,
            statefulsets,
            daemonsets,
            claims,
        },
        namespaces,
        blueprints,
        generated,
        reported: HashMap::new(),
    };
    let mut stop_signal = stop.clone();
    tokio::select! {
        _ = state.run(notify) => {},
        _ = stop_signal.wait_for(|stopped| *stopped) => {},
    }
    for task in tasks {
        task.abort();
    }
}

struct Sweeper {
    ctx: Arc<Context>,
    targets: Targets,
    namespaces: Store<PartialObjectMeta<Namespace>>,
    blueprints: Store<BackupBlueprint>,
    generated: Store<BackupConfiguration>,
    /// The last problem reported per target (`kind/namespace/name`), so each is reported once.
    reported: HashMap<String, String>,
}

/// What a sweep decided for one configuration.
#[derive(Debug)]
enum Step {
    Apply(Box<BackupConfiguration>, Box<Found>),
    Delete {
        namespace: String,
        name: String,
        why: String,
    },
}

fn key_of(target: &Target) -> String {
    format!("{}/{}/{}", target.kind, target.namespace, target.name)
}

fn configuration_key(configuration: &BackupConfiguration) -> (String, String) {
    (
        configuration.namespace().unwrap_or_default(),
        configuration.name_any(),
    )
}

impl Sweeper {
    async fn run(mut self, notify: Arc<Notify>) {
        let ready = futures::future::join_all([
            self.targets.deployments.wait_until_ready().boxed(),
            self.targets.statefulsets.wait_until_ready().boxed(),
            self.targets.daemonsets.wait_until_ready().boxed(),
            self.targets.claims.wait_until_ready().boxed(),
            self.namespaces.wait_until_ready().boxed(),
            self.blueprints.wait_until_ready().boxed(),
            self.generated.wait_until_ready().boxed(),
        ]);
        if ready.await.into_iter().any(|r| r.is_err()) {
            tracing::error!("auto-backup stopped: a watch ended before its first list");
            return;
        }
        loop {
            // Let a burst of events settle into one sweep.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Err(error) = self.sweep().await {
                tracing::warn!(%error, "auto-backup sweep failed");
                self.ctx.metrics.reconcile_errors.inc();
            }
            let _ = tokio::time::timeout(RESWEEP, notify.notified()).await;
        }
    }

    async fn sweep(&mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let blueprints: BTreeMap<(String, String), BackupBlueprint> = self
            .blueprints
            .state()
            .iter()
            .map(|b| {
                (
                    (b.namespace().unwrap_or_default(), b.name_any()),
                    b.as_ref().clone(),
                )
            })
            .collect();
        let namespace_labels: BTreeMap<String, BTreeMap<String, String>> = self
            .namespaces
            .state()
            .iter()
            .map(|n| (n.name_any(), n.labels().clone()))
            .collect();
        let generated: Vec<BackupConfiguration> = self
            .generated
            .state()
            .iter()
            .map(|c| c.as_ref().clone())
            .collect();
        let (steps, problems) = plan(
            &self.targets.all(),
            &blueprints,
            &namespace_labels,
            &generated,
        );
        let mut problems = problems;
        for step in steps {
            match step {
                Step::Apply(configuration, target) => {
                    match self.apply(&configuration).await {
                        Ok(Ok(())) => {}
                        Ok(Err(problem)) => problems.push((*target, problem)),
                        Err(error) => {
                            let (namespace, name) = configuration_key(&configuration);
                            problems.push((
                            *target,
                            format!("unable to apply BackupConfiguration `{namespace}/{name}`: {error}"),
                        ));
                        }
                    }
                }
                Step::Delete {
                    namespace,
                    name,
                    why,
                } => {
                    let api: Api<BackupConfiguration> =
                        Api::namespaced(self.ctx.client.clone(), &namespace);
                    tracing::info!(%namespace, %name, %why, "deleting a generated BackupConfiguration");
                    match api.delete(&name, &DeleteParams::background()).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(status)) if status.code == 404 => {}
                        Err(error) => {
                            tracing::warn!(%namespace, %name, %error, "unable to delete a generated BackupConfiguration");
                            self.ctx.metrics.reconcile_errors.inc();
                        }
                    }
                }
            }
        }
        let mut still = HashMap::new();
        for (found, problem) in problems {
            let key = key_of(&found.target);
            still.insert(key.clone(), problem.clone());
            if self.reported.get(&key) != Some(&problem) {
                self.report(&found.target, found.uid.as_deref(), problem)
                    .await;
            }
        }
        self.reported.retain(|key, _| still.contains_key(key));
        self.ctx
            .metrics
            .observe_reconcile("AutoBackup", started.elapsed());
        Ok(())
    }

    /// Applies a resolved configuration; `Ok(Err(problem))` when its name is taken by a
    /// configuration that no blueprint generated.
    async fn apply(
        &self,
        configuration: &BackupConfiguration,
    ) -> Result<std::result::Result<(), String>> {
        let (namespace, name) = configuration_key(configuration);
        let api: Api<BackupConfiguration> = Api::namespaced(self.ctx.client.clone(), &namespace);
        if let Some(existing) = crate::util::get_opt(&api, &name).await? {
            if !existing.annotations().contains_key(TARGET_ANNOTATION) {
                return Ok(Err(format!(
                    "BackupConfiguration `{namespace}/{name}` already exists and was not created from a BackupBlueprint; auto-backup leaves it alone"
                )));
            }
        }
        let mut body = serde_json::to_value(configuration)?;
        body["apiVersion"] = json!("core.kubestash.com/v1alpha1");
        body["kind"] = json!("BackupConfiguration");
        if let Some(object) = body.as_object_mut() {
            object.remove("status");
        }
        // Not ours to set: a restore or `kubectl kubestash pause` owns `paused`.
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("paused");
        }
        let body = super::configuration::strip_nulls(body);
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
        tracing::info!(%namespace, %name, "applied a BackupConfiguration from a BackupBlueprint");
        Ok(Ok(()))
    }

    /// A Warning Event on the target (and the operator's log).
    async fn report(&mut self, target: &Target, uid: Option<&str>, problem: String) {
        tracing::warn!(target = %key_of(target), %problem, "auto-backup");
        self.reported.insert(key_of(target), problem.clone());
        let api: Api<Event> = Api::namespaced(self.ctx.client.clone(), &target.namespace);
        let now = crate::util::now();
        let event = Event {
            metadata: kube::api::ObjectMeta {
                generate_name: Some(format!("{}.", target.name)),
                namespace: Some(target.namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: (!target.api_version.is_empty()).then(|| target.api_version.clone()),
                kind: Some(target.kind.clone()),
                namespace: Some(target.namespace.clone()),
                name: Some(target.name.clone()),
                uid: uid.map(str::to_string),
                ..Default::default()
            },
            reason: Some("AutoBackupFailed".into()),
            message: Some(problem),
            type_: Some("Warning".into()),
            source: Some(EventSource {
                component: Some(super::FIELD_MANAGER.into()),
                ..Default::default()
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            ..Default::default()
        };
        if let Err(error) = api.create(&PostParams::default(), &event).await {
            tracing::debug!(%error, "unable to record an Event");
        }
    }
}

/// Decides what to apply and delete, and which targets have a problem. Pure: the sweep
/// feeds it the watch caches.
fn plan(
    targets: &[Found],
    blueprints: &BTreeMap<(String, String), BackupBlueprint>,
    namespace_labels: &BTreeMap<String, BTreeMap<String, String>>,
    generated: &[BackupConfiguration],
) -> (Vec<Step>, Vec<(Found, String)>) {
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    // Only configurations carrying the marker were made here; anything else is left alone.
    let existing: BTreeMap<(String, String), &BackupConfiguration> = generated
        .iter()
        .filter(|c| c.annotations().contains_key(TARGET_ANNOTATION))
        .map(|c| (configuration_key(c), c))
        .collect();
    let marker = |c: &BackupConfiguration| c.annotations().get(TARGET_ANNOTATION).cloned();
    let mut annotated_targets: BTreeMap<String, (String, String)> = BTreeMap::new();

    // Resolve every annotated target.
    let mut resolved: Vec<(&Found, BackupConfiguration)> = Vec::new();
    let mut sorted: Vec<&Found> = targets.iter().collect();
    sorted.sort_by_key(|f| key_of(&f.target));
    for item in sorted {
        let target = &item.target;
        let Some(reference) = annotated(&target.annotations) else {
            continue;
        };
        annotated_targets.insert(key_of(target), reference.clone());
        match resolve_target(item, &reference, blueprints, namespace_labels) {
            Ok(configuration) => resolved.push((item, configuration)),
            Err(problem) => problems.push((item.clone(), problem)),
        }
    }

    // One configuration name may be claimed by several targets (same kind and name in
    // different namespaces, one template namespace): the one that has it keeps it.
    let mut winners: BTreeMap<(String, String), String> = BTreeMap::new();
    for (item, configuration) in &resolved {
        let key = configuration_key(configuration);
        let holder = existing.get(&key).and_then(|c| marker(c));
        let this = key_of(&item.target);
        let holder_claims = holder.as_ref().is_some_and(|holder| {
            *holder != this
                && resolved.iter().any(|(other, c)| {
                    key_of(&other.target) == *holder && configuration_key(c) == key
                })
        });
        if holder_claims || winners.contains_key(&key) {
            let other = winners.get(&key).cloned().or(holder).unwrap_or_default();
            problems.push((
                (*item).clone(),
                format!(
                    "BackupConfiguration `{}/{}` is already generated for {other}",
                    key.0, key.1
                ),
            ));
            continue;
        }
        winners.insert(key, this);
    }
    let resolved_for: BTreeMap<String, (String, String)> = resolved
        .iter()
        .map(|(item, c)| (key_of(&item.target), configuration_key(c)))
        .collect();

    for (item, mut configuration) in resolved {
        let key = configuration_key(&configuration);
        if winners.get(&key) != Some(&key_of(&item.target)) {
            continue;
        }
        let current = existing.get(&key);
        // `paused` belongs to whoever pauses (a restore, `kubectl kubestash pause`).
        configuration.spec.paused = current.is_some_and(|c| c.spec.paused);
        if let Some(current) = current {
            keep_defaults(&mut configuration, current);
        }
        let unchanged = current.is_some_and(|current| {
            current.spec == configuration.spec
                && current.metadata.labels.as_ref().is_some_and(|labels| {
                    configuration
                        .metadata
                        .labels
                        .iter()
                        .flatten()
                        .all(|(k, v)| labels.get(k) == Some(v))
                })
                && configuration
                    .metadata
                    .annotations
                    .iter()
                    .flatten()
                    .all(|(k, v)| current.annotations().get(k) == Some(v))
                && current.annotations().get(DELETION_POLICY_ANNOTATION)
                    == configuration
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(DELETION_POLICY_ANNOTATION))
                && current.metadata.owner_references == configuration.metadata.owner_references
        });
        if !unchanged {
            steps.push(Step::Apply(Box::new(configuration), Box::new(item.clone())));
        }
    }

    for current in existing.values() {
        let key = configuration_key(current);
        let Some(target_key) = marker(current) else {
            continue;
        };
        if winners.get(&key) == Some(&target_key) {
            continue;
        }
        let invoker = (
            current
                .labels()
                .get(INVOKER_NAMESPACE_LABEL)
                .cloned()
                .unwrap_or_default(),
            current
                .labels()
                .get(INVOKER_NAME_LABEL)
                .cloned()
                .unwrap_or_default(),
        );
        let exists = targets.iter().any(|f| key_of(&f.target) == target_key);
        let why = if !exists {
            Some(format!("its target {target_key} is gone"))
        } else if let Some(moved) = resolved_for.get(&target_key).filter(|k| **k != key) {
            Some(format!(
                "{target_key} now resolves to BackupConfiguration `{}/{}`",
                moved.0, moved.1
            ))
        } else {
            match annotated_targets.get(&target_key) {
                None => Some(format!(
                    "{target_key} is no longer annotated with a BackupBlueprint"
                )),
                Some(reference) if *reference != invoker => Some(format!(
                    "{target_key} now names BackupBlueprint `{}/{}`",
                    reference.0, reference.1
                )),
                Some(_)
                    if !blueprints.contains_key(&invoker)
                        && current
                            .annotations()
                            .get(DELETION_POLICY_ANNOTATION)
                            .map(String::as_str)
                            == Some("OnDelete") =>
                {
                    Some(format!(
                        "BackupBlueprint `{}/{}` was deleted (deletionPolicy: OnDelete)",
                        invoker.0, invoker.1
                    ))
                }
                // The blueprint is gone without OnDelete, or resolving failed: keep it.
                Some(_) => None,
            }
        };
        if let Some(why) = why {
            steps.push(Step::Delete {
                namespace: key.0,
                name: key.1,
                why,
            });
        }
    }
    (steps, problems)
}

/// The configuration a blueprint gives one annotated target, or why there is none.
fn resolve_target(
    item: &Found,
    reference: &(String, String),
    blueprints: &BTreeMap<(String, String), BackupBlueprint>,
    namespace_labels: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<BackupConfiguration, String> {
    let target = &item.target;
    let Some(blueprint) = blueprints.get(reference) else {
        return Err(format!(
            "BackupBlueprint `{}/{}` (annotation {BLUEPRINT_NAME_ANNOTATION}) not found",
            reference.0, reference.1
        ));
    };
    if let Some(subjects) = blueprint.spec.subjects.as_ref().filter(|s| !s.is_empty()) {
        let listed = subjects.iter().any(|subject| {
            subject.kind.as_deref() == Some(target.kind.as_str())
                && subject
                    .api_version
                    .as_deref()
                    .is_none_or(|version| version == target.api_version)
        });
        if !listed {
            return Err(format!(
                "BackupBlueprint `{}/{}` does not list {} in spec.subjects",
                reference.0, reference.1, target.kind
            ));
        }
    }
    let resolution = blueprint::resolve(blueprint, target, namespace_labels.get(&target.namespace))
        .map_err(|error| error.to_string())?;
    if let Some((names, annotations)) = resolution.missing() {
        return Err(format!(
            "BackupBlueprint `{}/{}`: no value for {names}; set the annotation(s) {annotations}",
            reference.0, reference.1
        ));
    }
    let mut configuration = resolution.configuration;
    let annotations = configuration
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    annotations.insert(TARGET_ANNOTATION.into(), key_of(target));
    if blueprint
        .spec
        .backup_configuration_template
        .as_ref()
        .and_then(|t| t.deletion_policy)
        == Some(BlueprintDeletionPolicy::OnDelete)
    {
        annotations.insert(DELETION_POLICY_ANNOTATION.into(), "OnDelete".into());
    }
    // The target owns its configuration when they share a namespace, so the garbage
    // collector removes it with the target even while no operator runs.
    if let (Some(uid), Some(namespace)) = (&item.uid, &configuration.metadata.namespace) {
        if *namespace == target.namespace {
            configuration.metadata.owner_references = Some(vec![OwnerReference {
                api_version: target.api_version.clone(),
                kind: target.kind.clone(),
                name: target.name.clone(),
                uid: uid.clone(),
                controller: Some(false),
                block_owner_deletion: None,
            }]);
        }
    }
    Ok(configuration)
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_filled_in_by_the_controller_are_kept() {
        let generated: BackupConfiguration = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "deployment-web", "namespace": "shop"},
            "spec": {"backends": [{"name": "main", "storageRef": {"name": "s3"}}]}
        }))
        .unwrap();
        let current: BackupConfiguration = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "deployment-web", "namespace": "shop"},
            "spec": {"backends": [{"name": "main", "storageRef": {"name": "s3"}, "retentionPolicy": {"name": "keep", "namespace": "shop"}}]}
        }))
        .unwrap();
        let mut merged = generated.clone();
        keep_defaults(&mut merged, &current);
        assert_eq!(merged.spec.backends, current.spec.backends);
        let mut empty = generated;
        empty.spec.backends = None;
        keep_defaults(&mut empty, &current);
        assert_eq!(empty.spec.backends, current.spec.backends);
    }

    use super::*;
    use kubestash::object::{parse_documents, Object};

    fn example(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/examples/auto-backup")
            .join(name);
        std::fs::read_to_string(path).expect("the shared examples are beside the repository")
    }

    fn blueprints(
        policy: Option<BlueprintDeletionPolicy>,
    ) -> BTreeMap<(String, String), BackupBlueprint> {
        let Object::BackupBlueprint(mut blueprint) =
            parse_documents(&example("backupblueprint.yaml"))
                .remove(0)
                .unwrap()
                .0
        else {
            panic!("not a blueprint")
        };
        blueprint
            .spec
            .backup_configuration_template
            .as_mut()
            .unwrap()
            .deletion_policy = policy;
        BTreeMap::from([(
            ("shop".to_string(), "team-workloads".to_string()),
            blueprint,
        )])
    }

    fn invoices() -> Found {
        let (_, value) = parse_documents(&example("deployment.yaml"))
            .remove(0)
            .unwrap();
        Found {
            target: Target::from_value(&value).unwrap(),
            uid: Some("uid-1".into()),
        }
    }

    fn generated_for(
        found: &Found,
        policy: Option<BlueprintDeletionPolicy>,
    ) -> BackupConfiguration {
        let (steps, problems) = plan(
            std::slice::from_ref(found),
            &blueprints(policy),
            &BTreeMap::new(),
            &[],
        );
        assert!(problems.is_empty(), "{problems:?}");
        match steps.into_iter().next() {
            Some(Step::Apply(configuration, _)) => *configuration,
            other => panic!("expected an apply, got {other:?}"),
        }
    }

    #[test]
    fn the_example_generates_one_configuration_owned_by_its_target() {
        let configuration = generated_for(&invoices(), Some(BlueprintDeletionPolicy::OnDelete));
        assert_eq!(configuration.name_any(), "deployment-invoices");
        assert_eq!(configuration.namespace().as_deref(), Some("shop"));
        assert_eq!(configuration.owner_references()[0].uid, "uid-1");
        assert_eq!(
            configuration.annotations()[DELETION_POLICY_ANNOTATION],
            "OnDelete"
        );
    }

    #[test]
    fn an_unchanged_configuration_is_not_applied_again() {
        let target = invoices();
        let configuration = generated_for(&target, None);
        let (steps, problems) = plan(
            &[target],
            &blueprints(None),
            &BTreeMap::new(),
            &[configuration],
        );
        assert!(
            steps.is_empty() && problems.is_empty(),
            "{steps:?} {problems:?}"
        );
    }

    #[test]
    fn removing_the_annotation_or_the_target_deletes_the_configuration() {
        let target = invoices();
        let configuration = generated_for(&target, None);
        let mut bare = target.clone();
        bare.target.annotations.remove(BLUEPRINT_NAME_ANNOTATION);
        let (steps, _) = plan(
            &[bare],
            &blueprints(None),
            &BTreeMap::new(),
            std::slice::from_ref(&configuration),
        );
        assert!(matches!(&steps[..], [Step::Delete { name, why, .. }]
            if name == "deployment-invoices" && why.contains("no longer annotated")));
        let (steps, _) = plan(&[], &blueprints(None), &BTreeMap::new(), &[configuration]);
        assert!(matches!(&steps[..], [Step::Delete { why, .. }] if why.contains("is gone")));
    }

    #[test]
    fn a_deleted_blueprint_removes_configurations_only_with_on_delete() {
        let target = invoices();
        let kept = generated_for(&target, None);
        let (steps, problems) = plan(
            std::slice::from_ref(&target),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &[kept],
        );
        assert!(steps.is_empty());
        assert!(
            problems[0].1.contains("`shop/team-workloads`"),
            "{problems:?}"
        );
        let removed = generated_for(&target, Some(BlueprintDeletionPolicy::OnDelete));
        let (steps, _) = plan(&[target], &BTreeMap::new(), &BTreeMap::new(), &[removed]);
        assert!(matches!(&steps[..], [Step::Delete { why, .. }] if why.contains("OnDelete")));
    }

    #[test]
    fn a_missing_variable_is_a_problem_naming_the_annotation() {
        let mut target = invoices();
        target
            .target
            .annotations
            .remove("variables.kubestash.com/paths");
        let (steps, problems) = plan(&[target], &blueprints(None), &BTreeMap::new(), &[]);
        assert!(steps.is_empty());
        assert!(
            problems[0].1.contains("${paths}")
                && problems[0].1.contains("variables.kubestash.com/paths"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_name_clash_leaves_the_configuration_with_its_target_and_reports_the_newcomer() {
        let mut blueprints = blueprints(None);
        let blueprint = blueprints.values_mut().next().unwrap();
        blueprint
            .spec
            .backup_configuration_template
            .as_mut()
            .unwrap()
            .namespace = Some("backups".into());
        let holder = invoices();
        let mut newcomer = invoices();
        newcomer.target.namespace = "aaa".into();
        newcomer.uid = Some("uid-2".into());
        let (steps, _) = plan(
            std::slice::from_ref(&holder),
            &blueprints,
            &BTreeMap::new(),
            &[],
        );
        let Some(Step::Apply(existing, _)) = steps.into_iter().next() else {
            panic!("expected an apply")
        };
        // `aaa/invoices` sorts first, yet `shop/invoices` keeps what it has.
        let (steps, problems) = plan(
            &[newcomer, holder],
            &blueprints,
            &BTreeMap::new(),
            &[*existing],
        );
        assert!(steps.is_empty(), "{steps:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0.target.namespace, "aaa");
        assert!(
            problems[0].1.contains("Deployment/shop/invoices"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_configuration_not_made_here_is_never_deleted_and_paused_is_left_alone() {
        let target = invoices();
        let mut configuration = generated_for(&target, None);
        configuration.spec.paused = true;
        let (steps, _) = plan(
            std::slice::from_ref(&target),
            &blueprints(None),
            &BTreeMap::new(),
            std::slice::from_ref(&configuration),
        );
        assert!(
            steps.is_empty(),
            "a paused configuration is unchanged: {steps:?}"
        );
        configuration
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(TARGET_ANNOTATION);
        let (steps, _) = plan(&[], &blueprints(None), &BTreeMap::new(), &[configuration]);
        assert!(steps.is_empty(), "{steps:?}");
    }
}
