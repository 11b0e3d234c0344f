//! Backup sources for rustic's archiver: a single stream (a dump piped from a child process)
//! and a set of small files (a manifest dump), each consumed once, and local files with a
//! record of what could not be read.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustic_core::jiff;
use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{LocalSource, ReadSource, ReadSourceEntry, ReadSourceOpen, RusticResult};

/// A single-file source reading from any reader, consumed once.
pub(crate) struct StreamSource {
    pub(crate) path: PathBuf,
    pub(crate) reader: Mutex<Option<Box<dyn Read + Send>>>,
}

impl ReadSource for StreamSource {
    type Open = Box<dyn Read + Send>;
    type Iter = std::iter::Once<RusticResult<ReadSourceEntry<Self::Open>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(None)
    }

    fn entries(&self) -> Self::Iter {
        let reader = self.reader.lock().ok().and_then(|mut reader| reader.take());
        let name = self
            .path
            .file_name()
            .map(|name| name.to_os_string())
            .unwrap_or_else(|| self.path.clone().into_os_string());
        let node = Node::new_node(&name, NodeType::File, Metadata::default());
        std::iter::once(Ok(ReadSourceEntry {
            path: self.path.clone(),
            node,
            open: reader,
        }))
    }
}

/// In-memory files as a backup source, consumed once.
pub(crate) struct MemorySource {
    pub(crate) files: Mutex<Vec<(PathBuf, Vec<u8>)>>,
}

impl ReadSource for MemorySource {
    type Open = std::io::Cursor<Vec<u8>>;
    type Iter = std::vec::IntoIter<RusticResult<ReadSourceEntry<Self::Open>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        let files = self
            .files
            .lock()
            .map(|files| files.iter().map(|(_, data)| data.len() as u64).sum());
        Ok(files.ok())
    }

    fn entries(&self) -> Self::Iter {
        let files = self
            .files
            .lock()
            .map(|mut files| std::mem::take(&mut *files))
            .unwrap_or_default();
        files
            .into_iter()
            .map(|(path, data)| {
                let name = path
                    .file_name()
                    .map(|name| name.to_os_string())
                    .unwrap_or_default();
                let metadata = Metadata {
                    size: data.len() as u64,
                    mtime: Some(jiff::Timestamp::now()),
                    ..Metadata::default()
                };
                let node = Node::new_node(&name, NodeType::File, metadata);
                Ok(ReadSourceEntry {
                    path,
                    node,
                    open: Some(std::io::Cursor::new(data)),
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// What a backup could not read. rustic logs such an entry, leaves it out of the snapshot and
/// saves the rest; the caller decides what an incomplete backup is worth.
#[derive(Debug, Default)]
pub(crate) struct Unreadable {
    /// How many entries could not be read.
    pub(crate) count: usize,
    /// The first few, `path: cause`.
    pub(crate) first: Vec<String>,
}

/// How many unreadable entries are named; the rest are counted.
const NAMED: usize = 5;

/// Shared by a source and the readers it hands out.
pub(crate) type UnreadableLog = Arc<Mutex<Unreadable>>;

pub(crate) fn note(log: &UnreadableLog, what: String) {
    if let Ok(mut unreadable) = log.lock() {
        unreadable.count += 1;
        if unreadable.first.len() < NAMED {
            unreadable.first.push(what);
        }
    }
}

/// A reader that notes its first error in `log` (under `path` unless it is empty).
pub(crate) struct FailureRecorder<R> {
    pub(crate) inner: R,
    pub(crate) path: PathBuf,
    pub(crate) log: UnreadableLog,
    pub(crate) failed: bool,
}

impl<R: Read> Read for FailureRecorder<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buffer).inspect_err(|error| {
            if error.kind() != std::io::ErrorKind::Interrupted && !self.failed {
                self.failed = true;
                let what = if self.path.as_os_str().is_empty() {
                    error.to_string()
                } else {
                    format!("{}: {error}", self.path.display())
                };
                note(&self.log, what);
            }
        })
    }
}

/// Whether a failure to open `path` makes the backup incomplete: not for a file deleted while
/// the backup ran (it is no longer there to miss), nor for a file system's `lost+found`, which
/// only root may read and which holds no one's data.
fn counts(path: &std::path::Path) -> bool {
    let vanished = std::fs::symlink_metadata(path)
        .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound);
    let lost_found = path
        .components()
        .any(|component| component.as_os_str() == "lost+found");
    !vanished && !lost_found
}

/// rustic's source of local files, noting every entry it fails to list, open or read.
pub(crate) struct RecordingSource {
    pub(crate) inner: LocalSource,
    pub(crate) log: UnreadableLog,
}

/// A local file, opened when the archiver reads it. No read buffer: the chunker
/// (`vendor/rustic_core`) reads at least 128 KiB at a time into the chunk itself.
pub(crate) struct RecordingOpen {
    inner: <LocalSource as ReadSource>::Open,
    path: PathBuf,
    log: UnreadableLog,
}

impl ReadSourceOpen for RecordingOpen {
    type Reader = FailureRecorder<std::fs::File>;

    fn open(self) -> RusticResult<Self::Reader> {
        match self.inner.open() {
            Ok(file) => Ok(FailureRecorder {
                inner: file,
                path: self.path,
                log: self.log,
                failed: false,
            }),
            Err(error) => {
                if counts(&self.path) {
                    note(&self.log, format!("{}: {error}", self.path.display()));
                }
                Err(error)
            }
        }
    }
}

/// The entries of a [`RecordingSource`].
pub(crate) struct RecordingIter {
    inner: <LocalSource as ReadSource>::Iter,
    log: UnreadableLog,
}

impl Iterator for RecordingIter {
    type Item = RusticResult<ReadSourceEntry<RecordingOpen>>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.inner.next()? {
            Ok(entry) => Ok(ReadSourceEntry {
                open: entry.open.map(|inner| RecordingOpen {
                    inner,
                    path: entry.path.clone(),
                    log: self.log.clone(),
                }),
                path: entry.path,
                node: entry.node,
            }),
            Err(error) => {
                let text = error.to_string();
                // The walker's errors name their path in the text only.
                let vanished = text.contains("(os error 2)");
                if !vanished && !text.contains("/lost+found") {
                    note(&self.log, text);
                }
                Err(error)
            }
        })
    }
}

impl ReadSource for RecordingSource {
    type Open = RecordingOpen;
    type Iter = RecordingIter;

    fn size(&self) -> RusticResult<Option<u64>> {
        self.inner.size()
    }

    fn entries(&self) -> Self::Iter {
        RecordingIter {
            inner: self.inner.entries(),
            log: self.log.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn vanished_files_and_lost_found_do_not_make_a_backup_incomplete() {
        let scratch = tempfile::tempdir().unwrap();
        let present = scratch.path().join("present");
        std::fs::write(&present, "x").unwrap();
        assert!(super::counts(&present));
        assert!(!super::counts(&scratch.path().join("deleted-meanwhile")));
        let lost = scratch.path().join("lost+found");
        std::fs::create_dir(&lost).unwrap();
        assert!(!super::counts(&lost));
        assert!(!super::counts(&lost.join("#1234")));
        assert!(super::counts(Path::new("/proc/sys/vm/drop_caches")));
    }
}
