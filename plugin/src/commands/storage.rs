//! `kubectl kubestash storage setup|list|check`: create a BackupStorage (and its credentials
//! Secret) interactively or from flags, wait for it to be Ready and prove the backend answers;
//! list storages; probe one by writing, reading back and deleting an object.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubestash::api::storage::{BackupStorage, BackupStoragePhase};
use kubestash::object::Object;
use kubestash::validation::{validate_object, Severity};
use kubestash_operator::backend::{self, ProbeReport};
use kubestash_operator::executor::PROBE_LOG_PREFIX;
use kubestash_operator::jobs::{self, JobSpec};
use serde::Serialize;
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{age, print_structured, print_table, table, OutputFormat};

/// `storage` subcommands.
#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Create a BackupStorage and its credentials Secret, wait for Ready, check connectivity.
    Setup(Box<SetupArgs>),
    /// List BackupStorages.
    List(ListArgs),
    /// Check a BackupStorage: write, read back and delete a probe object.
    Check(CheckArgs),
}

/// Backend providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Amazon S3 or any S3-compatible server (MinIO, SeaweedFS, Ceph…).
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
    /// A volume: hostPath, NFS or a PersistentVolumeClaim.
    Local,
}

impl Provider {
    const ALL: [Provider; 4] = [Self::S3, Self::Gcs, Self::Azure, Self::Local];

    fn name(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Gcs => "gcs",
            Self::Azure => "azure",
            Self::Local => "local",
        }
    }

    /// The Secret keys the backend reads: (key, required, secret value).
    fn credential_keys(self) -> &'static [(&'static str, bool, bool)] {
        match self {
            Self::S3 => &[
                ("AWS_ACCESS_KEY_ID", true, false),
                ("AWS_SECRET_ACCESS_KEY", true, true),
                ("AWS_SESSION_TOKEN", false, true),
            ],
            Self::Gcs => &[
                ("GOOGLE_PROJECT_ID", false, false),
                ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", true, true),
            ],
            Self::Azure => &[
                ("AZURE_ACCOUNT_NAME", false, false),
                ("AZURE_ACCOUNT_KEY", true, true),
            ],
            Self::Local => &[],
        }
    }
}

/// Where namespaces may use the storage from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum UsagePolicy {
    /// Only the storage's own namespace.
    #[default]
    #[value(name = "Same")]
    Same,
    /// Every namespace.
    #[value(name = "All")]
    All,
}

/// What deleting the BackupStorage does to the backend data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DeletionPolicy {
    /// Keep the backend data.
    #[default]
    #[value(name = "Delete")]
    Delete,
    /// Remove the backend data too.
    #[value(name = "WipeOut")]
    WipeOut,
}

/// Arguments of `storage setup`. Missing values are asked for when stdin is a terminal.
#[derive(Clone, Debug, Default, Args)]
pub struct SetupArgs {
    /// Name of the BackupStorage.
    pub name: Option<String>,
    /// Backend provider.
    #[arg(long, value_enum)]
    pub provider: Option<Provider>,
    /// Bucket (s3, gcs).
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// S3 endpoint URL (default: https://s3.amazonaws.com).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// S3 region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Accept the S3 endpoint's certificate without verifying it.
    #[arg(long)]
    pub insecure_tls: bool,
    /// PEM file of the CA behind the S3 endpoint's certificate; stored as CA_CERT_DATA in the
    /// Secret --secret-from-env creates.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Path prefix inside the bucket or container (s3, gcs, azure).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Azure storage account.
    #[arg(long, value_name = "ACCOUNT")]
    pub storage_account: Option<String>,
    /// Azure container.
    #[arg(long, value_name = "CONTAINER")]
    pub container: Option<String>,
    /// Directory on the node (local).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["pvc", "nfs_server"])]
    pub host_path: Option<String>,
    /// PersistentVolumeClaim in the storage's namespace (local).
    #[arg(long, value_name = "CLAIM", conflicts_with = "nfs_server")]
    pub pvc: Option<String>,
    /// NFS server (local; with --nfs-path).
    #[arg(long, value_name = "HOST", requires = "nfs_path")]
    pub nfs_server: Option<String>,
    /// Exported path on the NFS server (local).
    #[arg(long, value_name = "PATH", requires = "nfs_server")]
    pub nfs_path: Option<String>,
    /// Where backup Jobs mount the volume (local).
    #[arg(long, value_name = "PATH", default_value = "/kubestash")]
    pub mount_path: String,
    /// Directory inside the volume (local).
    #[arg(long, value_name = "PATH")]
    pub sub_path: Option<String>,
    /// Credentials Secret: an existing one, or the name to create with --secret-from-env
    /// (default name: <storage>-credentials).
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// Create the credentials Secret from the environment (AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY; GOOGLE_SERVICE_ACCOUNT_JSON_KEY; AZURE_ACCOUNT_KEY).
    #[arg(long)]
    pub secret_from_env: bool,
    /// Make it the default BackupStorage.
    #[arg(long)]
    pub default: bool,
    /// Which namespaces may use it.
    #[arg(long, value_enum, ignore_case = true, default_value_t = UsagePolicy::Same)]
    pub usage_policy: UsagePolicy,
    /// What deleting the BackupStorage does to the data.
    #[arg(long, value_enum, ignore_case = true, default_value_t = DeletionPolicy::Delete)]
    pub deletion_policy: DeletionPolicy,
    /// How long to wait for Ready and the check, e.g. 2m.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub timeout: String,
    /// Print the objects (Secret values redacted) instead of creating them.
    #[arg(long)]
    pub dry_run: bool,
    /// Never prompt, even on a terminal.
    #[arg(long)]
    pub non_interactive: bool,
    /// Image of the check Job for volume storages.
    #[arg(long, value_name = "IMAGE", default_value = kubestash_operator::IMAGE)]
    pub image: String,
}

/// Arguments of `storage list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List storages of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

/// Arguments of `storage check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The BackupStorage.
    pub name: String,
    /// How long to wait for the check, e.g. 1m.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub timeout: String,
    /// Image of the check Job for volume storages.
    #[arg(long, value_name = "IMAGE", default_value = kubestash_operator::IMAGE)]
    pub image: String,
}

/// Runs a `storage` subcommand.
pub fn run(command: &StorageCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match command {
        StorageCommand::Setup(args) => setup(args, global),
        StorageCommand::List(args) => super::block_on(list(args, global)),
        StorageCommand::Check(args) => {
            let timeout = parse_timeout(&args.timeout)?;
            super::block_on(async {
                let cluster = crate::cluster::connect(global).await?;
                let storage = get_storage(&cluster.client, &cluster.namespace, &args.name).await?;
                let report = check(&cluster.client, &storage, &args.image, timeout).await?;
                print_check(&storage, &report, global.output)?;
                Ok(ExitStatus::Success)
            })
        }
    }
}

fn parse_timeout(text: &str) -> anyhow::Result<Duration> {
    Ok(kubestash::duration::parse_go_duration(text)
        .map_err(|error| CliError::bad_input(format!("--timeout `{text}`: {error}")))?)
}

async fn get_storage(
    client: &Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<BackupStorage> {
    let api: Api<BackupStorage> = Api::namespaced(client.clone(), namespace);
    api.get_opt(name)
        .await
        .with_context(|| format!("failed to read BackupStorage {namespace}/{name}"))?
        .ok_or_else(|| {
            CliError::bad_input(format!("BackupStorage {namespace}/{name} not found"))
                .with_hint(format!(
                    "list them with `kubectl kubestash storage list -n {namespace}`"
                ))
                .into()
        })
}

// ---------------------------------------------------------------------------------------
// check

/// Probes a storage: in this process for cloud backends, through a Job that mounts the volume
/// for local ones (only a pod can reach a node directory, an NFS export or a claim).
pub async fn check(
    client: &Client,
    storage: &BackupStorage,
    image: &str,
    timeout: Duration,
) -> anyhow::Result<ProbeReport> {
    let key = format!(
        "BackupStorage {}/{}",
        storage.namespace().unwrap_or_default(),
        storage.name_any()
    );
    let probe = async {
        if backend::is_local(storage) {
            check_through_job(client, storage, image, timeout).await
        } else {
            let location = backend::storage_location(client, storage).await?;
            Ok(backend::blocking(move || backend::probe(&location)).await?)
        }
    };
    // A check Job bounds itself (and cleans up) within `timeout`; this is the backstop.
    match tokio::time::timeout(timeout + Duration::from_secs(5), probe).await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(error)) if error.downcast_ref::<CliError>().is_some() => Err(error),
        Ok(Err(error)) => Err(CliError {
            status: ExitStatus::Failed,
            message: format!("{key}: connectivity check failed: {error:#}"),
            hint: Some("check the bucket/path, the endpoint and the credentials Secret".into()),
        }
        .into()),
        Err(_) => Err(CliError {
            status: ExitStatus::TimedOut,
            message: format!(
                "{key}: connectivity check did not finish within {}s",
                timeout.as_secs()
            ),
            hint: Some("is the endpoint reachable from here (or the volume from a pod)?".into()),
        }
        .into()),
    }
}

async fn check_through_job(
    client: &Client,
    storage: &BackupStorage,
    image: &str,
    timeout: Duration,
) -> anyhow::Result<ProbeReport> {
    let namespace = storage.namespace().unwrap_or_default();
    let name = storage.name_any();
    let path = jobs::storage_container_path(storage, &[])
        .ok_or_else(|| anyhow::anyhow!("spec.storage.local is missing"))?;
    let suffix = format!("{:x}", chrono::Utc::now().timestamp_micros() & 0xff_ffff);
    let job_name = kubestash::naming::valid_name("check", &name, &suffix);
    let base = JobSpec {
        name: job_name.clone(),
        namespace: namespace.clone(),
        labels: BTreeMap::from([
            (
                kubestash_operator::MANAGED_BY.0.to_string(),
                kubestash_operator::MANAGED_BY.1.to_string(),
            ),
            (kubestash_operator::LABEL_STORAGE.to_string(), name.clone()),
        ]),
        owner: Some(kubestash_operator::util::owner_reference(storage, false)),
        image: image.to_string(),
        args: vec![
            "executor".into(),
            "check-volume".into(),
            format!("--path={}", path.display()),
        ],
        ..JobSpec::default()
    };
    let mut job = jobs::storage_job(storage, base, 0, 600)
        .ok_or_else(|| anyhow::anyhow!("spec.storage.local is not a volume"))?;
    // Should this command die while waiting, the Job still ends.
    if let Some(spec) = job.spec.as_mut() {
        spec.active_deadline_seconds = Some(timeout.as_secs().max(1) as i64);
    }
    let logs = match tokio::time::timeout(
        timeout,
        kubestash_operator::controllers::run_job(client, &job, 20),
    )
    .await
    {
        Ok(logs) => logs?,
        Err(_) => {
            // A pod that never starts (the volume elsewhere) must not stay behind.
            let jobs: Api<k8s_openapi::api::batch::v1::Job> =
                Api::namespaced(client.clone(), &namespace);
            let _ = jobs
                .delete(&job_name, &kube::api::DeleteParams::background())
                .await;
            return Err(CliError {
                status: ExitStatus::TimedOut,
                message: format!(
                    "BackupStorage {namespace}/{name}: the check Job {job_name} did not finish within {}s (deleted)",
                    timeout.as_secs()
                ),
                hint: Some("can a pod mount the volume (node, access mode, claim)?".into()),
            }
            .into());
        }
    };
    logs.lines()
        .find_map(|line| line.strip_prefix(PROBE_LOG_PREFIX))
        .and_then(|text| serde_json::from_str::<ProbeReport>(text).ok())
        .ok_or_else(|| {
            anyhow::anyhow!("the check Job {namespace}/{job_name} printed no report: {logs}")
        })
}

fn print_check(
    storage: &BackupStorage,
    report: &ProbeReport,
    format: OutputFormat,
) -> anyhow::Result<()> {
    if format == OutputFormat::Table {
        println!(
            "backupstorage/{} ok: {} (write {:.1} ms, read {:.1} ms, delete {:.1} ms, {})",
            storage.name_any(),
            report.location,
            report.write_ms,
            report.read_ms,
            report.delete_ms,
            if report.initialized {
                "initialized"
            } else {
                "not initialized yet"
            }
        );
        Ok(())
    } else {
        print_structured(
            format,
            &json!({
                "namespace": storage.namespace(),
                "name": storage.name_any(),
                "check": report,
            }),
        )
    }
}

// ---------------------------------------------------------------------------------------
// list

async fn list(args: &ListArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let cluster = crate::cluster::connect(global).await?;
    let api: Api<BackupStorage> = if args.all_namespaces {
        Api::all(cluster.client.clone())
    } else {
        Api::namespaced(cluster.client.clone(), &cluster.namespace)
    };
    let mut items = api
        .list(&ListParams::default())
        .await
        .context("failed to list BackupStorages")?
        .items;
    items.sort_by_key(|storage| (storage.namespace(), storage.name_any()));
    if global.output != OutputFormat::Table {
        print_structured(global.output, &items)?;
        return Ok(ExitStatus::Success);
    }
    if items.is_empty() {
        match args.all_namespaces {
            true => eprintln!("No BackupStorages found."),
            false => eprintln!(
                "No BackupStorages found in {} namespace.",
                cluster.namespace
            ),
        }
        return Ok(ExitStatus::Success);
    }
    let mut header = vec![];
    if args.all_namespaces {
        header.push("namespace");
    }
    header.extend([
        "name",
        "provider",
        "location",
        "default",
        "deletion",
        "phase",
        "repositories",
        "size",
        "age",
    ]);
    let mut rows = table(&header);
    for storage in &items {
        let status = storage.status.clone().unwrap_or_default();
        let mut row = vec![];
        if args.all_namespaces {
            row.push(storage.namespace().unwrap_or_default());
        }
        row.extend([
            storage.name_any(),
            storage.spec.storage.provider.clone().unwrap_or_default(),
            location_text(storage),
            storage.spec.default.to_string(),
            format!("{:?}", storage.spec.deletion_policy),
            status
                .phase
                .map(|p| format!("{p:?}"))
                .unwrap_or_else(|| "Pending".into()),
            status
                .repositories
                .map(|r| r.len())
                .unwrap_or(0)
                .to_string(),
            status.total_size.unwrap_or_default(),
            age(storage
                .metadata
                .creation_timestamp
                .as_ref()
                .map(kubestash_operator::util::to_chrono)),
        ]);
        rows.add_row(row);
    }
    print_table(&rows);
    Ok(ExitStatus::Success)
}

/// Where the data goes, the way users write it.
fn location_text(storage: &BackupStorage) -> String {
    let backend = &storage.spec.storage;
    let with_prefix = |base: String, prefix: &Option<String>| {
        let prefix =
            kubestash::engine::location::clean_prefix(prefix.as_deref().unwrap_or_default());
        if prefix.is_empty() {
            base
        } else {
            format!("{base}/{prefix}")
        }
    };
    match backend.provider.as_deref() {
        Some("s3") => backend
            .s3
            .as_ref()
            .map(|s3| {
                with_prefix(
                    format!("s3:{}/{}", s3.endpoint.trim_end_matches('/'), s3.bucket),
                    &s3.prefix,
                )
            })
            .unwrap_or_default(),
        Some("gcs") => backend
            .gcs
            .as_ref()
            .map(|gcs| with_prefix(format!("gs:{}", gcs.bucket), &gcs.prefix))
            .unwrap_or_default(),
        Some("azure") => backend
            .azure
            .as_ref()
            .map(|azure| {
                with_prefix(
                    format!("azure:{}/{}", azure.storage_account, azure.container),
                    &azure.prefix,
                )
            })
            .unwrap_or_default(),
        Some("local") => backend
            .local
            .as_ref()
            .map(|local| {
                let source = serde_json::to_value(&local.volume_source).unwrap_or_default();
                let volume = if let Some(path) =
                    source.pointer("/hostPath/path").and_then(|v| v.as_str())
                {
                    format!("hostPath:{path}")
                } else if let Some(claim) = source
                    .pointer("/persistentVolumeClaim/claimName")
                    .and_then(|v| v.as_str())
                {
                    format!("pvc:{claim}")
                } else if let Some(server) = source.pointer("/nfs/server").and_then(|v| v.as_str())
                {
                    format!(
                        "nfs:{server}:{}",
                        source
                            .pointer("/nfs/path")
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                    )
                } else {
                    "volume".into()
                };
                with_prefix(volume, &local.sub_path)
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// setup

/// Where the credentials come from.
#[derive(Clone, Debug, PartialEq)]
enum Credentials {
    /// None: an instance role, workload identity, or a volume.
    None,
    /// An existing Secret.
    Existing(String),
    /// Create a Secret with these values.
    Create {
        name: String,
        data: BTreeMap<String, String>,
    },
}

/// Everything `setup` needs, gathered from flags and prompts.
#[derive(Clone, Debug)]
struct Plan {
    storage: BackupStorage,
    credentials: Credentials,
}

/// The outcome printed with `-o json|yaml`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetupResult {
    namespace: String,
    name: String,
    provider: String,
    secret: Option<String>,
    secret_created: bool,
    phase: String,
    /// The check from this machine; `None` when it could not reach a cloud backend that
    /// the operator did reach (`check_error` says why).
    check: Option<ProbeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_error: Option<String>,
}

fn setup(args: &SetupArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let timeout = parse_timeout(&args.timeout)?;
    let interactive = !args.non_interactive
        && !args.dry_run
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let mut args = args.clone();
    let typed = if interactive {
        prompt_missing(&mut args)?
    } else {
        None
    };
    let env = |key: &str| match &typed {
        Some(typed) => typed.get(key).cloned(),
        None => std::env::var(key).ok(),
    };
    let namespace_hint = global.namespace.clone();
    super::block_on(async {
        // Build and validate before touching the cluster (a dry run needs no cluster).
        let namespace = match (&namespace_hint, args.dry_run) {
            (Some(namespace), _) => namespace.clone(),
            // The context's namespace, as without --dry-run; `default` with no kubeconfig.
            (None, true) => crate::cluster::connect(global)
                .await
                .map(|cluster| cluster.namespace)
                .unwrap_or_else(|_| "default".into()),
            (None, false) => crate::cluster::connect(global).await?.namespace,
        };
        let plan = plan(&args, &namespace, &env)?;
        if args.dry_run {
            print_plan(&plan, global.output)?;
            return Ok(ExitStatus::Success);
        }
        let cluster = crate::cluster::connect(global).await?;
        apply_plan(&cluster.client, &plan, &args, timeout, global.output).await
    })
}

fn missing(flag: &str, field: &str, provider: &str) -> anyhow::Error {
    CliError::bad_input(format!(
        "storage setup: {flag} is required for --provider {provider} ({field})"
    ))
    .with_hint("pass it, or run `kubectl kubestash storage setup` on a terminal to be asked")
    .into()
}

/// Turns the answers into the objects; reads credentials with `env` for --secret-from-env.
fn plan(
    args: &SetupArgs,
    namespace: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Plan> {
    let name = args.name.clone().ok_or_else(|| {
        CliError::bad_input("storage setup: the BackupStorage name is required")
            .with_hint("`kubectl kubestash storage setup NAME --provider …`")
    })?;
    let provider = args.provider.ok_or_else(|| {
        CliError::bad_input("storage setup: --provider is required (spec.storage.provider)")
            .with_hint("one of s3, gcs, azure, local")
    })?;
    let provider_name = provider.name();
    let required = |value: &Option<String>, flag: &str, field: &str| {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| missing(flag, field, provider_name))
    };
    if provider == Provider::Local && (args.secret.is_some() || args.secret_from_env) {
        return Err(CliError::bad_input(
            "storage setup: --provider local takes no credentials Secret (--secret, --secret-from-env)",
        )
        .into());
    }
    if args.ca_cert.is_some() && provider != Provider::S3 {
        return Err(CliError::bad_input(format!(
            "storage setup: --ca-cert is for --provider s3 (CA_CERT_DATA), not {provider_name}"
        ))
        .into());
    }
    if args.ca_cert.is_some() && !args.secret_from_env {
        return Err(CliError::bad_input(
            "storage setup: --ca-cert goes into the Secret this command creates, and none is created",
        )
        .with_hint("add --secret-from-env, or put CA_CERT_DATA into the existing Secret")
        .into());
    }
    let secret_name = match (&args.secret, args.secret_from_env) {
        (_, false) => args.secret.clone(),
        (Some(name), true) => Some(name.clone()),
        (None, true) => Some(format!("{name}-credentials")),
    };
    let backend = match provider {
        Provider::S3 => json!({"provider": "s3", "s3": {
            "endpoint": args.endpoint.clone().unwrap_or_else(|| "https://s3.amazonaws.com".into()),
            "bucket": required(&args.bucket, "--bucket", "spec.storage.s3.bucket")?,
            "prefix": args.prefix,
            "region": args.region,
            "insecureTLS": args.insecure_tls.then_some(true),
            "secretName": secret_name,
        }}),
        Provider::Gcs => json!({"provider": "gcs", "gcs": {
            "bucket": required(&args.bucket, "--bucket", "spec.storage.gcs.bucket")?,
            "prefix": args.prefix,
            "secretName": secret_name,
        }}),
        Provider::Azure => json!({"provider": "azure", "azure": {
            "storageAccount": required(&args.storage_account, "--storage-account", "spec.storage.azure.storageAccount")?,
            "container": required(&args.container, "--container", "spec.storage.azure.container")?,
            "prefix": args.prefix,
            "secretName": secret_name,
        }}),
        Provider::Local => {
            let mut local = json!({"mountPath": args.mount_path, "subPath": args.sub_path});
            if let Some(path) = &args.host_path {
                local["hostPath"] = json!({"path": path, "type": "DirectoryOrCreate"});
            } else if let Some(claim) = &args.pvc {
                local["persistentVolumeClaim"] = json!({"claimName": claim});
            } else if let (Some(server), Some(path)) = (&args.nfs_server, &args.nfs_path) {
                local["nfs"] = json!({"server": server, "path": path});
            } else {
                return Err(missing(
                    "one of --host-path, --pvc, --nfs-server/--nfs-path",
                    "spec.storage.local",
                    "local",
                ));
            }
            json!({"provider": "local", "local": local})
        }
    };
    let object = json!({
        "apiVersion": "storage.kubestash.com/v1alpha1",
        "kind": "BackupStorage",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "storage": backend,
            "usagePolicy": {"allowedNamespaces": {"from": match args.usage_policy {
                UsagePolicy::Same => "Same",
                UsagePolicy::All => "All",
            }}},
            "default": args.default,
            "deletionPolicy": match args.deletion_policy {
                DeletionPolicy::Delete => "Delete",
                DeletionPolicy::WipeOut => "WipeOut",
            },
        },
    });
    let storage: BackupStorage = serde_json::from_value(object)
        .with_context(|| format!("BackupStorage {namespace}/{name}: cannot be built"))?;
    let errors: Vec<String> = validate_object(&Object::BackupStorage(storage.clone()))
        .into_iter()
        .filter(|finding| finding.severity == Severity::Error)
        .map(|finding| finding.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(CliError::bad_input(errors.join("\n")).into());
    }
    let credentials = if args.secret_from_env {
        let mut data = BTreeMap::new();
        for (key, required, _) in provider.credential_keys() {
            match env(key).filter(|value| !value.is_empty()) {
                Some(value) => {
                    data.insert(key.to_string(), value);
                }
                None if *required => {
                    return Err(CliError::bad_input(format!(
                    "storage setup: --secret-from-env needs ${key} for --provider {provider_name}"
                ))
                    .with_hint(format!(
                        "export {key}=… first, or pass --secret NAME of an existing Secret"
                    ))
                    .into())
                }
                None => {}
            }
        }
        if let Some(path) = &args.ca_cert {
            let pem = std::fs::read_to_string(path).map_err(|error| {
                CliError::bad_input(format!(
                    "storage setup: --ca-cert {}: {error}",
                    path.display()
                ))
            })?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(CliError::bad_input(format!(
                    "storage setup: --ca-cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                    path.display()
                ))
                .into());
            }
            data.insert("CA_CERT_DATA".to_string(), pem);
        }
        Credentials::Create {
            name: secret_name.clone().unwrap_or_default(),
            data,
        }
    } else {
        match secret_name {
            Some(name) => Credentials::Existing(name),
            None => Credentials::None,
        }
    };
    Ok(Plan {
        storage,
        credentials,
    })
}

fn secret_object(
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
    redact: bool,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                kubestash_operator::MANAGED_BY.0.to_string(),
                kubestash_operator::MANAGED_BY.1.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        string_data: redact.then(|| {
            data.keys()
                .map(|key| (key.clone(), "<redacted>".to_string()))
                .collect()
        }),
        data: (!redact).then(|| {
            data.iter()
                .map(|(key, value)| (key.clone(), ByteString(value.as_bytes().to_vec())))
                .collect()
        }),
        ..Secret::default()
    }
}

fn print_plan(plan: &Plan, format: OutputFormat) -> anyhow::Result<()> {
    let namespace = plan.storage.namespace().unwrap_or_default();
    let mut documents = Vec::new();
    if let Credentials::Create { name, data } = &plan.credentials {
        let mut secret = serde_json::to_value(secret_object(&namespace, name, data, true))?;
        secret["apiVersion"] = json!("v1");
        secret["kind"] = json!("Secret");
        documents.push(secret);
    }
    documents.push(serde_json::to_value(&plan.storage)?);
    match format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"apiVersion": "v1", "kind": "List", "items": documents})
            )?
        ),
        _ => {
            for document in documents {
                print!("---\n{}", serde_yaml::to_string(&document)?);
            }
        }
    }
    Ok(())
}

/// Makes deleting `name` leave its backend data alone: deletionPolicy Delete and no cleanup
/// finalizer, in one write under the resourceVersion read (so a finalizer added meanwhile is
/// not missed). A storage already gone is fine.
async fn keep_data_on_delete(storages: &Api<BackupStorage>, name: &str) -> anyhow::Result<()> {
    for _ in 0..5 {
        let Some(current) = storages.get_opt(name).await? else {
            return Ok(());
        };
        let finalizers: Vec<&String> = current
            .finalizers()
            .iter()
            .filter(|f| f.as_str() != kubestash_operator::util::CLEANUP_FINALIZER)
            .collect();
        let patch = json!({
            "metadata": {"resourceVersion": current.resource_version(), "finalizers": finalizers},
            "spec": {"deletionPolicy": "Delete"},
        });
        match storages
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(error) => return Err(error.into()),
        }
    }
    anyhow::bail!("BackupStorage {name} kept changing")
}

/// What `storage` breaks among the storages already there: a second default in its
/// namespace, or a backend location another storage uses (the two would prune, and with
/// WipeOut wipe, each other's repositories). The rules are `validate`'s.
async fn clashes_with_existing(
    client: &Client,
    storage: &BackupStorage,
) -> anyhow::Result<Vec<String>> {
    let namespace = storage.namespace().unwrap_or_default();
    // Locations clash across namespaces; without the right to list them all, the namespace's
    // own storages are still checked.
    let existing = match Api::<BackupStorage>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => list,
        Err(_) => Api::<BackupStorage>::namespaced(client.clone(), &namespace)
            .list(&ListParams::default())
            .await
            .with_context(|| format!("unable to list the BackupStorages of {namespace}"))?,
    };
    let mut objects: Vec<Object> = existing
        .items
        .into_iter()
        .map(Object::BackupStorage)
        .collect();
    objects.push(Object::BackupStorage(storage.clone()));
    Ok(kubestash::validation::validate_set(&objects)
        .into_iter()
        .filter(|finding| {
            finding.severity == Severity::Error
                && finding.kind == "BackupStorage"
                && finding.name == storage.name_any()
                && finding.namespace.as_deref() == Some(namespace.as_str())
                && (finding.field == "spec.default" || finding.field == "spec.storage")
        })
        .map(|finding| {
            let flag = if finding.field == "spec.default" {
                "--default"
            } else {
                "the backend flags"
            };
            format!("{finding} ({flag})")
        })
        .collect())
}

async fn apply_plan(
    client: &Client,
    plan: &Plan,
    args: &SetupArgs,
    timeout: Duration,
    format: OutputFormat,
) -> anyhow::Result<ExitStatus> {
    let namespace = plan.storage.namespace().unwrap_or_default();
    let name = plan.storage.name_any();
    let storages: Api<BackupStorage> = Api::namespaced(client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    // Check everything first, so a refusal leaves nothing behind.
    if storages.get_opt(&name).await?.is_some() {
        return Err(CliError::bad_input(format!(
            "BackupStorage {namespace}/{name} already exists"
        ))
        .with_hint("choose another name, or `kubectl delete backupstorage` it first")
        .into());
    }
    let clashes = clashes_with_existing(client, &plan.storage).await?;
    if !clashes.is_empty() {
        return Err(CliError::bad_input(clashes.join("\n"))
            .with_hint("`kubectl kubestash storage list -A` shows the storages there are")
            .into());
    }
    match &plan.credentials {
        Credentials::Existing(secret) if secrets.get_opt(secret).await?.is_none() => {
            return Err(CliError::bad_input(format!(
                "Secret {namespace}/{secret} (--secret, spec.storage.{}.secretName) not found",
                plan.storage.spec.storage.provider.as_deref().unwrap_or_default()
            ))
            .with_hint("create it first, or use --secret-from-env")
            .into())
        }
        Credentials::Create { name: secret, .. } if secrets.get_opt(secret).await?.is_some() => {
            return Err(CliError::bad_input(format!("Secret {namespace}/{secret} already exists"))
                .with_hint(format!("use it with `--secret {secret}` (without --secret-from-env), or pick another --secret name"))
                .into())
        }
        _ => {}
    }
    let created_secret = match &plan.credentials {
        Credentials::Create { name: secret, data } => {
            secrets
                .create(
                    &PostParams::default(),
                    &secret_object(&namespace, secret, data, false),
                )
                .await
                .with_context(|| format!("failed to create Secret {namespace}/{secret}"))?;
            eprintln!("secret/{secret} created");
            Some(secret.clone())
        }
        _ => None,
    };
    let rollback = |reason: &str| {
        let storages = storages.clone();
        let secrets = secrets.clone();
        let name = name.clone();
        let created_secret = created_secret.clone();
        let reason = reason.to_string();
        async move {
            // The bucket or directory may hold data that was there before this setup. A
            // WipeOut storage carries the operator's cleanup finalizer, which wipes the backend
            // on delete whatever the policy says by then: both go before the delete, and if
            // that cannot be made sure of, the storage stays.
            if let Err(error) = keep_data_on_delete(&storages, &name).await {
                // Its Secret stays too: the storage refers to it.
                eprintln!(
                    "{reason}: backupstorage/{name} is left in place, since its backend data \
                     could not be kept out of a delete ({error:#}); set spec.deletionPolicy to \
                     Delete before deleting it"
                );
                return;
            }
            let _ = storages.delete(&name, &DeleteParams::default()).await;
            if let Some(secret) = &created_secret {
                let _ = secrets.delete(secret, &DeleteParams::default()).await;
            }
            eprintln!(
                "{reason}: removed backupstorage/{name}{}",
                created_secret
                    .as_ref()
                    .map(|s| format!(" and secret/{s}"))
                    .unwrap_or_default()
            );
        }
    };
    if let Err(error) = storages.create(&PostParams::default(), &plan.storage).await {
        rollback("creating the BackupStorage failed").await;
        return Err(anyhow::Error::new(error)
            .context(format!("failed to create BackupStorage {namespace}/{name}")));
    }
    eprintln!("backupstorage/{name} created");
    let embedded =
        crate::commands::embedded::start_if_needed(client, false, Some(args.image.clone())).await?;
    let started = Instant::now();
    let ready = wait_ready(&storages, &name, timeout).await;
    // Controllers in this process reached the backend from this machine, not the cluster.
    let ready_from_cluster = embedded.is_none();
    if let Some(embedded) = embedded {
        embedded.stop().await;
    }
    let storage = match ready {
        Ok(storage) => storage,
        Err(error) => {
            rollback("setup did not complete").await;
            return Err(error);
        }
    };
    eprintln!(
        "backupstorage/{name} Ready after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let remaining = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_secs(10));
    let (report, check_error) = match check(client, &storage, &args.image, remaining).await {
        Ok(report) => (Some(report), None),
        // The operator initialized it, so the backend works from the cluster; an endpoint
        // only the cluster can reach (a Service name, a private network) is no reason to
        // undo that. A local backend's check is a Job in the cluster: its failure counts, and
        // so does any failure that is not about reaching the endpoint (a refused delete).
        Err(error) if ready_from_cluster && !backend::is_local(&storage) && unreachable(&error) => {
            eprintln!(
                "warning: backupstorage/{name} is Ready (the operator initialized the backend), \
                 but checking it from this machine failed, so it is kept: {error:#}"
            );
            (None, Some(format!("{error:#}")))
        }
        Err(error) => {
            rollback("the connectivity check failed").await;
            return Err(error);
        }
    };
    if format == OutputFormat::Table {
        match &report {
            Some(report) => print_check(&storage, report, format)?,
            None => println!("backupstorage/{name} Ready (not checked from this machine)"),
        }
    } else {
        print_structured(
            format,
            &SetupResult {
                namespace,
                name,
                provider: storage.spec.storage.provider.clone().unwrap_or_default(),
                secret: backend::storage_secret_name(&storage),
                secret_created: created_secret.is_some(),
                phase: "Ready".into(),
                check: report,
                check_error,
            },
        )?;
    }
    Ok(ExitStatus::Success)
}

/// Whether a failed check failed to reach the endpoint at all (connection, name lookup,
/// TLS handshake, timeout) rather than being refused by it.
fn unreachable(error: &anyhow::Error) -> bool {
    if error
        .downcast_ref::<CliError>()
        .is_some_and(|error| error.status == ExitStatus::TimedOut)
    {
        return true;
    }
    let text = format!("{error:#}").to_lowercase();
    [
        "connection refused",
        "tcp connect error",
        "dns error",
        "failed to lookup address",
        "no route to host",
        "network is unreachable",
        "connection reset",
        "timed out",
        "error sending request",
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// Waits for phase Ready; a BackendInitialized=False or BackendSecretFound=False condition
/// ends the wait with its message (exit 1); the timeout with exit 3.
async fn wait_ready(
    api: &Api<BackupStorage>,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<BackupStorage> {
    let deadline = Instant::now() + timeout;
    let namespace = api.namespace().unwrap_or_default().to_string();
    let mut last = String::new();
    loop {
        // Bounded: a request that hangs must not outlive the timeout.
        let response = tokio::time::timeout(
            (deadline + Duration::from_secs(10)).saturating_duration_since(Instant::now()),
            api.get_opt(name),
        )
        .await
        .unwrap_or(Ok(None))?;
        if let Some(storage) = response {
            let status = storage.status.clone().unwrap_or_default();
            if status.phase == Some(BackupStoragePhase::Ready) {
                return Ok(storage);
            }
            if let Some(failed) = status.conditions.iter().flatten().find(|c| {
                c.status == "False"
                    && (c.type_ == "BackendInitialized" || c.type_ == "BackendSecretFound")
            }) {
                return Err(CliError {
                    status: ExitStatus::Failed,
                    message: format!(
                        "BackupStorage {namespace}/{name} is not Ready: {}: {}",
                        failed.type_,
                        failed.message.clone().unwrap_or_default()
                    ),
                    hint: Some("check the bucket/path, the endpoint and the credentials".into()),
                }
                .into());
            }
            last = status
                .phase
                .map(|p| format!("{p:?}"))
                .unwrap_or_else(|| "Pending".into());
        }
        if Instant::now() >= deadline {
            return Err(CliError {
                status: ExitStatus::TimedOut,
                message: format!(
                    "BackupStorage {namespace}/{name} not Ready after {}s (phase {last})",
                    timeout.as_secs()
                ),
                hint: Some(
                    "is the operator running? `kubectl kubestash install`, or see its logs".into(),
                ),
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------------
// prompts

/// Asks for what the flags left out; returns the credentials typed at the prompt, if any.
fn prompt_missing(args: &mut SetupArgs) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    use dialoguer::{Confirm, Input, Password, Select};
    let theme = dialoguer::theme::SimpleTheme;
    let failed = |error: dialoguer::Error| anyhow::anyhow!("prompt failed: {error}");
    let mut typed_credentials = None;
    if args.name.is_none() {
        args.name = Some(
            Input::<String>::with_theme(&theme)
                .with_prompt("BackupStorage name")
                .default("default-storage".into())
                .interact_text()
                .map_err(failed)?,
        );
    }
    let provider = match args.provider {
        Some(provider) => provider,
        None => {
            let names: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
            let index = Select::with_theme(&theme)
                .with_prompt("Provider")
                .items(&names)
                .default(0)
                .interact()
                .map_err(failed)?;
            Provider::ALL[index]
        }
    };
    args.provider = Some(provider);
    let ask = |prompt: &str, default: Option<&str>| -> anyhow::Result<String> {
        let mut input = Input::<String>::with_theme(&theme).with_prompt(prompt);
        if let Some(default) = default {
            input = input.default(default.to_string());
        }
        input.interact_text().map_err(failed)
    };
    let ask_optional = |prompt: &str| -> anyhow::Result<Option<String>> {
        let value: String = Input::<String>::with_theme(&theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .interact_text()
            .map_err(failed)?;
        Ok((!value.trim().is_empty()).then_some(value))
    };
    match provider {
        Provider::S3 => {
            if args.endpoint.is_none() {
                args.endpoint = Some(ask("S3 endpoint", Some("https://s3.amazonaws.com"))?);
            }
            if args.bucket.is_none() {
                args.bucket = Some(ask("Bucket", None)?);
            }
            if args.region.is_none() {
                args.region = ask_optional("Region (empty: us-east-1)")?;
            }
        }
        Provider::Gcs => {
            if args.bucket.is_none() {
                args.bucket = Some(ask("Bucket", None)?);
            }
        }
        Provider::Azure => {
            if args.storage_account.is_none() {
                args.storage_account = Some(ask("Storage account", None)?);
            }
            if args.container.is_none() {
                args.container = Some(ask("Container", None)?);
            }
        }
        Provider::Local => {
            if args.host_path.is_none() && args.pvc.is_none() && args.nfs_server.is_none() {
                let kinds = [
                    "hostPath (a directory on the node)",
                    "PersistentVolumeClaim",
                    "NFS",
                ];
                let kind = Select::with_theme(&theme)
                    .with_prompt("Volume")
                    .items(kinds)
                    .default(0)
                    .interact()
                    .map_err(failed)?;
                match kind {
                    0 => args.host_path = Some(ask("Directory on the node", None)?),
                    1 => args.pvc = Some(ask("Claim name", None)?),
                    _ => {
                        args.nfs_server = Some(ask("NFS server", None)?);
                        args.nfs_path = Some(ask("Exported path", None)?);
                    }
                }
            }
        }
    }
    if provider != Provider::Local {
        if args.prefix.is_none() {
            args.prefix = ask_optional("Prefix (empty: the bucket root)")?;
        }
        if args.secret.is_none() && !args.secret_from_env {
            let choices = [
                "Type them now",
                "Use an existing Secret",
                "From environment variables",
                "None (instance role)",
            ];
            let choice = Select::with_theme(&theme)
                .with_prompt("Credentials")
                .items(choices)
                .default(0)
                .interact()
                .map_err(failed)?;
            match choice {
                0 => {
                    // Typed values go through the same path as --secret-from-env.
                    let mut typed = BTreeMap::new();
                    for (key, required, secret) in provider.credential_keys() {
                        let value = if *secret {
                            Password::with_theme(&theme)
                                .with_prompt(*key)
                                .allow_empty_password(!required)
                                .interact()
                                .map_err(failed)?
                        } else if *required {
                            ask(key, None)?
                        } else {
                            ask_optional(&format!("{key} (optional)"))?.unwrap_or_default()
                        };
                        typed.insert(key.to_string(), value);
                    }
                    typed_credentials = Some(typed);
                    args.secret_from_env = true;
                }
                1 => args.secret = Some(ask("Secret name", None)?),
                2 => args.secret_from_env = true,
                _ => {}
            }
        }
    }
    if !args.default {
        args.default = Confirm::with_theme(&theme)
            .with_prompt("Make it the default BackupStorage?")
            .default(false)
            .interact()
            .map_err(failed)?;
    }
    let policies = ["Same namespace only", "All namespaces"];
    let policy = Select::with_theme(&theme)
        .with_prompt("Who may use it")
        .items(policies)
        .default(usize::from(args.usage_policy == UsagePolicy::All))
        .interact()
        .map_err(failed)?;
    args.usage_policy = if policy == 1 {
        UsagePolicy::All
    } else {
        UsagePolicy::Same
    };
    Ok(typed_credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_to_reach_the_endpoint_count_as_unreachable() {
        let failed = |cause: &str| {
            anyhow::Error::from(CliError {
                status: ExitStatus::Failed,
                message: format!("BackupStorage backups/s3: connectivity check failed: {cause}"),
                hint: None,
            })
        };
        assert!(unreachable(&failed(
            "unable to access `s3:http://minio.minio.svc:9000/b`: error sending request: client error (Connect): dns error: failed to lookup address information"
        )));
        assert!(unreachable(&failed(
            "tcp connect error: Connection refused (os error 111)"
        )));
        assert!(unreachable(&anyhow::Error::from(CliError {
            status: ExitStatus::TimedOut,
            message: "connectivity check did not finish within 30s".into(),
            hint: None,
        })));
        assert!(!unreachable(&failed(
            "unable to access `s3:http://127.0.0.1:9000/b`: PermissionDenied (persistent) at delete, context: { response: 403 AccessDenied }"
        )));
        assert!(!unreachable(&failed(
            "the probe object read back differs from what was written"
        )));
    }

    fn args(provider: Provider) -> SetupArgs {
        SetupArgs {
            name: Some("store".into()),
            provider: Some(provider),
            mount_path: "/kubestash".into(),
            timeout: "2m".into(),
            ..SetupArgs::default()
        }
    }

    #[test]
    fn s3_from_flags_and_environment() {
        let mut flags = args(Provider::S3);
        flags.bucket = Some("backups".into());
        flags.endpoint = Some("http://127.0.0.1:9000".into());
        flags.prefix = Some("/team/".into());
        flags.secret_from_env = true;
        let env = |key: &str| match key {
            "AWS_ACCESS_KEY_ID" => Some("id".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            _ => None,
        };
        let plan = plan(&flags, "ns", &env).unwrap();
        let s3 = plan.storage.spec.storage.s3.as_ref().unwrap();
        assert_eq!(s3.bucket, "backups");
        assert_eq!(s3.secret_name.as_deref(), Some("store-credentials"));
        let Credentials::Create { name, data } = plan.credentials else {
            panic!()
        };
        assert_eq!(name, "store-credentials");
        assert_eq!(data.len(), 2);
    }

    #[test]
    fn a_ca_file_goes_into_the_created_secret_and_is_refused_elsewhere() {
        let directory = tempfile::tempdir().unwrap();
        let pem = directory.path().join("ca.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let env = |key: &str| match key {
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_string()),
            _ => None,
        };
        let mut flags = args(Provider::S3);
        flags.bucket = Some("backups".into());
        flags.secret_from_env = true;
        flags.ca_cert = Some(pem.clone());
        let Credentials::Create { data, .. } = plan(&flags, "ns", &env).unwrap().credentials else {
            panic!()
        };
        assert!(data["CA_CERT_DATA"].starts_with("-----BEGIN CERTIFICATE-----"));

        let refused = |flags: &SetupArgs, wanted: &str| {
            let text = plan(flags, "ns", &env).unwrap_err().to_string();
            assert!(text.contains(wanted), "{text}");
        };
        let mut existing_secret = flags.clone();
        existing_secret.secret_from_env = false;
        existing_secret.secret = Some("mine".into());
        refused(&existing_secret, "--ca-cert goes into the Secret");
        let mut gcs = flags.clone();
        gcs.provider = Some(Provider::Gcs);
        refused(&gcs, "--ca-cert is for --provider s3");
        let mut missing = flags.clone();
        missing.ca_cert = Some(directory.path().join("nope.pem"));
        refused(&missing, "nope.pem");
        std::fs::write(&pem, "not a certificate").unwrap();
        refused(&flags, "no PEM certificate");
    }

    #[test]
    fn missing_values_name_the_flag_and_field() {
        let error = plan(&args(Provider::S3), "ns", &|_| None).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("--bucket") && text.contains("spec.storage.s3.bucket"),
            "{text}"
        );
        let mut flags = args(Provider::S3);
        flags.bucket = Some("b".into());
        flags.secret_from_env = true;
        let text = plan(&flags, "ns", &|_| None).unwrap_err().to_string();
        assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
        let text = plan(&args(Provider::Local), "ns", &|_| None)
            .unwrap_err()
            .to_string();
        assert!(text.contains("--host-path"), "{text}");
    }

    #[test]
    fn local_storage_from_a_claim() {
        let mut flags = args(Provider::Local);
        flags.pvc = Some("backup-disk".into());
        flags.sub_path = Some("cluster-a".into());
        let plan = plan(&flags, "ns", &|_| None).unwrap();
        assert_eq!(plan.credentials, Credentials::None);
        assert_eq!(location_text(&plan.storage), "pvc:backup-disk/cluster-a");
    }

    #[test]
    fn the_dry_run_secret_has_no_values() {
        let data = BTreeMap::from([("AWS_SECRET_ACCESS_KEY".to_string(), "hunter2".to_string())]);
        let text = serde_yaml::to_string(&secret_object("ns", "s", &data, true)).unwrap();
        assert!(
            !text.contains("hunter2") && text.contains("<redacted>"),
            "{text}"
        );
    }
}
