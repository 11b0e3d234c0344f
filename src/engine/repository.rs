//! One restic repository (one component of a KubeStash repository): init, backup of paths or
//! a stream, snapshot listing, restore, dump, forget, prune, check and keys.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustic_core::repofile::SnapshotFile;
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, Excludes, IndexedIdsStatus,
    KeyOptions, LocalSource, OpenStatus, ParentOptions, PathList, PruneOptions, ReadSubsetOption,
    Repository, RepositoryOptions, SnapshotOptions,
};

use crate::engine::keys;
use crate::engine::lock::{self, RepositoryLock};
use crate::engine::progress::SinkBars;
use crate::engine::source::{
    FailureRecorder, MemorySource, RecordingSource, StreamSource, UnreadableLog,
};
use crate::engine::{EngineError, Location, ProgressSink};

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
    /// How many files or directories could not be read and are missing from the snapshot
    /// (restic's exit code 3).
    pub unreadable: usize,
    /// The first few of them, `path: cause`.
    pub unreadable_named: Vec<String>,
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

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Problems found, most severe first; empty when the repository is sound.
    pub problems: Vec<String>,
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

pub(crate) fn to_utc(time: &jiff::Zoned) -> DateTime<Utc> {
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

    /// The same repository opened with another password.
    pub(crate) fn with_password(&self, password: &str) -> Self {
        Self {
            password: password.to_string(),
            ..self.clone()
        }
    }

    /// The progress sink, if any.
    pub(crate) fn progress_sink(&self) -> Option<Arc<dyn ProgressSink>> {
        self.progress.clone()
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

    pub(crate) fn open(&self) -> Result<Repository<OpenStatus>, EngineError> {
        Ok(self.open_with_key()?.0)
    }

    /// Opens the repository; also returns the id of the key the password unlocked.
    pub(crate) fn open_with_key(
        &self,
    ) -> Result<(Repository<OpenStatus>, rustic_core::repofile::KeyId), EngineError> {
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
        let (key_id, master) = keys::unlock(&self.location.retrying_store()?, &self.password)?
            .ok_or_else(|| EngineError::WrongPassword {
                repository: self.location.describe(),
            })?;
        let repository = repository
            .open(&Credentials::Masterkey(master))
            .map_err(|error| {
                EngineError::operation("open the repository", &self.location, &error)
            })?;
        Ok((repository, key_id))
    }

    pub(crate) fn lock(
        &self,
        repository: &Repository<OpenStatus>,
        exclusive: bool,
    ) -> Result<RepositoryLock, EngineError> {
        lock::acquire(&self.location, &repository.key(), exclusive, LOCK_WAIT)
    }

    /// Opens the repository for writing a backup: indexed by blob id, under a shared lock.
    fn open_for_backup(
        &self,
    ) -> Result<(Repository<IndexedIdsStatus>, RepositoryLock), EngineError> {
        let repository = self.open()?;
        let lock = self.lock(&repository, false)?;
        let repository = repository
            .to_indexed_ids()
            .map_err(|error| EngineError::operation("read the index", &self.location, &error))?;
        Ok((repository, lock))
    }

    /// Creates the repository, or checks that the existing one opens with the password.
    /// Returns whether it was created.
    pub fn init(&self) -> Result<bool, EngineError> {
        if self.exists()? {
            self.open()?;
            return Ok(false);
        }
        let repository = self.unopened()?;
        let repository = repository
            .init(
                &self.credentials(),
                &KeyOptions::default().with_created(true),
                &repository_config(),
            )
            .map_err(|error| {
                EngineError::operation("initialize the repository", &self.location, &error)
            })?;
        // rustic writes its first key with its own scrypt cost; replace it with one of ours
        // (see `keys::KDF_LOG_N`). The new key is written before the old one goes, so a crash
        // in between leaves two keys for the same password.
        let host = lock::hostname();
        self.write_key(&repository.key(), &self.password, Some(&host), None)?;
        if let Some(first) = repository.key_id() {
            self.location
                .store()?
                .delete(&format!("keys/{}", &*first.to_hex()))?;
        }
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
        let (repository, lock) = self.open_for_backup()?;
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
        let backup_paths = sources.paths();
        let log = UnreadableLog::default();
        let source = RecordingSource {
            inner: LocalSource::new(
                options.ignore_save_opts,
                &options.excludes,
                &options.ignore_filter_opts,
                &backup_paths,
            )
            .map_err(|error| EngineError::Source {
                path: text.join(", "),
                cause: error.to_string(),
            })?,
            log: log.clone(),
        };
        let snapshot = repository
            .archive(&options, &source, template, &backup_paths)
            .map_err(|error| EngineError::operation("back up", &self.location, &error))?;
        let mut summary = summary_of(&snapshot);
        self.ensure_locked(lock, "back up", &summary)?;
        if let Ok(mut unreadable) = log.lock() {
            summary.unreadable = unreadable.count;
            summary.unreadable_named = std::mem::take(&mut unreadable.first);
        }
        Ok(summary)
    }

    /// Backs up the bytes of `reader` (e.g. a child's stdout such as `pg_dump`) as one file
    /// named `file_name`, without a temporary file. A read error fails the backup and leaves
    /// no snapshot.
    pub fn backup_stream(
        &self,
        reader: impl Read + Send + 'static,
        file_name: &str,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<BackupSummary, EngineError> {
        let path = PathBuf::from(file_name.trim_start_matches('/'));
        if path.file_name().is_none() {
            return Err(EngineError::Source {
                path: file_name.to_string(),
                cause: "a stream needs a file name to be stored under".into(),
            });
        }
        let (repository, lock) = self.open_for_backup()?;
        let log = UnreadableLog::default();
        let source = StreamSource {
            path: path.clone(),
            reader: Mutex::new(Some(Box::new(FailureRecorder {
                inner: reader,
                path: PathBuf::new(),
                log: log.clone(),
                failed: false,
            }))),
        };
        // A stream has no size or times to compare with a parent snapshot's file: with a
        // parent, rustic would take the parent's content as unchanged and never read it.
        let options = BackupOptions::default()
            .stdin_filename(file_name.to_string())
            .parent_opts(ParentOptions::default().force(true));
        let template = self.snapshot_template(host, tags)?;
        let snapshot = repository
            .archive(&options, &source, template, &[path])
            .map_err(|error| {
                EngineError::operation("back up the stream", &self.location, &error)
            })?;
        let summary = summary_of(&snapshot);
        let lock = self.ensure_locked(lock, "back up the stream", &summary)?;
        let failed = log
            .lock()
            .ok()
            .and_then(|mut unreadable| unreadable.first.drain(..).next());
        if let Some(cause) = failed {
            // rustic leaves a file it cannot read out of the snapshot and saves the rest.
            drop(lock);
            return Err(self.discard(
                "back up the stream",
                &summary.snapshot_id,
                EngineError::Source {
                    path: file_name.to_string(),
                    cause,
                },
            ));
        }
        Ok(summary)
    }

    /// Passes `lock` back when it still holds after a backup wrote `summary`'s snapshot.
    /// When it was lost, a prune elsewhere may have removed data the snapshot refers to:
    /// the snapshot is forgotten and the loss returned.
    fn ensure_locked(
        &self,
        lock: RepositoryLock,
        operation: &'static str,
        summary: &BackupSummary,
    ) -> Result<RepositoryLock, EngineError> {
        match lock.ensure_held() {
            Ok(()) => Ok(lock),
            Err(error) => {
                drop(lock);
                Err(self.discard(operation, &summary.snapshot_id, error))
            }
        }
    }

    /// Forgets a snapshot that must not count as a backup and returns `error`, naming the
    /// snapshot when it could not be forgotten.
    fn discard(
        &self,
        operation: &'static str,
        snapshot_id: &str,
        error: EngineError,
    ) -> EngineError {
        match (self.forget(&[snapshot_id.to_string()]), error) {
            (Ok(_), error) => error,
            (Err(forget), EngineError::LockLost { repository, cause }) => EngineError::LockLost {
                repository,
                cause: format!(
                    "{cause}; the snapshot {snapshot_id} written meanwhile could not be forgotten ({forget}): check the repository and forget it by hand"
                ),
            },
            (Err(forget), error) => EngineError::Operation {
                operation,
                repository: self.location.describe(),
                cause: format!(
                    "{error}; the incomplete snapshot {snapshot_id} could not be forgotten ({forget}): forget it by hand"
                ),
            },
        }
    }

    /// Backs up in-memory files (e.g. a manifest dump) as one snapshot, without a scratch
    /// directory. Paths are absolute inside the snapshot (`/deployments.apps/...`).
    pub fn backup_files(
        &self,
        files: Vec<(PathBuf, Vec<u8>)>,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<BackupSummary, EngineError> {
        let (repository, lock) = self.open_for_backup()?;
        let mut files: Vec<(PathBuf, Vec<u8>)> = files
            .into_iter()
            .map(|(path, data)| {
                (
                    Path::new("/").join(path.strip_prefix("/").unwrap_or(&path)),
                    data,
                )
            })
            .collect();
        // The archiver builds directories from consecutive paths, so they must come sorted.
        files.sort_by(|left, right| left.0.cmp(&right.0));
        let source = MemorySource {
            files: Mutex::new(files),
        };
        let template = self.snapshot_template(host, tags)?;
        let snapshot = repository
            .archive(
                &BackupOptions::default().parent_opts(ParentOptions::default().force(true)),
                &source,
                template,
                &[PathBuf::from("/")],
            )
            .map_err(|error| EngineError::operation("back up the files", &self.location, &error))?;
        let summary = summary_of(&snapshot);
        self.ensure_locked(lock, "back up the files", &summary)?;
        Ok(summary)
    }

    /// Backs up the stdout of `command` as `file_name`; fails if the command fails, with
    /// the end of its stderr, and then leaves no snapshot.
    pub fn backup_command_output(
        &self,
        command: &mut std::process::Command,
        file_name: &str,
        host: Option<&str>,
        tags: &[String],
    ) -> Result<BackupSummary, EngineError> {
        // Program and arguments only: `Debug` would also print the environment set on the
        // command, passwords included.
        let line = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|part| part.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let failed = |cause: String| EngineError::Command {
            command: line.clone(),
            cause,
        };
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|error| failed(error.to_string()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed("no stdout".into()))?;
        let stderr = child
            .stderr
            .take()
            .map(|stderr| std::thread::spawn(move || tail_of(stderr, STDERR_TAIL)));
        let result = self.backup_stream(stdout, file_name, host, tags);
        if result.is_err() {
            // It may not be reading its output any more, or still working before it writes.
            let _ = child.kill();
        }
        let status = child.wait().map_err(|error| failed(error.to_string()));
        let stderr = stderr
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        let summary = result?;
        let status = match status {
            Ok(status) => status,
            Err(error) => {
                return Err(self.discard("back up the stream", &summary.snapshot_id, error))
            }
        };
        if !status.success() {
            // The snapshot holds a truncated dump; it must not count as a backup.
            let stderr = stderr.trim();
            let cause = if stderr.is_empty() {
                format!("exited with {status}")
            } else {
                format!("exited with {status}: {stderr}")
            };
            return Err(self.discard("back up the stream", &summary.snapshot_id, failed(cause)));
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

    /// Removes snapshots by id (without pruning their data).
    pub fn forget(&self, ids: &[String]) -> Result<usize, EngineError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let repository = self.open()?;
        let lock = self.lock(&repository, true)?;
        let snapshots = repository.get_snapshots(ids).map_err(|error| {
            EngineError::operation("find snapshots to forget", &self.location, &error)
        })?;
        let found: Vec<_> = snapshots.iter().map(|snapshot| snapshot.id).collect();
        lock.ensure_held()?;
        repository
            .delete_snapshots(&found)
            .map_err(|error| EngineError::operation("forget snapshots", &self.location, &error))?;
        Ok(found.len())
    }

    /// Applies the successful-snapshot rules of a RetentionPolicy: forgets what the policy
    /// does not keep (among snapshots carrying every tag in `tags`), then prunes when anything
    /// was forgotten. Returns the ids forgotten, newest first.
    pub fn apply_retention(
        &self,
        policy: &crate::api::storage::RetentionPolicySpec,
        tags: &[String],
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<String>, EngineError> {
        let snapshots = self.snapshots(tags)?;
        let selection = crate::engine::retention::select_successful(&snapshots, policy, now);
        let forgotten: Vec<String> = selection
            .forget
            .into_iter()
            .map(|snapshot| snapshot.id)
            .collect();
        if !forgotten.is_empty() {
            self.forget(&forgotten)?;
            self.prune()?;
        }
        Ok(forgotten)
    }

    /// Removes data no snapshot uses any more. Packs are deleted at once: the exclusive
    /// lock guarantees nothing else writes meanwhile.
    pub fn prune(&self) -> Result<(), EngineError> {
        let repository = self.open()?;
        let lock = self.lock(&repository, true)?;
        let options = PruneOptions::default().instant_delete(true);
        let plan = repository
            .prune_plan(&options)
            .map_err(|error| EngineError::operation("plan the prune", &self.location, &error))?;
        // Planning reads every pack header; a backup that took the lock for stale meanwhile
        // would write blobs the plan does not know.
        lock.ensure_held()?;
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

    /// Bytes stored in the repository.
    pub fn size(&self) -> Result<u64, EngineError> {
        self.location.store()?.size("")
    }
}

/// Settings of new repositories. zstd level 1 instead of 3 saves ~15% of backup CPU for a
/// repository ~1% smaller on the benchmark data. Data packs start at 4 MiB (restic's size
/// before 0.14; rustic grows them with the repository, ~14 MiB at 100 GiB): the backup
/// pipeline holds a few packs at once, and at 16 MiB its peak was 132-173 MB against
/// restic's ~140 MB, at 4 MiB 113-127 MB, for the same speed. Both are plain restic format v2.
fn repository_config() -> ConfigOptions {
    let mut options = ConfigOptions::default();
    options.set_compression = Some(1);
    options.set_datapack_size = "4 MiB".parse().ok();
    options
}

/// How much of a failed command's stderr its error carries.
const STDERR_TAIL: usize = 2048;

/// The last `limit` bytes `reader` gives until its end, as text.
fn tail_of(mut reader: impl Read, limit: usize) -> String {
    let mut tail = std::collections::VecDeque::with_capacity(limit);
    let mut buffer = [0u8; 4096];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                tail.extend(&buffer[..read]);
                let excess = tail.len().saturating_sub(limit);
                tail.drain(..excess);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(tail.make_contiguous()).into_owned()
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
        unreadable: 0,
        unreadable_named: Vec::new(),
    }
}

/// Whether `path` looks like something a restic repository holds (its `config` file).
pub fn looks_like_repository(path: &Path) -> bool {
    path.join("config").is_file()
}
