//! End-to-end tests: the real `kubectl-kubestash` binary (and `kubectl`) run as child
//! processes, one temp directory per test.

mod autobackup;
mod batch;
mod blueprint;
mod daemonset;
mod demo;
mod generated;
mod hooks;
mod operator;
mod plugin;
mod pty;
mod sandbox;
mod snapshots;
mod storage;
mod validate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-kubestash"))
}

/// The repository root.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("plugin/ has a parent")
        .to_path_buf()
}

/// `../shared/examples`, beside the repository.
pub fn examples_dir() -> PathBuf {
    repository_root().join("../shared/examples")
}

/// The one BackupSession of a `backup now --wait -o json` result.
pub fn only_session(stdout: &str) -> serde_json::Value {
    let result: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"));
    let sessions = result["backupSessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no backupSessions: {result}"));
    assert_eq!(sessions.len(), 1, "{result}");
    sessions[0].clone()
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs the binary with `args`, no stdin, colour off.
pub fn run(args: &[&str]) -> Run {
    let output = Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    Run::from_output(output)
}

/// Runs the binary with `args` and `input` on stdin.
pub fn run_with_stdin(args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("stdin takes the input");
    Run::from_output(child.wait_with_output().expect("the binary runs"))
}

/// Copies `../shared/examples` into a temp dir, substituting only the placeholders the
/// examples' README allows.
pub fn copy_examples(destination: &Path) {
    copy_tree(&examples_dir(), destination);
}

fn copy_tree(source: &Path, destination: &Path) {
    std::fs::create_dir_all(destination).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let target = destination.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let text = text
                .replace(
                    "__STORAGE_DIR__",
                    &destination.join("storage").display().to_string(),
                )
                .replace("__S3_ENDPOINT__", "http://127.0.0.1:8333")
                .replace("__S3_BUCKET__", "kubestash-e2e");
            std::fs::write(target, text).unwrap();
        }
    }
}
