//! Leader election on a `coordination.k8s.io/v1` Lease, so an in-cluster operator and an
//! embedded one (a CLI command running the controllers in-process) never both act.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::{Error, Result};

/// Name of the Lease.
pub const LEASE_NAME: &str = "kubestash-operator";
/// How long a Lease holds without renewal.
pub const LEASE_SECONDS: i32 = 15;
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// The holder gives the Lease up for lost when it could not renew for this long: well
/// before `LEASE_SECONDS`, after which another candidate may take it (client-go uses 10 of
/// 15 s too).
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// The longest one renewal may take; a connection that hangs must not keep the holder
/// believing it still leads.
const RENEW_TIMEOUT: Duration = Duration::from_secs(4);

/// `<hostname>-<pid>`.
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .or_else(|_| std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()))
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}-{}", std::process::id())
}

fn now_micro() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

/// Whether `lease` is held by someone and not expired.
pub fn is_held(lease: &Lease) -> bool {
    let Some(spec) = &lease.spec else {
        return false;
    };
    if spec
        .holder_identity
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return false;
    }
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return false;
    };
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    let age = k8s_openapi::jiff::Timestamp::now().as_second() - renewed.0.as_second();
    age <= seconds
}

/// The identity of the live leader, if any.
pub async fn current_leader(client: &Client, namespace: &str) -> Result<Option<String>> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    Ok(api
        .get_opt(LEASE_NAME)
        .await?
        .filter(is_held)
        .and_then(|lease| lease.spec.and_then(|s| s.holder_identity)))
}

/// A held Lease, renewed in the background.
pub struct HeldLease {
    client: Client,
    namespace: String,
    identity: String,
    renewer: tokio::task::JoinHandle<()>,
    lost: tokio::sync::watch::Receiver<bool>,
}

impl HeldLease {
    /// Resolves when renewal failed (another process took the Lease).
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }

    /// Stops renewing and gives the Lease up so a successor starts at once.
    pub async fn release(self) {
        self.renewer.abort();
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &self.namespace);
        if let Ok(Some(lease)) = api.get_opt(LEASE_NAME).await {
            if lease
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_deref())
                == Some(&self.identity)
            {
                let _ = api.delete(LEASE_NAME, &DeleteParams::default()).await;
            }
        }
    }
}

/// Whether an API error may pass by itself: the server busy or failing (429, 5xx) or not
/// reached at all; not a refusal such as 401, 403 or 422.
fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

async fn try_take(api: &Api<Lease>, identity: &str) -> Result<bool> {
    let existing = api.get_opt(LEASE_NAME).await?;
    let spec = json!({
        "holderIdentity": identity,
        "leaseDurationSeconds": LEASE_SECONDS,
        "acquireTime": now_micro(),
        "renewTime": now_micro(),
    });
    match existing {
        None => {
            let lease: Lease = serde_json::from_value(json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": LEASE_NAME}, "spec": spec,
            }))
            .expect("a Lease is well-formed");
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error.into()),
            }
        }
        Some(lease) => {
            let mine = lease
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_deref())
                == Some(identity);
            if is_held(&lease) && !mine {
                return Ok(false);
            }
            let patch = json!({
                "metadata": {"resourceVersion": lease.metadata.resource_version},
                "spec": spec,
            });
            match api
                .patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error.into()),
            }
        }
    }
}

async fn renew(api: &Api<Lease>, identity: &str) -> Result<bool> {
    let Some(lease) = api.get_opt(LEASE_NAME).await? else {
        return Ok(false);
    };
    if lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        != Some(identity)
    {
        return Ok(false);
    }
    let patch = json!({
        "metadata": {"resourceVersion": lease.metadata.resource_version},
        "spec": {"renewTime": now_micro()},
    });
    match api
        .patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(true),
        // Changed since read: another holder took it.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Waits until this process holds the Lease (creating its namespace when missing).
pub async fn acquire(client: &Client, namespace: &str, identity: &str) -> Result<HeldLease> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces.get_opt(namespace).await?.is_none() {
        let object: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}}))
            .expect("a Namespace is well-formed");
        match namespaces.create(&PostParams::default(), &object).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(error) => return Err(error.into()),
        }
    }
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let mut announced = false;
    loop {
        match try_take(&api, identity).await {
            Ok(true) => break,
            Ok(false) => {
                if !announced {
                    tracing::info!("waiting for the leader Lease {namespace}/{LEASE_NAME}");
                    announced = true;
                }
            }
            // A refusal (no RBAC, say) is for the user to fix; a blip of the API server is
            // not a reason to give up waiting.
            Err(Error::Kube(error)) if transient(&error) => {
                tracing::warn!(%error, "reading the leader Lease failed; trying again");
            }
            Err(error) => return Err(error),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    tracing::info!(%identity, "holding the leader Lease");
    let (lost_tx, lost_rx) = tokio::sync::watch::channel(false);
    let renew_api = api.clone();
    let renew_identity = identity.to_string();
    let renewer = tokio::spawn(async move {
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let outcome =
                tokio::time::timeout(RENEW_TIMEOUT, renew(&renew_api, &renew_identity)).await;
            match outcome {
                Ok(Ok(true)) => renewed = tokio::time::Instant::now(),
                Ok(Ok(false)) => {
                    let _ = lost_tx.send(true);
                    return;
                }
                // Failed or hung: lost once it has not been renewed for RENEW_DEADLINE.
                Ok(Err(_)) | Err(_) => {
                    if renewed.elapsed() + RENEW_EVERY > RENEW_DEADLINE {
                        let _ = lost_tx.send(true);
                        return;
                    }
                }
            }
        }
    });
    Ok(HeldLease {
        client: client.clone(),
        namespace: namespace.to_string(),
        identity: identity.to_string(),
        renewer,
        lost: lost_rx,
    })
}

#[cfg(test)]
mod tests {
    fn api_error(code: u16) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "message": "x", "reason": "x", "code": code
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn only_a_busy_or_failing_server_is_waited_out() {
        for code in [429, 500, 503] {
            assert!(super::transient(&api_error(code)), "{code}");
        }
        for code in [401, 403, 404, 422] {
            assert!(!super::transient(&api_error(code)), "{code}");
        }
    }
}
