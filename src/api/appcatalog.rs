//! `appcatalog.appscode.com/v1alpha1`: the AppBinding that database targets point at.

pub mod app_binding;

pub use app_binding::*;

/// The API group of this module's kinds.
pub const GROUP: &str = "appcatalog.appscode.com";
