//! A backup process killed with SIGKILL at many points leaves a repository that restic
//! accepts, and the next backup succeeds once the dead process's lock is cleared.

use std::process::{Command, Stdio};
use std::time::Duration;

use kubestash::engine::{BackupRequest, ComponentRepository, Location, RestoreRequest};

use crate::{pseudo_random, restic, tree_contents, Workspace, PASSWORD};

const REPOSITORY_VARIABLE: &str = "KUBESTASH_CRASH_REPOSITORY";
const SOURCE_VARIABLE: &str = "KUBESTASH_CRASH_SOURCE";

/// Runs one backup; the test below starts it as a child process and kills it.
#[test]
#[ignore = "child process of killed_backups_leave_a_checkable_repository"]
fn backup_child() {
    let repository = std::env::var(REPOSITORY_VARIABLE).expect("started by the crash test");
    let source = std::env::var(SOURCE_VARIABLE).expect("started by the crash test");
    let repository = ComponentRepository::new(
        Location::Local {
            root: repository.into(),
        },
        PASSWORD,
    );
    repository
        .backup(&BackupRequest {
            paths: vec![source.into()],
            ..BackupRequest::default()
        })
        .unwrap();
}

#[test]
fn killed_backups_leave_a_checkable_repository() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    std::fs::create_dir_all(&source).unwrap();
    let repository_path = workspace.path("repository");
    let repository = ComponentRepository::new(
        Location::Local {
            root: repository_path.clone(),
        },
        PASSWORD,
    );
    repository.init().unwrap();
    let location = repository_path.display().to_string();
    let executable = std::env::current_exe().unwrap();
    let backup_child = || {
        Command::new(&executable)
            .args(["--exact", "crash::backup_child", "--ignored", "--nocapture"])
            .env(REPOSITORY_VARIABLE, &repository_path)
            .env(SOURCE_VARIABLE, &source)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let new_data = |run: u64| {
        // New data each run, so every backup has packs to write when it is killed.
        std::fs::write(
            source.join(format!("file-{run}.bin")),
            pseudo_random(run, 3 * 1024 * 1024),
        )
        .unwrap();
    };
    // How long one such backup takes here, start to end: the kill points are spread over
    // it, so that a fast machine does not finish most backups before they are killed.
    new_data(100);
    let started = std::time::Instant::now();
    let status = backup_child().wait().unwrap();
    assert!(status.success(), "an uninterrupted backup succeeds");
    let whole = started.elapsed();
    let mut interrupted = 0;
    for run in 0..20u64 {
        new_data(run);
        let mut child = backup_child();
        // Kill points from 5% to 95% of a whole backup.
        std::thread::sleep(whole * (5 + (run * 37) % 91) as u32 / 100);
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let check = restic(&location, &["check", "--no-lock"], &[]);
        assert!(check.contains("no errors were found"), "run {run}: {check}");
    }
    assert!(
        interrupted >= 10,
        "only {interrupted} of 20 backups were still running when killed"
    );

    // The dead processes' locks are stale; the next backup clears them and succeeds.
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            ..BackupRequest::default()
        })
        .unwrap();
    assert!(summary.files >= 20);
    let left: Vec<_> = std::fs::read_dir(repository_path.join("locks"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert!(left.is_empty(), "no lock is left behind: {left:?}");
    assert!(restic(&location, &["check", "--read-data"], &[]).contains("no errors were found"));
    let destination = workspace.path("restored");
    repository
        .restore(&RestoreRequest {
            snapshot: summary.snapshot_id.clone(),
            path: Some(source.display().to_string()),
            destination: destination.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&destination), tree_contents(&source));
}
