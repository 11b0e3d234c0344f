//! `kubectl kubestash restore`: build a RestoreSession from flags (the right addon and task
//! for the target kind) or take one from `-f`, create it and, with `--wait`, follow it to the
//! end with the same exit codes as `backup now`. `--dry-run` prints the RestoreSession.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use kube::api::PostParams;
use kube::{Api, ResourceExt};
use kubestash::api::core::restore_session::RestorePhase;
use kubestash::api::core::RestoreSession;
use kubestash::api::storage::Repository;
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{self, OutputFormat};

/// Flags of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A RestoreSession manifest to create instead of building one from flags.
    #[arg(short = 'f', long = "filename", value_name = "FILE", conflicts_with_all = ["from_repository", "repository_namespace", "snapshot", "target", "components", "include", "exclude", "name"])]
    pub file: Option<std::path::PathBuf>,
    /// The Repository to restore from.
    #[arg(long, value_name = "REPOSITORY")]
    pub from_repository: Option<String>,
    /// Namespace of the Repository (default: the restore's namespace).
    #[arg(long, value_name = "NAMESPACE")]
    pub repository_namespace: Option<String>,
    /// Snapshot name, or `latest`.
    #[arg(long, default_value = "latest")]
    pub snapshot: String,
    /// What to restore into: deployment/NAME, statefulset/NAME, pvc/NAME (omit for manifests).
    #[arg(long, value_name = "KIND/NAME")]
    pub target: Option<String>,
    /// Only these components (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub components: Vec<String>,
    /// Only these paths of the snapshot, restic-style (comma-separated): `/data/app` takes
    /// that directory and what is in it, `*.sql` matches at any depth.
    #[arg(long)]
    pub include: Option<String>,
    /// Leave out these paths of the snapshot, restic-style (comma-separated).
    #[arg(long)]
    pub exclude: Option<String>,
    /// Name of the RestoreSession (default: generated).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the RestoreSession instead of creating it.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until the restore ends, and exit with its outcome.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait.
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub timeout: String,
    /// With --wait: run the controllers in this process even if an operator is running.
    #[arg(long, requires = "wait")]
    pub embedded: bool,
}

/// The apiGroup, kind, addon and restore task for a `--target` kind.
fn target_kind(kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match kind.to_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" => Some(("apps", "Deployment", "workload-addon")),
        "statefulset" | "statefulsets" | "sts" => Some(("apps", "StatefulSet", "workload-addon")),
        "daemonset" | "daemonsets" | "ds" => Some(("apps", "DaemonSet", "workload-addon")),
        "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => {
            Some(("", "PersistentVolumeClaim", "pvc-addon"))
        }
        _ => None,
    }
}

async fn build(
    args: &RestoreArgs,
    client: &kube::Client,
    namespace: &str,
) -> anyhow::Result<RestoreSession> {
    if let Some(file) = &args.file {
        let text = if file.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(file)
                .with_context(|| format!("unable to read `{}`", file.display()))?
        };
        let mut restore: RestoreSession = serde_yaml::from_str(&text).map_err(|error| {
            CliError::bad_input(format!(
                "`{}` is not a RestoreSession: {error}",
                file.display()
            ))
        })?;
        if restore
            .metadata
            .namespace
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        {
            restore.metadata.namespace = Some(namespace.to_string());
        }
        return Ok(restore);
    }
    let repository = args.from_repository.clone().ok_or_else(|| {
        CliError::bad_input("either -f FILE or --from-repository REPOSITORY is required")
            .with_hint("list repositories with `kubectl get repositories -A`")
    })?;
    let repository_namespace = args
        .repository_namespace
        .clone()
        .unwrap_or_else(|| namespace.to_string());
    let repositories: Api<Repository> = Api::namespaced(client.clone(), &repository_namespace);
    let found = repositories.get_opt(&repository).await?.ok_or_else(|| {
        CliError::bad_input(format!(
            "Repository {repository_namespace}/{repository} not found (--from-repository)"
        ))
        .with_hint(format!(
            "list them with `kubectl get repositories -n {repository_namespace}`"
        ))
    })?;
    let (target, addon, task) = match &args.target {
        Some(target) => {
            let (kind, name) = target.split_once('/').ok_or_else(|| {
                CliError::bad_input(format!("--target `{target}` is not KIND/NAME"))
            })?;
            let (group, kind, addon) = target_kind(kind).ok_or_else(|| {
                CliError::bad_input(format!("--target kind `{kind}` is not supported (deployment, statefulset, daemonset, pvc)"))
            })?;
            (
                Some(
                    json!({"apiGroup": group, "kind": kind, "name": name, "namespace": namespace}),
                ),
                addon,
                "logical-backup-restore",
            )
        }
        None if args.include.is_some() || args.exclude.is_some() => {
            return Err(CliError::bad_input(
                "--include/--exclude select file paths of a volume restore and need --target",
            )
            .with_hint(
                "a manifest restore selects objects with its task's params (IncludeResources, \
                 ExcludeResources, IncludeNamespaces, ...): write a RestoreSession and use -f",
            )
            .into())
        }
        None => (None, "kubedump-addon", "manifest-restore"),
    };
    let mut params = serde_json::Map::new();
    if let Some(include) = &args.include {
        params.insert("include".into(), json!(include));
    }
    if let Some(exclude) = &args.exclude {
        params.insert("exclude".into(), json!(exclude));
    }
    let name = args.name.clone().unwrap_or_else(|| {
        let base = args
            .target
            .as_deref()
            .and_then(|t| t.split_once('/'))
            .map(|(_, n)| n.to_string())
            .unwrap_or(repository.clone());
        kubestash::naming::valid_name(
            &base,
            "restore",
            &chrono::Utc::now().timestamp().to_string(),
        )
    });
    // An empty namespace means the Repository's; in the RestoreSession it would mean the
    // restore's, another one with --repository-namespace.
    let encryption_secret = found.spec.encryption_secret.clone().map(|mut secret| {
        if secret.namespace.as_deref().unwrap_or_default().is_empty() {
            secret.namespace = Some(repository_namespace.clone());
        }
        secret
    });
    let mut data_source = json!({
        "namespace": repository_namespace,
        "repository": repository,
        "snapshot": args.snapshot,
        "encryptionSecret": encryption_secret,
    });
    if !args.components.is_empty() {
        data_source["components"] = json!(args.components);
    }
    let mut task_value = json!({"name": task});
    if !params.is_empty() {
        task_value["params"] = serde_json::Value::Object(params);
    }
    let mut value = json!({
        "apiVersion": "core.kubestash.com/v1alpha1",
        "kind": "RestoreSession",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"dataSource": data_source, "addon": {"name": addon, "tasks": [task_value]}},
    });
    if let Some(target) = target {
        value["spec"]["target"] = target;
    }
    Ok(serde_json::from_value(value)?)
}

/// Runs `restore`.
pub fn run(args: &RestoreArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let timeout = kubestash::duration::parse_go_duration(&args.timeout)
        .map_err(|error| CliError::bad_input(format!("--timeout `{}`: {error}", args.timeout)))?;
    super::block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        let restore = build(args, &cluster.client, &cluster.namespace).await?;
        // As kubectl: `-n` and the file's namespace must agree, never one silently winning.
        if let (Some(flag), Some(file), Some(own)) = (
            &global.namespace,
            &args.file,
            restore.metadata.namespace.as_ref(),
        ) {
            if flag != own {
                return Err(CliError::bad_input(format!(
                    "the namespace of the RestoreSession in `{}` (metadata.namespace `{own}`) does not match -n `{flag}`",
                    file.display()
                ))
                .with_hint(format!("pass `-n {own}`, or change metadata.namespace"))
                .into());
            }
        }
        let findings: Vec<String> = kubestash::validation::validate_object(
            &kubestash::object::Object::RestoreSession(restore.clone()),
        )
        .into_iter()
        .filter(|f| f.severity == kubestash::validation::Severity::Error)
        .map(|f| f.to_string())
        .collect();
        if !findings.is_empty() {
            return Err(CliError::bad_input(findings.join("\n")).into());
        }
        if args.dry_run {
            return dry_run(&cluster.client, &restore, args, global.output).await;
        }
        let namespace = restore.namespace().unwrap_or(cluster.namespace.clone());
        let api: Api<RestoreSession> = Api::namespaced(cluster.client.clone(), &namespace);
        let embedded = if args.wait {
            crate::commands::embedded::start_if_needed(&cluster.client, args.embedded, None).await?
        } else {
            None
        };
        // A name this command made up (`<target>-restore-<seconds>`) that another restore of
        // the same second took gets a counter; a name the user chose is the user's to change.
        let generated = args.name.is_none() && args.file.is_none();
        let mut restore = restore;
        let base = restore.name_any();
        let mut attempt = 1;
        let created = loop {
            match api.create(&PostParams::default(), &restore).await {
                Err(kube::Error::Api(status))
                    if status.code == 409 && generated && attempt < 10 =>
                {
                    attempt += 1;
                    restore.metadata.name = Some(kubestash::naming::valid_name(
                        &base,
                        &attempt.to_string(),
                        "",
                    ));
                }
                Ok(created) => break created,
                Err(error) => {
                    if let Some(embedded) = embedded {
                        embedded.stop().await;
                    }
                    return Err(match error {
                        kube::Error::Api(status) if status.code == 409 => anyhow::Error::new(
                            CliError::bad_input(format!(
                                "RestoreSession {namespace}/{} already exists",
                                restore.name_any()
                            ))
                            .with_hint("pick another --name or delete the old one"),
                        ),
                        other => {
                            anyhow::Error::new(other).context("failed to create the RestoreSession")
                        }
                    });
                }
            }
        };
        let name = created.name_any();
        eprintln!("restoresession/{name} created");
        if !args.wait {
            crate::commands::embedded::warn_if_no_operator(
                &cluster.client,
                &format!("restoresession/{name}"),
            )
            .await;
            if global.output == OutputFormat::Table {
                println!("restoresession/{name}");
            } else {
                output::print_structured(
                    global.output,
                    &json!({"namespace": namespace, "restoreSession": name, "phase": "Pending"}),
                )?;
            }
            return Ok(ExitStatus::Success);
        }
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        let mut embedded = embedded;
        // Reported as it stands if the wait runs out.
        let mut last_seen = None;
        let final_state = loop {
            let ended = match embedded.as_mut() {
                Some(embedded) => embedded.ended().await,
                None => None,
            };
            if let Some(error) = ended {
                break Err(error);
            }
            // Bounded: a request that hangs must not outlive --timeout.
            let Ok(response) = tokio::time::timeout(
                (deadline + Duration::from_secs(10)).saturating_duration_since(Instant::now()),
                api.get(&name),
            )
            .await
            else {
                break Ok(None);
            };
            let current = match response {
                Ok(current) => current,
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    if let Some(embedded) = embedded {
                        embedded.stop().await;
                    }
                    return Err(anyhow::anyhow!(
                        "RestoreSession {namespace}/{name} was deleted while waiting for it"
                    ));
                }
                // An API server blip is not the restore's outcome: ask again until the deadline.
                Err(error) if Instant::now() < deadline => {
                    eprintln!(
                        "warning: reading RestoreSession {namespace}/{name}: {error}; retrying"
                    );
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // Out of time with the API server unanswering: reported as last seen.
                Err(error) => {
                    eprintln!("warning: reading RestoreSession {namespace}/{name}: {error}");
                    break Ok(None);
                }
            };
            let status = current.status.clone().unwrap_or_default();
            let line = format!(
                "{name}: {} {}",
                status
                    .phase
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_else(|| "Pending".into()),
                status
                    .components
                    .iter()
                    .flatten()
                    .map(|(c, s)| format!(
                        "{c}={}",
                        s.phase.map(|p| format!("{p:?}")).unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            if line != last {
                eprintln!("{line}");
                last = line;
            }
            if status.phase.is_some_and(|p| p.is_final()) {
                break Ok(Some(current));
            }
            last_seen = Some(current);
            if Instant::now() >= deadline {
                break Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        if let Some(embedded) = embedded {
            embedded.stop().await;
        }
        let final_state = final_state
            .with_context(|| format!("stopped waiting for RestoreSession {namespace}/{name}"))?;
        let Some(done) = final_state else {
            let status = last_seen.and_then(|s| s.status).unwrap_or_default();
            report(
                &namespace,
                &name,
                "TimedOut",
                &status,
                Some(format!("timed out after {}", args.timeout)),
                global.output,
            )?;
            return Err(CliError {
                status: ExitStatus::TimedOut,
                message: format!(
                    "timed out after {} waiting for RestoreSession {namespace}/{name}",
                    args.timeout
                ),
                hint: Some(format!(
                    "see `kubectl describe restoresession -n {namespace} {name}`"
                )),
            }
            .into());
        };
        let status = done.status.clone().unwrap_or_default();
        let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or_default();
        let reason = status
            .conditions
            .iter()
            .flatten()
            .filter(|c| c.status == "False")
            .filter_map(|c| c.message.clone())
            .next_back();
        report(
            &namespace,
            &name,
            &phase,
            &status,
            if status.phase == Some(RestorePhase::Succeeded) {
                None
            } else {
                reason.clone()
            },
            global.output,
        )?;
        if status.phase == Some(RestorePhase::Succeeded) {
            Ok(ExitStatus::Success)
        } else {
            eprintln!(
                "error: RestoreSession {namespace}/{name} {phase}: {}",
                reason.unwrap_or_default()
            );
            Ok(ExitStatus::Failed)
        }
    })
}

/// Prints where a waited-for restore ended: a table of its components, or one object
/// (`phase` is `TimedOut` when the wait ran out).
fn report(
    namespace: &str,
    name: &str,
    phase: &str,
    status: &kubestash::api::core::RestoreSessionStatus,
    reason: Option<String>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    if format != OutputFormat::Table {
        return output::print_structured(
            format,
            &json!({
                "namespace": namespace,
                "restoreSession": name,
                "phase": phase,
                "duration": status.duration,
                "reason": reason,
                "components": status.components,
            }),
        );
    }
    let mut table = output::table(&[
        "restoresession",
        "phase",
        "duration",
        "component",
        "component phase",
        "error",
    ]);
    for (component, state) in status.components.clone().unwrap_or_default() {
        table.add_row(vec![
            name.to_string(),
            phase.to_string(),
            status.duration.clone().unwrap_or_default(),
            component,
            state.phase.map(|p| format!("{p:?}")).unwrap_or_default(),
            state.error.unwrap_or_default(),
        ]);
    }
    output::print_table(&table);
    Ok(())
}

/// Prints the RestoreSession; for a manifest restore also the objects it would create (as
/// YAML comments after the document, or an `objects` field beside it in JSON).
async fn dry_run(
    client: &kube::Client,
    restore: &RestoreSession,
    args: &RestoreArgs,
    format: OutputFormat,
) -> anyhow::Result<ExitStatus> {
    let mut value = serde_json::to_value(restore)?;
    value["apiVersion"] = json!("core.kubestash.com/v1alpha1");
    value["kind"] = json!("RestoreSession");
    let manifests = restore.spec.target.is_none()
        && restore
            .spec
            .addon
            .as_ref()
            .is_some_and(|addon| addon.name == "kubedump-addon");
    if !manifests {
        match format {
            OutputFormat::Json => output::print_structured(OutputFormat::Json, &value)?,
            _ => print!("{}", serde_yaml::to_string(&value)?),
        }
        return Ok(ExitStatus::Success);
    }
    let timeout = kubestash::duration::parse_go_duration(&args.timeout)
        .unwrap_or(Duration::from_secs(120))
        .min(Duration::from_secs(300));
    let objects = kubestash_operator::preview::manifest_objects(
        client,
        restore,
        kubestash_operator::IMAGE,
        timeout,
    )
    .await
    .map_err(|error| CliError {
        status: ExitStatus::Failed,
        message: format!(
            "RestoreSession {}/{}: cannot list the snapshot's objects: {error}",
            restore.namespace().unwrap_or_default(),
            restore.name_any()
        ),
        hint: Some("check the repository, the snapshot and the encryption Secret".into()),
    })?;
    match format {
        OutputFormat::Json => output::print_structured(
            OutputFormat::Json,
            &json!({"restoreSession": value, "objects": objects}),
        )?,
        _ => {
            print!("{}", serde_yaml::to_string(&value)?);
            for (component, objects) in &objects {
                println!(
                    "# component `{component}` would restore {} object(s), in this order:",
                    objects.len()
                );
                for object in objects {
                    println!("#   {object}");
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}
