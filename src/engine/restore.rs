//! Reading data back out of a component repository: restore into a directory, dump one file
//! into a writer, and read the small files of a manifest snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustic_core::repofile::{Node, SnapshotFile};
use rustic_core::{
    Excludes, IndexedFullStatus, LocalDestination, LsOptions, Repository, RestoreOptions,
};

use crate::engine::lock::RepositoryLock;
use crate::engine::{concise, ComponentRepository, EngineError};

/// What to restore.
#[derive(Clone, Debug, Default)]
pub struct RestoreRequest {
    /// restic snapshot id, a unique prefix of one, or `latest`.
    pub snapshot: String,
    /// A path inside the snapshot to restore instead of the whole tree.
    pub path: Option<String>,
    /// Directory to restore into.
    pub destination: PathBuf,
    /// Only restore paths matching these globs.
    pub includes: Vec<String>,
    /// Leave out paths matching these globs.
    pub excludes: Vec<String>,
}

/// The result of one restore.
#[derive(Clone, Debug, PartialEq)]
pub struct RestoreSummary {
    /// The snapshot restored.
    pub snapshot_id: String,
    /// Files restored or already identical.
    pub files: u64,
    /// Bytes written.
    pub bytes_restored: u64,
    /// How long it took.
    pub duration: Duration,
}

impl ComponentRepository {
    /// Restores a snapshot (or a path in it) into a directory.
    pub fn restore(&self, request: &RestoreRequest) -> Result<RestoreSummary, EngineError> {
        let started = std::time::Instant::now();
        let (repository, snapshot, node, _lock) =
            self.open_at(&request.snapshot, request.path.as_deref().unwrap_or(""))?;
        let mut globs: Vec<String> = request.includes.clone();
        globs.extend(request.excludes.iter().map(|glob| format!("!{glob}")));
        let ls_options = LsOptions::default().excludes(Excludes::default().globs(globs));
        std::fs::create_dir_all(&request.destination).map_err(|error| EngineError::Io {
            path: request.destination.display().to_string(),
            cause: error.to_string(),
        })?;
        let destination_text = request.destination.display().to_string();
        let destination =
            LocalDestination::new(&destination_text, true, !node.is_dir()).map_err(|error| {
                EngineError::Io {
                    path: destination_text.clone(),
                    cause: concise(&error),
                }
            })?;
        let options = RestoreOptions::default();
        let listing = repository.ls(&node, &ls_options).map_err(|error| {
            EngineError::operation("list the snapshot", self.location(), &error)
        })?;
        let plan = repository
            .prepare_restore(&options, listing.clone(), &destination, false)
            .map_err(|error| EngineError::operation("plan the restore", self.location(), &error))?;
        let files =
            plan.stats.files.restore + plan.stats.files.unchanged + plan.stats.files.verified;
        let bytes = plan.restore_size;
        repository
            .restore(plan, &options, listing, &destination)
            .map_err(|error| EngineError::operation("restore", self.location(), &error))?;
        Ok(RestoreSummary {
            snapshot_id: snapshot.id.to_hex().to_string(),
            files,
            bytes_restored: bytes,
            duration: started.elapsed(),
        })
    }

    /// Opens the repository fully indexed under a shared lock (so no prune removes packs
    /// while they are read) and finds `path` in `snapshot`.
    fn open_at(
        &self,
        snapshot: &str,
        path: &str,
    ) -> Result<
        (
            Repository<IndexedFullStatus>,
            SnapshotFile,
            Node,
            RepositoryLock,
        ),
        EngineError,
    > {
        let repository = self.open()?;
        let lock = self.lock(&repository, false)?;
        let repository = repository
            .to_indexed()
            .map_err(|error| EngineError::operation("read the index", self.location(), &error))?;
        let found = self.find_snapshot(&repository, snapshot)?;
        let node = repository
            .node_from_snapshot_and_path(&found, path)
            .map_err(|error| {
                EngineError::operation("find the path in the snapshot", self.location(), &error)
            })?;
        Ok((repository, found, node, lock))
    }

    pub(crate) fn find_snapshot<S: rustic_core::Open>(
        &self,
        repository: &Repository<S>,
        wanted: &str,
    ) -> Result<SnapshotFile, EngineError> {
        repository
            .get_snapshot_from_str(wanted, |_| true)
            .map_err(|error| {
                let text = concise(&error);
                if text.contains("No snapshot")
                    || text.contains("not found")
                    || text.contains("No suitable")
                {
                    EngineError::SnapshotNotFound {
                        repository: self.location().describe(),
                        snapshot: wanted.to_string(),
                    }
                } else {
                    EngineError::operation("find the snapshot", self.location(), &error)
                }
            })
    }

    /// Writes one file of a snapshot to `writer` (e.g. a child's stdin such as `psql`).
    pub fn dump(
        &self,
        snapshot: &str,
        path: &str,
        writer: &mut impl Write,
    ) -> Result<(), EngineError> {
        let (repository, _, node, _lock) = self.open_at(snapshot, path)?;
        repository
            .dump(&node, writer)
            .map_err(|error| EngineError::operation("dump the file", self.location(), &error))
    }

    /// Every regular file below `prefix` in a snapshot, with its contents (for manifest
    /// snapshots, which are small).
    pub fn read_files(
        &self,
        snapshot: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, EngineError> {
        let (repository, _, node, _lock) = self.open_at(snapshot, prefix)?;
        let mut files = Vec::new();
        let listing = repository
            .ls(&node, &LsOptions::default())
            .map_err(|error| {
                EngineError::operation("list the snapshot", self.location(), &error)
            })?;
        for entry in listing {
            let (path, file) = entry.map_err(|error| {
                EngineError::operation("list the snapshot", self.location(), &error)
            })?;
            if !file.is_file() {
                continue;
            }
            let mut data = Vec::new();
            repository
                .dump(&file, &mut data)
                .map_err(|error| EngineError::operation("read a file", self.location(), &error))?;
            files.push((
                format!(
                    "/{}",
                    Path::new(prefix.trim_start_matches('/'))
                        .join(path)
                        .display()
                ),
                data,
            ));
        }
        Ok(files)
    }
}
