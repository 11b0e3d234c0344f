//! BackupSessions as KubeStash makes them: named `<configuration>-<session>-<unix seconds>`,
//! owned by their configuration, labelled with the invoker and session, with `retryLeft`
//! from the session's retryConfig. Used by the CronJob trigger, `backup now` and retries.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};
use kubestash::api::core::{BackupConfiguration, BackupSession, BackupSessionSpec};
use kubestash::naming;

use crate::util;
use crate::{Error, Result, LABEL_INVOKER_KIND, LABEL_INVOKER_NAME, LABEL_SESSION, MANAGED_BY};

/// A new BackupSession of `session` of `configuration`, at `unix_seconds`.
pub fn backup_session(
    configuration: &BackupConfiguration,
    session: &str,
    unix_seconds: i64,
    retry_left: Option<i32>,
) -> Result<BackupSession> {
    let name = configuration.name_any();
    let config = configuration
        .spec
        .sessions
        .iter()
        .flatten()
        .find(|s| s.config.name == session)
        .ok_or_else(|| {
            Error::msg(format!(
                "BackupConfiguration `{}/{name}` has no session `{session}` (spec.sessions[].name)",
                configuration.namespace().unwrap_or_default()
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
            namespace: configuration.namespace(),
            labels: Some(BTreeMap::from([
                (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
                (
                    LABEL_INVOKER_KIND.to_string(),
                    "BackupConfiguration".to_string(),
                ),
                (LABEL_INVOKER_NAME.to_string(), name.clone()),
                (LABEL_SESSION.to_string(), session.to_string()),
            ])),
            owner_references: Some(vec![util::owner_reference(configuration, true)]),
            ..ObjectMeta::default()
        },
        spec: BackupSessionSpec {
            invoker: Some(TypedLocalObjectReference {
                api_group: Some("core.kubestash.com".into()),
                kind: "BackupConfiguration".into(),
                name,
            }),
            session: Some(session.to_string()),
            retry_left: Some(retry_left),
            backup_timeout: config.config.backup_timeout.clone(),
        },
        status: None,
    })
}

/// Creates a BackupSession for `session` now; when the name is taken (two triggers in the
/// same second) the next second is used.
pub async fn trigger(
    client: &Client,
    namespace: &str,
    configuration: &str,
    session: &str,
) -> Result<BackupSession> {
    let configurations: Api<BackupConfiguration> = Api::namespaced(client.clone(), namespace);
    let configuration = util::get_opt(&configurations, configuration)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "BackupConfiguration `{namespace}/{configuration}` not found"
            ))
        })?;
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    let mut seconds = chrono::Utc::now().timestamp();
    loop {
        let object = backup_session(&configuration, session, seconds, None)?;
        match sessions.create(&PostParams::default(), &object).await {
            Ok(created) => return Ok(created),
            Err(kube::Error::Api(status)) if status.code == 409 => seconds += 1,
            Err(error) => return Err(error.into()),
        }
    }
}
