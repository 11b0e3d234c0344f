//! The HTTP front: a hyper 1 server on loopback that routes Kubernetes REST paths to
//! discovery, resource handlers, watches and pod logs, and renders errors as `Status`.

mod discovery;
mod exec;
mod logs;
mod protobuf;
mod resources;
mod route;
mod table;
mod watch;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;

use crate::api::{ApiError, Cluster};

/// Response body: whole JSON documents or streamed watch/log chunks.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// A JSON response.
pub(crate) fn json_response(code: u16, value: &Value) -> Response<Body> {
    bytes_response(code, serde_json::to_vec(value).unwrap_or_default())
}

/// A JSON response from already-serialized bytes.
pub(crate) fn bytes_response(code: u16, bytes: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(full(bytes))
        .expect("static headers are valid")
}

/// An error as a `Status` response.
pub(crate) fn error_response(error: &ApiError) -> Response<Body> {
    json_response(error.code, &error.status())
}

/// Serves the API on `listener` until `shutdown` flips to true.
pub(crate) async fn serve(
    cluster: Arc<Cluster>,
    listener: TcpListener,
    mut shutdown: signal::Receiver<bool>,
) {
    let address = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let cluster = cluster.clone();
        let mut connection_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let cluster = cluster.clone();
                async move { Ok::<_, Infallible>(handle(cluster, request, address).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::select! {
                _ = connection => {}
                _ = connection_shutdown.changed() => {}
            }
        });
    }
}

async fn handle(
    cluster: Arc<Cluster>,
    request: Request<Incoming>,
    address: Option<SocketAddr>,
) -> Response<Body> {
    // `pods/exec` upgrades the connection, so it takes the request itself.
    let exec_target = {
        let segments: Vec<&str> = request
            .uri()
            .path()
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        match segments.as_slice() {
            ["api", "v1", "namespaces", namespace, "pods", name, "exec"] => {
                Some((namespace.to_string(), name.to_string()))
            }
            _ => None,
        }
    };
    if let Some((namespace, name)) = exec_target {
        return exec::serve(cluster, request, &namespace, &name).await;
    }
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            return error_response(&ApiError::bad_request(format!(
                "unable to read the request body: {error}"
            )))
        }
    };
    tracing::debug!(method = %parts.method, uri = %parts.uri, "request");
    let path = parts.uri.path().trim_end_matches('/').to_string();
    let mut query = route::Query::parse(parts.uri.query().unwrap_or_default());
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    if parts.method == Method::GET {
        if let Some(response) = discovery::handle(&cluster, &segments, &accept, address) {
            return response;
        }
    }
    if route::is_legacy_watch(&segments) {
        query.set("watch", "true");
    }
    let route = match route::parse(&cluster, &segments) {
        Ok(route) => route,
        Err(error) => return error_response(&error),
    };
    let context = resources::RequestContext {
        cluster,
        route,
        query,
        accept,
        content_type,
        body,
    };
    resources::dispatch(context, &parts.method).await
}

/// A streamed body fed by a channel; the stream ends when the sender is dropped.
pub(crate) fn streamed_response(
    receiver: tokio::sync::mpsc::Receiver<Bytes>,
    content_type: &str,
) -> Response<Body> {
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| {
            (
                Ok::<_, Infallible>(hyper::body::Frame::data(bytes)),
                receiver,
            )
        })
    });
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header("Cache-Control", "no-cache, private")
        .body(http_body_util::StreamBody::new(stream).boxed_unsync())
        .expect("static headers are valid")
}
