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

/// A failed `get` of an object the user named: bad input (exit 2) when the object does not
/// exist, an ordinary failure (exit 1) for anything else: a refused connection, a 403 or a
/// 5xx is not the user's typo. `what` names the object and the flag it came from.
pub fn get_failed(error: kube::Error, what: &str) -> anyhow::Error {
    match error {
        kube::Error::Api(status) if status.code == 404 => {
            CliError::bad_input(format!("{what} not found")).into()
        }
        other => anyhow::Error::new(other).context(format!("unable to get {what}")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "message": "boom", "reason": "x", "code": code
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn only_a_missing_object_is_bad_input() {
        let missing = get_failed(api_error(404), "Repository shop/r (--repository)");
        assert_eq!(status_of(&missing), ExitStatus::BadInput);
        assert_eq!(
            missing.to_string(),
            "Repository shop/r (--repository) not found"
        );
        for code in [403, 500, 503] {
            let error = get_failed(api_error(code), "Repository shop/r");
            assert_eq!(status_of(&error), ExitStatus::Failed, "{code}");
            assert_eq!(error.to_string(), "unable to get Repository shop/r");
        }
    }
}
