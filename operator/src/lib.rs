//! Controllers and the backup/restore executor of kubectl-kubestash.
