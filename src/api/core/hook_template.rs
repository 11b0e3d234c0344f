//! HookTemplate: an action run before or after a backup or restore, and where it runs.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{ParameterDefinition, UsagePolicy};

/// A reusable hook: an action and the executor that runs it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "HookTemplate",
    plural = "hooktemplates",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Executor","type":"string","jsonPath":".spec.executor.type"}"#,
    printcolumn = r#"{"name":"Timeout","type":"string","jsonPath":".spec.timeout"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HookTemplateSpec {
    /// Which namespaces may use this template; `from: Same` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// Parameters the template accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<ParameterDefinition>>,
    /// What the hook does; required for Pod and Operator executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<HookAction>,
    /// Where the hook runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<HookExecutor>,
}

/// The action of a hook: exactly one of exec, httpGet, httpPost or tcpSocket.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookAction {
    /// Run a command in a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<core::ExecAction>,
    /// Send an HTTP GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<core::HTTPGetAction>,
    /// Send an HTTP POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_post: Option<HttpPostAction>,
    /// Open a TCP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<core::TCPSocketAction>,
    /// Container to exec in (Pod executor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
}

impl HookAction {
    /// How many of exec, httpGet, httpPost and tcpSocket are set.
    pub fn handler_count(&self) -> usize {
        [
            self.exec.is_some(),
            self.http_get.is_some(),
            self.http_post.is_some(),
            self.tcp_socket.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }
}

/// An HTTP POST action.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpPostAction {
    /// Path of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port number or name.
    pub port: IntOrString,
    /// Host; the pod IP when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `HTTP` or `HTTPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Extra headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<Vec<core::HTTPHeader>>,
    /// Body; a template rendered with the session summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Form fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<FormEntry>>,
}

/// One form field of an HTTP POST.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FormEntry {
    /// Field name.
    #[serde(default)]
    pub key: String,
    /// Field values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// Where a hook runs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookExecutor {
    /// `Function`, `Pod` or `Operator`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<HookExecutorType>,
    /// The Function to run in a Job; required for the Function executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionHookExecutor>,
    /// The pods to exec in; required for the Pod executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodHookExecutor>,
}

/// Kind of hook executor.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum HookExecutorType {
    /// A Job running a Function.
    Function,
    /// An exec in selected pods.
    Pod,
    /// The operator itself (HTTP and TCP actions).
    Operator,
}

/// The Function executor of a hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionHookExecutor {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Environment of the Function container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<core::EnvVar>>,
    /// Volume mounts of the Function container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// Volumes of the Job pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<core::Volume>>,
}

/// The Pod executor of a hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodHookExecutor {
    /// Label selector of the pods, as `k=v,k2=v2`.
    #[serde(default)]
    pub selector: String,
    /// Owner the pods must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerReference>,
    /// `ExecuteOnOne` or `ExecuteOnAll`.
    #[serde(default)]
    pub strategy: PodHookStrategy,
}

/// On how many selected pods a hook runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PodHookStrategy {
    /// One pod.
    #[default]
    ExecuteOnOne,
    /// Every pod.
    ExecuteOnAll,
}
