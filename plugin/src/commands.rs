//! One module per subcommand; each has its clap `Args` and a `run` function.

pub mod backup;
pub mod blueprint;
pub mod completion;
pub mod crds;
pub mod demo;
pub mod embedded;
pub mod executor;
pub mod install;
pub mod operator;
pub mod pause;
pub mod restore;
pub mod sandbox;
pub mod snapshots;
pub mod storage;
pub mod validate;
pub mod version;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Version => version::run(&cli.global),
        Command::Crds(args) => crds::run(&args),
        Command::Completion(args) => completion::run(&args),
        Command::Validate(args) => validate::run(&args, &cli.global),
        Command::Blueprint(command) => blueprint::run(&command, &cli.global),
        Command::Backup(command) => backup::run(&command, &cli.global),
        Command::Restore(args) => restore::run(&args, &cli.global),
        Command::Install(args) => install::install(&args, &cli.global),
        Command::Uninstall(args) => install::uninstall(&args, &cli.global),
        Command::Operator(command) => operator::run(&command, &cli.global),
        Command::Executor(command) => executor::run(&command, &cli.global),
        Command::Pause(args) => pause::run(&args, &cli.global, true),
        Command::Resume(args) => pause::run(&args, &cli.global, false),
        Command::Snapshots(command) => snapshots::run(&command, &cli.global),
        Command::Storage(command) => storage::run(&command, &cli.global),
        Command::Demo(args) => demo::run(&args, &cli.global),
        Command::Sandbox(args) => sandbox::run(&args),
        Command::Complete(args) => completion::complete(&args),
    }
}

/// Runs a one-shot command's `future` on a fresh runtime and returns as soon as it ends.
/// A backend probe runs on a blocking thread that a timeout stops waiting for but cannot stop;
/// dropping the runtime would wait for that thread (a firewalled endpoint: minutes) and so
/// overrun `--timeout`. Such a thread is left to the process's exit instead.
pub fn block_on<T>(
    future: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    let result = runtime.block_on(future);
    runtime.shutdown_background();
    result
}
