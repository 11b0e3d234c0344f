//! The binary as kubectl runs it: plugin lookup on PATH, the completion shim, version, usage
//! errors and exit codes.

use std::process::Command;

use crate::{binary, repository_root, run};

fn path_with_plugin(directory: &std::path::Path) -> std::ffi::OsString {
    std::fs::copy(binary(), directory.join("kubectl-kubestash")).unwrap();
    let shim = directory.join("kubectl_complete-kubestash");
    std::fs::copy(
        repository_root().join("completions/kubectl_complete-kubestash"),
        &shim,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut paths = vec![directory.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn kubectl_finds_and_runs_the_plugin() {
    assert!(
        kubectl_available(),
        "kubectl must be installed (the machine image ships kubectl 1.32)"
    );
    let directory = tempfile::tempdir().unwrap();
    let path = path_with_plugin(directory.path());
    let help = Command::new("kubectl")
        .args(["kubestash", "--help"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("validate"), "{text}");
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("kubectl-kubestash"));
}

#[test]
fn kubectl_completes_plugin_commands_through_the_shim() {
    assert!(kubectl_available(), "kubectl must be installed");
    let directory = tempfile::tempdir().unwrap();
    let path = path_with_plugin(directory.path());
    let output = Command::new("kubectl")
        .args(["__complete", "kubestash", "comp"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.lines().any(|line| line == "completion"), "{text}");
    let output = Command::new("kubectl")
        .args(["__complete", "kubestash", "completion", ""])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(
            text.lines().any(|line| line == shell),
            "{shell} missing in {text}"
        );
    }
}

#[test]
fn version_prints_text_and_json() {
    let text = run(&["version"]);
    assert_eq!(text.code, 0);
    assert!(text
        .stdout
        .starts_with(&format!("kubectl-kubestash {}", env!("CARGO_PKG_VERSION"))));
    let json = run(&["version", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["apiVersion"], "v1alpha1");
}

#[test]
fn usage_errors_exit_with_two() {
    let result = run(&["no-such-command"]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("unrecognized subcommand"),
        "{}",
        result.stderr
    );
    let result = run(&["validate"]);
    assert_eq!(result.code, 2);
    assert!(result.stdout.is_empty());
}

#[test]
fn help_goes_to_stdout_and_exits_zero() {
    let result = run(&["--help"]);
    assert_eq!(result.code, 0);
    assert!(result.stdout.contains("Usage: kubectl-kubestash"));
}

#[test]
fn a_reader_that_stops_early_ends_the_output_without_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // `kubectl kubestash crds | head -1`: the reader goes away after one line.
    let mut child = Command::new(crate::binary())
        .args(["crds"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!output.status.success() || stderr.is_empty(), "{stderr}");
}
