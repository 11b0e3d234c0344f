//! A kube-rs Controller against the sandbox: it reconciles a custom resource, creates an
//! owned Job, and sees the Job's changes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::support::{eventually, start, TEST_IMAGE};

/// The spec of the test `Widget` kind.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
pub struct WidgetSpec {
    /// How big.
    pub size: i64,
}

/// The status of the test `Widget` kind.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
pub struct WidgetStatus {
    /// Name of the Job created for the widget.
    pub job: Option<String>,
    /// Whether the Job completed.
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct ReconcileError(#[from] kube::Error);

async fn reconcile(
    widget: Arc<Widget>,
    client: Arc<kube::Client>,
) -> Result<Action, ReconcileError> {
    let namespace = widget.namespace().unwrap();
    let jobs: Api<Job> = Api::namespaced((*client).clone(), &namespace);
    let name = format!("{}-job", widget.name_any());
    let owner = widget.controller_owner_ref(&()).unwrap();
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "ownerReferences": [owner]},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": TEST_IMAGE, "args": ["-c", "echo reconciled"]}]}}}
    });
    let job = jobs
        .patch(
            &name,
            &PatchParams::apply("widget-controller").force(),
            &Patch::Apply(&job),
        )
        .await?;
    let complete = job
        .status
        .and_then(|status| status.conditions)
        .unwrap_or_default()
        .iter()
        .any(|condition| condition.type_ == "Complete" && condition.status == "True");
    let widgets: Api<Widget> = Api::namespaced((*client).clone(), &namespace);
    let status = json!({"status": {"job": name, "complete": complete}});
    widgets
        .patch_status(
            &widget.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

#[tokio::test]
async fn a_controller_reconciles_a_custom_resource_and_its_owned_job() {
    let (sandbox, client) = start().await;
    let definitions: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    definitions
        .create(&PostParams::default(), &Widget::crd())
        .await
        .unwrap();
    let widgets: Api<Widget> = Api::namespaced(client.clone(), "default");
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let controller = Controller::new(widgets.clone(), Default::default())
        .owns(jobs.clone(), Default::default())
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(1)),
            Arc::new(client.clone()),
        )
        .for_each(|_| async {});
    let controller = tokio::spawn(controller);
    widgets
        .create(
            &PostParams::default(),
            &Widget::new("gadget", WidgetSpec { size: 3 }),
        )
        .await
        .unwrap();
    let status = eventually(
        "the widget to report its completed job",
        Duration::from_secs(20),
        || async {
            let widget = widgets.get("gadget").await.ok()?;
            widget.status.filter(|status| status.complete)
        },
    )
    .await;
    assert_eq!(status.job.as_deref(), Some("gadget-job"));
    let job = jobs.get("gadget-job").await.unwrap();
    let owner = &job.owner_references()[0];
    assert_eq!(owner.kind, "Widget");
    assert_eq!(owner.controller, Some(true));
    controller.abort();
    sandbox.shutdown().await;
}
