//! Running the controllers in this process when no operator holds the leader Lease, for
//! one-shot commands (`backup now --wait`, `restore --wait`).

use kube::Client;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An operator running in this process.
pub struct Embedded {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Embedded {
    /// Stops the controllers and releases the Lease.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.task).await;
    }
}

/// Starts the controllers in-process when `force`, or when no operator holds the Lease.
/// Says so on stderr. Returns `None` when an operator is already running.
pub async fn start_if_needed(
    client: &Client,
    force: bool,
    image: Option<String>,
) -> anyhow::Result<Option<Embedded>> {
    let namespace = kubestash_operator::DEFAULT_NAMESPACE;
    let leader = kubestash_operator::leader::current_leader(client, namespace)
        .await
        .unwrap_or(None);
    if let Some(leader) = &leader {
        if !force {
            tracing::info!(%leader, "an operator is running");
            return Ok(None);
        }
    }
    match &leader {
        Some(leader) => eprintln!("--embedded: waiting for the Lease held by `{leader}`, then running the controllers in this process"),
        None => eprintln!(
            "no operator is running (no live Lease {namespace}/{}); running the controllers in this process until this command ends",
            kubestash_operator::leader::LEASE_NAME
        ),
    }
    let options = kubestash_operator::Options {
        image: image.unwrap_or_else(|| kubestash_operator::IMAGE.to_string()),
        identity: format!(
            "{}-embedded",
            kubestash_operator::leader::default_identity()
        ),
        ..kubestash_operator::Options::default()
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let client = client.clone();
    let task = tokio::spawn(async move {
        kubestash_operator::run(client, options, async move {
            let _ = stop_rx.await;
        })
        .await
    });
    Ok(Some(Embedded {
        stop: Some(stop_tx),
        task,
    }))
}
