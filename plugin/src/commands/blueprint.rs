//! `kubectl kubestash blueprint preview`: the BackupConfiguration auto-backup would create for
//! a target, resolved exactly as the operator resolves it, from files (no cluster needed) or
//! from the cluster.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::api::{Api, DynamicObject};
use kube::discovery::{Discovery, Scope};
use serde_json::Value;

use kubestash::api::core::{
    BackupBlueprint, BLUEPRINT_NAMESPACE_ANNOTATION, BLUEPRINT_NAME_ANNOTATION,
};
use kubestash::blueprint::{resolve, Target};
use kubestash::object::{labels_of, parse_documents, Object};

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{print_structured, OutputFormat};

/// `blueprint` subcommands.
#[derive(Debug, Subcommand)]
pub enum BlueprintCommand {
    /// Print the BackupConfiguration a blueprint creates for a target; exit 2 naming every
    /// unresolved `${variable}`.
    Preview(PreviewArgs),
}

/// Arguments of `blueprint preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The BackupBlueprint (default: the one the target's annotations name).
    pub blueprint: Option<String>,
    /// Read the blueprint from this file instead of the cluster.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The target in the cluster, as KIND/NAME (e.g. deployment/orders) in -n's namespace.
    #[arg(
        long,
        value_name = "KIND/NAME",
        conflicts_with = "target_file",
        required_unless_present = "target_file"
    )]
    pub target: Option<String>,
    /// Read the target from this file instead of the cluster.
    #[arg(long, value_name = "FILE")]
    pub target_file: Option<PathBuf>,
    /// Namespace of the blueprint (default: the target's annotation, else -n's namespace).
    #[arg(long, value_name = "NAMESPACE")]
    pub blueprint_namespace: Option<String>,
}

/// Runs a `blueprint` subcommand.
pub fn run(command: &BlueprintCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let BlueprintCommand::Preview(args) = command;
    super::block_on(preview(args, global))
}

fn read_file(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|error| {
        CliError::bad_input(format!("unable to read `{}`: {error}", path.display())).into()
    })
}

/// The target in a file; one without `metadata.namespace` is in `namespace` (`-n`), as
/// `kubectl apply -f FILE -n NS` places it.
fn target_from_file(path: &PathBuf, namespace: &str) -> anyhow::Result<Target> {
    let text = read_file(path)?;
    parse_documents(&text)
        .into_iter()
        .filter_map(Result::ok)
        .find(|(object, _)| !object.is_kubestash())
        .and_then(|(_, mut value)| {
            if let Some(metadata) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                metadata
                    .entry("namespace")
                    .or_insert_with(|| serde_json::json!(namespace));
            }
            Target::from_value(&value)
        })
        .ok_or_else(|| {
            CliError::bad_input(format!(
                "no workload, PVC or database object in `{}`",
                path.display()
            ))
            .into()
        })
}

fn blueprint_from_file(path: &PathBuf, name: Option<&str>) -> anyhow::Result<BackupBlueprint> {
    let text = read_file(path)?;
    for result in parse_documents(&text) {
        let (object, _) = result.map_err(|error| CliError::bad_input(error.to_string()))?;
        if let Object::BackupBlueprint(blueprint) = object {
            if name.is_none_or(|name| blueprint.metadata.name.as_deref() == Some(name)) {
                return Ok(blueprint);
            }
        }
    }
    Err(CliError::bad_input(format!(
        "no BackupBlueprint{} in `{}`",
        name.map(|name| format!(" `{name}`")).unwrap_or_default(),
        path.display()
    ))
    .into())
}

async fn target_from_cluster(
    client: &kube::Client,
    reference: &str,
    namespace: &str,
) -> anyhow::Result<Target> {
    let (kind, name) = reference.split_once('/').ok_or_else(|| {
        CliError::bad_input(format!("--target `{reference}` is not KIND/NAME"))
            .with_hint("e.g. --target deployment/orders")
    })?;
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .context("unable to discover the cluster's resources")?;
    let wanted = kind.to_lowercase();
    let (resource, capabilities) = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .find(|(resource, _)| {
            resource.kind.to_lowercase() == wanted
                || resource.plural == wanted
                || format!("{}.{}", resource.plural, resource.group) == wanted
        })
        .ok_or_else(|| {
            CliError::bad_input(format!("--target: the cluster serves no kind `{kind}`"))
        })?;
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let object = api.get(name).await.map_err(|error| {
        crate::exit::get_failed(
            error,
            &format!("{} {namespace}/{name} (--target)", resource.kind),
        )
    })?;
    let mut value = serde_json::to_value(&object)?;
    value["apiVersion"] = Value::String(resource.api_version.clone());
    value["kind"] = Value::String(resource.kind.clone());
    Target::from_value(&value)
        .ok_or_else(|| anyhow::anyhow!("{} {namespace}/{name} has no name", resource.kind))
}

async fn preview(args: &PreviewArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let offline = args.file.is_some() && args.target_file.is_some();
    let cluster = if offline {
        None
    } else {
        Some(crate::cluster::connect(global).await?)
    };
    let default_namespace = cluster
        .as_ref()
        .map(|cluster| cluster.namespace.clone())
        .or_else(|| global.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let target = match (&args.target_file, &args.target, &cluster) {
        (Some(path), _, _) => target_from_file(path, &default_namespace)?,
        (None, Some(reference), Some(cluster)) => {
            target_from_cluster(&cluster.client, reference, &default_namespace).await?
        }
        _ => {
            return Err(CliError::bad_input("a target is required")
                .with_hint("--target KIND/NAME or --target-file FILE")
                .into())
        }
    };
    let name = args
        .blueprint
        .clone()
        .or_else(|| target.annotations.get(BLUEPRINT_NAME_ANNOTATION).cloned())
        .ok_or_else(|| {
            CliError::bad_input(format!(
                "no blueprint given and {} {}/{} has no `{BLUEPRINT_NAME_ANNOTATION}` annotation",
                target.kind, target.namespace, target.name
            ))
        })?;
    let blueprint_namespace = args
        .blueprint_namespace
        .clone()
        .or_else(|| {
            target
                .annotations
                .get(BLUEPRINT_NAMESPACE_ANNOTATION)
                .cloned()
        })
        .unwrap_or_else(|| default_namespace.clone());
    let (blueprint, namespace_labels) = match (&args.file, &cluster) {
        (Some(path), _) => (blueprint_from_file(path, Some(&name))?, None),
        (None, Some(cluster)) => {
            let api: Api<BackupBlueprint> =
                Api::namespaced(cluster.client.clone(), &blueprint_namespace);
            let blueprint = api.get(&name).await.map_err(|error| {
                crate::exit::get_failed(
                    error,
                    &format!("BackupBlueprint {blueprint_namespace}/{name}"),
                )
            })?;
            let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
                Api::all(cluster.client.clone());
            // The target's namespace may not exist yet, or the user may not read it: its
            // labels are then unknown, and said so. Anything else is an error, rather than
            // label variables that merely look unset.
            let labels = match namespaces.get_opt(&target.namespace).await {
                Ok(namespace) => namespace.map(|namespace| {
                    labels_of(&serde_json::to_value(&namespace).unwrap_or_default())
                }),
                Err(kube::Error::Api(status)) if status.code == 403 => {
                    eprintln!(
                        "warning: cannot read Namespace {} ({}): variables from its labels \
                         stay unresolved",
                        target.namespace, status.message
                    );
                    None
                }
                Err(error) => {
                    return Err(anyhow::Error::new(error)
                        .context(format!("unable to get Namespace {}", target.namespace)))
                }
            };
            (blueprint, labels)
        }
        (None, None) => {
            return Err(CliError::bad_input("a blueprint is required")
                .with_hint("-f blueprint.yaml, or a cluster to read it from")
                .into())
        }
    };
    let resolution = resolve(&blueprint, &target, namespace_labels.as_ref())
        .map_err(|error| CliError::bad_input(error.to_string()))?;
    if let Some((names, annotations)) = resolution.missing() {
        return Err(CliError::bad_input(format!(
            "BackupBlueprint {blueprint_namespace}/{name} leaves {names} unresolved for {} {}/{}",
            target.kind, target.namespace, target.name
        ))
        .with_hint(format!("annotate the target with {annotations}"))
        .into());
    }
    let format = match global.output {
        OutputFormat::Table => OutputFormat::Yaml,
        other => other,
    };
    let mut configuration = serde_json::to_value(&resolution.configuration)?;
    configuration["apiVersion"] = Value::String("core.kubestash.com/v1alpha1".into());
    configuration["kind"] = Value::String("BackupConfiguration".into());
    print_structured(format, &configuration)?;
    Ok(ExitStatus::Success)
}
