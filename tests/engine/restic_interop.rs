//! Local repositories: what we write, restic reads (list, check --read-data, restore, dump),
//! and the reverse.

use std::io::Cursor;

use kubestash::engine::{
    BackupRequest, ComponentRepository, EngineError, Location, RestoreRequest,
};

use crate::{make_tree, pseudo_random, restic, tree_contents, Workspace, PASSWORD};

fn repository(workspace: &Workspace) -> ComponentRepository {
    ComponentRepository::new(
        Location::Local {
            root: workspace.path("repository"),
        },
        PASSWORD,
    )
}

/// `make_tree` in `source`, backed up once into a new repository under the path `record_as`.
fn tree_backed_up_as(
    workspace: &Workspace,
    record_as: &str,
) -> (std::path::PathBuf, ComponentRepository) {
    let source = workspace.path("source");
    make_tree(&source);
    let repository = repository(workspace);
    repository.init().unwrap();
    repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            record_as: Some(record_as.into()),
            ..BackupRequest::default()
        })
        .unwrap();
    (source, repository)
}

#[test]
fn restic_reads_what_we_back_up() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let repository = repository(&workspace);
    assert!(repository.init().unwrap(), "a new repository is created");
    assert!(!repository.init().unwrap(), "init is idempotent");
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            excludes: vec![format!("{}/tmp", source.display())],
            host: Some("dump".into()),
            tags: vec!["session:nightly".into(), "component:dump".into()],
            ..BackupRequest::default()
        })
        .unwrap();
    assert!(summary.files >= 5, "{summary:?}");
    assert!(summary.bytes_uploaded > 0);

    let location = workspace.path("repository").display().to_string();
    let listed: serde_json::Value =
        serde_json::from_str(&restic(&location, &["snapshots", "--json"], &[])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["hostname"], "dump");
    assert!(listed[0]["id"]
        .as_str()
        .unwrap()
        .starts_with(&summary.snapshot_id[..8]));
    let mut tags: Vec<&str> = listed[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["component:dump", "session:nightly"]);
    assert!(restic(&location, &["check", "--read-data"], &[]).contains("no errors were found"));

    let restored = workspace.path("restored");
    restic(
        &location,
        &["restore", "latest", "--target", restored.to_str().unwrap()],
        &[],
    );
    let mut expected = tree_contents(&source);
    expected.retain(|path, _| !path.starts_with("tmp"));
    let restored_root = restored.join(source.strip_prefix("/").unwrap());
    assert_eq!(tree_contents(&restored_root), expected);
}

#[test]
fn we_restore_byte_for_byte_and_honour_includes() {
    let workspace = Workspace::new();
    let (source, repository) = tree_backed_up_as(&workspace, "/var/lib/orders");
    let snapshots = repository.snapshots(&[]).unwrap();
    assert_eq!(snapshots[0].paths, ["/var/lib/orders"]);

    let destination = workspace.path("restored");
    let summary = repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some("/var/lib/orders".into()),
            destination: destination.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&destination), tree_contents(&source));
    assert!(summary.files >= 5);
    use std::os::unix::fs::MetadataExt;
    let inode = |path: &str| std::fs::metadata(destination.join(path)).unwrap().ino();
    assert_eq!(
        inode("nested/deeper/log.txt"),
        inode("nested/hard-link-to-log.txt"),
        "hard links stay links"
    );

    let partial = workspace.path("partial");
    repository
        .restore(&RestoreRequest {
            snapshot: snapshots[0].id.clone(),
            path: Some("/var/lib/orders".into()),
            destination: partial.clone(),
            excludes: vec!["*.bin".into()],
            ..RestoreRequest::default()
        })
        .unwrap();
    let contents = tree_contents(&partial);
    assert!(contents.contains_key("hello.txt"));
    assert!(
        !contents.contains_key("nested/random.bin"),
        "{:?}",
        contents.keys()
    );

    // restic's rules: patterns name paths in the snapshot, a directory takes its contents.
    let restore_with = |name: &str, includes: &[&str], excludes: &[&str]| {
        let destination = workspace.path(name);
        repository
            .restore(&RestoreRequest {
                snapshot: "latest".into(),
                path: Some("/var/lib/orders".into()),
                destination: destination.clone(),
                includes: includes.iter().map(|p| p.to_string()).collect(),
                excludes: excludes.iter().map(|p| p.to_string()).collect(),
            })
            .unwrap();
        let mut files: Vec<String> = tree_contents(&destination)
            .into_iter()
            .filter(|(_, content)| content != b"dir")
            .map(|(path, _)| path)
            .collect();
        files.sort();
        files
    };
    assert_eq!(
        restore_with("include-dir", &["/var/lib/orders/nested/deeper"], &[]),
        ["nested/deeper/log.txt"]
    );
    assert_eq!(
        restore_with("include-deep-file", &["nested/deeper/log.txt"], &[]),
        ["nested/deeper/log.txt"]
    );
    assert_eq!(
        restore_with("exclude-dir", &[], &["nested", "tmp"]),
        ["empty", "hello.txt", "link-to-hello"]
    );
    assert_eq!(
        restore_with(
            "include-minus-exclude",
            &["/var/lib/orders/nested"],
            &["*.bin"]
        ),
        ["nested/deeper/log.txt", "nested/hard-link-to-log.txt"]
    );

    // A single backed-up file is restored to its own path, over an existing file or not.
    let file_source = workspace.path("single");
    std::fs::create_dir_all(&file_source).unwrap();
    std::fs::write(file_source.join("app.db"), "database v1").unwrap();
    repository
        .backup(&BackupRequest {
            paths: vec![file_source.join("app.db")],
            record_as: Some("/data/app.db".into()),
            ..BackupRequest::default()
        })
        .unwrap();
    let single = repository.snapshots(&[]).unwrap();
    let newest = single.last().unwrap().id.clone();
    for existing in [true, false] {
        let volume = workspace.path(&format!("volume-{existing}"));
        std::fs::create_dir_all(&volume).unwrap();
        if existing {
            std::fs::write(volume.join("app.db"), "changed since").unwrap();
        }
        repository
            .restore(&RestoreRequest {
                snapshot: newest.clone(),
                path: Some("/data/app.db".into()),
                destination: volume.join("app.db"),
                ..RestoreRequest::default()
            })
            .unwrap();
        assert_eq!(
            std::fs::read(volume.join("app.db")).unwrap(),
            b"database v1"
        );
    }
}

#[test]
fn streams_round_trip_without_temporary_files() {
    let workspace = Workspace::new();
    let repository = repository(&workspace);
    repository.init().unwrap();
    let dump = pseudo_random(7, 2 * 1024 * 1024);
    let summary = repository
        .backup_stream(
            Cursor::new(dump.clone()),
            "db.sql",
            Some("dump"),
            &["component:dump".into()],
        )
        .unwrap();
    assert_eq!(summary.bytes_processed, dump.len() as u64);

    let location = workspace.path("repository").display().to_string();
    let listed: serde_json::Value =
        serde_json::from_str(&restic(&location, &["snapshots", "--json"], &[])).unwrap();
    let path = listed[0]["paths"][0].as_str().unwrap().to_string();
    let dumped = std::process::Command::new("restic")
        .args(["-r", &location, "dump", "latest", &path])
        .env("RESTIC_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    assert_eq!(dumped.stdout, dump, "restic dumps the same bytes");

    let mut ours = Vec::new();
    repository.dump("latest", &path, &mut ours).unwrap();
    assert_eq!(ours, dump);
}

#[test]
fn command_output_is_backed_up_and_a_failing_command_fails() {
    let workspace = Workspace::new();
    let repository = repository(&workspace);
    repository.init().unwrap();
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "printf 'CREATE TABLE orders;\\n'"]);
    repository
        .backup_command_output(&mut command, "dump.sql", Some("dump"), &[])
        .unwrap();
    let mut restored = Vec::new();
    repository
        .dump("latest", "dump.sql", &mut restored)
        .unwrap();
    assert_eq!(restored, b"CREATE TABLE orders;\n");

    // The same file name and host again, other bytes: the second snapshot holds them (a
    // stream has no size or times, so a parent snapshot's content must not be reused).
    let mut second = std::process::Command::new("sh");
    second.args(["-c", "printf 'CREATE TABLE customers;\n'"]);
    repository
        .backup_command_output(&mut second, "dump.sql", Some("dump"), &[])
        .unwrap();
    let mut restored = Vec::new();
    repository
        .dump("latest", "dump.sql", &mut restored)
        .unwrap();
    assert_eq!(restored, b"CREATE TABLE customers;\n");

    let mut failing = std::process::Command::new("sh");
    failing
        .args([
            "-c",
            "printf partial; echo 'pg_dump: connection refused' >&2; exit 3",
        ])
        .env("PGPASSWORD", "do-not-print-me");
    let error = repository
        .backup_command_output(&mut failing, "dump.sql", Some("dump"), &[])
        .unwrap_err();
    assert!(matches!(error, EngineError::Command { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("connection refused"),
        "stderr is reported: {text}"
    );
    assert!(
        !text.contains("do-not-print-me"),
        "the environment is not: {text}"
    );
    assert_eq!(
        repository.snapshots(&[]).unwrap().len(),
        2,
        "the truncated dump is not kept"
    );
}

/// A reader that gives some bytes, then an error.
struct Broken(usize);

impl std::io::Read for Broken {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("the dump connection dropped"));
        }
        let read = self.0.min(buffer.len());
        buffer[..read].fill(b'x');
        self.0 -= read;
        Ok(read)
    }
}

#[test]
fn a_stream_that_fails_to_read_leaves_no_snapshot() {
    let workspace = Workspace::new();
    let repository = repository(&workspace);
    repository.init().unwrap();
    let error = repository
        .backup_stream(Broken(100_000), "db.sql", Some("dump"), &[])
        .unwrap_err();
    assert!(
        matches!(error, EngineError::Source { .. }) && error.to_string().contains("dropped"),
        "{error}"
    );
    assert!(repository.snapshots(&[]).unwrap().is_empty());
    let error = repository
        .backup_stream(Cursor::new(b"x".to_vec()), "/", Some("dump"), &[])
        .unwrap_err();
    assert!(error.to_string().contains("file name"), "{error}");
}

#[test]
fn we_read_and_extend_what_restic_writes() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let location = workspace.path("repository").display().to_string();
    restic(&location, &["init"], &[]);
    restic(
        &location,
        &[
            "backup",
            source.to_str().unwrap(),
            "--tag",
            "made-by-restic",
        ],
        &[],
    );
    let repository = repository(&workspace);
    assert!(
        !repository.init().unwrap(),
        "an existing repository is reused"
    );
    let snapshots = repository.snapshots(&["made-by-restic".into()]).unwrap();
    assert_eq!(snapshots.len(), 1);

    let destination = workspace.path("restored");
    repository
        .restore(&RestoreRequest {
            snapshot: snapshots[0].id.clone(),
            path: Some(source.display().to_string()),
            destination: destination.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&destination), tree_contents(&source));

    std::fs::write(source.join("added.txt"), "new").unwrap();
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            ..BackupRequest::default()
        })
        .unwrap();
    assert!(
        summary.bytes_uploaded < 1024 * 1024,
        "deduplicated against restic's data: {summary:?}"
    );
    assert!(restic(&location, &["check", "--read-data"], &[]).contains("no errors were found"));
}

/// Hands out at most `step` bytes per read, as a pipe does, and with `interrupt` an
/// `Interrupted` error before every read that returns bytes. A read after the end (`Ok(0)`)
/// is an error: the chunker must not read on.
struct Trickle<R> {
    inner: R,
    step: usize,
    interrupt: bool,
    interrupted: bool,
    ended: bool,
}

impl<R> Trickle<R> {
    fn new(inner: R, step: usize, interrupt: bool) -> Self {
        Self {
            inner,
            step,
            interrupt,
            interrupted: false,
            ended: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Trickle<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.interrupt && !self.interrupted {
            self.interrupted = true;
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        if self.ended {
            return Err(std::io::Error::other("read after the end"));
        }
        self.interrupted = false;
        let step = buffer.len().min(self.step);
        let read = self.inner.read(&mut buffer[..step])?;
        self.ended = read == 0 && step > 0;
        Ok(read)
    }
}

/// The data blobs `restic list blobs` shows.
fn data_blobs(location: &str) -> std::collections::BTreeSet<String> {
    restic(location, &["list", "blobs"], &[])
        .lines()
        .filter_map(|line| line.strip_prefix("data "))
        .map(str::to_string)
        .collect()
}

const KIB: usize = 1024;
/// restic's minimum chunk size.
const MIN_CHUNK: usize = 512 * KIB;

/// Chunks that end where we choose: the Rabin hash of 64 zero bytes is zero, so a chunk of
/// random bytes that ends in 64 zeros ends right after them. The ends land 1 to 400,000 bytes
/// past the minimum size: within the first 64 (where rustic_core 0.13.0 cut elsewhere than
/// restic), around the 32 KiB stretches that our search's four lanes take of a 128 KiB block
/// and around the blocks' ends, and at pseudo-random places.
fn chunks_ending_where_chosen() -> Vec<u8> {
    let chosen = [
        1, 2, 62, 63, 64, 65, 66, 127, 128, 129, 4095, 4096, 4097, 4160, 4161, 32_831, 32_832,
        32_833, 65_600, 131_071, 131_072, 131_073, 131_135, 131_136, 131_137,
    ];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let scattered = (0..25).map(|_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        1 + (state >> 33) as usize % 400_000
    });
    let mut data = Vec::new();
    for (index, past_minimum) in chosen.into_iter().chain(scattered).enumerate() {
        data.extend(pseudo_random(
            1000 + index as u64,
            MIN_CHUNK + past_minimum - 64,
        ));
        data.extend(std::iter::repeat_n(0u8, 64));
    }
    data.extend(pseudo_random(999, 100 * KIB));
    data
}

/// Our chunker (vendor/rustic_core, patched) must cut exactly where restic cuts. restic
/// backs up files whose chunk ends land everywhere our search treats apart: chunks ending
/// where chosen (above), random data, zero runs that end a chunk at its minimum size, a
/// pattern without any boundary that is cut at the 8 MiB maximum, and files that end before,
/// at and just after the minimum size. Then we back up a copy of those files (read in full,
/// restic's snapshot is no parent of it) and the same bytes as streams that arrive in small
/// reads with interruptions; no new data blob may appear.
#[test]
fn our_chunk_boundaries_are_restics() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    std::fs::create_dir_all(&source).unwrap();
    let chosen = chunks_ending_where_chosen();
    std::fs::write(source.join("chosen.bin"), &chosen).unwrap();
    let mut mixed = pseudo_random(7, 3 * 1024 * KIB);
    mixed.extend(std::iter::repeat_n(0u8, 1536 * KIB));
    mixed.extend((0..17 * 1024 * KIB).map(|index| (index * 7 % 251) as u8));
    mixed.extend(pseudo_random(8, 5 * 1024 * KIB + 333));
    std::fs::write(source.join("mixed.bin"), &mixed).unwrap();
    let edges = [MIN_CHUNK - 1, MIN_CHUNK, MIN_CHUNK + 1, MIN_CHUNK + 63]
        .into_iter()
        .chain([MIN_CHUNK + 64, MIN_CHUNK + 65, 600 * KIB]);
    for (seed, length) in edges.enumerate() {
        std::fs::write(
            source.join(format!("edge-{length}.bin")),
            pseudo_random(100 + seed as u64, length),
        )
        .unwrap();
    }
    // Two ends in one block: the earlier one (lane 0 before lane 2, lane 1 before lane 3)
    // must win. And ends found by the one-lane search of a short last block, before the end
    // of the input.
    let ends = |name: &str, zeros_end: &[usize], length: usize, seed: u64| {
        let mut data = pseudo_random(seed, length);
        for &end in zeros_end {
            data[MIN_CHUNK + end - 64..MIN_CHUNK + end].fill(0);
        }
        std::fs::write(source.join(name), data).unwrap();
    };
    ends("lanes-0-and-2.bin", &[10_000, 80_000], 2 * MIN_CHUNK, 200);
    ends("lanes-1-and-3.bin", &[40_000, 110_000], 2 * MIN_CHUNK, 201);
    ends("short-block.bin", &[100], MIN_CHUNK + 110, 202);
    ends("short-block-end.bin", &[15_997], MIN_CHUNK + 16_000, 203);
    let location = workspace.path("repository").display().to_string();
    restic(&location, &["init"], &[]);
    restic(&location, &["backup", source.to_str().unwrap()], &[]);
    let restics = data_blobs(&location);
    assert!(restics.len() > 60, "{} data blobs", restics.len());

    let copy = workspace.path("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let mut total = 0;
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        total += std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let repository = repository(&workspace);
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![copy],
            ..BackupRequest::default()
        })
        .unwrap();
    assert_eq!(summary.bytes_processed, total, "every file was read");
    for (name, bytes, step) in [("chosen.bin", chosen, 1000), ("mixed.bin", mixed, 70_000)] {
        let length = bytes.len() as u64;
        let summary = repository
            .backup_stream(
                Trickle::new(Cursor::new(bytes), step, true),
                name,
                Some("stream"),
                &[],
            )
            .unwrap();
        assert_eq!(summary.bytes_processed, length);
    }
    let after = data_blobs(&location);
    let new: Vec<_> = after.difference(&restics).collect();
    assert!(new.is_empty(), "blobs restic did not cut: {new:?}");
    assert!(restic(&location, &["check", "--read-data"], &[]).contains("no errors were found"));
}

#[test]
fn forget_and_prune_leave_a_consistent_repository() {
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let repository = repository(&workspace);
    repository.init().unwrap();
    for round in 0..3 {
        std::fs::write(
            source.join(format!("round-{round}.bin")),
            pseudo_random(100 + round, 512 * 1024),
        )
        .unwrap();
        repository
            .backup(&BackupRequest {
                paths: vec![source.clone()],
                ..BackupRequest::default()
            })
            .unwrap();
    }
    let snapshots = repository.snapshots(&[]).unwrap();
    assert_eq!(snapshots.len(), 3);
    let before = repository.size().unwrap();
    assert_eq!(
        repository
            .forget(&[snapshots[0].id.clone(), snapshots[1].id.clone()])
            .unwrap(),
        2
    );
    std::fs::remove_file(source.join("round-2.bin")).unwrap();
    repository.prune().unwrap();
    assert!(repository.size().unwrap() <= before);
    let location = workspace.path("repository").display().to_string();
    let listed: serde_json::Value =
        serde_json::from_str(&restic(&location, &["snapshots", "--json"], &[])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(restic(&location, &["check", "--read-data"], &[]).contains("no errors were found"));
    assert!(repository.check(Some(100.0)).unwrap().problems.is_empty());
}

#[test]
fn keys_can_be_added_listed_and_rotated() {
    let workspace = Workspace::new();
    let repository = repository(&workspace);
    repository.init().unwrap();
    // One key after init, with restic's memory cost (N = 2^15, r = 8) rather than rustic's
    // 128 MiB one; both restic and the engine open it.
    let keys_dir = workspace.path("repository").join("keys");
    let key_files: Vec<_> = std::fs::read_dir(&keys_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(key_files.len(), 1, "{key_files:?}");
    let key: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&key_files[0]).unwrap()).unwrap();
    assert_eq!(
        (&key["N"], &key["r"], &key["p"]),
        (&32768.into(), &8.into(), &4.into())
    );
    assert_eq!(key["kdf"], "scrypt");
    let location = workspace.path("repository").display().to_string();
    assert!(restic(&location, &["cat", "config"], &[]).contains("chunker_polynomial"));
    let added = repository
        .add_key("second-password", Some("backup-host"), Some("ops"))
        .unwrap();
    let second = std::process::Command::new("restic")
        .args(["-r", &location, "cat", "config"])
        .env("RESTIC_PASSWORD", "second-password")
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "restic opens the repository with the added key: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let keys = repository.keys().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .any(|key| key.id == added && key.host.as_deref() == Some("backup-host") && !key.current));
    // The key the password opens stays: removing it would lock the caller out.
    let current = keys.iter().find(|key| key.current).unwrap().id.clone();
    let refused = repository.remove_key(&current).unwrap_err().to_string();
    assert!(refused.contains("RESTIC_PASSWORD"), "{refused}");
    repository.remove_key(&added[..8]).unwrap();
    assert_eq!(repository.keys().unwrap().len(), 1);
    // Rotating to the same password keeps one working key.
    let same = repository.change_password(PASSWORD).unwrap();
    assert_eq!(same.keys().unwrap().len(), 1);

    let rotated = repository.change_password("rotated-password").unwrap();
    assert_eq!(rotated.keys().unwrap().len(), 1);
    assert!(matches!(
        repository.snapshots(&[]).unwrap_err(),
        EngineError::WrongPassword { .. }
    ));
    let location = workspace.path("repository").display().to_string();
    let output = std::process::Command::new("restic")
        .args(["-r", &location, "snapshots"])
        .env("RESTIC_PASSWORD", "rotated-password")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "restic opens the repository with the new password"
    );
}

#[test]
fn backups_and_restores_report_progress() {
    use std::sync::{Arc, Mutex};
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let events: Arc<Mutex<Vec<kubestash::engine::ProgressEvent>>> = Arc::default();
    let sink = {
        let events = events.clone();
        move |event: &kubestash::engine::ProgressEvent| events.lock().unwrap().push(event.clone())
    };
    let repository = repository(&workspace).with_progress(Arc::new(sink));
    repository.init().unwrap();
    let summary = repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            ..BackupRequest::default()
        })
        .unwrap();
    let finished: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|event| event.finished)
        .cloned()
        .collect();
    let backup = finished
        .iter()
        .find(|event| event.phase.contains("backing up"))
        .expect("a finished backup phase");
    assert_eq!(backup.bytes_done, summary.bytes_processed);
    // rustic's scan counts a few bytes (symlink targets) the archiver does not read.
    assert!(
        backup.percent().is_some_and(|percent| percent > 99.9),
        "{backup:?}"
    );
    events.lock().unwrap().clear();
    repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some(source.display().to_string()),
            destination: workspace.path("restored"),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|event| event.phase.contains("restoring") && event.finished && event.bytes_done > 0));
}

#[test]
fn a_retention_policy_forgets_and_prunes_what_it_does_not_keep() {
    use kubestash::api::storage::{RetentionPolicySpec, SuccessfulSnapshotsKeepPolicy};
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let repository = repository(&workspace);
    repository.init().unwrap();
    for round in 0..6 {
        std::fs::write(source.join("round"), format!("{round}")).unwrap();
        repository
            .backup(&BackupRequest {
                paths: vec![source.clone()],
                tags: vec!["session:nightly".into()],
                ..BackupRequest::default()
            })
            .unwrap();
    }
    repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            tags: vec!["session:weekly".into()],
            ..BackupRequest::default()
        })
        .unwrap();
    let policy = RetentionPolicySpec {
        successful_snapshots: Some(SuccessfulSnapshotsKeepPolicy {
            last: Some(3),
            ..Default::default()
        }),
        ..Default::default()
    };
    let newest = repository
        .snapshots(&["session:nightly".into()])
        .unwrap()
        .last()
        .unwrap()
        .id
        .clone();
    let forgotten = repository
        .apply_retention(&policy, &["session:nightly".into()], chrono::Utc::now())
        .unwrap();
    assert_eq!(forgotten.len(), 3);
    assert!(!forgotten.contains(&newest));
    let location = workspace.path("repository").display().to_string();
    let listed: serde_json::Value =
        serde_json::from_str(&restic(&location, &["snapshots", "--json"], &[])).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        4,
        "3 kept nightly snapshots and the untouched weekly one"
    );
    assert!(restic(&location, &["check"], &[]).contains("no errors were found"));
}

#[test]
fn a_restore_replaces_symbolic_links_in_the_target_instead_of_following_them() {
    let workspace = Workspace::new();
    let (source, repository) = tree_backed_up_as(&workspace, "/data");
    // Since the backup, a directory and a file of the target became links to elsewhere.
    let elsewhere = workspace.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("precious"), "not to be overwritten").unwrap();
    let destination = workspace.path("target");
    std::fs::create_dir_all(&destination).unwrap();
    std::os::unix::fs::symlink(&elsewhere, destination.join("nested")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("precious"), destination.join("hello.txt")).unwrap();

    repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some("/data".into()),
            destination: destination.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&destination), tree_contents(&source));
    assert_eq!(
        tree_contents(&elsewhere).into_keys().collect::<Vec<_>>(),
        ["precious"]
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("precious")).unwrap(),
        "not to be overwritten"
    );

    // A single file restored over a link replaces the link.
    let single = workspace.path("single");
    std::os::unix::fs::symlink(elsewhere.join("precious"), &single).unwrap();
    repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some("/data/hello.txt".into()),
            destination: single.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert!(!std::fs::symlink_metadata(&single)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(source.join("hello.txt")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("precious")).unwrap(),
        "not to be overwritten"
    );
}
