//! Running the controllers in this process when no operator holds the leader Lease, for
//! one-shot commands (`backup now --wait`, `restore --wait`).

use kube::Client;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An operator running in this process.
pub struct Embedded {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    /// The task's outcome has been taken (a JoinHandle is polled to completion once).
    ended: bool,
    client: Client,
    identity: String,
    namespace: String,
}

impl Embedded {
    /// Stops the controllers and releases the Lease.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if !self.ended {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.task).await;
        }
    }

    /// Why the controllers stopped, once they have stopped on their own (no RBAC for the
    /// Lease, the API server gone) and no other operator holds the Lease: a command waiting
    /// on them would otherwise wait for its whole timeout. `None` while they run, and when
    /// another operator took over (it then runs the session; the wait goes on).
    pub async fn ended(&mut self) -> Option<anyhow::Error> {
        use futures::FutureExt;
        if self.ended || !self.task.is_finished() {
            return None;
        }
        self.ended = true;
        let error = match (&mut self.task).now_or_never()? {
            Ok(Ok(())) => anyhow::anyhow!("they stopped"),
            Ok(Err(error)) => error,
            Err(join) => anyhow::anyhow!("they panicked: {join}"),
        };
        let error = error.context("the controllers running in this process stopped");
        if let Ok(Some(leader)) =
            kubestash_operator::leader::current_leader(&self.client, &self.namespace).await
        {
            if leader != self.identity {
                eprintln!("warning: {error:#}; `{leader}` holds the Lease and runs the session");
                return None;
            }
        }
        Some(error)
    }
}

/// For a command that creates a session and does not wait: says on stderr when no operator
/// holds the Lease, since nothing will run the session until one does.
pub async fn warn_if_no_operator(client: &Client, what: &str) {
    let namespace = operator_namespace(client).await;
    let namespace = namespace.as_str();
    if let Ok(None) = kubestash_operator::leader::current_leader(client, namespace).await {
        eprintln!(
            "warning: no operator is running (no live Lease {namespace}/{}): {what} stays \
             Pending until one does; install one with `kubectl kubestash install`, or add \
             --wait to run the controllers in this process",
            kubestash_operator::leader::LEASE_NAME
        );
    }
}

/// Whether a Lease holder is another command's in-process operator, which stops with that
/// command, rather than an operator that keeps running.
fn is_embedded(identity: &str) -> bool {
    identity.ends_with(EMBEDDED_SUFFIX)
}

const EMBEDDED_SUFFIX: &str = "-embedded";

/// The namespace of the operator's Lease: `$KUBESTASH_OPERATOR_NAMESPACE`, else `kubestash`
/// when the Lease is there, else the namespace of a Lease of that name elsewhere (`install
/// -n other`), when this user may list Leases across namespaces.
pub async fn operator_namespace(client: &Client) -> String {
    use k8s_openapi::api::coordination::v1::Lease;
    use kube::Api;
    if let Some(namespace) = std::env::var("KUBESTASH_OPERATOR_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
    {
        return namespace;
    }
    let default = kubestash_operator::DEFAULT_NAMESPACE.to_string();
    let leases: Api<Lease> = Api::namespaced(client.clone(), &default);
    if let Ok(Some(_)) = leases.get_opt(kubestash_operator::leader::LEASE_NAME).await {
        return default;
    }
    let all: Api<Lease> = Api::all(client.clone());
    let named = kube::api::ListParams::default().fields(&format!(
        "metadata.name={}",
        kubestash_operator::leader::LEASE_NAME
    ));
    match all.list(&named).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter_map(|lease| lease.metadata.namespace)
            .next()
            .unwrap_or(default),
        Err(_) => default,
    }
}

/// Starts the controllers in-process when `force`, or when no operator holds the Lease.
/// Says so on stderr. Returns `None` when an operator is already running.
pub async fn start_if_needed(
    client: &Client,
    force: bool,
    image: Option<String>,
) -> anyhow::Result<Option<Embedded>> {
    let namespace = operator_namespace(client).await;
    let leader = match kubestash_operator::leader::current_leader(client, &namespace).await {
        Ok(leader) => leader,
        // Not knowing is not "no operator": a user whose RBAC stops at their namespace would
        // start a second operator beside the real one, or fail on the Lease.
        Err(error) if !force => {
            eprintln!(
                "warning: cannot read the operator's Lease {namespace}/{} ({error}); assuming an operator runs the session (--embedded runs the controllers in this process)",
                kubestash_operator::leader::LEASE_NAME
            );
            return Ok(None);
        }
        Err(_) => None,
    };
    if let Some(leader) = &leader {
        if !force && !is_embedded(leader) {
            tracing::info!(%leader, "an operator is running");
            return Ok(None);
        }
    }
    match &leader {
        // Another command's controllers stop when it ends, which may be before this one's
        // session does: these take the Lease over then.
        Some(leader) if !force => eprintln!("the Lease is held by another command's in-process controllers (`{leader}`); running them in this process too, to take over when that command ends"),
        Some(leader) => eprintln!("--embedded: waiting for the Lease held by `{leader}`, then running the controllers in this process"),
        None => eprintln!(
            "no operator is running (no live Lease {namespace}/{}); running the controllers in this process until this command ends",
            kubestash_operator::leader::LEASE_NAME
        ),
    }
    let options = kubestash_operator::Options {
        image: image.unwrap_or_else(|| kubestash_operator::IMAGE.to_string()),
        identity: format!(
            "{}{EMBEDDED_SUFFIX}",
            kubestash_operator::leader::default_identity()
        ),
        namespace: namespace.clone(),
        ..kubestash_operator::Options::default()
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let identity = options.identity.clone();
    let task = tokio::spawn({
        let client = client.clone();
        async move {
            kubestash_operator::run(client, options, async move {
                let _ = stop_rx.await;
            })
            .await
        }
    });
    Ok(Some(Embedded {
        stop: Some(stop_tx),
        task,
        ended: false,
        client: client.clone(),
        identity,
        namespace,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_in_process_holders_are_taken_over() {
        let identity = format!(
            "{}{}",
            kubestash_operator::leader::default_identity(),
            super::EMBEDDED_SUFFIX
        );
        assert!(super::is_embedded(&identity));
        assert!(!super::is_embedded("kubestash-operator-7c9d8-x2x4z"));
    }

    #[tokio::test]
    async fn controllers_that_stopped_on_their_own_say_why() {
        // An API server that does not answer: no other operator is known to hold the Lease.
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let mut embedded = super::Embedded {
            stop: None,
            task: tokio::spawn(async { Err(anyhow::anyhow!("leases is forbidden")) }),
            ended: false,
            client: kube::Client::try_from(config).unwrap(),
            identity: "me-embedded".into(),
            namespace: "kubestash".into(),
        };
        while !embedded.task.is_finished() {
            tokio::task::yield_now().await;
        }
        let error = embedded.ended().await.expect("the task ended");
        assert!(
            format!("{error:#}").contains("leases is forbidden"),
            "{error:#}"
        );
        assert!(embedded.ended().await.is_none(), "reported once");
        embedded.stop().await;
    }
}
