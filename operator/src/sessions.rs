//! BackupSessions as KubeStash makes them: named `<invoker>-<session>-<unix seconds>`, owned
//! by their BackupConfiguration or BackupBatch, labelled with the invoker and session, with
//! `retryLeft` from the session's retryConfig. Used by the CronJob trigger, `backup now` and
//! retries.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use kubestash::api::core::{BackupSession, BackupSessionSpec};
use kubestash::naming;

use crate::invoker::Invoker;
use crate::{Error, Result, LABEL_INVOKER_KIND, LABEL_INVOKER_NAME, LABEL_SESSION, MANAGED_BY};

/// A new BackupSession of `session` of `invoker`, at `unix_seconds`.
pub fn backup_session(
    invoker: &Invoker,
    session: &str,
    unix_seconds: i64,
    retry_left: Option<i32>,
) -> Result<BackupSession> {
    let name = invoker.name.clone();
    let config = invoker.session(session).ok_or_else(|| {
        Error::msg(format!(
            "{} has no session `{session}` (spec.sessions[].name)",
            invoker.display()
        ))
    })?;
    let retry_left = retry_left.unwrap_or_else(|| {
        config
            .config
            .retry_config
            .as_ref()
            .map(|r| r.max_retry.max(0))
            .unwrap_or(0)
    });
    Ok(BackupSession {
        metadata: ObjectMeta {
            name: Some(naming::backup_session_name(&name, session, unix_seconds)),
            namespace: Some(invoker.namespace.clone()),
            labels: Some(BTreeMap::from([
                (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
                (LABEL_INVOKER_KIND.to_string(), invoker.kind.to_string()),
                (LABEL_INVOKER_NAME.to_string(), name.clone()),
                (LABEL_SESSION.to_string(), session.to_string()),
            ])),
            owner_references: Some(vec![invoker.owner.clone()]),
            ..ObjectMeta::default()
        },
        spec: BackupSessionSpec {
            invoker: Some(TypedLocalObjectReference {
                api_group: Some("core.kubestash.com".into()),
                kind: invoker.kind.into(),
                name,
            }),
            session: Some(session.to_string()),
            retry_left: Some(retry_left),
            backup_timeout: config.config.backup_timeout.clone(),
        },
        status: None,
    })
}

/// Creates a BackupSession for `session` of the invoker `kind`/`name` now; when the name is
/// taken (two triggers in the same second) the next second is used.
pub async fn trigger(
    client: &Client,
    namespace: &str,
    kind: &str,
    name: &str,
    session: &str,
) -> Result<BackupSession> {
    let invoker = Invoker::fetch(client, namespace, kind, name)
        .await?
        .map_err(Error::msg)?;
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    let mut seconds = chrono::Utc::now().timestamp();
    loop {
        let object = backup_session(&invoker, session, seconds, None)?;
        match sessions.create(&PostParams::default(), &object).await {
            Ok(created) => return Ok(created),
            Err(kube::Error::Api(status)) if status.code == 409 => seconds += 1,
            Err(error) => return Err(error.into()),
        }
    }
}
