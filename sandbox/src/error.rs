//! Errors of starting, driving and stopping a sandbox.

use std::path::PathBuf;

/// A sandbox operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A file or directory could not be created or written.
    #[error("failed to write `{path}`")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The API server could not listen.
    #[error("failed to listen on `{address}`")]
    Bind {
        /// The address asked for.
        address: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The binary for project-image pods could not be determined.
    #[error(
        "unable to find the binary for project-image pods; hint: set `KUBESTASH_SANDBOX_BINARY`"
    )]
    Binary(#[source] std::io::Error),
    /// An API operation the handle performed was refused.
    #[error("failed to {action}: {message}")]
    Api {
        /// What the handle tried to do.
        action: String,
        /// The server's message.
        message: String,
    },
}
