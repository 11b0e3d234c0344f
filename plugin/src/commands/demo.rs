//! `kubectl kubestash demo`: the whole product in well under a minute, with nothing to install.
//! Starts the sandbox cluster and the operator in this process, creates a workload with files
//! in its volume, a local BackupStorage, a RetentionPolicy and a BackupConfiguration, then runs
//! the same code as `backup now --wait`, `snapshots list` and `restore --wait`, deletes and
//! restores the files, and exits 0 only when every byte came back. Each step shows the command
//! a user would run against a real cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use colored::Colorize;
use kube::api::Api;
use kube::Client;
use kubestash::api::core::BackupConfiguration;
use kubestash_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::commands::{backup, restore, snapshots};
use crate::exit::{CliError, ExitStatus};
use crate::output::{self, OutputFormat};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the sandbox data and the backup storage in this directory (it must be empty or
    /// absent); without it everything lives in a temporary directory removed at the end.
    #[arg(long, value_name = "DIR")]
    pub keep_dir: Option<PathBuf>,
}

const NAMESPACE: &str = "demo";
const STORAGE_MOUNT: &str = "/kubestash-storage";
const CONFIGURATION: &str = "demo-app-backup";

/// The files the demo writes into the workload's volume: (relative path, bytes).
fn demo_files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = vec![
        (
            PathBuf::from("index.html"),
            b"<h1>hello from kubestash</h1>\n".to_vec(),
        ),
        (
            PathBuf::from("uploads/2026/report.csv"),
            (0..2_000)
                .map(|i| format!("{i},{},{}\n", i * 7 % 13, i * i % 101))
                .collect::<String>()
                .into_bytes(),
        ),
        (PathBuf::from("config/empty.conf"), Vec::new()),
    ];
    // 2 MiB of incompressible bytes from a small xorshift generator.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let random: Vec<u8> = (0..2 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    files.push((PathBuf::from("uploads/2026/photo.bin"), random));
    files
}

fn manifests(storage_dir: &Path, password: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = format!(
        r#"
apiVersion: v1
kind: Namespace
metadata:
  name: {NAMESPACE}
---
apiVersion: v1
kind: Secret
metadata:
  name: encryption-secret
  namespace: {NAMESPACE}
stringData:
  RESTIC_PASSWORD: "{password}"
---
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata:
  name: local-storage
  namespace: {NAMESPACE}
spec:
  storage:
    provider: local
    local:
      mountPath: {STORAGE_MOUNT}
      hostPath:
        path: "{storage}"
  usagePolicy:
    allowedNamespaces:
      from: All
  default: true
  deletionPolicy: Delete
---
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata:
  name: keep-last-5
  namespace: {NAMESPACE}
spec:
  successfulSnapshots:
    last: 5
  failedSnapshots:
    last: 2
  usagePolicy:
    allowedNamespaces:
      from: Same
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: demo-data
  namespace: {NAMESPACE}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo-app
  namespace: {NAMESPACE}
  labels:
    app: demo-app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: demo-app
  template:
    metadata:
      labels:
        app: demo-app
    spec:
      containers:
        - name: app
          image: busybox:1.36
          command: ["sh", "-c", "sleep 3600"]
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: demo-data
---
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata:
  name: {CONFIGURATION}
  namespace: {NAMESPACE}
spec:
  target:
    apiGroup: apps
    kind: Deployment
    name: demo-app
    namespace: {NAMESPACE}
  backends:
    - name: local
      storageRef:
        name: local-storage
        namespace: {NAMESPACE}
      retentionPolicy:
        name: keep-last-5
        namespace: {NAMESPACE}
  sessions:
    - name: hourly
      scheduler:
        schedule: "0 * * * *"
        jobTemplate:
          backoffLimit: 1
      repositories:
        - name: demo-app-repo
          backend: local
          directory: /demo/demo-app
          encryptionSecret:
            name: encryption-secret
            namespace: {NAMESPACE}
      addon:
        name: workload-addon
        tasks:
          - name: logical-backup
            targetVolumes:
              volumeMounts:
                - name: data
                  mountPath: /data
            params:
              paths: /data
"#,
        storage = storage_dir.display(),
    );
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_json::Value::deserialize(document).context("demo manifest")?;
        objects.push(value);
    }
    Ok(objects)
}

/// Prints a step and the command that does it on a real cluster.
struct Steps {
    started: Instant,
    number: usize,
    color: bool,
}

impl Steps {
    fn step(&mut self, what: &str, commands: &[&str]) {
        self.number += 1;
        let head = format!(
            "[{:>4.1}s] {}. {what}",
            self.started.elapsed().as_secs_f64(),
            self.number
        );
        if self.color {
            eprintln!("\n{}", head.bold());
        } else {
            eprintln!("\n{head}");
        }
        for command in commands {
            let line = format!("    $ {command}");
            if self.color {
                eprintln!("{}", line.dimmed());
            } else {
                eprintln!("{line}");
            }
        }
    }
}

/// `RESTIC_PASSWORD` when it is set (true), else a random password (false).
fn demo_password() -> (String, bool) {
    if let Some(password) = std::env::var("RESTIC_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return (password, true);
    }
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(Instant::now());
    (format!("demo-{a:016x}{b:016x}"), false)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))
}

fn prepare_directory(keep: Option<&Path>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    match keep {
        Some(directory) => {
            if directory.exists()
                && std::fs::read_dir(directory)
                    .with_context(|| format!("--keep-dir {}", directory.display()))?
                    .next()
                    .is_some()
            {
                return Err(CliError::bad_input(format!(
                    "--keep-dir {}: the directory is not empty",
                    directory.display()
                ))
                .with_hint("pass a new or empty directory")
                .into());
            }
            std::fs::create_dir_all(directory)
                .with_context(|| format!("cannot create --keep-dir {}", directory.display()))?;
            let absolute = directory
                .canonicalize()
                .with_context(|| format!("--keep-dir {}", directory.display()))?;
            Ok((absolute, None))
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("kubestash-demo-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            Ok((temporary.path().to_path_buf(), Some(temporary)))
        }
    }
}

/// Runs the demo.
pub fn run(args: &DemoArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (directory, temporary) = prepare_directory(args.keep_dir.as_deref())?;
    let (password, password_from_env) = demo_password();
    let mut steps = Steps {
        started: Instant::now(),
        number: 0,
        color: output::color_enabled_for_stderr(),
    };
    // The cluster and the operator run on their own runtime; the verbs below build theirs,
    // exactly as they do when a user types them.
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    steps.step(
        "Start a sandbox cluster and the operator in this process",
        &["kubectl kubestash install --wait    # on a real cluster"],
    );
    let kubeconfig = directory.join("kubeconfig");
    let sandbox = runtime
        .block_on(Sandbox::start(SandboxOptions {
            data_dir: Some(directory.join("cluster")),
            kubeconfig_path: Some(kubeconfig.clone()),
            ..SandboxOptions::default()
        }))
        .context("failed to start the sandbox cluster")?;
    let outcome = run_with_cluster(
        &runtime, &sandbox, &directory, &password, &mut steps, global,
    );
    runtime.block_on(sandbox.shutdown());
    drop(runtime);
    let verified = outcome?;
    let storage = directory.join("storage");
    if temporary.is_none() {
        let repository = storage.join("demo/demo-app/repository/v1/hourly/dump");
        eprintln!("\nKept in {}:", directory.display());
        eprintln!("  kubeconfig:  {}", kubeconfig.display());
        eprintln!("  storage:     {}", storage.display());
        if password_from_env {
            eprintln!(
                "  restic -r {} snapshots    # with your RESTIC_PASSWORD",
                repository.display()
            );
        } else {
            // The generated password goes to a private file, never to the terminal.
            let file = directory.join("restic-password");
            write_private(&file, &password)?;
            eprintln!(
                "  restic -r {} --password-file {} snapshots",
                repository.display(),
                file.display()
            );
        }
    }
    drop(temporary);
    eprintln!(
        "\ndemo finished in {:.1}s: {verified} files backed up, deleted and restored byte for byte",
        steps.started.elapsed().as_secs_f64()
    );
    Ok(ExitStatus::Success)
}

fn run_with_cluster(
    runtime: &tokio::runtime::Runtime,
    sandbox: &SandboxHandle,
    directory: &Path,
    password: &str,
    steps: &mut Steps,
    global: &GlobalArgs,
) -> anyhow::Result<usize> {
    let global = GlobalArgs {
        kubeconfig: Some(sandbox.kubeconfig_path().to_path_buf()),
        context: None,
        namespace: Some(NAMESPACE.into()),
        output: OutputFormat::Table,
        verbose: global.verbose,
    };
    let client: Client = runtime.block_on(async {
        Ok::<_, anyhow::Error>(crate::cluster::connect(&global).await?.client)
    })?;
    let image = kubestash_operator::IMAGE.to_string();
    runtime.block_on(crate::commands::operator::apply_objects(
        &client,
        crate::commands::operator::bootstrap_objects(&image),
    ))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = runtime.spawn(kubestash_operator::run(
        client.clone(),
        kubestash_operator::Options {
            image,
            identity: format!("{}-demo", kubestash_operator::leader::default_identity()),
            ..kubestash_operator::Options::default()
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let result = demo_steps(
        runtime, sandbox, &client, directory, password, steps, &global,
    );
    let _ = stop.send(());
    let _ =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), operator).await });
    result
}

fn demo_steps(
    runtime: &tokio::runtime::Runtime,
    sandbox: &SandboxHandle,
    client: &Client,
    directory: &Path,
    password: &str,
    steps: &mut Steps,
    global: &GlobalArgs,
) -> anyhow::Result<usize> {
    let storage_dir = directory.join("storage");
    std::fs::create_dir_all(&storage_dir).context("cannot create the storage directory")?;
    let objects = manifests(&storage_dir, password)?;
    let (setup, configuration) = objects.split_at(objects.len() - 1);
    steps.step(
        "Create a namespace, an encryption Secret, a local BackupStorage, a RetentionPolicy and a Deployment with a volume",
        &["kubectl apply -f storage.yaml -f retention.yaml -f deployment.yaml"],
    );
    runtime.block_on(crate::commands::operator::apply_objects(client, setup))?;
    steps.step(
        "Write files into the Deployment's volume",
        &["kubectl exec -n demo deploy/demo-app -- sh -c 'echo … > /data/index.html'"],
    );
    let data_dir = sandbox.pvc_dir(NAMESPACE, "demo-data");
    let files = demo_files();
    write_files(&data_dir, &files)?;
    let bytes: usize = files.iter().map(|(_, data)| data.len()).sum();
    eprintln!(
        "    {} files, {} in {}",
        files.len(),
        kubestash_operator::util::human_bytes(bytes as u64),
        data_dir.display()
    );

    steps.step(
        "Create the BackupConfiguration and wait for it to be Ready (Repository and CronJob created)",
        &["kubectl apply -f backupconfiguration.yaml", "kubectl get backupconfiguration -n demo"],
    );
    runtime.block_on(crate::commands::operator::apply_objects(
        client,
        configuration,
    ))?;
    runtime.block_on(wait_configuration_ready(client, Duration::from_secs(45)))?;

    steps.step(
        "Back up now and wait",
        &["kubectl kubestash backup now demo-app-backup -n demo --wait"],
    );
    expect_success(
        "backup now",
        backup::run(
            &backup::BackupCommand::Now(backup::NowArgs {
                backup_configuration: CONFIGURATION.into(),
                batch: false,
                sessions: Vec::new(),
                wait: true,
                timeout: "45s".into(),
                follow_retries: false,
                embedded: false,
            }),
            global,
        ),
    )?;

    steps.step(
        "List the snapshots",
        &["kubectl kubestash snapshots list -n demo"],
    );
    expect_success(
        "snapshots list",
        snapshots::run(
            &snapshots::SnapshotsCommand::List(snapshots::ListArgs {
                all_namespaces: false,
                repository: None,
                configuration: Some(CONFIGURATION.into()),
                batch: None,
            }),
            global,
        ),
    )?;

    steps.step("Delete the files (the disaster)", &["kubectl exec -n demo deploy/demo-app -- rm -rf /data/index.html /data/uploads /data/config"]);
    for entry in std::fs::read_dir(&data_dir).context("cannot read the volume")? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    eprintln!("    {} is empty", data_dir.display());

    steps.step(
        "Restore the latest snapshot into the Deployment and wait",
        &["kubectl kubestash restore --from-repository demo-app-repo --target deployment/demo-app -n demo --wait"],
    );
    expect_success(
        "restore",
        restore::run(
            &restore::RestoreArgs {
                file: None,
                from_repository: Some("demo-app-repo".into()),
                repository_namespace: None,
                snapshot: "latest".into(),
                target: Some("deployment/demo-app".into()),
                components: Vec::new(),
                include: None,
                exclude: None,
                name: Some("demo-app-restore".into()),
                dry_run: false,
                wait: true,
                timeout: "45s".into(),
                embedded: false,
            },
            global,
        ),
    )?;

    steps.step(
        "Verify the restored files byte for byte",
        &["kubectl exec -n demo deploy/demo-app -- sha256sum /data/…"],
    );
    let mut mismatches = Vec::new();
    for (path, data) in &files {
        match std::fs::read(data_dir.join(path)) {
            Ok(restored) if restored == *data => {}
            Ok(restored) => mismatches.push(format!(
                "{}: {} bytes, expected {}",
                path.display(),
                restored.len(),
                data.len()
            )),
            Err(error) => mismatches.push(format!("{}: {error}", path.display())),
        }
    }
    if !mismatches.is_empty() {
        return Err(CliError {
            status: ExitStatus::Failed,
            message: format!("restored data differs:\n  {}", mismatches.join("\n  ")),
            hint: None,
        }
        .into());
    }
    eprintln!(
        "    all {} files identical ({})",
        files.len(),
        kubestash_operator::util::human_bytes(bytes as u64)
    );
    Ok(files.len())
}

fn write_files(root: &Path, files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    for (path, data) in files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&full, data).with_context(|| format!("cannot write {}", full.display()))?;
    }
    Ok(())
}

/// A step's command must have exited 0.
fn expect_success(step: &str, outcome: anyhow::Result<ExitStatus>) -> anyhow::Result<()> {
    match outcome? {
        ExitStatus::Success => Ok(()),
        status => Err(CliError {
            status: ExitStatus::Failed,
            message: format!("demo step `{step}` ended with {status:?}"),
            hint: Some("run again with --keep-dir DIR and inspect the objects with kubectl".into()),
        }
        .into()),
    }
}

async fn wait_configuration_ready(client: &Client, timeout: Duration) -> anyhow::Result<()> {
    let api: Api<BackupConfiguration> = Api::namespaced(client.clone(), NAMESPACE);
    let deadline = Instant::now() + timeout;
    let mut last = BTreeMap::new();
    loop {
        let current = api.get(CONFIGURATION).await?;
        let status = current.status.clone().unwrap_or_default();
        let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or_default();
        if phase == "Ready" {
            eprintln!("    backupconfiguration/{CONFIGURATION} Ready");
            return Ok(());
        }
        for condition in status.conditions.iter().flatten() {
            last.insert(
                condition.type_.clone(),
                condition.message.clone().unwrap_or_default(),
            );
        }
        if phase == "Invalid" || Instant::now() >= deadline {
            return Err(CliError {
                status: ExitStatus::Failed,
                message: format!("BackupConfiguration {NAMESPACE}/{CONFIGURATION} is not Ready (phase `{phase}`): {last:?}"),
                hint: None,
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
