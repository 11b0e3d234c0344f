//! `meta.k8s.io/v1` Table rendering for `kubectl get`: a name column, a few columns per
//! built-in kind, a CRD's `additionalPrinterColumns` (simple JSONPath), and the age.

use chrono::Utc;
use serde_json::{json, Value};

use super::resources::RequestContext;
use crate::names;

fn column(name: &str, kind: &str, format: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": name, "priority": 0})
}

/// Formats an age the way apimachinery's `HumanDuration` does.
pub(crate) fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        match seconds % 60 {
            0 => format!("{minutes}m"),
            rest => format!("{minutes}m{rest}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            rest => format!("{hours}h{rest}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{days}d"),
            rest => format!("{days}d{rest}h"),
        }
    } else if days < 365 * 2 {
        format!("{days}d")
    } else {
        format!("{}y", days / 365)
    }
}

fn age(object: &Value) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(names::parse_time)
        .map(|created| human_duration((Utc::now() - created).num_seconds()))
        .unwrap_or_else(|| "<unknown>".to_string())
}

/// Evaluates the JSONPath subset printer columns use: `.a.b`, `[0]`, `[?(@.k=="v")]`.
pub(crate) fn json_path(object: &Value, path: &str) -> Value {
    let mut current = vec![object.clone()];
    let mut rest = path.trim().trim_start_matches('{').trim_end_matches('}');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            current = current.iter().map(|value| value[key].clone()).collect();
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else { break };
            let selector = &after[..end];
            rest = &after[end + 1..];
            if let Some(filter) = selector
                .strip_prefix("?(@.")
                .and_then(|filter| filter.strip_suffix(')'))
            {
                let (key, expected) = filter.split_once("==").unwrap_or((filter, ""));
                let expected = expected.trim().trim_matches(['"', '\'']);
                current = current
                    .iter()
                    .flat_map(|value| value.as_array().cloned().unwrap_or_default())
                    .filter(|item| item[key.trim()].as_str() == Some(expected))
                    .collect();
            } else if selector == "*" {
                current = current
                    .iter()
                    .flat_map(|value| value.as_array().cloned().unwrap_or_default())
                    .collect();
            } else if let Ok(index) = selector.parse::<usize>() {
                current = current.iter().map(|value| value[index].clone()).collect();
            }
        } else {
            break;
        }
    }
    match current.len() {
        0 => Value::Null,
        1 => current.remove(0),
        _ => Value::Array(current),
    }
}

fn cell_text(value: &Value) -> Value {
    match value {
        Value::Null => json!("<none>"),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => value.clone(),
        other => json!(other.to_string()),
    }
}

fn pod_status(pod: &Value) -> String {
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return "Terminating".to_string();
    }
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for status in &statuses {
        if let Some(reason) = status["state"]["waiting"]["reason"].as_str() {
            return reason.to_string();
        }
        if let Some(reason) = status["state"]["terminated"]["reason"].as_str() {
            if pod["status"]["phase"] != "Succeeded" && pod["status"]["phase"] != "Failed" {
                return reason.to_string();
            }
        }
    }
    match pod["status"]["phase"].as_str().unwrap_or("Pending") {
        "Succeeded" => "Completed".to_string(),
        "Failed" => "Error".to_string(),
        phase => phase.to_string(),
    }
}

fn job_status(job: &Value) -> &'static str {
    let conditions = job["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let holds = |kind: &str| {
        conditions
            .iter()
            .any(|condition| condition["type"] == kind && condition["status"] == "True")
    };
    if holds("Complete") {
        "Complete"
    } else if holds("Failed") {
        "Failed"
    } else if holds("Suspended") {
        "Suspended"
    } else {
        "Running"
    }
}

type Columns = (Vec<Value>, Box<dyn Fn(&Value) -> Vec<Value>>);

fn kind_columns(context: &RequestContext) -> Columns {
    let resource = &context.route.resource;
    if resource.custom {
        let columns = resource
            .printer_columns
            .get(&context.route.version)
            .cloned()
            .unwrap_or_default();
        let definitions = columns
            .iter()
            .map(|printer| {
                column(
                    printer["name"].as_str().unwrap_or_default(),
                    printer["type"].as_str().unwrap_or("string"),
                    printer["format"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let cells = move |object: &Value| {
            columns
                .iter()
                .map(|printer| {
                    let value = json_path(object, printer["jsonPath"].as_str().unwrap_or_default());
                    if printer["type"] == "date" {
                        value
                            .as_str()
                            .and_then(names::parse_time)
                            .map(|time| json!(human_duration((Utc::now() - time).num_seconds())))
                            .unwrap_or(json!("<unknown>"))
                    } else {
                        cell_text(&value)
                    }
                })
                .collect()
        };
        return (definitions, Box::new(cells));
    }
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => (
            vec![
                column("Ready", "string", ""),
                column("Status", "string", ""),
                column("Restarts", "string", ""),
            ],
            Box::new(|pod: &Value| {
                let statuses = pod["status"]["containerStatuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let total = pod["spec"]["containers"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or_default();
                let ready = statuses
                    .iter()
                    .filter(|status| status["ready"] == true)
                    .count();
                let restarts: i64 = statuses
                    .iter()
                    .filter_map(|status| status["restartCount"].as_i64())
                    .sum();
                vec![
                    json!(format!("{ready}/{total}")),
                    json!(pod_status(pod)),
                    json!(restarts.to_string()),
                ]
            }),
        ),
        ("apps", "deployments" | "statefulsets" | "replicasets") => (
            vec![
                column("Ready", "string", ""),
                column("Up-to-date", "integer", ""),
                column("Available", "integer", ""),
            ],
            Box::new(|workload: &Value| {
                let status = &workload["status"];
                let ready = status["readyReplicas"].as_i64().unwrap_or_default();
                let desired = workload["spec"]["replicas"].as_i64().unwrap_or_default();
                vec![
                    json!(format!("{ready}/{desired}")),
                    json!(status["updatedReplicas"].as_i64().unwrap_or_default()),
                    json!(status["availableReplicas"].as_i64().unwrap_or_default()),
                ]
            }),
        ),
        ("batch", "jobs") => (
            vec![
                column("Status", "string", ""),
                column("Completions", "string", ""),
            ],
            Box::new(|job: &Value| {
                let succeeded = job["status"]["succeeded"].as_i64().unwrap_or_default();
                let completions = job["spec"]["completions"].as_i64().unwrap_or(1);
                vec![
                    json!(job_status(job)),
                    json!(format!("{succeeded}/{completions}")),
                ]
            }),
        ),
        ("batch", "cronjobs") => (
            vec![
                column("Schedule", "string", ""),
                column("Suspend", "boolean", ""),
                column("Active", "integer", ""),
            ],
            Box::new(|cronjob: &Value| {
                vec![
                    cronjob["spec"]["schedule"].clone(),
                    json!(cronjob["spec"]["suspend"].as_bool().unwrap_or_default()),
                    json!(cronjob["status"]["active"]
                        .as_array()
                        .map(Vec::len)
                        .unwrap_or_default()),
                ]
            }),
        ),
        ("", "namespaces") => (
            vec![column("Status", "string", "")],
            Box::new(|namespace: &Value| vec![cell_text(&namespace["status"]["phase"])]),
        ),
        ("", "persistentvolumeclaims") => (
            vec![
                column("Status", "string", ""),
                column("Volume", "string", ""),
                column("Capacity", "string", ""),
            ],
            Box::new(|claim: &Value| {
                vec![
                    cell_text(&claim["status"]["phase"]),
                    json!(claim["spec"]["volumeName"].as_str().unwrap_or_default()),
                    json!(claim["status"]["capacity"]["storage"]
                        .as_str()
                        .unwrap_or_default()),
                ]
            }),
        ),
        _ => (Vec::new(), Box::new(|_: &Value| Vec::new())),
    }
}

/// A Table of `objects`; `revision` is the list's resource version, when a list.
pub(crate) fn table(context: &RequestContext, objects: &[&Value], revision: Option<u64>) -> Value {
    let (extra_columns, cells) = kind_columns(context);
    let mut columns = vec![column("Name", "string", "name")];
    columns.extend(extra_columns);
    columns.push(column("Age", "string", ""));
    let include = context.query.get("includeObject").unwrap_or("Metadata");
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut row_cells = vec![object["metadata"]["name"].clone()];
            row_cells.extend(cells(object));
            row_cells.push(json!(age(object)));
            let mut row = json!({"cells": row_cells});
            match include {
                "None" => {}
                "Object" => row["object"] = (*object).clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object["metadata"],
                    })
                }
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(revision) = revision {
        metadata["resourceVersion"] = json!(revision.to_string());
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(60 * 45), "45m");
        assert_eq!(human_duration(3600 * 5 + 60 * 3), "5h3m");
        assert_eq!(human_duration(3600 * 30), "30h");
        assert_eq!(human_duration(86400 * 3), "3d");
    }

    #[test]
    fn json_path_follows_fields_indexes_and_filters() {
        let object = json!({"status": {"phase": "Ready", "conditions": [
            {"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(json_path(&object, ".status.phase"), json!("Ready"));
        assert_eq!(json_path(&object, ".status.conditions[0].type"), json!("A"));
        assert_eq!(
            json_path(&object, ".status.conditions[?(@.type==\"Ready\")].status"),
            json!("True")
        );
        assert_eq!(json_path(&object, ".spec.missing"), Value::Null);
    }
}
