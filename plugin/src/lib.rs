//! The `kubectl kubestash` command line: clap definitions, one module per subcommand, output
//! formatting and exit codes.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod exit;
pub mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use cli::{command, Cli};
pub use exit::{CliError, ExitStatus};

/// The binary's name, as kubectl's plugin lookup requires.
pub const BINARY_NAME: &str = "kubectl-kubestash";

/// Runs the CLI with the given arguments and returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                ExitStatus::BadInput
            } else {
                ExitStatus::Success
            };
            // clap prints help and version to stdout, usage errors to stderr.
            let _ = error.print();
            return code.into();
        }
    };
    init_tracing(cli.global.verbose);
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            exit::report(&error);
            exit::status_of(&error).into()
        }
    }
}

fn init_tracing(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::color_enabled_for_stderr())
        .try_init();
}
