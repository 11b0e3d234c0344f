//! CRUD semantics through kube-rs: server-owned metadata, conflicts, selectors, pagination,
//! finalizers, garbage collection, namespaces, generateName and server-side apply.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};

use super::support::{eventually, start, status_code};

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(
                labels
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("key".to_string(), "value".to_string())])),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn created_objects_get_server_fields_and_stale_updates_conflict() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = maps
        .create(&PostParams::default(), &config_map("one", &[]))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let first_version = created.metadata.resource_version.clone().unwrap();

    let duplicate = maps
        .create(&PostParams::default(), &config_map("one", &[]))
        .await
        .unwrap_err();
    assert_eq!(status_code(&duplicate), Some(409));
    assert!(
        duplicate.to_string().contains("already exists"),
        "{duplicate}"
    );

    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("key".to_string(), "new".to_string())]));
    let updated = maps
        .replace("one", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_ne!(
        updated.metadata.resource_version.as_deref(),
        Some(first_version.as_str())
    );

    let stale = maps
        .replace("one", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    assert_eq!(status_code(&stale), Some(409));
    assert!(
        stale.to_string().contains("the object has been modified"),
        "{stale}"
    );

    maps.delete("one", &DeleteParams::default()).await.unwrap();
    let missing = maps.get("one").await.unwrap_err();
    assert_eq!(status_code(&missing), Some(404));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    for (name, labels) in [
        ("web", vec![("app", "web"), ("tier", "front")]),
        ("db", vec![("app", "db"), ("tier", "db")]),
        ("old", vec![("app", "web"), ("legacy", "yes")]),
    ] {
        maps.create(&PostParams::default(), &config_map(name, &labels))
            .await
            .unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .map(|map| map.metadata.name.unwrap())
            .collect()
    };
    let set = maps
        .list(&ListParams::default().labels("app in (web, db),tier!=db"))
        .await
        .unwrap();
    assert_eq!(names(set), ["old", "web"]);
    let absent = maps
        .list(&ListParams::default().labels("app=web,!legacy"))
        .await
        .unwrap();
    assert_eq!(names(absent), ["web"]);
    let by_name = maps
        .list(&ListParams::default().fields("metadata.name=db"))
        .await
        .unwrap();
    assert_eq!(names(by_name), ["db"]);
    let unsupported = maps
        .list(&ListParams::default().fields("data.key=value"))
        .await
        .unwrap_err();
    assert_eq!(status_code(&unsupported), Some(400));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn lists_paginate_with_limit_and_continue() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    for index in 0..7 {
        maps.create(
            &PostParams::default(),
            &config_map(&format!("page-{index}"), &[]),
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut parameters = ListParams::default().limit(3);
    let mut revisions = Vec::new();
    loop {
        let page = maps.list(&parameters).await.unwrap();
        revisions.push(page.metadata.resource_version.clone().unwrap());
        seen.extend(page.items.into_iter().map(|map| map.metadata.name.unwrap()));
        if revisions.len() == 1 {
            // A change while paging: every page keeps the first page's revision, so that a
            // watch from it replays the change.
            maps.patch(
                "page-0",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"data": {"changed": "yes"}})),
            )
            .await
            .unwrap();
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                parameters = ListParams::default().limit(3).continue_token(&token)
            }
            _ => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|index| format!("page-{index}")).collect();
    assert_eq!(seen, expected);
    assert!(
        revisions.iter().all(|r| r == &revisions[0]),
        "{revisions:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut held = config_map("held", &[]);
    held.metadata.finalizers = Some(vec!["example.com/keep".to_string()]);
    maps.create(&PostParams::default(), &held).await.unwrap();
    maps.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = maps.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    let patch = serde_json::json!({"metadata": {"finalizers": null}});
    maps.patch("held", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let gone = maps.get("held").await.unwrap_err();
    assert_eq!(status_code(&gone), Some(404));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dependents_are_deleted_in_the_background_with_their_owner() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client, "default");
    let owner = maps
        .create(&PostParams::default(), &config_map("owner", &[]))
        .await
        .unwrap();
    let mut dependent = Secret::default();
    dependent.metadata.name = Some("dependent".to_string());
    dependent.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".to_string(),
            kind: "ConfigMap".to_string(),
            name: "owner".to_string(),
            uid: owner.metadata.uid.clone().unwrap(),
            ..Default::default()
        },
    ]);
    dependent.string_data = Some(BTreeMap::from([("a".to_string(), "b".to_string())]));
    let stored = secrets
        .create(&PostParams::default(), &dependent)
        .await
        .unwrap();
    assert!(stored.string_data.is_none());
    assert!(stored.data.unwrap().contains_key("a"));
    maps.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually(
        "the dependent to be collected",
        Duration::from_secs(5),
        || async {
            secrets
                .get_opt("dependent")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() {
    let (sandbox, client) = start().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some("doomed".to_string());
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    maps.create(&PostParams::default(), &config_map("inside", &[]))
        .await
        .unwrap();
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the namespace to go", Duration::from_secs(5), || async {
        namespaces
            .get_opt("doomed")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let in_missing_namespace = maps
        .create(&PostParams::default(), &config_map("late", &[]))
        .await
        .unwrap_err();
    assert_eq!(status_code(&in_missing_namespace), Some(404));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn generate_name_and_invalid_names_behave_like_a_real_server() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut generated = config_map("", &[]);
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".to_string());
    let created = maps
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    let name = created.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    let invalid = maps
        .create(&PostParams::default(), &config_map("Bad_Name", &[]))
        .await
        .unwrap_err();
    assert_eq!(status_code(&invalid), Some(422));
    assert!(invalid.to_string().contains("RFC 1123"), "{invalid}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn server_side_apply_creates_then_removes_fields_the_manager_dropped() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let parameters = PatchParams::apply("sandbox-test").force();
    let first = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
        "data": {"a": "1", "b": "2"}});
    let created = maps
        .patch("applied", &parameters, &Patch::Apply(&first))
        .await
        .unwrap();
    assert_eq!(created.data.unwrap().len(), 2);
    let managers = created.metadata.managed_fields.unwrap();
    assert_eq!(managers[0].manager.as_deref(), Some("sandbox-test"));
    let second = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
        "data": {"a": "3"}});
    let updated = maps
        .patch("applied", &parameters, &Patch::Apply(&second))
        .await
        .unwrap();
    assert_eq!(
        updated.data.unwrap(),
        BTreeMap::from([("a".to_string(), "3".to_string())])
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_and_unknown_resources_get_real_status_codes() {
    let (sandbox, _client) = start().await;
    let address = sandbox.base_url().trim_start_matches("http://").to_string();
    let raw = |request: String| {
        let address = address.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        }
    };
    let body = "{not json";
    let bad = raw(format!(
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert!(bad.contains("\"reason\":\"BadRequest\""), "{bad}");
    let unknown = raw(
        "GET /apis/nothing.example.com/v1/things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            .to_string(),
    )
    .await;
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert!(
        unknown.contains("the server could not find the requested resource"),
        "{unknown}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_template_that_is_not_an_object_is_a_bad_request_not_a_crash() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let (sandbox, client) = start().await;
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"));
    let deployments: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &resource);
    let body: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "odd"},
        "spec": {"selector": {"matchLabels": {"app": "odd"}}, "template": "not a template"},
    }))
    .unwrap();
    let refused = deployments
        .create(&PostParams::default(), &body)
        .await
        .unwrap_err();
    assert_eq!(status_code(&refused), Some(400), "{refused}");
    assert!(refused.to_string().contains("spec.template"), "{refused}");
    // The server still answers.
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("after", &[]))
        .await
        .unwrap();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_carrying_a_resource_version_is_refused() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut stale = config_map("stale", &[]);
    stale.metadata.resource_version = Some("123".into());
    let refused = maps
        .create(&PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert_eq!(status_code(&refused), Some(500), "{refused}");
    assert!(refused
        .to_string()
        .contains("resourceVersion should not be set on objects to be created"));
    sandbox.shutdown().await;
}
