//! Compatibility tests of the repository engine: the stock `restic` CLI (Debian's 0.14) reads
//! what we write and we read what it writes, on local directories and on a real S3 server
//! (SeaweedFS); crash safety under SIGKILL; typed errors for bad input.

mod crash;
mod failures;
mod manifests;
mod restic_interop;
mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The password of every test repository.
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// Backs up a stream that, half way, has every lock of `location` removed, as
/// `restic unlock --remove-all` run elsewhere would: the backup fails with `LockLost` naming
/// the repository and leaves no snapshot.
pub fn a_lost_lock_fails_the_backup(
    repository: &kubestash::engine::ComponentRepository,
    location: &kubestash::engine::Location,
) {
    struct Unlocking {
        location: kubestash::engine::Location,
        left: usize,
    }
    impl std::io::Read for Unlocking {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 1 << 20 {
                let removed = kubestash::engine::lock::remove_all_locks(&self.location).unwrap();
                assert_eq!(removed, 1, "our backup's lock");
            }
            let count = buffer.len().min(self.left).min(64 * 1024);
            buffer[..count].fill(7);
            self.left -= count;
            Ok(count)
        }
    }
    let stream = Unlocking {
        location: location.clone(),
        left: 2 << 20,
    };
    let error = repository
        .backup_stream(stream, "dump.sql", None, &[])
        .unwrap_err();
    assert!(
        matches!(error, kubestash::engine::EngineError::LockLost { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains(&location.describe()), "{text}");
    assert!(text.contains("removed by another process"), "{text}");
    assert!(
        repository.snapshots(&[]).unwrap().is_empty(),
        "the snapshot written without a lock is forgotten"
    );
}

/// Deterministic pseudo-random bytes (xorshift), so test data needs no extra crate.
pub fn pseudo_random(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Writes a small tree with text, binary, empty and nested files and a symlink.
pub fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("nested/deeper")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::write(root.join("hello.txt"), "hello, kubestash\n").unwrap();
    std::fs::write(root.join("empty"), "").unwrap();
    std::fs::write(
        root.join("nested/random.bin"),
        pseudo_random(1, 3 * 1024 * 1024 + 17),
    )
    .unwrap();
    std::fs::write(root.join("nested/deeper/log.txt"), "line\n".repeat(20_000)).unwrap();
    std::fs::write(root.join("tmp/scratch"), "left out by excludes").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("hello.txt", root.join("link-to-hello")).unwrap();
    std::fs::hard_link(
        root.join("nested/deeper/log.txt"),
        root.join("nested/hard-link-to-log.txt"),
    )
    .unwrap();
}

/// Every entry below `root`: relative path → content (files), `-> target` (links) or `dir`.
pub fn tree_contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut contents = BTreeMap::new();
    collect(root, root, &mut contents);
    contents
}

fn collect(root: &Path, current: &Path, contents: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(current)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(root).unwrap().display().to_string();
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        if metadata.file_type().is_symlink() {
            contents.insert(
                relative,
                format!("-> {}", std::fs::read_link(&path).unwrap().display()).into_bytes(),
            );
        } else if metadata.is_dir() {
            contents.insert(relative, b"dir".to_vec());
            collect(root, &path, contents);
        } else {
            contents.insert(relative, std::fs::read(&path).unwrap());
        }
    }
}

/// Runs the stock restic CLI on a repository; returns stdout, panics with stderr on failure.
pub fn restic(repository: &str, args: &[&str], environment: &[(&str, &str)]) -> String {
    let output = restic_output(repository, args, environment);
    assert!(
        output.status.success(),
        "restic {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs restic and returns its whole output, success or not.
pub fn restic_output(
    repository: &str,
    args: &[&str],
    environment: &[(&str, &str)],
) -> std::process::Output {
    let mut command = Command::new("restic");
    command
        .arg("-r")
        .arg(repository)
        .args(args)
        .env("RESTIC_PASSWORD", PASSWORD)
        .env(
            "RESTIC_CACHE_DIR",
            std::env::temp_dir().join("kubestash-test-restic-cache"),
        );
    for (key, value) in environment {
        command.env(key, value);
    }
    command
        .output()
        .expect("restic is installed (apt-get install -y restic)")
}

/// A temp dir with a `repository` and a `source` folder.
pub struct Workspace {
    pub directory: tempfile::TempDir,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            directory: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }
}
