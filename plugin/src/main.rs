//! `kubectl-kubestash`: parse the command line, run the command, print the error chain and
//! exit with the code the conventions promise (0 ok, 1 failed, 2 bad input, 3 timed out).

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_kubestash::main_with_args(std::env::args_os())
}
