//! `addons.kubestash.com/v1alpha1`: cluster-scoped catalogs of backup/restore tasks.

pub mod addon;
pub mod function;

pub use addon::*;
pub use function::*;

/// The API group of this module's kinds.
pub const GROUP: &str = "addons.kubestash.com";
