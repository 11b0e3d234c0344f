//! Watch: newline-delimited JSON events from a resource version (or the current state),
//! selector-aware ADDED/MODIFIED/DELETED transitions, bookmarks, `sendInitialEvents`,
//! `timeoutSeconds`, and the 410 ERROR event for a version older than the history.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::resources::RequestContext;
use super::{streamed_response, Body};
use crate::api::{ApiError, ListQuery};
use crate::store::{Change, ChangeKind};

const BOOKMARK_INTERVAL: Duration = Duration::from_secs(5);

struct Watch {
    context: RequestContext,
    query: ListQuery,
    bookmarks: bool,
    sender: mpsc::Sender<Bytes>,
}

impl Watch {
    fn encode(&self, event_type: &str, object: &Value) -> Bytes {
        let rendered = self.context.render(object);
        let object =
            if self.context.wants_table() && event_type != "BOOKMARK" && event_type != "ERROR" {
                super::table::table(&self.context, &[rendered.as_ref()], None)
            } else {
                rendered.into_owned()
            };
        let mut line =
            serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }

    async fn send(&self, event_type: &str, object: &Value) -> bool {
        self.sender
            .send(self.encode(event_type, object))
            .await
            .is_ok()
    }

    fn in_scope(&self, change: &Change) -> bool {
        if change.resource != self.context.route.resource.storage_key() {
            return false;
        }
        match &self.context.route.namespace {
            Some(namespace) => crate::api::namespace_of(&change.object) == namespace,
            None => true,
        }
    }

    /// The event a change produces for this watch, considering selector transitions.
    fn event_for(&self, change: &Change) -> Option<&'static str> {
        if !self.in_scope(change) {
            return None;
        }
        let now = self.query.matches(&change.object);
        let before = change
            .previous
            .as_ref()
            .map(|previous| self.query.matches(previous));
        match change.kind {
            ChangeKind::Added => now.then_some("ADDED"),
            ChangeKind::Deleted => (now || before == Some(true)).then_some("DELETED"),
            ChangeKind::Modified => match (before.unwrap_or(false), now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
        }
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Value {
        let resource = &self.context.route.resource;
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({
            "kind": resource.kind,
            "apiVersion": resource.api_version(&self.context.route.version),
            "metadata": metadata,
        })
    }

    async fn expired(&self, requested: u64, oldest: u64) {
        let error = ApiError::gone(format!(
            "too old resource version: {requested} ({})",
            oldest.saturating_sub(1)
        ));
        let _ = self.send("ERROR", &error.status()).await;
    }

    async fn run(self, start: Start, timeout: Option<Duration>) {
        let cluster = self.context.cluster.clone();
        let mut revisions = cluster.subscribe();
        let deadline = timeout.map(|timeout| tokio::time::Instant::now() + timeout);
        let mut last = match start {
            Start::Initial {
                objects,
                revision,
                end_bookmark,
            } => {
                for object in objects {
                    if !self.send("ADDED", &object).await {
                        return;
                    }
                }
                if end_bookmark && !self.send("BOOKMARK", &self.bookmark(revision, true)).await {
                    return;
                }
                revision
            }
            Start::From(revision) => revision,
        };
        // One clock for bookmarks: a sleep started afresh on every change anywhere in the
        // cluster (a Lease renewed every 5 s) would never fire.
        let mut bookmarks = tokio::time::interval_at(
            tokio::time::Instant::now() + BOOKMARK_INTERVAL,
            BOOKMARK_INTERVAL,
        );
        bookmarks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let changes = {
                let state = cluster.lock();
                state.changes_since(last)
            };
            let changes = match changes {
                Ok(changes) => changes,
                Err(too_old) => {
                    self.expired(last, too_old.oldest).await;
                    return;
                }
            };
            for change in &changes {
                last = change.revision;
                if let Some(event_type) = self.event_for(change) {
                    if !self.send(event_type, &change.object).await {
                        return;
                    }
                }
            }
            let sleep_until =
                deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                changed = revisions.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep_until(sleep_until) => return,
                _ = bookmarks.tick(), if self.bookmarks => {
                    if !self.send("BOOKMARK", &self.bookmark(last, false)).await {
                        return;
                    }
                }
                _ = self.sender.closed() => return,
            }
        }
    }
}

enum Start {
    Initial {
        objects: Vec<Arc<Value>>,
        revision: u64,
        end_bookmark: bool,
    },
    From(u64),
}

/// Starts a watch and returns the streaming response.
pub(crate) fn serve(context: RequestContext) -> Result<Response<Body>, ApiError> {
    let query = ListQuery {
        limit: None,
        continue_token: None,
        ..context.list_query()?
    };
    let requested = context
        .query
        .get("resourceVersion")
        .unwrap_or_default()
        .to_string();
    let send_initial = context.query.flag("sendInitialEvents");
    let bookmarks = context.query.flag("allowWatchBookmarks");
    let timeout = context
        .query
        .get("timeoutSeconds")
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs);
    let start = if send_initial || requested.is_empty() || requested == "0" {
        let result = context.cluster.list(
            &context.route.resource,
            context.route.namespace.as_deref(),
            &query,
        )?;
        Start::Initial {
            objects: result.items,
            revision: result.revision,
            end_bookmark: send_initial && bookmarks,
        }
    } else {
        let revision = requested
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {requested}")))?;
        Start::From(revision)
    };
    let (sender, receiver) = mpsc::channel(256);
    let watch = Watch {
        context,
        query,
        bookmarks,
        sender,
    };
    tokio::spawn(watch.run(start, timeout));
    Ok(streamed_response(receiver, "application/json"))
}
