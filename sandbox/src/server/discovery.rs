//! Discovery endpoints: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`,
//! a minimal `/openapi/v2`, and health checks. Aggregated discovery requests get the legacy
//! documents with a plain `application/json` type, which clients accept as a fallback.

use std::net::SocketAddr;

use http::{header, Response};
use serde_json::{json, Value};

use super::{full, json_response, Body};
use crate::api::Cluster;
use crate::registry::ResourceType;

/// The Kubernetes version the sandbox reports.
pub(crate) const SERVER_MINOR_VERSION: &str = "33";

fn resource_entries(resource: &ResourceType) -> Vec<Value> {
    let mut main = json!({
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    });
    if !resource.short_names.is_empty() {
        main["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        main["categories"] = json!(resource.categories);
    }
    let mut entries = vec![main];
    let subresource = |name: &str, verbs: Value| {
        json!({
            "name": format!("{}/{name}", resource.plural),
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": verbs,
        })
    };
    if resource.status_subresource {
        entries.push(subresource("status", json!(["get", "patch", "update"])));
    }
    if resource.log_subresource {
        entries.push(subresource("log", json!(["get"])));
    }
    if !resource.custom && resource.plural == "pods" {
        entries.push(subresource("exec", json!(["create", "get"])));
    }
    if !resource.custom && resource.plural == "namespaces" {
        entries.push(subresource("finalize", json!(["update"])));
    }
    entries
}

fn resource_list(cluster: &Cluster, group: &str, version: &str) -> Option<Value> {
    cluster.with_registry(|registry| {
        let groups = registry.group_versions();
        let resources = groups.get(&(group.to_string(), version.to_string()))?;
        let entries: Vec<Value> = resources
            .iter()
            .flat_map(|resource| resource_entries(resource))
            .collect();
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": entries,
        }))
    })
}

fn group_document(cluster: &Cluster, group: &str) -> Option<Value> {
    cluster.with_registry(|registry| {
        let mut versions: Vec<String> = Vec::new();
        let mut preferred: Option<String> = None;
        for resource in registry.all().filter(|resource| resource.group == group) {
            for version in &resource.versions {
                if !versions.contains(version) {
                    versions.push(version.clone());
                }
            }
            if preferred.is_none() {
                preferred = resource.versions.first().cloned();
            }
        }
        let preferred = preferred?;
        let entry = |version: &String| json!({"groupVersion": format!("{group}/{version}"), "version": version});
        let mut ordered = vec![preferred.clone()];
        ordered.extend(versions.into_iter().filter(|version| *version != preferred));
        Some(json!({
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": ordered.iter().map(entry).collect::<Vec<_>>(),
            "preferredVersion": entry(&preferred),
        }))
    })
}

fn group_list(cluster: &Cluster) -> Value {
    let names: Vec<String> = cluster.with_registry(|registry| {
        let mut names: Vec<String> = Vec::new();
        for resource in registry.all().filter(|resource| !resource.group.is_empty()) {
            if !names.contains(&resource.group) {
                names.push(resource.group.clone());
            }
        }
        names
    });
    let mut groups: Vec<Value> = names
        .iter()
        .filter_map(|name| group_document(cluster, name))
        .collect();
    for group in &mut groups {
        if let Value::Object(map) = group {
            map.remove("kind");
            map.remove("apiVersion");
        }
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Answers a discovery path, or `None` when the path is not a discovery path.
pub(crate) fn handle(
    cluster: &Cluster,
    segments: &[&str],
    accept: &str,
    address: Option<SocketAddr>,
) -> Option<Response<Body>> {
    let response = match segments {
        ["version"] => json_response(
            200,
            &json!({
                "major": "1",
                "minor": SERVER_MINOR_VERSION,
                "gitVersion": format!("v1.{SERVER_MINOR_VERSION}.0-kubestash-sandbox"),
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean",
                "buildDate": "2025-01-01T00:00:00Z",
                "goVersion": "go1.24.0",
                "compiler": "gc",
                "platform": "linux/amd64",
            }),
        ),
        ["api"] => json_response(
            200,
            &json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": address.map(|address| address.to_string()).unwrap_or_default(),
                }],
            }),
        ),
        ["api", version] => json_response(200, &resource_list(cluster, "", version)?),
        ["apis"] => json_response(200, &group_list(cluster)),
        ["apis", group] => json_response(200, &group_document(cluster, group)?),
        ["apis", group, version] => json_response(200, &resource_list(cluster, group, version)?),
        ["openapi", "v2"] => openapi_v2(accept),
        ["healthz" | "readyz" | "livez"] => Response::builder()
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(full("ok"))
            .expect("static headers are valid"),
        _ => return None,
    };
    Some(response)
}

/// An OpenAPI v2 document with no definitions. kubectl asks for the protobuf form and treats
/// kinds it finds no schema for as valid, so an empty message (zero bytes) is a complete
/// answer; JSON clients get an empty swagger document.
fn openapi_v2(accept: &str) -> Response<Body> {
    if accept.contains("protobuf") {
        return Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
            )
            .body(full(Vec::new()))
            .expect("static headers are valid");
    }
    json_response(
        200,
        &json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": format!("v1.{SERVER_MINOR_VERSION}.0")},
            "paths": {},
            "definitions": {},
        }),
    )
}
