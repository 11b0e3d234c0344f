//! `kubectl-kubestash`: parse the command line, run the command, print the error chain and
//! exit with the code the conventions promise (0 ok, 1 failed, 2 bad input, 3 timed out).

use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `kubectl kubestash snapshots list | head -1` would panic on
    // the closed pipe; like other command-line tools, end quietly instead.
    #[cfg(unix)]
    // SAFETY: restoring the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    kubectl_kubestash::main_with_args(std::env::args_os())
}
