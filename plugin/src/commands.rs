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
