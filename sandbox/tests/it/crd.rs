//! CustomResourceDefinitions: a created CRD is served, objects are pruned and defaulted, the
//! status subresource splits writes, and schema violations are 422.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::json;

use super::support::{eventually, start, status_code};

/// A small test CRD: `widgets.example.com` with a status subresource, a default, an enum
/// and a nested object to prune.
pub fn widget_definition() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "required": ["size"], "properties": {
                            "size": {"type": "integer", "minimum": 1},
                            "colour": {"type": "string", "default": "blue", "enum": ["blue", "red"]},
                            "nested": {"type": "object", "properties": {"kept": {"type": "string"}}}
                        }},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                    }
                }}
            }]
        }
    })
}

/// Creates the widget CRD and waits until the resource is served.
pub async fn install_widgets(client: &kube::Client) -> Api<DynamicObject> {
    let definitions: Api<CustomResourceDefinition> = Api::all(client.clone());
    let definition: CustomResourceDefinition = serde_json::from_value(widget_definition()).unwrap();
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .unwrap();
    let established = definitions.get("widgets.example.com").await.unwrap();
    let conditions = established.status.unwrap().conditions.unwrap();
    assert!(conditions
        .iter()
        .any(|condition| condition.type_ == "Established" && condition.status == "True"));
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    Api::namespaced_with(client.clone(), "default", &resource)
}

fn widget(name: &str, spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name}, "spec": spec, "status": {"phase": "ignored"}
    }))
    .unwrap()
}

#[tokio::test]
async fn custom_resources_are_pruned_defaulted_and_validated() {
    let (sandbox, client) = start().await;
    let widgets = install_widgets(&client).await;
    let created = widgets
        .create(
            &PostParams::default(),
            &widget(
                "one",
                json!({"size": 2, "unknown": 1, "nested": {"kept": "x", "dropped": true}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        created.data["spec"],
        json!({"size": 2, "colour": "blue", "nested": {"kept": "x"}})
    );
    assert!(
        created.data.get("status").is_none(),
        "status is ignored on create"
    );
    assert_eq!(created.metadata.generation, Some(1));

    let invalid = widgets
        .create(
            &PostParams::default(),
            &widget("two", json!({"size": 0, "colour": "green"})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_code(&invalid), Some(422));
    assert!(
        invalid
            .to_string()
            .contains("supported values: \"blue\", \"red\""),
        "{invalid}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_status_subresource_splits_spec_and_status_writes() {
    let (sandbox, client) = start().await;
    let widgets = install_widgets(&client).await;
    widgets
        .create(&PostParams::default(), &widget("one", json!({"size": 1})))
        .await
        .unwrap();
    let status = json!({"status": {"phase": "Ready"}});
    let with_status = widgets
        .patch_status("one", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(with_status.data["status"]["phase"], "Ready");
    assert_eq!(
        with_status.metadata.generation,
        Some(1),
        "status writes leave the generation"
    );

    let main = json!({"spec": {"size": 5}, "status": {"phase": "Overwritten"}});
    let updated = widgets
        .patch("one", &PatchParams::default(), &Patch::Merge(&main))
        .await
        .unwrap();
    assert_eq!(
        updated.data["status"]["phase"], "Ready",
        "main writes ignore status"
    );
    assert_eq!(updated.data["spec"]["size"], 5);
    assert_eq!(updated.metadata.generation, Some(2));

    let smp = widgets
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Strategic(&json!({"spec": {"size": 6}})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_code(&smp), Some(415));

    // Marking for deletion bumps the generation, as the apiserver does.
    widgets
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"finalizers": ["example.com/keep"]}})),
        )
        .await
        .unwrap();
    widgets.delete("one", &Default::default()).await.unwrap();
    let marked = widgets.get("one").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.generation, Some(3));

    // A custom resource's PUT must name the version it replaces.
    widgets
        .create(&PostParams::default(), &widget("two", json!({"size": 2})))
        .await
        .unwrap();
    let unconditional = widgets
        .replace(
            "two",
            &PostParams::default(),
            &widget("two", json!({"size": 3})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_code(&unconditional), Some(422), "{unconditional}");
    assert!(unconditional
        .to_string()
        .contains("metadata.resourceVersion"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deleting_a_definition_deletes_its_resources_and_stops_serving_it() {
    let (sandbox, client) = start().await;
    let widgets = install_widgets(&client).await;
    widgets
        .create(&PostParams::default(), &widget("one", json!({"size": 1})))
        .await
        .unwrap();
    let definitions: Api<CustomResourceDefinition> = Api::all(client.clone());
    definitions
        .delete("widgets.example.com", &Default::default())
        .await
        .unwrap();
    eventually("the definition to go", Duration::from_secs(5), || async {
        definitions
            .get_opt("widgets.example.com")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let unserved = widgets.list(&Default::default()).await.unwrap_err();
    assert_eq!(status_code(&unserved), Some(404));
    sandbox.shutdown().await;
}
