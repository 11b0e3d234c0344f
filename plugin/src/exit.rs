//! Exit codes and how errors are printed: `error: …` with the cause chain, then `hint: …`.

use std::fmt;
use std::process::ExitCode;

/// The exit codes users and CI scripts rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The operation succeeded.
    Success = 0,
    /// The operation ran and failed.
    Failed = 1,
    /// Bad input or usage.
    BadInput = 2,
    /// Timed out waiting.
    TimedOut = 3,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

/// An error with the exit code it should produce and an optional hint.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub status: ExitStatus,
    /// What failed.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// Bad input (exit code 2).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::BadInput,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit code for an error: its [`CliError`] status, else 1.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<CliError>())
        .map(|error| error.status)
        .unwrap_or(ExitStatus::Failed)
}

/// Prints an error and its causes to stderr, followed by a hint when there is one.
pub fn report(error: &anyhow::Error) {
    let mut text = format!("error: {error}");
    for cause in error.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    if let Some(hint) = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<CliError>())
        .and_then(|error| error.hint.clone())
    {
        text.push_str(&format!("\nhint: {hint}"));
    }
    eprintln!("{text}");
}
