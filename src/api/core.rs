//! `core.kubestash.com/v1alpha1`: what to back up, when, and how to restore it.

pub mod backup_batch;
pub mod backup_blueprint;
pub mod backup_configuration;
pub mod backup_session;
pub mod backup_verification_session;
pub mod backup_verifier;
pub mod hook_template;
pub mod restore_session;
pub mod session;

pub use backup_batch::*;
pub use backup_blueprint::*;
pub use backup_configuration::*;
pub use backup_session::*;
pub use backup_verification_session::*;
pub use backup_verifier::*;
pub use hook_template::*;
pub use restore_session::*;
pub use session::*;

/// The API group of this module's kinds.
pub const GROUP: &str = "core.kubestash.com";
