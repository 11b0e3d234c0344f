//! The repository engine: restic-format repositories (through `rustic_core`) laid out in a
//! backend the way KubeStash lays them out, with restic-compatible locking, retention and
//! progress reporting.
//!
//! Every function here blocks. Call them from `tokio::task::spawn_blocking` or a plain
//! thread, never from an async task (rustic's S3 backend runs its own runtime).

pub mod keys;
pub mod layout;
pub mod location;
pub mod lock;
pub mod progress;
mod remote;
pub mod repository;
pub mod restore;
pub mod retention;
pub mod select;
mod source;
pub mod store;

pub use keys::KeyInfo;
pub use location::Location;
pub use progress::{ProgressEvent, ProgressSink};
pub use repository::{
    BackupRequest, BackupSummary, CheckReport, ComponentRepository, SnapshotSummary,
};
pub use restore::{RestoreRequest, RestoreSummary};
pub use store::Store;

/// Why a repository operation failed. Every variant names the repository or path involved;
/// none carries a password or credential.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The BackupStorage cannot be turned into a backend.
    #[error("BackupStorage `{storage}` is not usable: {reason}")]
    InvalidStorage {
        /// Name of the BackupStorage.
        storage: String,
        /// Why.
        reason: String,
    },
    /// The backend could not be reached or refused an operation.
    #[error("unable to access `{location}`: {cause}")]
    Backend {
        /// Where.
        location: String,
        /// The backend's error.
        cause: String,
    },
    /// The password opens no key of the repository.
    #[error("wrong password for repository `{repository}`: no key matches `RESTIC_PASSWORD`")]
    WrongPassword {
        /// The repository.
        repository: String,
    },
    /// There is no repository at the location.
    #[error("no repository at `{repository}`")]
    NoRepository {
        /// The location.
        repository: String,
    },
    /// A path to back up cannot be read.
    #[error("unable to read backup source `{path}`: {cause}")]
    Source {
        /// The path.
        path: String,
        /// Why.
        cause: String,
    },
    /// Another process holds a lock that conflicts.
    #[error("repository `{repository}` is locked by {holder}")]
    Locked {
        /// The repository.
        repository: String,
        /// Who holds the lock.
        holder: String,
    },
    /// The lock this operation held could no longer be kept: it was removed by another
    /// process, or not refreshed for so long that others may take it for stale. What the
    /// operation wrote meanwhile cannot be trusted.
    #[error("lost the lock on repository `{repository}`: {cause}")]
    LockLost {
        /// The repository.
        repository: String,
        /// Why.
        cause: String,
    },
    /// The snapshot does not exist.
    #[error("snapshot `{snapshot}` not found in repository `{repository}`")]
    SnapshotNotFound {
        /// The repository.
        repository: String,
        /// The snapshot id or name asked for.
        snapshot: String,
    },
    /// The check found problems.
    #[error("repository `{repository}` failed its check: {cause}")]
    Damaged {
        /// The repository.
        repository: String,
        /// What was found.
        cause: String,
    },
    /// A child process (a stream source or sink) failed.
    #[error("command `{command}` failed: {cause}")]
    Command {
        /// The command line.
        command: String,
        /// Why.
        cause: String,
    },
    /// A local file or directory operation failed.
    #[error("unable to use `{path}`: {cause}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        cause: String,
    },
    /// Any other failure of a repository operation.
    #[error("failed to {operation} in repository `{repository}`: {cause}")]
    Operation {
        /// What was being done, e.g. `back up`.
        operation: &'static str,
        /// The repository.
        repository: String,
        /// rustic's concise message.
        cause: String,
    },
}

impl EngineError {
    pub(crate) fn backend(location: &Location, error: &rustic_core::RusticError) -> Self {
        Self::Backend {
            location: location.describe(),
            cause: concise(error),
        }
    }

    pub(crate) fn operation(
        operation: &'static str,
        location: &Location,
        error: &rustic_core::RusticError,
    ) -> Self {
        if error.is_incorrect_password() {
            return Self::WrongPassword {
                repository: location.describe(),
            };
        }
        Self::Operation {
            operation,
            repository: location.describe(),
            cause: concise(error),
        }
    }
}

/// rustic's one-line error text, without its "Error: " prefix and guidance blocks.
pub(crate) fn concise(error: &rustic_core::RusticError) -> String {
    let text = error.display_log();
    text.strip_prefix("Error: ").unwrap_or(&text).to_string()
}

/// A human size in KubeStash's style: `12.222 MiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_kubestash() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(12_815_695), "12.222 MiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3 GiB");
    }
}
