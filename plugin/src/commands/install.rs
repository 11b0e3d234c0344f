//! `kubectl kubestash install` / `uninstall`: the install bundle (CRDs, RBAC, the operator
//! Deployment, the default catalog) applied with server-side apply, or printed.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind};
use kube::{Api, ResourceExt};

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::OutputFormat;

/// Flags of `install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Image of the operator and its Jobs.
    #[arg(long, default_value = kubestash_operator::IMAGE)]
    pub image: String,
    /// Print the bundle instead of applying it (-o yaml|json).
    #[arg(long)]
    pub dry_run: bool,
    /// Leave the operator Deployment out (run `operator run` elsewhere, or let one-shot commands embed it).
    #[arg(long)]
    pub no_operator: bool,
    /// Wait until the operator holds its leader Lease.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,
}

/// Flags of `uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Also delete the CRDs, and with them every KubeStash object in the cluster.
    #[arg(long)]
    pub include_crds: bool,
}

fn namespace(global: &GlobalArgs) -> String {
    global
        .namespace
        .clone()
        .unwrap_or_else(|| kubestash_operator::DEFAULT_NAMESPACE.into())
}

fn bundle(global: &GlobalArgs, image: &str, no_operator: bool) -> Vec<serde_json::Value> {
    kubestash_operator::bundle::objects(&namespace(global), image)
        .into_iter()
        .filter(|o| !(no_operator && o["kind"] == "Deployment"))
        .collect()
}

/// Runs `install`.
pub fn install(args: &InstallArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let objects = bundle(global, &args.image, args.no_operator);
    if args.dry_run {
        match global.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects})
                )?
            ),
            _ => {
                for object in &objects {
                    print!("---\n{}", serde_yaml::to_string(object)?);
                }
            }
        }
        return Ok(ExitStatus::Success);
    }
    let timeout = kubestash::duration::parse_go_duration(&args.timeout)
        .map_err(|error| CliError::bad_input(format!("--timeout `{}`: {error}", args.timeout)))?;
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        super::operator::apply_objects(&cluster.client, &objects).await?;
        for object in &objects {
            eprintln!(
                "{}/{} applied",
                object["kind"].as_str().unwrap_or_default().to_lowercase(),
                object["metadata"]["name"].as_str().unwrap_or_default()
            );
        }
        if args.wait && !args.no_operator {
            let deadline = Instant::now() + timeout;
            let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
                Api::namespaced(cluster.client.clone(), &namespace(global));
            loop {
                // On an upgrade the old pod holds the Lease until it is replaced: wait for
                // the rollout of this Deployment first, then for a Lease holder that is not
                // another command's in-process controllers.
                let rolled_out = deployments
                    .get_opt("kubestash-operator")
                    .await?
                    .is_some_and(|deployment| rolled_out(&deployment));
                let leader = if rolled_out {
                    kubestash_operator::leader::current_leader(&cluster.client, &namespace(global))
                        .await?
                        .filter(|leader| !leader.ends_with("-embedded"))
                } else {
                    None
                };
                if let Some(leader) = leader {
                    eprintln!("the operator is running ({leader} holds the leader Lease)");
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(CliError {
                        status: ExitStatus::TimedOut,
                        message: format!(
                            "timed out after {} waiting for the operator Deployment to roll out and take its Lease",
                            args.timeout
                        ),
                        hint: Some(format!(
                            "see `kubectl logs -n {} deployment/kubestash-operator`",
                            namespace(global)
                        )),
                    }
                    .into());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Ok(ExitStatus::Success)
    })
}

/// Whether a Deployment's current template runs everywhere: observed, updated and
/// available on every replica.
fn rolled_out(deployment: &k8s_openapi::api::apps::v1::Deployment) -> bool {
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let generation = deployment.metadata.generation.unwrap_or(0);
    deployment.status.as_ref().is_some_and(|status| {
        status.observed_generation.unwrap_or(0) >= generation
            && status.updated_replicas.unwrap_or(0) >= wanted
            && status.available_replicas.unwrap_or(0) >= wanted
            && status.unavailable_replicas.unwrap_or(0) == 0
    })
}

/// Runs `uninstall`.
pub fn uninstall(args: &UninstallArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let objects = bundle(global, kubestash_operator::IMAGE, false);
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        check_install_namespace(&cluster.client, &namespace(global)).await?;
        let mut released = false;
        for object in objects.iter().rev() {
            let kind = object["kind"].as_str().unwrap_or_default();
            if kind == "CustomResourceDefinition" && !args.include_crds {
                continue;
            }
            if kind == "CustomResourceDefinition" && !released {
                // The operator is gone: objects holding its cleanup finalizer would keep
                // the CRDs (and their namespaces) Terminating forever.
                let count = release_cleanup_finalizers(&cluster.client).await?;
                if count > 0 {
                    eprintln!("released {count} KubeStash objects from the operator's cleanup finalizer: their backend data is kept");
                }
                released = true;
            }
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let plural = crate::commands::operator::plural(kind);
            let resource = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, version, kind),
                &plural,
            );
            let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
                Some(namespace) => {
                    Api::namespaced_with(cluster.client.clone(), namespace, &resource)
                }
                None => Api::all_with(cluster.client.clone(), &resource),
            };
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => eprintln!("{}/{name} deleted", kind.to_lowercase()),
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => {
                    return Err(anyhow::Error::new(error)
                        .context(format!("failed to delete {kind} {name}")))
                }
            }
        }
        remove_job_accounts(&cluster.client).await?;
        suspend_schedules(&cluster.client).await?;
        if !args.include_crds {
            eprintln!(
                "the CRDs and your KubeStash objects were kept (--include-crds removes them)"
            );
        }
        Ok(ExitStatus::Success)
    })
}

/// Deletes the ServiceAccounts the operator made for Jobs in each namespace and their
/// cluster-wide bindings: left behind, a binding would come back to life for that namespace's
/// pods at the next install, whoever owns the namespace by then.
async fn remove_job_accounts(client: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
    use kubestash_operator::controllers::{
        EXECUTOR_ACCOUNT, EXECUTOR_ROLE, MANIFEST_EXECUTOR_ACCOUNT, MANIFEST_EXECUTOR_ROLE,
    };
    let (label, value) = kubestash_operator::MANAGED_BY;
    let selected = kube::api::ListParams::default().labels(&format!("{label}={value}"));
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    for binding in bindings.list(&selected).await?.items {
        if ![EXECUTOR_ROLE, MANIFEST_EXECUTOR_ROLE].contains(&binding.role_ref.name.as_str()) {
            continue;
        }
        let name = binding.name_any();
        match bindings.delete(&name, &DeleteParams::background()).await {
            Ok(_) => eprintln!("clusterrolebinding/{name} deleted"),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("failed to delete ClusterRoleBinding {name}")))
            }
        }
    }
    let accounts: Api<ServiceAccount> = Api::all(client.clone());
    for account in accounts.list(&selected).await?.items {
        let name = account.name_any();
        if ![EXECUTOR_ACCOUNT, MANIFEST_EXECUTOR_ACCOUNT].contains(&name.as_str()) {
            continue;
        }
        let namespace = account.namespace().unwrap_or_default();
        let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => eprintln!("serviceaccount/{name} deleted from namespace {namespace}"),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!(
                    "failed to delete ServiceAccount {namespace}/{name}"
                )))
            }
        }
    }
    Ok(())
}

/// Suspends the backup CronJobs: with no operator they would start a trigger pod at every
/// tick, each failing on the deleted ClusterRole. An operator installed again sets each back
/// from its configuration's `paused`.
async fn suspend_schedules(client: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::api::batch::v1::CronJob;
    let (label, value) = kubestash_operator::MANAGED_BY;
    let selected = kube::api::ListParams::default().labels(&format!("{label}={value}"));
    let cronjobs: Api<CronJob> = Api::all(client.clone());
    let mut suspended = 0;
    for cronjob in cronjobs.list(&selected).await?.items {
        if cronjob.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
            continue;
        }
        let namespace = cronjob.namespace().unwrap_or_default();
        let api: Api<CronJob> = Api::namespaced(client.clone(), &namespace);
        let patch = kube::api::Patch::Merge(serde_json::json!({"spec": {"suspend": true}}));
        match api
            .patch(
                &cronjob.name_any(),
                &kube::api::PatchParams::default(),
                &patch,
            )
            .await
        {
            Ok(_) => suspended += 1,
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!(
                    "failed to suspend CronJob {namespace}/{}",
                    cronjob.name_any()
                )))
            }
        }
    }
    if suspended > 0 {
        eprintln!(
            "suspended {suspended} backup CronJobs; installing the operator again resumes them"
        );
    }
    Ok(())
}

/// Refuses an uninstall aimed at a namespace the install did not create, or at another
/// install's namespace: the bundle holds the namespace itself and the cluster-wide RBAC.
async fn check_install_namespace(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
    let (label, value) = kubestash_operator::MANAGED_BY;
    let refuse = |message: String, hint: String| -> anyhow::Result<()> {
        Err(CliError {
            status: ExitStatus::BadInput,
            message,
            hint: Some(hint),
        }
        .into())
    };
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if let Some(found) = namespaces.get_opt(namespace).await? {
        let labelled =
            found.metadata.labels.as_ref().and_then(|l| l.get(label)) == Some(&value.to_string());
        if !labelled {
            return refuse(
                format!("namespace `{namespace}` was not created by `kubectl kubestash install` (it has no label {label}={value}); nothing was deleted"),
                "uninstall removes the install in the namespace given with -n (default: kubestash)".into(),
            );
        }
    }
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    if let Some(binding) = bindings.get_opt("kubestash-operator").await? {
        let installed = binding
            .subjects
            .iter()
            .flatten()
            .find_map(|subject| subject.namespace.clone());
        if let Some(installed) = installed.filter(|installed| installed != namespace) {
            return refuse(
                format!("the operator is installed in namespace `{installed}`, not `{namespace}`; nothing was deleted"),
                format!("run `kubectl kubestash uninstall -n {installed}`"),
            );
        }
    }
    Ok(())
}

/// Removes the operator's cleanup finalizer from every Repository, Snapshot and
/// BackupStorage; returns how many held it.
async fn release_cleanup_finalizers(client: &kube::Client) -> anyhow::Result<usize> {
    use kubestash::api::storage::{BackupStorage, Repository, Snapshot};
    use kubestash_operator::util::{has_cleanup_finalizer, remove_cleanup_finalizer};
    async fn release<K>(client: &kube::Client) -> anyhow::Result<usize>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let all: Api<K> = Api::all(client.clone());
        let objects = match all.list(&Default::default()).await {
            Ok(list) => list.items,
            // The CRD is gone already.
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(0),
            Err(error) => return Err(error.into()),
        };
        let mut count = 0;
        for object in objects.iter().filter(|o| has_cleanup_finalizer(*o)) {
            let namespace = kube::ResourceExt::namespace(object).unwrap_or_default();
            let api: Api<K> = Api::namespaced(client.clone(), &namespace);
            remove_cleanup_finalizer(&api, object)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            count += 1;
        }
        Ok(count)
    }
    Ok(release::<Snapshot>(client).await?
        + release::<Repository>(client).await?
        + release::<BackupStorage>(client).await?)
}

#[cfg(test)]
mod tests {
    use super::rolled_out;

    fn deployment(
        generation: i64,
        status: serde_json::Value,
    ) -> k8s_openapi::api::apps::v1::Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kubestash-operator", "generation": generation},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn a_rollout_is_done_when_the_new_template_is_available_everywhere() {
        let done = serde_json::json!({"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 1});
        assert!(rolled_out(&deployment(2, done.clone())));
        // The controller has not seen the new template yet (the old pod still runs).
        assert!(!rolled_out(&deployment(3, done)));
        assert!(!rolled_out(&deployment(
            2,
            serde_json::json!({"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 0, "unavailableReplicas": 1})
        )));
        assert!(!rolled_out(&deployment(2, serde_json::json!(null))));
    }
}
