//! `kubectl kubestash snapshots list|describe`: Snapshot objects as a table, JSON or YAML, with
//! one list call.

use std::collections::BTreeSet;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::api::{Api, ListParams};
use kubestash::api::core::{BackupBatch, BackupConfiguration};
use kubestash::api::storage::Snapshot;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{age, print_structured, print_table, table, OutputFormat};

/// `snapshots` subcommands.
#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// List snapshots, newest first.
    List(ListArgs),
    /// Show a snapshot's components, paths, restic ids, sizes and integrity.
    Describe(DescribeArgs),
}

/// Arguments of `snapshots list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List snapshots of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only snapshots of this Repository.
    #[arg(long, value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Only snapshots of this BackupConfiguration's repositories.
    #[arg(long = "config", value_name = "BACKUPCONFIGURATION")]
    pub configuration: Option<String>,
    /// Only snapshots of this BackupBatch's repositories (every target's).
    #[arg(long = "batch", value_name = "BACKUPBATCH")]
    pub batch: Option<String>,
}

/// Arguments of `snapshots describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The Snapshot.
    pub name: String,
}

/// Runs a `snapshots` subcommand.
pub fn run(command: &SnapshotsCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        match command {
            SnapshotsCommand::List(args) => list(args, global).await,
            SnapshotsCommand::Describe(args) => describe(args, global).await,
        }
    })
}

fn time_of(snapshot: &Snapshot) -> Option<chrono::DateTime<chrono::Utc>> {
    let status_time = snapshot
        .status
        .as_ref()
        .and_then(|status| status.snapshot_time.as_ref())
        .map(|time| time.0);
    let created = snapshot
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|time| time.0);
    status_time
        .or(created)
        .and_then(|time| chrono::DateTime::from_timestamp(time.as_second(), 0))
}

/// The repositories an invoker (BackupConfiguration or BackupBatch) writes to.
async fn repositories_of<K>(
    cluster: &crate::cluster::Cluster,
    name: &str,
    names: impl FnOnce(K) -> BTreeSet<String>,
) -> anyhow::Result<BTreeSet<String>>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let found = api.get(name).await.map_err(|error| {
        crate::exit::get_failed(
            error,
            &format!("{} {}/{name}", K::kind(&()), cluster.namespace),
        )
    })?;
    Ok(names(found))
}

/// The repositories both filters allow (`None`: no filter yet).
fn narrow(wanted: Option<BTreeSet<String>>, names: BTreeSet<String>) -> BTreeSet<String> {
    match wanted {
        Some(wanted) => wanted.intersection(&names).cloned().collect(),
        None => names,
    }
}

async fn list(args: &ListArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let cluster = crate::cluster::connect(global).await?;
    // A configuration's or batch's repositories are in its namespace: with -A, the
    // same-named repositories of other namespaces are not its.
    let invoker_namespace =
        (args.configuration.is_some() || args.batch.is_some()).then(|| cluster.namespace.clone());
    let api: Api<Snapshot> = if args.all_namespaces && invoker_namespace.is_none() {
        Api::all(cluster.client.clone())
    } else {
        Api::namespaced(cluster.client.clone(), &cluster.namespace)
    };
    let mut repositories: Option<BTreeSet<String>> =
        args.repository.clone().map(|name| BTreeSet::from([name]));
    if let Some(configuration) = &args.configuration {
        let names = repositories_of(&cluster, configuration, |found: BackupConfiguration| {
            found
                .spec
                .sessions
                .into_iter()
                .flatten()
                .flat_map(|session| session.repositories.into_iter().flatten())
                .map(|repository| repository.name)
                .collect()
        })
        .await?;
        repositories = Some(narrow(repositories, names));
    }
    if let Some(batch) = &args.batch {
        let names = repositories_of(&cluster, batch, |found: BackupBatch| {
            found
                .spec
                .sessions
                .into_iter()
                .flatten()
                .flat_map(|session| session.targets.into_iter().flatten())
                .flat_map(|target| target.repositories.into_iter().flatten())
                .map(|repository| repository.name)
                .collect()
        })
        .await?;
        repositories = Some(narrow(repositories, names));
    }
    let mut snapshots: Vec<Snapshot> = api
        .list(&ListParams::default())
        .await
        .with_context(|| {
            format!(
                "failed to list snapshots in {}",
                if args.all_namespaces {
                    "all namespaces".to_string()
                } else {
                    format!("namespace `{}`", cluster.namespace)
                }
            )
        })?
        .items
        .into_iter()
        .filter(|snapshot| {
            repositories
                .as_ref()
                .is_none_or(|names| names.contains(&snapshot.spec.repository))
        })
        .collect();
    snapshots.sort_by_key(|snapshot| std::cmp::Reverse(time_of(snapshot)));
    match global.output {
        OutputFormat::Table => {
            let mut header = vec![
                "name",
                "repository",
                "session",
                "snapshot-time",
                "size",
                "components",
                "phase",
                "age",
            ];
            if args.all_namespaces {
                header.insert(0, "namespace");
            }
            let mut output = table(&header);
            for snapshot in &snapshots {
                let status = snapshot.status.clone().unwrap_or_default();
                let mut row = vec![
                    snapshot.metadata.name.clone().unwrap_or_default(),
                    snapshot.spec.repository.clone(),
                    snapshot.spec.session.clone().unwrap_or_default(),
                    time_of(snapshot)
                        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                    status.size.clone().unwrap_or_default(),
                    status
                        .components
                        .as_ref()
                        .map(|components| components.len())
                        .unwrap_or(0)
                        .to_string(),
                    status
                        .phase
                        .map(|phase| format!("{phase:?}"))
                        .unwrap_or_else(|| "Pending".into()),
                    age(snapshot
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .and_then(|time| chrono::DateTime::from_timestamp(time.0.as_second(), 0))),
                ];
                if args.all_namespaces {
                    row.insert(0, snapshot.metadata.namespace.clone().unwrap_or_default());
                }
                output.add_row(row);
            }
            if snapshots.is_empty() {
                eprintln!("No snapshots found.");
            } else {
                print_table(&output);
            }
        }
        format => print_structured(format, &snapshots)?,
    }
    Ok(ExitStatus::Success)
}

async fn describe(args: &DescribeArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let cluster = crate::cluster::connect(global).await?;
    let api: Api<Snapshot> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let snapshot = match api.get(&args.name).await {
        Ok(snapshot) => snapshot,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return Err(CliError::bad_input(format!(
                "Snapshot {}/{} not found",
                cluster.namespace, args.name
            ))
            .with_hint("list them with `kubectl kubestash snapshots list`")
            .into())
        }
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!(
                "failed to get Snapshot {}/{}",
                cluster.namespace, args.name
            )))
        }
    };
    if global.output != OutputFormat::Table {
        print_structured(global.output, &snapshot)?;
        return Ok(ExitStatus::Success);
    }
    let status = snapshot.status.clone().unwrap_or_default();
    println!("Name:          {}", args.name);
    println!("Namespace:     {}", cluster.namespace);
    println!("Repository:    {}", snapshot.spec.repository);
    println!(
        "Session:       {}",
        snapshot.spec.session.clone().unwrap_or_default()
    );
    println!(
        "BackupSession: {}",
        snapshot.spec.backup_session.clone().unwrap_or_default()
    );
    println!(
        "Snapshot time: {}",
        time_of(&snapshot)
            .map(|time| time.to_rfc3339())
            .unwrap_or_default()
    );
    println!(
        "Phase:         {}",
        status
            .phase
            .map(|phase| format!("{phase:?}"))
            .unwrap_or_else(|| "Pending".into())
    );
    println!("Size:          {}", status.size.clone().unwrap_or_default());
    println!(
        "Integrity:     {}",
        status
            .integrity
            .map(|integrity| integrity.to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    println!("Components:");
    let mut output = table(&[
        "component",
        "phase",
        "path",
        "size",
        "duration",
        "restic-ids",
        "integrity",
        "error",
    ]);
    for (name, component) in status.components.iter().flatten() {
        let ids: Vec<String> = component
            .restic_stats
            .iter()
            .flatten()
            .filter_map(|stats| {
                stats
                    .summary
                    .as_ref()
                    .and_then(|summary| summary.id.clone())
            })
            .map(|id| id.chars().take(8).collect())
            .collect();
        output.add_row(vec![
            name.clone(),
            component
                .phase
                .map(|phase| format!("{phase:?}"))
                .unwrap_or_default(),
            component.path.clone().unwrap_or_default(),
            component.size.clone().unwrap_or_default(),
            component.duration.clone().unwrap_or_default(),
            ids.join(","),
            component
                .integrity
                .map(|integrity| integrity.to_string())
                .unwrap_or_default(),
            component.error.clone().unwrap_or_default(),
        ]);
    }
    print_table(&output);
    Ok(ExitStatus::Success)
}
