//! One restic repository (one component of a KubeStash repository): init, backup of paths or
//! a stream, snapshot listing, restore, dump, forget, prune, check and keys.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustic_core::repofile::{KeyFile, KeyId, Metadata, Node, NodeType, SnapshotFile};
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, Excludes, KeyOptions,
    LocalDestination, LsOptions, OpenStatus, ParentOptions, PathList, PruneOptions, ReadSource,
    ReadSourceEntry, ReadSubsetOption, Repository, RepositoryOptions, RestoreOptions, RusticResult,
    SnapshotOptions,
};

use crate::engine::lock::{self, RepositoryLock};
use crate::engine::progress::SinkBars;
use crate::engine::{concise, EngineError, Location, ProgressSink};

/// How long an operation waits for a conflicting lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// What to back up.
#[derive(Clone, Debug, Default)]
pub struct BackupRequest {
    /// Paths to read, as this process sees them.
    pub paths: Vec<PathBuf>,
    /// The path to record in the snapshot for a single source path (e.g. the container mount
    /// path when the data is read from elsewhere, as in the sandbox).
    pub record_as: Option<PathBuf>,
    /// Paths or globs to leave out (restic `--exclude`).
    pub excludes: Vec<String>,
    /// Host recorded in the snapshot (KubeStash uses the component name).
    pub host: Option<String>,
    /// Tags recorded in the snapshot.
    pub tags: Vec<String>,
}

/// The result of one backup.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupSummary {
    /// restic snapshot id.
    pub snapshot_id: String,
    /// Paths recorded in the snapshot.
    pub paths: Vec<String>,
    /// Files read.
    pub files: u64,
    /// Files new since the parent snapshot.
    pub files_new: u64,
    /// Bytes read.
    pub bytes_processed: u64,
    /// Bytes added to the repository after compression.
    pub bytes_uploaded: u64,
    /// When the backup started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub ended: DateTime<Utc>,
}

impl BackupSummary {
    /// How long the backup took.
    pub fn duration(&self) -> Duration {
        (self.ended - self.started).to_std().unwrap_or_default()
    }
}

/// A snapshot as listed.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotSummary {
    /// restic snapshot id (full hex).
    pub id: String,
    /// When it was taken.
    pub time: DateTime<Utc>,
    /// Host recorded.
    pub host: String,
    /// Paths recorded.
    pub paths: Vec<String>,
    /// Tags recorded.
    pub tags: Vec<String>,
    /// Bytes read by the backup, when the writer recorded a summary.
    pub bytes_processed: Option<u64>,
}

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

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Problems found, most severe first; empty when the repository is sound.
    pub problems: Vec<String>,
}

/// A key of a repository.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyInfo {
    /// Key id (hex).
    pub id: String,
    /// Whether this process opened the repository with it.
    pub current: bool,
    /// Host recorded in the key.
    pub host: Option<String>,
    /// User recorded in the key.
    pub user: Option<String>,
    /// When it was created.
    pub created: Option<String>,
}

/// One restic repository and the password that opens it.
#[derive(Clone)]
pub struct ComponentRepository {
    location: Location,
    password: String,
    progress: Option<Arc<dyn ProgressSink>>,
    cache_dir: Option<PathBuf>,
}

impl std::fmt::Debug for ComponentRepository {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ComponentRepository")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn to_utc(time: &jiff::Zoned) -> DateTime<Utc> {
    let timestamp = time.timestamp();
    DateTime::from_timestamp(
        timestamp.as_second(),
        timestamp.subsec_nanosecond().max(0) as u32,
    )
    .unwrap_or_default()
}

use rustic_core::jiff;

impl ComponentRepository {
    /// A repository at `location` opened with `password` (the `RESTIC_PASSWORD`).
    pub fn new(location: Location, password: impl Into<String>) -> Self {
        Self {
            location,
            password: password.into(),
            progress: None,
            cache_dir: None,
        }
    }

    /// Reports backup and restore progress to `sink`.
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Keeps rustic's index and tree cache in `directory` (faster re-backups over S3).
    pub fn with_cache_dir(mut self, directory: PathBuf) -> Self {
        self.cache_dir = Some(directory);
        self
    }

    /// Where the repository is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    fn unopened(&self) -> Result<Repository<()>, EngineError> {
        let options = match &self.cache_dir {
            Some(directory) => RepositoryOptions::default().cache_dir(directory.clone()),
            None => RepositoryOptions::default().no_cache(true),
        };
        let backends = self.location.backends()?;
        let repository = match &self.progress {
            Some(sink) => Repository::new_with_progress(
                &options,
                &backends,
                SinkBars::new(sink.clone(), Duration::from_millis(500)),
            ),
            None => Repository::new(&options, &backends),
        };
        repository.map_err(|error| EngineError::backend(&self.location, &error))
    }

    fn credentials(&self) -> Credentials {
        Credentials::password(&self.password)
    }

    /// Whether a repository exists at the location.
    pub fn exists(&self) -> Result<bool, EngineError> {
        let repository = self.unopened()?;
        repository
            .config_id()
            .map(|id| id.is_some())
            .map_err(|error| EngineError::backend(&self.location, &error))
    }

    fn open(&self) -> Result<Repository<OpenStatus>, EngineError> {
        let repository = self.unopened()?;
        let exists = repository
            .config_id()
            .map_err(|error| EngineError::backend(&self.location, &error))?
            .is_some();
        if !exists {
            return Err(EngineError::NoRepository {
                repository: self.location.describe(),
            });
        }
        repository
            .open(&self.credentials())
            .map_err(|error| EngineError::operation("open the repository", &self.location, &error))
    }

    fn lock(
        &self,
        repository: &Repository<OpenStatus>,
        exclusive: bool,
    ) -> Result<RepositoryLock, EngineError> {
        lock::acquire(&self.location, &repository.key(), exclusive, LOCK_WAIT)
    }

    /// The master key (for lock files and key management tools).
    pub fn master_key(&self) -> Result<rustic_core::repofile::MasterKey, EngineError> {
        Ok(self.open()?.key())
    }

    /// Creates the repository, or checks that the existing one opens with the password.
    /// Returns whether it was created.
    pub fn init(&self) -> Result<bool, EngineError> {
        if self.exists()? {
            self.open()?;
            return Ok(false);
        }
        let repository = self.unopened()?;
        repository
            .init(
                &self.credentials(),
                &KeyOptions::default().with_created(true),
                &ConfigOptions::default(),
            )
            .map_err(|error| {
                EngineError::operation("initialize the repository", &self.location, &error)
            })?;
        Ok(true)
    }

    fn snapshot_template(
        &self,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<SnapshotFile, EngineError> {
        let mut options = SnapshotOptions::default();
        if let Some(host) = host {
            options = options.host(host.to_string());
        }
        for tag in tags {
            options = options.add_tags(tag).map_err(|error| {
                EngineError::operation("tag the snapshot", &self.location, &error)
            })?;
        }
        options
            .to_snapshot()
            .map_err(|error| EngineError::operation("prepare the snapshot", &self.location, &error))
    }

    /// Backs up paths, de-duplicating against the previous snapshot of the same host and paths.
    pub fn backup(&self, request: &BackupRequest) -> Result<BackupSummary, EngineError> {
        if request.paths.is_empty() {
            return Err(EngineError::Source {
                path: String::new(),
                cause: "no paths to back up".into(),
            });
        }
        for path in &request.paths {
            std::fs::read_dir(path)
                .map(|_| ())
                .or_else(|error| {
                    if path.is_file() {
                        std::fs::File::open(path).map(|_| ())
                    } else {
                        Err(error)
                    }
                })
                .map_err(|error| EngineError::Source {
                    path: path.display().to_string(),
                    cause: error.to_string(),
                })?;
        }
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        let repository = repository
            .to_indexed_ids()
            .map_err(|error| EngineError::operation("read the index", &self.location, &error))?;
        let text: Vec<String> = request
            .paths
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        let sources = PathList::from_iter(request.paths.iter().cloned())
            .sanitize()
            .map_err(|error| EngineError::Source {
                path: text.join(", "),
                cause: error.to_string(),
            })?;
        let mut options = BackupOptions::default()
            .parent_opts(ParentOptions::default())
            .excludes(
                Excludes::default().globs(
                    request
                        .excludes
                        .iter()
                        .map(|glob| format!("!{glob}"))
                        .collect::<Vec<_>>(),
                ),
            );
        if let (Some(record_as), 1) = (&request.record_as, request.paths.len()) {
            options = options.as_path(record_as.clone());
        }
        let template = self.snapshot_template(request.host.as_deref(), &request.tags)?;
        let snapshot = repository
            .backup(&options, &sources, template)
            .map_err(|error| EngineError::operation("back up", &self.location, &error))?;
        Ok(summary_of(&snapshot))
    }

    /// Backs up the bytes of `reader` (e.g. a child's stdout such as `pg_dump`) as one file
    /// named `file_name`, without a temporary file.
    pub fn backup_stream(
        &self,
        reader: impl Read + Send + 'static,
        file_name: &str,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<BackupSummary, EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        let repository = repository
            .to_indexed_ids()
            .map_err(|error| EngineError::operation("read the index", &self.location, &error))?;
        let path = PathBuf::from(file_name.trim_start_matches('/'));
        let source = StreamSource {
            path: path.clone(),
            reader: Mutex::new(Some(Box::new(reader))),
        };
        let options = BackupOptions::default().stdin_filename(file_name.to_string());
        let template = self.snapshot_template(host, tags)?;
        let snapshot = repository
            .archive(&options, &source, template, &[path])
            .map_err(|error| {
                EngineError::operation("back up the stream", &self.location, &error)
            })?;
        Ok(summary_of(&snapshot))
    }

    /// Backs up the stdout of `command` as `file_name`; fails if the command fails.
    pub fn backup_command_output(
        &self,
        command: &mut std::process::Command,
        file_name: &str,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<BackupSummary, EngineError> {
        let line = format!("{command:?}");
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|error| EngineError::Command {
                command: line.clone(),
                cause: error.to_string(),
            })?;
        let stdout = child.stdout.take().ok_or_else(|| EngineError::Command {
            command: line.clone(),
            cause: "no stdout".into(),
        })?;
        let result = self.backup_stream(stdout, file_name, host, tags);
        let status = child.wait().map_err(|error| EngineError::Command {
            command: line.clone(),
            cause: error.to_string(),
        })?;
        let summary = result?;
        if !status.success() {
            // The snapshot holds a truncated dump; it must not count as a backup.
            let _ = self.forget(std::slice::from_ref(&summary.snapshot_id));
            return Err(EngineError::Command {
                command: line,
                cause: format!("exited with {status}"),
            });
        }
        Ok(summary)
    }

    /// Snapshots carrying every tag in `tags`, oldest first.
    pub fn snapshots(&self, tags: &[String]) -> Result<Vec<SnapshotSummary>, EngineError> {
        let repository = self.open()?;
        let mut snapshots: Vec<SnapshotSummary> = repository
            .get_all_snapshots()
            .map_err(|error| EngineError::operation("list snapshots", &self.location, &error))?
            .into_iter()
            .filter(|snapshot| tags.iter().all(|tag| snapshot.tags.contains(tag)))
            .map(|snapshot| SnapshotSummary {
                id: snapshot.id.to_hex().to_string(),
                time: to_utc(&snapshot.time),
                host: snapshot.hostname.clone(),
                paths: snapshot.paths.iter().cloned().collect(),
                tags: snapshot.tags.iter().cloned().collect(),
                bytes_processed: snapshot
                    .summary
                    .as_ref()
                    .map(|summary| summary.total_bytes_processed),
            })
            .collect();
        snapshots.sort_by_key(|snapshot| snapshot.time);
        Ok(snapshots)
    }

    /// Restores a snapshot (or a path in it) into a directory.
    pub fn restore(&self, request: &RestoreRequest) -> Result<RestoreSummary, EngineError> {
        let started = std::time::Instant::now();
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        let repository = repository
            .to_indexed()
            .map_err(|error| EngineError::operation("read the index", &self.location, &error))?;
        let snapshot = self.find_snapshot(&repository, &request.snapshot)?;
        let node = repository
            .node_from_snapshot_and_path(&snapshot, request.path.as_deref().unwrap_or(""))
            .map_err(|error| {
                EngineError::operation("find the path in the snapshot", &self.location, &error)
            })?;
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
        let listing = repository
            .ls(&node, &ls_options)
            .map_err(|error| EngineError::operation("list the snapshot", &self.location, &error))?;
        let plan = repository
            .prepare_restore(&options, listing.clone(), &destination, false)
            .map_err(|error| EngineError::operation("plan the restore", &self.location, &error))?;
        let files =
            plan.stats.files.restore + plan.stats.files.unchanged + plan.stats.files.verified;
        let bytes = plan.restore_size;
        repository
            .restore(plan, &options, listing, &destination)
            .map_err(|error| EngineError::operation("restore", &self.location, &error))?;
        Ok(RestoreSummary {
            snapshot_id: snapshot.id.to_hex().to_string(),
            files,
            bytes_restored: bytes,
            duration: started.elapsed(),
        })
    }

    fn find_snapshot<S: rustic_core::Open>(
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
                        repository: self.location.describe(),
                        snapshot: wanted.to_string(),
                    }
                } else {
                    EngineError::operation("find the snapshot", &self.location, &error)
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
        let repository = self.open()?;
        let repository = repository
            .to_indexed()
            .map_err(|error| EngineError::operation("read the index", &self.location, &error))?;
        let found = self.find_snapshot(&repository, snapshot)?;
        let node = repository
            .node_from_snapshot_and_path(&found, path)
            .map_err(|error| {
                EngineError::operation("find the file in the snapshot", &self.location, &error)
            })?;
        repository
            .dump(&node, writer)
            .map_err(|error| EngineError::operation("dump the file", &self.location, &error))
    }

    /// Removes snapshots by id (without pruning their data).
    pub fn forget(&self, ids: &[String]) -> Result<usize, EngineError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let repository = self.open()?;
        let _lock = self.lock(&repository, true)?;
        let snapshots = repository.get_snapshots(ids).map_err(|error| {
            EngineError::operation("find snapshots to forget", &self.location, &error)
        })?;
        let found: Vec<_> = snapshots.iter().map(|snapshot| snapshot.id).collect();
        repository
            .delete_snapshots(&found)
            .map_err(|error| EngineError::operation("forget snapshots", &self.location, &error))?;
        Ok(found.len())
    }

    /// Removes data no snapshot uses any more. Packs are deleted at once: the exclusive
    /// lock guarantees nothing else writes meanwhile.
    pub fn prune(&self) -> Result<(), EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, true)?;
        let options = PruneOptions::default().instant_delete(true);
        let plan = repository
            .prune_plan(&options)
            .map_err(|error| EngineError::operation("plan the prune", &self.location, &error))?;
        repository
            .prune(&options, plan)
            .map_err(|error| EngineError::operation("prune", &self.location, &error))
    }

    /// Checks the repository structure, and with `read_data_percent` also reads that share
    /// of the packs (100 for all).
    pub fn check(&self, read_data_percent: Option<f64>) -> Result<CheckReport, EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        let mut options = CheckOptions::default();
        if let Some(percent) = read_data_percent {
            let subset = if percent >= 100.0 {
                ReadSubsetOption::All
            } else {
                ReadSubsetOption::Percentage(percent)
            };
            options = options.read_data(true).read_data_subset(subset);
        }
        let results = repository
            .check(options)
            .map_err(|error| EngineError::operation("check", &self.location, &error))?;
        let problems = results
            .0
            .iter()
            .map(|(level, error)| format!("{level:?}: {error}"))
            .collect();
        Ok(CheckReport { problems })
    }

    /// The keys of the repository.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, EngineError> {
        let repository = self.open()?;
        let current = *repository.key_id();
        let ids: Vec<KeyId> = repository
            .list::<KeyId>()
            .map_err(|error| EngineError::operation("list keys", &self.location, &error))?
            .collect();
        let mut keys = Vec::new();
        for id in ids {
            let file: KeyFile = repository
                .get_file(&id)
                .map_err(|error| EngineError::operation("read a key", &self.location, &error))?;
            keys.push(KeyInfo {
                id: id.to_hex().to_string(),
                current: current == Some(id),
                host: file.hostname.clone(),
                user: file.username.clone(),
                created: file.created.as_ref().map(|time| to_utc(time).to_rfc3339()),
            });
        }
        keys.sort_by(|left, right| left.created.cmp(&right.created));
        Ok(keys)
    }

    /// Adds a key for `password`; returns its id.
    pub fn add_key(
        &self,
        password: &str,
        host: Option<&str>,
        user: Option<&str>,
    ) -> Result<String, EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        let mut options = KeyOptions::default().with_created(true);
        if let Some(host) = host {
            options = options.hostname(host.to_string());
        }
        if let Some(user) = user {
            options = options.username(user.to_string());
        }
        let id = repository
            .add_key(password, &options)
            .map_err(|error| EngineError::operation("add a key", &self.location, &error))?;
        Ok(id.to_hex().to_string())
    }

    /// Removes a key by id (or unique id prefix); the key in use cannot be removed.
    pub fn remove_key(&self, id: &str) -> Result<(), EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, true)?;
        let ids: Vec<KeyId> = repository
            .find_ids::<KeyId, _>(&[id])
            .map_err(|error| EngineError::operation("find the key", &self.location, &error))?
            .collect();
        let key = ids.first().ok_or_else(|| EngineError::Operation {
            operation: "remove a key",
            repository: self.location.describe(),
            cause: format!("no key `{id}`"),
        })?;
        repository
            .delete_key(key)
            .map_err(|error| EngineError::operation("remove a key", &self.location, &error))
    }

    /// Replaces the password: adds a key for `new_password`, then removes the current key.
    /// Returns the repository opened with the new password.
    pub fn change_password(&self, new_password: &str) -> Result<Self, EngineError> {
        let old_key = {
            let repository = self.open()?;
            *repository.key_id()
        };
        self.add_key(new_password, None, None)?;
        let updated = Self {
            password: new_password.to_string(),
            ..self.clone()
        };
        if let Some(old_key) = old_key {
            let repository = updated.open()?;
            let _lock = updated.lock(&repository, true)?;
            repository.delete_key(&old_key).map_err(|error| {
                EngineError::operation("remove the old key", &self.location, &error)
            })?;
        }
        Ok(updated)
    }

    /// Bytes stored in the repository.
    pub fn size(&self) -> Result<u64, EngineError> {
        self.location.store()?.size("")
    }
}

fn summary_of(snapshot: &SnapshotFile) -> BackupSummary {
    let summary = snapshot.summary.clone().unwrap_or_default();
    BackupSummary {
        snapshot_id: snapshot.id.to_hex().to_string(),
        paths: snapshot.paths.iter().cloned().collect(),
        files: summary.total_files_processed,
        files_new: summary.files_new,
        bytes_processed: summary.total_bytes_processed,
        bytes_uploaded: summary.data_added_packed,
        started: to_utc(&summary.backup_start),
        ended: to_utc(&summary.backup_end),
    }
}

/// A single-file source reading from any reader, consumed once.
struct StreamSource {
    path: PathBuf,
    reader: Mutex<Option<Box<dyn Read + Send>>>,
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

/// Whether `path` looks like something a restic repository holds (its `config` file).
pub fn looks_like_repository(path: &Path) -> bool {
    path.join("config").is_file()
}
