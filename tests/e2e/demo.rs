//! `kubectl kubestash demo`: the whole flow on a built-in cluster, and what it keeps.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{binary, Run};

#[test]
fn the_demo_backs_up_deletes_and_restores_and_keeps_a_repository_restic_opens() {
    let directory = tempfile::tempdir().unwrap();
    let keep = directory.path().join("kept");
    let started = Instant::now();
    let output = Command::new(binary())
        .args(["demo", "--keep-dir", keep.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("RESTIC_PASSWORD", "demo-password")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run::from_output(output);
    let elapsed = started.elapsed();
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    for step in [
        "kubectl kubestash backup now demo-app-backup -n demo --wait",
        "kubectl kubestash restore --from-repository demo-app-repo",
        "all 4 files identical",
    ] {
        assert!(run.stderr.contains(step), "`{step}` in:\n{}", run.stderr);
    }
    // The snapshot table and the backup summary are the data on stdout.
    assert!(run.stdout.contains("demo-app-repo"), "{}", run.stdout);
    assert!(elapsed.as_secs() < 60, "the demo took {elapsed:?}");

    let repository = keep.join("storage/demo/demo-app/repository/v1/hourly/dump");
    let restic = Command::new("restic")
        .arg("-r")
        .arg(&repository)
        .args(["snapshots", "--json"])
        .env("RESTIC_PASSWORD", "demo-password")
        .output()
        .expect("restic is installed");
    assert!(
        restic.status.success(),
        "{}",
        String::from_utf8_lossy(&restic.stderr)
    );
    let snapshots: serde_json::Value = serde_json::from_slice(&restic.stdout).unwrap();
    assert_eq!(snapshots.as_array().unwrap().len(), 1);

    // A kept directory is never overwritten.
    let again = Command::new(binary())
        .args(["demo", "--keep-dir", keep.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let again = Run::from_output(again);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
}
