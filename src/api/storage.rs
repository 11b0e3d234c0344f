//! `storage.kubestash.com/v1alpha1`: where backups live and how long they are kept.

pub mod backup_storage;
pub mod repository;
pub mod retention_policy;
pub mod snapshot;

pub use backup_storage::*;
pub use repository::*;
pub use retention_policy::*;
pub use snapshot::*;

/// The API group of this module's kinds.
pub const GROUP: &str = "storage.kubestash.com";
