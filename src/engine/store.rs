//! Blocking raw-file access to a [`Location`] for the KubeStash layout files
//! (`metadata.yaml`, `repository.yaml`, Snapshot copies) and lock files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::engine::location::clean_prefix;
use crate::engine::EngineError;

pub(crate) fn store_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kubestash-store")
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
    })
}

/// Blocking access to plain files at a [`Location`]. Call it off the async runtime.
pub struct Store {
    pub(crate) kind: StoreKind,
    pub(crate) location: String,
}

/// The message of `error` followed by the causes below it that it does not show itself:
/// reqwest hides a refused certificate behind "error sending request".
pub(crate) fn full_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

pub(crate) enum StoreKind {
    Local(PathBuf),
    Remote(opendal::blocking::Operator),
}

impl Store {
    fn error(&self, path: &str, error: impl std::error::Error + 'static) -> EngineError {
        EngineError::Backend {
            location: format!("{}/{}", self.location.trim_end_matches('/'), path),
            cause: full_message(&error),
        }
    }

    /// Reads a file; `None` when it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, EngineError> {
        let path = clean_prefix(path);
        match &self.kind {
            StoreKind::Local(root) => match std::fs::read(root.join(&path)) {
                Ok(data) => Ok(Some(data)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(self.error(&path, error)),
            },
            StoreKind::Remote(operator) => match operator.read(&path) {
                Ok(buffer) => Ok(Some(buffer.to_vec())),
                Err(error) if error.kind() == opendal::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(self.error(&path, error)),
            },
        }
    }

    /// Writes a file whole; readers never see a partial file.
    pub fn write(&self, path: &str, data: &[u8]) -> Result<(), EngineError> {
        let path = clean_prefix(path);
        match &self.kind {
            StoreKind::Local(root) => {
                let target = root.join(&path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|error| self.error(&path, error))?;
                }
                // Random as well as the pid: Job pods on one shared volume often all run
                // as pid 1, and two writing one file through one temporary name interleave.
                let temporary = target.with_file_name(format!(
                    ".{}.tmp-{}-{:016x}",
                    target
                        .file_name()
                        .and_then(|name| name.to_str())
                        .unwrap_or("file"),
                    std::process::id(),
                    rand::random::<u64>()
                ));
                std::fs::write(&temporary, data).map_err(|error| self.error(&path, error))?;
                std::fs::rename(&temporary, &target).map_err(|error| self.error(&path, error))
            }
            StoreKind::Remote(operator) => operator
                .write(&path, data.to_vec())
                .map(|_| ())
                .map_err(|error| self.error(&path, error)),
        }
    }

    /// Deletes a file; a missing file is not an error.
    pub fn delete(&self, path: &str) -> Result<(), EngineError> {
        let path = clean_prefix(path);
        match &self.kind {
            StoreKind::Local(root) => match std::fs::remove_file(root.join(&path)) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(self.error(&path, error)),
            },
            StoreKind::Remote(operator) => operator
                .delete(&path)
                .map_err(|error| self.error(&path, error)),
        }
    }

    /// Names of the files directly in `directory` (empty when it does not exist).
    pub fn list(&self, directory: &str) -> Result<Vec<String>, EngineError> {
        self.entries(directory, false)
    }

    /// Names of the directories directly in `directory` (empty when it does not exist).
    pub fn list_directories(&self, directory: &str) -> Result<Vec<String>, EngineError> {
        self.entries(directory, true)
    }

    fn entries(&self, directory: &str, directories: bool) -> Result<Vec<String>, EngineError> {
        let directory = clean_prefix(directory);
        let mut names = match &self.kind {
            StoreKind::Local(root) => match std::fs::read_dir(root.join(&directory)) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .filter(|entry| {
                        entry.file_type().is_ok_and(|kind| {
                            if directories {
                                kind.is_dir()
                            } else {
                                kind.is_file()
                            }
                        })
                    })
                    .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
                    .filter(|name| !name.starts_with('.'))
                    .collect(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => return Err(self.error(&directory, error)),
            },
            StoreKind::Remote(operator) => {
                let prefix = if directory.is_empty() {
                    String::new()
                } else {
                    format!("{directory}/")
                };
                match operator.list(&prefix) {
                    Ok(entries) => entries
                        .into_iter()
                        .filter(|entry| {
                            if directories {
                                entry.metadata().is_dir() && entry.path() != prefix
                            } else {
                                entry.metadata().is_file()
                            }
                        })
                        .map(|entry| entry.name().trim_end_matches('/').to_string())
                        .filter(|name| !name.is_empty())
                        .collect(),
                    Err(error) if error.kind() == opendal::ErrorKind::NotFound => Vec::new(),
                    Err(error) => return Err(self.error(&directory, error)),
                }
            }
        };
        names.sort();
        Ok(names)
    }

    /// Deletes a directory and everything below it.
    pub fn delete_all(&self, directory: &str) -> Result<(), EngineError> {
        let directory = clean_prefix(directory);
        match &self.kind {
            StoreKind::Local(root) => {
                let target = if directory.is_empty() {
                    root.clone()
                } else {
                    root.join(&directory)
                };
                match std::fs::remove_dir_all(&target) {
                    Ok(()) => Ok(()),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(error) => Err(self.error(&directory, error)),
                }
            }
            StoreKind::Remote(operator) => {
                let prefix = if directory.is_empty() {
                    String::new()
                } else {
                    format!("{directory}/")
                };
                operator
                    .delete_options(
                        &prefix,
                        opendal::options::DeleteOptions {
                            recursive: true,
                            ..Default::default()
                        },
                    )
                    .map_err(|error| self.error(&directory, error))
            }
        }
    }

    /// Total size in bytes of the files below `directory`.
    pub fn size(&self, directory: &str) -> Result<u64, EngineError> {
        let directory = clean_prefix(directory);
        match &self.kind {
            StoreKind::Local(root) => Ok(directory_size(&root.join(&directory))),
            StoreKind::Remote(operator) => {
                let prefix = if directory.is_empty() {
                    String::new()
                } else {
                    format!("{directory}/")
                };
                let entries = match operator.list_options(
                    &prefix,
                    opendal::options::ListOptions {
                        recursive: true,
                        ..Default::default()
                    },
                ) {
                    Ok(entries) => entries,
                    Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(0),
                    Err(error) => return Err(self.error(&directory, error)),
                };
                Ok(entries
                    .iter()
                    .filter(|entry| entry.metadata().is_file())
                    .map(|entry| entry.metadata().content_length())
                    .sum())
            }
        }
    }
}

fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => directory_size(&entry.path()),
            Ok(kind) if kind.is_file() => {
                entry.metadata().map(|metadata| metadata.len()).unwrap_or(0)
            }
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use crate::engine::Location;

    #[test]
    fn writers_of_one_file_never_share_a_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let store = Location::Local {
            root: directory.path().to_path_buf(),
        }
        .store()
        .unwrap();
        let contents = [vec![b'a'; 256 * 1024], vec![b'b'; 64 * 1024]];
        for _ in 0..20 {
            std::thread::scope(|scope| {
                for content in &contents {
                    let store = &store;
                    scope.spawn(move || store.write("snapshots/one.yaml", content).unwrap());
                }
            });
            let written = store.read("snapshots/one.yaml").unwrap().unwrap();
            assert!(
                contents.contains(&written),
                "interleaved: {} bytes",
                written.len()
            );
        }
    }
}
