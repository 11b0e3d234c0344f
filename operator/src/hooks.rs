//! HookTemplate execution: the pre/post hooks of backup and restore sessions.
//!
//! A hook names a HookTemplate (whose usage policy must admit the session's namespace) and
//! gives its parameters. `${param}` placeholders in the action are filled from the hook's
//! `params`, falling back to the template's parameter defaults; `httpPost.body` is also
//! rendered as a (field-reference only) Go template over the session summary, e.g.
//! `{{.Status.Phase}}` or `{{.Target.Name}}`.
//!
//! Executors:
//! - `Operator`: the operator itself makes the call: `httpGet`/`httpPost` (2xx/3xx is
//!   success) or `tcpSocket` (a connection is success). `exec` is refused: it would run any
//!   command with the operator's ServiceAccount, which reads every Secret.
//! - `Function`: a Job (as the namespace's executor ServiceAccount) runs the Function's
//!   image with its command and args filled from the parameters, the executor's and the
//!   hook's env, the parameters as env, volumes and mounts; the Job's exit decides.
//! - `Pod`: `action.exec.command` runs through the `pods/exec` API in the Running pods of the
//!   session's namespace (never another one) that match `executor.pod.selector` (and `owner`,
//!   when set): the first by name (`ExecuteOnOne`) or each (`ExecuteOnAll`), in
//!   `action.containerName`, else the pod's default container. A non-zero exit fails the hook with the command's last stderr lines.
//!
//! Every attempt is bounded by the hook's `timeout` (30 s for Operator calls and execs, 5 min
//! for Function Jobs, which may pull an image, when unset); a Job that overruns is deleted.
//! Attempts are retried up to `maxRetry` times. Pre hooks run in order and stop at the first
//! failure; post hooks honour `executionPolicy` (Always, OnSuccess, OnFailure) and all run.
//! A `${param}` the hook does not give (and the template has no default for) fails the
//! hook, naming it.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{EnvVar, Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{AttachParams, DeleteParams, ListParams};
use kube::{Api, ResourceExt};
use kubestash::api::addons::Function;
use kubestash::api::common::TypedObjectReference;
use kubestash::api::core::session::{
    HookExecutionPolicy, HookExecutionStatus, HookInfo, HookPhase,
};
use kubestash::api::core::{
    HookAction, HookExecutorType, HookTemplate, PodHookExecutor, PodHookStrategy,
};
use kubestash::validation::{namespace_allowed, NamespaceAccess};
use serde_json::{json, Value};

use crate::controllers::{job_log_tail, job_outcome, Context};
use crate::jobs::{self, JobSpec};
use crate::util;

/// How long one Operator-executor call may take when the hook sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a Function hook Job may take when the hook sets no `timeout`.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(300);

/// What a hook's `httpPost.body` template sees (KubeStash's `Summary`).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Session name.
    pub name: String,
    /// Session namespace.
    pub namespace: String,
    /// The BackupConfiguration or RestoreSession behind the session.
    pub invoker: TypedObjectReference,
    /// The backed-up or restored object.
    pub target: TypedObjectReference,
    /// Phase of the session when the hook runs (`Running` for pre hooks).
    pub phase: String,
    /// How long the session has run.
    pub duration: String,
    /// Why it failed, when it did.
    pub error: String,
}

impl Summary {
    fn to_go_value(&self) -> Value {
        let reference = |r: &TypedObjectReference| {
            json!({
                "APIGroup": r.api_group.clone().unwrap_or_default(),
                "Kind": r.kind.clone().unwrap_or_default(),
                "Namespace": r.namespace.clone().unwrap_or_default(),
                "Name": r.name,
            })
        };
        json!({
            "Name": self.name,
            "Namespace": self.namespace,
            "Invoker": reference(&self.invoker),
            "Target": reference(&self.target),
            "Status": {"Phase": self.phase, "Duration": self.duration, "Error": self.error},
        })
    }
}

/// Where the hooks of one session run.
pub struct Hooks<'a> {
    /// The operator's context.
    pub ctx: &'a Context,
    /// Namespace of the session (hook Jobs run there).
    pub namespace: &'a str,
    /// Name of the session (hook Jobs are named after it).
    pub session: &'a str,
    /// Owner of hook Jobs.
    pub owner: Option<OwnerReference>,
    /// The summary the templates see.
    pub summary: Summary,
}

/// The outcome of a list of hooks.
#[derive(Debug, Default)]
pub struct Report {
    /// Phase per hook that ran.
    pub statuses: Vec<HookExecutionStatus>,
    /// `hook name: error` of each failure.
    pub failures: Vec<String>,
}

impl Report {
    /// The failures in one line.
    pub fn error(&self) -> Option<String> {
        (!self.failures.is_empty()).then(|| self.failures.join("; "))
    }
}

/// Whether a post hook runs after a session that `succeeded` (pre hooks: `None`).
pub fn should_run(hook: &HookInfo, succeeded: Option<bool>) -> bool {
    match (succeeded, hook.execution_policy) {
        (None, _) | (_, HookExecutionPolicy::Always) => true,
        (Some(ok), HookExecutionPolicy::OnSuccess) => ok,
        (Some(ok), HookExecutionPolicy::OnFailure) => !ok,
    }
}

impl Hooks<'_> {
    /// Runs `hooks`: pre hooks (`succeeded: None`) stop at the first failure; post hooks run
    /// when their execution policy matches `succeeded`, all of them.
    pub async fn run(&self, hooks: &[HookInfo], succeeded: Option<bool>) -> Report {
        let mut report = Report::default();
        for hook in hooks.iter().filter(|h| should_run(h, succeeded)) {
            let attempts = hook.max_retry.unwrap_or(0).max(0) as usize + 1;
            let mut last = Ok(());
            let stage = if succeeded.is_none() { "pre" } else { "post" };
            for attempt in 1..=attempts {
                last = self.attempt(hook, stage, attempt).await;
                match &last {
                    Ok(()) => break,
                    Err(error) => {
                        tracing::warn!(hook = %hook.name, session = %self.session, attempt, %error, "hook failed");
                        if attempt < attempts {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }
            let phase = match &last {
                Ok(()) => HookPhase::Succeeded,
                Err(error) => {
                    report
                        .failures
                        .push(format!("hook `{}`: {error}", hook.name));
                    HookPhase::Failed
                }
            };
            report.statuses.push(HookExecutionStatus {
                name: hook.name.clone(),
                phase: Some(phase),
            });
            if last.is_err() && succeeded.is_none() {
                break;
            }
        }
        report
    }

    async fn attempt(&self, hook: &HookInfo, stage: &str, attempt: usize) -> Result<(), String> {
        let timeout = match &hook.timeout {
            Some(text) => Some(
                kubestash::duration::parse_go_duration(text)
                    .map_err(|error| format!("timeout `{text}`: {error}"))?,
            ),
            None => None,
        };
        let prepared = self.prepare(hook).await?;
        let executor = prepared.template.spec.executor.clone().unwrap_or_default();
        let display = prepared.display.clone();
        match executor.type_ {
            Some(HookExecutorType::Operator) => {
                let action = self.action(&prepared)?;
                bounded(timeout.unwrap_or(DEFAULT_TIMEOUT), run_action(&action)).await
            }
            Some(HookExecutorType::Function) => {
                let function = executor
                    .function
                    .clone()
                    .ok_or_else(|| format!("{display} has no spec.executor.function"))?;
                let job = self
                    .function_job(hook, &function, &prepared.params, stage, attempt)
                    .await
                    .map_err(|error| format!("{display}: {error}"))?;
                self.run_hook_job(&job, timeout.unwrap_or(DEFAULT_JOB_TIMEOUT))
                    .await
            }
            Some(HookExecutorType::Pod) => {
                let pods = executor
                    .pod
                    .clone()
                    .ok_or_else(|| format!("{display} has no spec.executor.pod"))?;
                let action = self.action(&prepared)?;
                let command = action
                    .exec
                    .as_ref()
                    .and_then(|e| e.command.clone())
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| {
                        format!("{display}: the Pod executor runs spec.action.exec.command, which is not set")
                    })?;
                let run = self.exec_in_pods(&pods, action.container_name.as_deref(), &command);
                bounded(timeout.unwrap_or(DEFAULT_TIMEOUT), run).await
            }
            None => Err(format!("{display} has no spec.executor.type")),
        }
    }

    /// The template's action with its parameters and summary filled in.
    fn action(&self, prepared: &Prepared) -> Result<HookAction, String> {
        let display = &prepared.display;
        let action = prepared
            .template
            .spec
            .action
            .as_ref()
            .ok_or_else(|| format!("{display} has no spec.action"))?;
        fill_action(action, &prepared.params, &self.summary)
            .map_err(|error| format!("{display}: {error}"))
    }

    /// Runs `command` in the pods the Pod executor selects. Only pods of the session's own
    /// namespace are reachable: the operator may exec anywhere, and a session must not
    /// borrow that to run commands in a namespace its author does not control.
    async fn exec_in_pods(
        &self,
        executor: &PodHookExecutor,
        container: Option<&str>,
        command: &[String],
    ) -> Result<(), String> {
        let namespace = self.namespace.to_string();
        if let Some(target) = self.summary.target.namespace.as_deref() {
            if !target.is_empty() && target != namespace {
                return Err(format!(
                    "the Pod executor runs only in the session's namespace `{namespace}`, and the target is in `{target}`; use a Function or Operator executor"
                ));
            }
        }
        if executor.selector.trim().is_empty() {
            return Err("spec.executor.pod.selector is required for the Pod executor".into());
        }
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &namespace);
        let listed = api
            .list(&ListParams::default().labels(&executor.selector))
            .await
            .map_err(|error| {
                format!(
                    "unable to list pods `{}` in namespace `{namespace}`: {error}",
                    executor.selector
                )
            })?;
        let mut pods: Vec<Pod> = listed
            .items
            .into_iter()
            .filter(|pod| {
                pod.metadata.deletion_timestamp.is_none()
                    && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    && executor.owner.as_ref().is_none_or(|owner| {
                        pod.owner_references().iter().any(|o| {
                            if owner.uid.is_empty() {
                                o.kind == owner.kind && o.name == owner.name
                            } else {
                                o.uid == owner.uid
                            }
                        })
                    })
            })
            .collect();
        pods.sort_by_key(|pod| pod.name_any());
        if pods.is_empty() {
            return Err(format!(
                "no Running pod in namespace `{namespace}` matches spec.executor.pod (selector `{}`)",
                executor.selector
            ));
        }
        if executor.strategy == PodHookStrategy::ExecuteOnOne {
            pods.truncate(1);
        }
        for pod in pods {
            // The API server needs a container when the pod has several; default as
            // kubectl does.
            let container = container
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .or_else(|| {
                    pod.annotations()
                        .get("kubectl.kubernetes.io/default-container")
                        .cloned()
                })
                .or_else(|| {
                    pod.spec
                        .as_ref()
                        .and_then(|s| s.containers.first())
                        .map(|c| c.name.clone())
                });
            exec_once(&api, &pod.name_any(), container.as_deref(), command)
                .await
                .map_err(|error| format!("pod `{namespace}/{}`: {error}", pod.name_any()))?;
        }
        Ok(())
    }

    /// Loads the template, checks its usage policy and fills the parameters.
    async fn prepare(&self, hook: &HookInfo) -> Result<Prepared, String> {
        let reference = hook
            .hook_template
            .as_ref()
            .ok_or_else(|| "hookTemplate is required".to_string())?;
        let template_namespace = reference
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.namespace.to_string());
        let display = format!("HookTemplate `{template_namespace}/{}`", reference.name);
        let api: Api<HookTemplate> = Api::namespaced(self.ctx.client.clone(), &template_namespace);
        let template = util::get_opt(&api, &reference.name)
            .await
            .map_err(|error| format!("unable to read {display}: {error}"))?
            .ok_or_else(|| format!("{display} not found"))?;
        let labels = if template_namespace == self.namespace {
            None
        } else {
            let namespaces: Api<Namespace> = Api::all(self.ctx.client.clone());
            util::get_opt(&namespaces, self.namespace)
                .await
                .ok()
                .flatten()
                .and_then(|n| n.metadata.labels)
        };
        if let NamespaceAccess::Denied(reason) = namespace_allowed(
            template.spec.usage_policy.as_ref(),
            &template_namespace,
            self.namespace,
            labels.as_ref(),
        ) {
            return Err(format!(
                "{display} may not be used from namespace `{}`: {reason}",
                self.namespace
            ));
        }
        let params = kubestash::api::common::parameter_values(
            template.spec.params.as_ref(),
            hook.params.as_ref(),
        );
        let missing: Vec<&str> = template
            .spec
            .params
            .iter()
            .flatten()
            .filter(|d| d.required && params.get(&d.name).is_none_or(|v| v.is_empty()))
            .map(|d| d.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{display} needs the parameter(s) {} in the hook's `params`",
                missing.join(", ")
            ));
        }
        Ok(Prepared {
            display,
            template,
            params,
        })
    }

    /// The Job of one attempt of a Function hook.
    async fn function_job(
        &self,
        hook: &HookInfo,
        executor: &kubestash::api::core::FunctionHookExecutor,
        params: &BTreeMap<String, String>,
        stage: &str,
        attempt: usize,
    ) -> Result<Job, String> {
        let functions: Api<Function> = Api::all(self.ctx.client.clone());
        let function = util::get_opt(&functions, &executor.name)
            .await
            .map_err(|error| format!("unable to read Function `{}`: {error}", executor.name))?
            .ok_or_else(|| format!("Function `{}` not found", executor.name))?;
        let lookup = |name: &str| params.get(name).cloned();
        let mut unresolved: Vec<String> = Vec::new();
        let mut fill = |text: &String| {
            let result = kubestash::placeholder::substitute(text, lookup);
            for name in result.unresolved {
                if !unresolved.contains(&name) {
                    unresolved.push(name);
                }
            }
            result.text
        };
        let image = fill(&function.spec.image);
        let command: Vec<String> = function
            .spec
            .command
            .iter()
            .flatten()
            .map(&mut fill)
            .collect();
        let args: Vec<String> = function.spec.args.iter().flatten().map(&mut fill).collect();
        if !unresolved.is_empty() {
            return Err(format!(
                "Function `{}` needs {} in the hook's `params`",
                executor.name,
                unresolved
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut env: Vec<EnvVar> = executor.env.clone().unwrap_or_default();
        env.extend(hook.variables.clone().unwrap_or_default());
        env.extend(params.iter().map(|(name, value)| EnvVar {
            name: name.clone(),
            value: Some(value.clone()),
            value_from: None,
        }));
        let mut volumes = executor.volumes.clone().unwrap_or_default();
        volumes.extend(hook.volumes.clone().unwrap_or_default());
        let mut mounts = executor.volume_mounts.clone().unwrap_or_default();
        mounts.extend(hook.volume_mounts.clone().unwrap_or_default());
        let account = self
            .ctx
            .ensure_executor_account(self.namespace)
            .await
            .map_err(|error| error.to_string())?;
        let name = kubestash::naming::valid_name(
            "hook",
            &format!("{}-{stage}-{}", self.session, hook.name),
            &format!("{attempt}"),
        );
        let mut job = jobs::build_job(JobSpec {
            name,
            namespace: self.namespace.to_string(),
            labels: crate::controllers::managed_labels(&[("kubestash.com/hook", &hook.name)]),
            owner: self.owner.clone(),
            image,
            command,
            args,
            volumes,
            mounts,
            service_account: Some(account),
            ..JobSpec::default()
        });
        if let Some(container) = job
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .and_then(|s| s.containers.first_mut())
        {
            container.env.get_or_insert_with(Vec::new).extend(env);
        }
        Ok(job)
    }

    /// Runs a hook Job to its end within `timeout`. A Job already there (the operator
    /// restarted mid-hook) is waited for rather than duplicated; one that overruns is
    /// deleted, and so is a finished one (its owner, the session, would take it anyway).
    async fn run_hook_job(&self, job: &Job, timeout: Duration) -> Result<(), String> {
        let name = job.name_any();
        let api: Api<Job> = Api::namespaced(self.ctx.client.clone(), self.namespace);
        self.ctx
            .ensure_job(job)
            .await
            .map_err(|error| format!("unable to create Job `{name}`: {error}"))?;
        let deadline = tokio::time::Instant::now() + timeout;
        let delete = || async {
            let _ = api.delete(&name, &DeleteParams::background()).await;
        };
        loop {
            let current = match util::get_opt(&api, &name).await {
                Ok(Some(current)) => current,
                Ok(None) => {
                    return Err(format!(
                        "Job `{}/{name}` was deleted before it finished",
                        self.namespace
                    ))
                }
                Err(error) => return Err(format!("unable to read Job `{name}`: {error}")),
            };
            if let Some(outcome) = job_outcome(&current) {
                let logs = job_log_tail(&self.ctx.client, &current, 5)
                    .await
                    .unwrap_or_default();
                delete().await;
                return outcome.map_err(|reason| {
                    let last = logs.lines().last().unwrap_or_default();
                    format!("Job `{}/{name}` failed ({reason}): {last}", self.namespace)
                });
            }
            if tokio::time::Instant::now() >= deadline {
                delete().await;
                return Err(format!(
                    "Job `{}/{name}` did not finish within {}; it was deleted",
                    self.namespace,
                    kubestash::duration::format_go_duration(timeout)
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Runs `list` once for a session and records it: `status.hooks.<key>` (`preHooks` or
/// `postHooks`) and the condition `condition_type`. A condition already present means the
/// hooks ran before (the operator restarted since): they are not run twice. Returns the
/// failure, if any.
pub async fn run_recorded<K>(
    api: &Api<K>,
    name: &str,
    hooks: &Hooks<'_>,
    list: &[HookInfo],
    succeeded: Option<bool>,
    condition_type: &str,
) -> crate::Result<Option<String>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    if list.is_empty() {
        return Ok(None);
    }
    let conditions = util::fresh_conditions(api, name).await?;
    if let Some(done) = util::find(Some(&conditions), condition_type) {
        return Ok((done.status != "True").then(|| done.message.clone().unwrap_or_default()));
    }
    let report = hooks.run(list, succeeded).await;
    if report.statuses.is_empty() {
        return Ok(None);
    }
    let mut conditions = util::fresh_conditions(api, name).await?;
    let (reason, message) = match report.error() {
        Some(error) => ("HookExecutionFailed", error),
        None => (
            "HooksExecutedSuccessfully",
            format!("{} hook(s) succeeded", report.statuses.len()),
        ),
    };
    util::set_condition(
        &mut conditions,
        util::condition(condition_type, report.failures.is_empty(), reason, message),
    );
    let key = if succeeded.is_none() {
        "preHooks"
    } else {
        "postHooks"
    };
    util::patch_status(
        api,
        name,
        json!({"hooks": {key: report.statuses}, "conditions": conditions}),
    )
    .await?;
    Ok(report.error())
}

struct Prepared {
    display: String,
    template: HookTemplate,
    params: BTreeMap<String, String>,
}

/// `run` within `timeout`, or an error saying it did not finish.
async fn bounded(
    timeout: Duration,
    run: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "did not finish within {}",
                kubestash::duration::format_go_duration(timeout)
            ))
        })
}

/// Runs a command in one pod through `pods/exec`; a non-zero exit is an error with the
/// command's last stderr lines.
async fn exec_once(
    api: &Api<Pod>,
    pod: &str,
    container: Option<&str>,
    command: &[String],
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let mut params = AttachParams::default().stdout(true).stderr(true);
    if let Some(container) = container.filter(|c| !c.is_empty()) {
        params = params.container(container);
    }
    let mut attached = api
        .exec(pod, command.to_vec(), &params)
        .await
        .map_err(|error| format!("exec failed: {error}"))?;
    let mut stdout = attached.stdout();
    let mut stderr = attached.stderr();
    let status = attached.take_status();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let drain_out = async {
        if let Some(reader) = stdout.as_mut() {
            let _ = reader.read_to_end(&mut out).await;
        }
    };
    let drain_err = async {
        if let Some(reader) = stderr.as_mut() {
            let _ = reader.read_to_end(&mut err).await;
        }
    };
    tokio::join!(drain_out, drain_err);
    let status = match status {
        Some(status) => status.await,
        None => None,
    };
    let _ = attached.join().await;
    match status {
        Some(status) if status.status.as_deref() == Some("Success") => Ok(()),
        Some(status) => {
            let tail: Vec<String> = String::from_utf8_lossy(&err)
                .lines()
                .rev()
                .take(3)
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let message = status
                .message
                .unwrap_or_else(|| "the command failed".to_string());
            if tail.is_empty() {
                Err(message)
            } else {
                Err(format!("{message} (stderr: {})", tail.join(" | ")))
            }
        }
        None => Err("the exec ended without an exit status".into()),
    }
}

/// Fills `${param}` placeholders everywhere in the action and renders `httpPost.body`.
fn fill_action(
    action: &HookAction,
    params: &BTreeMap<String, String>,
    summary: &Summary,
) -> Result<HookAction, String> {
    let mut value = serde_json::to_value(action).map_err(|e| e.to_string())?;
    let lookup = |name: &str| params.get(name).cloned();
    let mut unresolved = Vec::new();
    kubestash::placeholder::substitute_value(&mut value, &lookup, &mut unresolved);
    if !unresolved.is_empty() {
        return Err(format!(
            "spec.action needs {} in the hook's `params`",
            unresolved
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut action: HookAction = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if let Some(post) = action.http_post.as_mut() {
        if let Some(body) = &post.body {
            post.body = Some(
                render_body(body, &summary.to_go_value())
                    .map_err(|error| format!("spec.action.httpPost.body: {error}"))?,
            );
        }
    }
    Ok(action)
}

/// Renders the field references (`{{.Status.Phase}}`, `{{ .Target.Name }}`, with `-` trim
/// markers) of a Go template. Anything else is refused by name rather than sent garbled.
pub fn render(template: &str, data: &Value) -> Result<String, String> {
    render_with(template, data, false)
}

/// Renders a body template; when the body is JSON (as a Slack or webhook payload is) and the
/// plain rendering is not, the inserted values are escaped as JSON string contents, so that
/// a multi-line error with quotes in `"{{.Status.Error}}"` still makes a valid payload.
pub fn render_body(template: &str, data: &Value) -> Result<String, String> {
    let plain = render_with(template, data, false)?;
    let looks_json = template.trim_start().starts_with(['{', '[']);
    if !looks_json || serde_json::from_str::<Value>(&plain).is_ok() {
        return Ok(plain);
    }
    let escaped = render_with(template, data, true)?;
    Ok(if serde_json::from_str::<Value>(&escaped).is_ok() {
        escaped
    } else {
        plain
    })
}

fn render_with(template: &str, data: &Value, json_strings: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` at `{}`", &rest[start..]))?;
        let mut inner = &after[..end];
        if let Some(stripped) = inner.strip_prefix('-') {
            before = before.trim_end();
            inner = stripped;
        }
        let trim_after = inner.ends_with('-');
        if trim_after {
            inner = &inner[..inner.len() - 1];
        }
        out.push_str(before);
        let expression = inner.trim();
        let path = expression.strip_prefix('.').filter(|p| {
            !p.is_empty()
                && p.split('.')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        });
        let Some(path) = path else {
            return Err(format!(
                "`{{{{{expression}}}}}` is not a field reference; only fields such as {{{{.Status.Phase}}}} or {{{{.Target.Name}}}} are filled in"
            ));
        };
        let mut current = data;
        for part in path.split('.') {
            current = current.get(part).ok_or_else(|| {
                format!("`{{{{.{path}}}}}` names no field of the summary (Name, Namespace, Invoker, Target, Status)")
            })?;
        }
        match current {
            Value::String(text) if json_strings => {
                // The contents of a JSON string: its quotes stay the template's.
                let quoted = Value::String(text.clone()).to_string();
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            Value::String(text) => out.push_str(text),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn port_of(port: &IntOrString, field: &str) -> Result<u16, String> {
    match port {
        IntOrString::Int(number) => {
            u16::try_from(*number).map_err(|_| format!("{field}: port {number} is out of range"))
        }
        IntOrString::String(text) => text.parse().map_err(|_| {
            format!(
                "{field}: named port `{text}` needs a pod; the Operator executor takes a number"
            )
        }),
    }
}

fn url_of(
    scheme: Option<&str>,
    host: Option<&str>,
    port: &IntOrString,
    path: Option<&str>,
    field: &str,
) -> Result<String, String> {
    let host = host
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{field}.host is required for the Operator executor"))?;
    let port = port_of(port, &format!("{field}.port"))?;
    let scheme = scheme.unwrap_or("HTTP").to_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{field}.scheme `{scheme}` is not HTTP or HTTPS"));
    }
    let path = path.unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Ok(format!("{scheme}://{host}:{port}{path}"))
}

async fn check_response(response: reqwest::Response, url: &str) -> Result<(), String> {
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.trim().chars().take(200).collect();
    Err(format!("{url} answered {status}: {text}"))
}

/// Makes an Operator-executor call from this process.
async fn run_action(action: &HookAction) -> Result<(), String> {
    if action.handler_count() != 1 {
        return Err(
            "spec.action must set exactly one of exec, httpGet, httpPost, tcpSocket".into(),
        );
    }
    if action.exec.is_some() {
        return Err("spec.action.exec cannot run with the Operator executor (it would run with the operator's permissions); use the Function executor for commands".into());
    }
    if let Some(socket) = &action.tcp_socket {
        let host = socket
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                "spec.action.tcpSocket.host is required for the Operator executor".to_string()
            })?;
        let port = port_of(&socket.port, "spec.action.tcpSocket.port")?;
        return tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map(|_| ())
            .map_err(|error| format!("unable to connect to {host}:{port}: {error}"));
    }
    // Not followed: a POST redirected would become a GET without its body (and count as
    // success), and custom headers would go to another host. A 3xx is the answer.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| format!("unable to build an HTTP client: {error}"))?;
    if let Some(get) = &action.http_get {
        let url = url_of(
            get.scheme.as_deref(),
            get.host.as_deref(),
            &get.port,
            get.path.as_deref(),
            "spec.action.httpGet",
        )?;
        let mut request = client.get(&url);
        for header in get.http_headers.iter().flatten() {
            request = request.header(&header.name, &header.value);
        }
        let response = request
            .send()
            .await
            .map_err(|error| format!("GET {url}: {error}"))?;
        return check_response(response, &url).await;
    }
    if let Some(post) = &action.http_post {
        let url = url_of(
            post.scheme.as_deref(),
            post.host.as_deref(),
            &post.port,
            post.path.as_deref(),
            "spec.action.httpPost",
        )?;
        let mut request = client.post(&url);
        for header in post.http_headers.iter().flatten() {
            request = request.header(&header.name, &header.value);
        }
        if let Some(form) = post.form.as_ref().filter(|f| !f.is_empty()) {
            let pairs: Vec<(String, String)> = form
                .iter()
                .flat_map(|entry| {
                    entry
                        .values
                        .iter()
                        .flatten()
                        .map(|value| (entry.key.clone(), value.clone()))
                })
                .collect();
            let body = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        } else if let Some(body) = &post.body {
            let typed = post
                .http_headers
                .iter()
                .flatten()
                .any(|header| header.name.eq_ignore_ascii_case("content-type"));
            if !typed && serde_json::from_str::<Value>(body).is_ok() {
                request = request.header("Content-Type", "application/json");
            }
            request = request.body(body.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|error| format!("POST {url}: {error}"))?;
        return check_response(response, &url).await;
    }
    Err("spec.action sets no handler".into())
}

fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Value {
        Summary {
            name: "orders-backup-1".into(),
            namespace: "shop".into(),
            target: TypedObjectReference {
                api_group: Some("apps".into()),
                kind: Some("Deployment".into()),
                namespace: Some("shop".into()),
                name: "orders".into(),
            },
            phase: "Succeeded".into(),
            ..Summary::default()
        }
        .to_go_value()
    }

    #[test]
    fn field_references_are_rendered_with_trim_markers() {
        let text =
            r#"{"text":"{{ .Target.Name }} backup {{.Status.Phase}}",  {{- .Namespace -}}  !"}"#;
        assert_eq!(
            render(text, &summary()).unwrap(),
            r#"{"text":"orders backup Succeeded",shop!"}"#
        );
    }

    #[test]
    fn json_bodies_get_their_values_escaped() {
        let data = serde_json::json!({"Status": {"Error": "Job failed: \"pg_dump\" said\nno"}, "Name": "s1"});
        let body = render_body(r#"{"text":"{{.Name}}: {{.Status.Error}}"}"#, &data).unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["text"], "s1: Job failed: \"pg_dump\" said\nno");
        // Not JSON: left as written.
        assert_eq!(
            render_body("error={{.Status.Error}}", &data).unwrap(),
            "error=Job failed: \"pg_dump\" said\nno"
        );
    }

    #[test]
    fn anything_but_a_field_reference_is_refused_by_name() {
        let error = render("{{if .Status.Phase}}x{{end}}", &summary()).unwrap_err();
        assert!(error.contains("{{if .Status.Phase}}"), "{error}");
        let error = render("{{.Status.Colour}}", &summary()).unwrap_err();
        assert!(error.contains(".Status.Colour"), "{error}");
        assert!(render("{{.Name", &summary()).is_err());
    }

    #[test]
    fn post_hooks_follow_their_execution_policy() {
        let hook = |policy| HookInfo {
            execution_policy: policy,
            ..HookInfo::default()
        };
        assert!(should_run(&hook(HookExecutionPolicy::OnFailure), None));
        assert!(should_run(
            &hook(HookExecutionPolicy::OnFailure),
            Some(false)
        ));
        assert!(!should_run(
            &hook(HookExecutionPolicy::OnFailure),
            Some(true)
        ));
        assert!(!should_run(
            &hook(HookExecutionPolicy::OnSuccess),
            Some(false)
        ));
        assert!(should_run(&hook(HookExecutionPolicy::Always), Some(true)));
    }

    #[test]
    fn urls_need_a_host_and_a_numeric_port() {
        assert_eq!(
            url_of(
                None,
                Some("127.0.0.1"),
                &IntOrString::Int(8080),
                Some("hook"),
                "f"
            )
            .unwrap(),
            "http://127.0.0.1:8080/hook"
        );
        assert!(url_of(None, None, &IntOrString::Int(80), None, "f")
            .unwrap_err()
            .contains("f.host"));
        assert!(url_of(
            None,
            Some("h"),
            &IntOrString::String("http".into()),
            None,
            "f"
        )
        .unwrap_err()
        .contains("named port"));
    }

    #[tokio::test]
    async fn the_operator_executor_refuses_exec_and_reports_unset_params() {
        let action = HookAction {
            exec: Some(k8s_openapi::api::core::v1::ExecAction {
                command: Some(vec!["sh".into(), "-c".into(), "id".into()]),
            }),
            ..HookAction::default()
        };
        let error = run_action(&action).await.unwrap_err();
        assert!(error.contains("Function executor"), "{error}");
        let post = HookAction {
            http_post: Some(kubestash::api::core::HttpPostAction {
                path: Some("/${channel}".into()),
                port: IntOrString::Int(80),
                host: Some("${host}".into()),
                scheme: None,
                http_headers: None,
                body: None,
                form: None,
            }),
            ..HookAction::default()
        };
        let params = BTreeMap::from([("host".to_string(), "example.com".to_string())]);
        let error = fill_action(&post, &params, &Summary::default()).unwrap_err();
        assert!(
            error.contains("`channel`") && !error.contains("`host`"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_tcp_hook_succeeds_only_when_something_listens() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let action = |port: u16| HookAction {
            tcp_socket: Some(k8s_openapi::api::core::v1::TCPSocketAction {
                host: Some("127.0.0.1".into()),
                port: IntOrString::Int(port.into()),
            }),
            ..HookAction::default()
        };
        run_action(&action(port)).await.unwrap();
        drop(listener);
        let error = run_action(&action(port)).await.unwrap_err();
        assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    }
}
