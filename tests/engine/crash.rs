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
    // Each run backs up one new file (the one before it is removed), so every run has the
    // same work as the timed ones below and packs to write when it is killed.
    let new_data = |run: u64| {
        if run > 0 {
            let _ = std::fs::remove_file(source.join(format!("file-{}.bin", run - 1)));
        }
        std::fs::write(
            source.join(format!("file-{run}.bin")),
            pseudo_random(run, 8 * 1024 * 1024),
        )
        .unwrap();
    };
    let packs = || walk_files(&repository_path.join("data"));
    // How long one such backup takes here, start to end (the fastest of three): the kill
    // points are spread over it, so that a fast machine does not finish most backups before
    // they are killed.
    let mut whole = Duration::MAX;
    for run in 100..103 {
        new_data(run);
        let started = std::time::Instant::now();
        let status = backup_child().wait().unwrap();
        assert!(status.success(), "an uninterrupted backup succeeds");
        whole = whole.min(started.elapsed());
    }
    let _ = std::fs::remove_file(source.join("file-102.bin"));
    let mut interrupted = 0;
    let mut after_packs = 0;
    for run in 0..20u64 {
        new_data(run);
        let before = packs();
        let mut child = backup_child();
        if run % 2 == 0 {
            // Kill points from 5% to 95% of a whole backup.
            std::thread::sleep(whole * (5 + (run * 37) % 91) as u32 / 100);
        } else {
            // Just after the backup's first pack landed, before its index and snapshot:
            // on a fast machine that part is a few percent of the whole.
            let deadline = std::time::Instant::now() + whole * 3;
            while packs() == before
                && child.try_wait().unwrap().is_none()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(run % 7));
        }
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
            if packs() > before {
                after_packs += 1;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let check = restic(&location, &["check", "--no-lock"], &[]);
        assert!(check.contains("no errors were found"), "run {run}: {check}");
    }
    eprintln!(
        "{interrupted} of 20 backups killed while running, {after_packs} after writing packs"
    );
    assert!(
        interrupted >= 10,
        "only {interrupted} of 20 backups were still running when killed"
    );
    assert!(
        after_packs >= 3,
        "only {after_packs} backups were killed after they had written packs"
    );

    // The dead processes' locks are stale; the next backup clears them and succeeds.
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            ..BackupRequest::default()
        })
        .unwrap();
    assert!(summary.files >= 1);
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

/// How many files are below `directory`.
fn walk_files(directory: &std::path::Path) -> usize {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.file_type() {
                    Ok(kind) if kind.is_dir() => walk_files(&entry.path()),
                    Ok(_) => 1,
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
