//! Bad input gives typed errors naming the repository and the cause, never a panic; locks are
//! seen by restic and stale ones are cleared.

use std::time::Duration;

use kubestash::engine::lock;
use kubestash::engine::{BackupRequest, ComponentRepository, EngineError, Location};

use crate::{make_tree, restic, restic_output, Workspace, PASSWORD};

#[test]
fn a_wrong_password_is_a_clear_error() {
    let workspace = Workspace::new();
    let location = Location::Local {
        root: workspace.path("repository"),
    };
    ComponentRepository::new(location.clone(), PASSWORD)
        .init()
        .unwrap();
    let error = ComponentRepository::new(location.clone(), "not-the-password")
        .init()
        .unwrap_err();
    assert!(
        matches!(error, EngineError::WrongPassword { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains(&location.describe()), "{text}");
    assert!(
        !text.contains("not-the-password"),
        "the password never appears: {text}"
    );
}

#[test]
fn opening_a_missing_repository_says_so() {
    let workspace = Workspace::new();
    let repository = ComponentRepository::new(
        Location::Local {
            root: workspace.path("nothing-here"),
        },
        PASSWORD,
    );
    assert!(!repository.exists().unwrap());
    let error = repository.snapshots(&[]).unwrap_err();
    assert!(matches!(error, EngineError::NoRepository { .. }), "{error}");
}

#[test]
fn an_unreadable_source_is_named() {
    let workspace = Workspace::new();
    let repository = ComponentRepository::new(
        Location::Local {
            root: workspace.path("repository"),
        },
        PASSWORD,
    );
    repository.init().unwrap();
    let missing = workspace.path("does-not-exist");
    let error = repository
        .backup(&BackupRequest {
            paths: vec![missing.clone()],
            ..BackupRequest::default()
        })
        .unwrap_err();
    assert!(matches!(error, EngineError::Source { .. }), "{error}");
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
}

#[test]
fn files_that_cannot_be_read_are_counted_and_named_and_the_rest_is_saved() {
    // Write-only sysctl files refuse reads even to root, as CI runs.
    let unreadable = std::path::Path::new("/proc/sys/vm");
    assert!(
        std::fs::File::open(unreadable.join("drop_caches")).is_err(),
        "the test needs a file that cannot be read"
    );
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let repository = ComponentRepository::new(
        Location::Local {
            root: workspace.path("repository"),
        },
        PASSWORD,
    );
    repository.init().unwrap();
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone(), unreadable.to_path_buf()],
            ..BackupRequest::default()
        })
        .unwrap();
    assert!(summary.unreadable >= 2, "{summary:?}");
    assert!(
        summary
            .unreadable_named
            .iter()
            .any(|named| named.starts_with("/proc/sys/vm/drop_caches: ")),
        "{summary:?}"
    );
    assert!(summary.unreadable_named.len() <= 5, "{summary:?}");
    // What could be read is in the snapshot, which restic reads.
    let repository = workspace.path("repository");
    let listing = restic(
        repository.to_str().unwrap(),
        &["ls", &summary.snapshot_id],
        &[],
    );
    assert!(listing.contains(&source.display().to_string()), "{listing}");
    assert!(listing.contains("/proc/sys/vm/swappiness"), "{listing}");
}

#[test]
fn a_corrupted_pack_fails_the_check() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let root = workspace.path("repository");
    let repository = ComponentRepository::new(Location::Local { root: root.clone() }, PASSWORD);
    repository.init().unwrap();
    repository
        .backup(&BackupRequest {
            paths: vec![source],
            ..BackupRequest::default()
        })
        .unwrap();
    let mut packs = Vec::new();
    for folder in std::fs::read_dir(root.join("data")).unwrap() {
        for pack in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            packs.push(pack.unwrap().path());
        }
    }
    let largest = packs
        .iter()
        .max_by_key(|pack| std::fs::metadata(pack).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(largest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(largest, bytes).unwrap();
    let report = repository.check(Some(100.0)).unwrap();
    assert!(!report.problems.is_empty(), "the flipped byte is found");
}

#[test]
fn a_backup_whose_lock_is_removed_meanwhile_fails_and_leaves_no_snapshot() {
    let workspace = Workspace::new();
    let location = Location::Local {
        root: workspace.path("repository"),
    };
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    repository.init().unwrap();
    crate::a_lost_lock_fails_the_backup(&repository, &location);
    // The repository is usable afterwards.
    let source = workspace.path("source");
    make_tree(&source);
    repository
        .backup(&BackupRequest {
            paths: vec![source],
            ..BackupRequest::default()
        })
        .unwrap();
}

#[test]
fn restic_sees_our_exclusive_lock() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let location = Location::Local {
        root: workspace.path("repository"),
    };
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    repository.init().unwrap();
    let key = master_key(&location);
    let held = lock::acquire(&location, &key, true, Duration::ZERO).unwrap();
    let output = restic_output(
        &location.describe(),
        &["backup", source.to_str().unwrap()],
        &[],
    );
    assert!(
        !output.status.success(),
        "restic must not write while we hold an exclusive lock"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("locked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(held);
    let output = restic_output(
        &location.describe(),
        &["backup", source.to_str().unwrap()],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        std::fs::read_dir(workspace.path("repository/locks"))
            .unwrap()
            .next()
            .is_none(),
        "our lock file is gone"
    );
}

#[test]
fn a_live_foreign_lock_blocks_and_a_stale_one_is_cleared() {
    let workspace = Workspace::new();
    let location = Location::Local {
        root: workspace.path("repository"),
    };
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    repository.init().unwrap();
    let key = master_key(&location);
    // A live exclusive lock written by "another host".
    lock::write_lock(
        &location,
        &key,
        &foreign("other-host", 4242, chrono::Utc::now()),
    )
    .unwrap();
    let error = lock::acquire(&location, &key, false, Duration::ZERO)
        .err()
        .expect("the live lock conflicts");
    assert!(matches!(error, EngineError::Locked { .. }), "{error}");
    assert!(error.to_string().contains("other-host"), "{error}");
    lock::remove_all_locks(&location).unwrap();
    // A lock of a dead process on this host, and one too old: both are stale.
    let this_host = gethostname();
    lock::write_lock(
        &location,
        &key,
        &foreign(&this_host, 4_000_000_000, chrono::Utc::now()),
    )
    .unwrap();
    lock::write_lock(
        &location,
        &key,
        &foreign(
            "other-host",
            1,
            chrono::Utc::now() - chrono::Duration::hours(1),
        ),
    )
    .unwrap();
    drop(lock::acquire(&location, &key, true, Duration::ZERO).unwrap());
    assert!(std::fs::read_dir(workspace.path("repository/locks"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn locks_restic_writes_are_read_and_a_killed_restics_lock_is_cleared() {
    let workspace = Workspace::new();
    let location = Location::Local {
        root: workspace.path("repository"),
    };
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    repository.init().unwrap();
    let key = master_key(&location);
    // A restic backup that waits for its stdin holds a lock (zstd-compressed in a version 2
    // repository, as restic writes every unpacked file there).
    let mut child = std::process::Command::new("restic")
        .args([
            "-r",
            &location.describe(),
            "backup",
            "--stdin",
            "--stdin-filename",
            "db.sql",
        ])
        .env("RESTIC_PASSWORD", PASSWORD)
        .env(
            "RESTIC_CACHE_DIR",
            std::env::temp_dir().join("kubestash-test-restic-cache"),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let locks_dir = workspace.path("repository/locks");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let finished_locks = || {
        std::fs::read_dir(&locks_dir).map_or(0, |dir| {
            dir.flatten()
                .filter(|entry| entry.file_name().len() == 64)
                .count()
        })
    };
    while finished_locks() == 0 {
        assert!(std::time::Instant::now() < deadline, "restic took no lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let locks = lock::list_locks(&location, &key).unwrap();
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0].pid, child.id(), "{locks:?}");
    assert_eq!(locks[0].hostname, gethostname());
    assert!(!locks[0].exclusive);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(lock::acquire(&location, &key, true, Duration::ZERO).unwrap());
    assert!(std::fs::read_dir(&locks_dir).unwrap().next().is_none());
}

fn foreign(hostname: &str, pid: u32, time: chrono::DateTime<chrono::Utc>) -> lock::LockFile {
    lock::LockFile {
        time,
        exclusive: true,
        hostname: hostname.into(),
        username: "root".into(),
        pid,
        uid: 0,
        gid: 0,
    }
}

fn gethostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn master_key(location: &Location) -> rustic_core::repofile::MasterKey {
    ComponentRepository::new(location.clone(), PASSWORD)
        .master_key()
        .unwrap()
}
