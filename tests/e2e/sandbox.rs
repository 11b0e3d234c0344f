//! `kubectl kubestash sandbox` as users run it: start it, point the real kubectl at it, apply
//! the generated CRDs and every example manifest, read them back, stop it with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{binary, copy_examples, repository_root};

/// A sandbox started through the CLI; stopped with SIGTERM on drop.
pub struct RunningSandbox {
    child: Option<Child>,
    pub kubeconfig: PathBuf,
    _directory: tempfile::TempDir,
}

impl RunningSandbox {
    pub fn start() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let kubeconfig = directory.path().join("kubeconfig");
        let child = Command::new(binary())
            .args([
                "sandbox",
                "--kubeconfig-out",
                kubeconfig.to_str().unwrap(),
                "--data-dir",
            ])
            .arg(directory.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let sandbox = Self {
            child: Some(child),
            kubeconfig,
            _directory: directory,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(sandbox.kubeconfig.exists()
            && sandbox.kubectl(&["get", "namespaces"]).status.success())
        {
            assert!(Instant::now() < deadline, "the sandbox did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        sandbox
    }

    /// The sandbox's data directory (PVCs live under `pvc/<namespace>/<claim>`).
    pub fn data_dir(&self) -> PathBuf {
        self._directory.path().join("data")
    }

    /// Runs the plugin binary against this sandbox.
    pub fn plugin(&self, args: &[&str]) -> crate::Run {
        let output = Command::new(binary())
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        crate::Run::from_output(output)
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Sends SIGTERM and waits; returns the exit status and stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let child = self.child.take().unwrap();
        terminate(&child);
        let output = child.wait_with_output().unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&child);
            let _ = child.wait();
        }
    }
}

fn manifests(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in [
        "shared",
        "workload",
        "manifests",
        "pvc",
        "auto-backup",
        "s3",
    ] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(directory.join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        entries.sort();
        // The namespace first: everything else lives in it.
        entries.sort_by_key(|path| !path.ends_with("namespace.yaml"));
        files.extend(entries.into_iter().filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        }));
    }
    files
}

#[test]
fn kubectl_applies_the_crds_and_every_example_to_the_sandbox() {
    let sandbox = RunningSandbox::start();
    let crds = repository_root().join("crds");
    sandbox.kubectl_ok(&["apply", "-f", crds.to_str().unwrap()]);
    let resources = sandbox.kubectl_ok(&[
        "api-resources",
        "--api-group=core.kubestash.com",
        "-o",
        "name",
    ]);
    for resource in [
        "backupconfigurations.core.kubestash.com",
        "backupverifier.core.kubestash.com",
        "restoresessions.core.kubestash.com",
    ] {
        assert!(
            resources.lines().any(|line| line == resource),
            "{resource} not served:\n{resources}"
        );
    }

    let examples = tempfile::tempdir().unwrap();
    copy_examples(examples.path());
    for file in manifests(examples.path()) {
        sandbox.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    }
    let configurations = sandbox.kubectl_ok(&["get", "bc", "-n", "shop", "-o", "name"]);
    for name in ["orders-backup", "shop-manifests", "ledger-pvc-backup"] {
        assert!(configurations.contains(name), "{configurations}");
    }
    // Defaults from the schema are applied, as by a real API server.
    let storage: serde_json::Value = serde_json::from_str(&sandbox.kubectl_ok(&[
        "get",
        "backupstorage",
        "s3-bucket",
        "-n",
        "shop",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(storage["spec"]["deletionPolicy"], "WipeOut");
    let policy: serde_json::Value = serde_json::from_str(&sandbox.kubectl_ok(&[
        "get",
        "retentionpolicy",
        "keep-a-week",
        "-n",
        "shop",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(policy["spec"]["failedSnapshots"]["last"], 1);
    let restore: serde_json::Value = serde_json::from_str(&sandbox.kubectl_ok(&[
        "get",
        "restore",
        "orders-restore",
        "-n",
        "shop",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(restore["spec"]["dataSource"]["snapshot"], "latest");

    // $KUBECONFIG may list several files, as kubectl reads it; a second file names the
    // context the first one's current-context points at.
    let extra = examples.path().join("extra-kubeconfig");
    std::fs::write(
        &extra,
        "apiVersion: v1\nkind: Config\npreferences: {}\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let storage_list = |kubeconfig: &std::ffi::OsStr| {
        Command::new(binary())
            .args(["storage", "list", "-n", "shop"])
            .env("KUBECONFIG", kubeconfig)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let list = std::env::join_paths([sandbox.kubeconfig.as_path(), extra.as_path()]).unwrap();
    let output = storage_list(&list);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("s3-bucket"),
        "storage list with KUBECONFIG={list:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A $KUBECONFIG that names a missing file is an error naming it, not a quiet fall-back
    // to other credentials.
    let missing = examples.path().join("no-such-kubeconfig");
    let output = storage_list(missing.as_os_str());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("KUBECONFIG={}", missing.display())),
        "{stderr}"
    );

    // Re-applying is a no-op, not an error (client-side apply stays under the annotation limit).
    sandbox.kubectl_ok(&["apply", "-f", crds.to_str().unwrap()]);
    let (status, stderr) = sandbox.stop();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("export KUBECONFIG="), "{stderr}");
}

pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_cronjob_runs_this_binary_and_a_failing_job_fails_after_its_backoff_limit() {
    let sandbox = RunningSandbox::start();
    sandbox.kubectl_ok(&["create", "namespace", "jobs"]);
    let manifest = format!(
        r#"apiVersion: batch/v1
kind: CronJob
metadata: {{name: every-minute, namespace: jobs}}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: version
            image: {image}
            args: ["version"]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: failing, namespace: jobs}}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: bad
        image: {image}
        args: ["no-such-command"]
"#,
        image = kubestash_sandbox::PROJECT_IMAGE
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), manifest).unwrap();
    sandbox.kubectl_ok(&["apply", "-f", file.path().to_str().unwrap()]);

    wait_for("the failing Job", Duration::from_secs(60), || {
        let output = sandbox.kubectl(&[
            "get",
            "job",
            "failing",
            "-n",
            "jobs",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Failed\")].status}",
        ]);
        String::from_utf8_lossy(&output.stdout) == "True"
    });
    let failed: serde_json::Value = serde_json::from_str(
        &sandbox.kubectl_ok(&["get", "job", "failing", "-n", "jobs", "-o", "json"]),
    )
    .unwrap();
    assert_eq!(
        failed["status"]["failed"], 2,
        "one try plus backoffLimit 1 retry"
    );

    // The schedule fires within a minute; the Job's pod is this binary running `version`.
    wait_for(
        "a Job of the CronJob to complete",
        Duration::from_secs(90),
        || {
            let output = sandbox.kubectl(&[
                "get",
                "jobs",
                "-n",
                "jobs",
                "-o",
                "jsonpath={.items[*].status.succeeded}",
            ]);
            String::from_utf8_lossy(&output.stdout).contains('1')
        },
    );
    let jobs = sandbox.kubectl_ok(&[
        "get",
        "jobs",
        "-n",
        "jobs",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    let job = jobs
        .split_whitespace()
        .find(|name| name.starts_with("every-minute-"))
        .expect("a Job named after the CronJob");
    let logs = sandbox.kubectl_ok(&["logs", &format!("job/{job}"), "-n", "jobs"]);
    assert!(
        logs.contains(&format!("kubectl-kubestash {}", env!("CARGO_PKG_VERSION"))),
        "{logs}"
    );
}
