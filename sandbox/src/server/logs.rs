//! `pods/<name>/log`: container output captured by the kubelet, with `container`,
//! `follow`, `tailLines` and `previous`.

use bytes::Bytes;
use http::{header, Response};
use serde_json::Value;
use tokio::sync::mpsc;

use super::resources::RequestContext;
use super::{full, streamed_response, Body};
use crate::api::ApiError;

fn container_names(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|container| container["name"].as_str().map(str::to_string))
        .collect()
}

fn text(lines: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// Serves a container log, streaming it when `follow=true`.
pub(crate) async fn serve(context: RequestContext) -> Result<Response<Body>, ApiError> {
    let namespace = context.namespace().to_string();
    let name = context.route.name.clone().unwrap_or_default();
    let pod = context
        .cluster
        .get(&context.route.resource, &namespace, &name)?;
    let names = container_names(&pod);
    let main_containers = pod["spec"]["containers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    let container = match context.query.get("container") {
        Some(container) if !container.is_empty() => {
            if !names.iter().any(|known| known == container) {
                return Err(ApiError::bad_request(format!(
                    "container {container} is not valid for pod {name}"
                )));
            }
            container.to_string()
        }
        _ if main_containers == 1 => names[0].clone(),
        _ => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )))
        }
    };
    let key = (namespace, name, container);
    let log = context.cluster.logs.get(&key).unwrap_or_default();
    let tail = context
        .query
        .get("tailLines")
        .and_then(|lines| lines.parse::<usize>().ok());
    let skip_to = |lines: &[String]| {
        tail.map(|tail| lines.len().saturating_sub(tail))
            .unwrap_or(0)
    };
    if context.query.flag("previous") {
        let lines = &log.previous[skip_to(&log.previous)..];
        return Ok(plain(text(lines)));
    }
    if !context.query.flag("follow") {
        let lines = &log.lines[skip_to(&log.lines)..];
        return Ok(plain(text(lines)));
    }
    let (sender, receiver) = mpsc::channel(64);
    let cluster = context.cluster.clone();
    let mut position = skip_to(&log.lines);
    tokio::spawn(async move {
        let mut changes = cluster.logs.subscribe();
        loop {
            let log = cluster.logs.get(&key).unwrap_or_default();
            if log.lines.len() > position {
                let chunk = text(&log.lines[position..]);
                position = log.lines.len();
                if sender.send(Bytes::from(chunk)).await.is_err() {
                    return;
                }
            }
            let pod_gone = cluster
                .get(&cluster.builtin("", "pods"), &key.0, &key.1)
                .is_err();
            if log.finished || pod_gone {
                return;
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                _ = sender.closed() => return,
            }
        }
    });
    Ok(streamed_response(receiver, "text/plain"))
}

fn plain(bytes: Vec<u8>) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(full(bytes))
        .expect("static headers are valid")
}
