//! KubeStash API types, validation, blueprint resolution and the repository engine, shared by
//! the operator and the `kubectl kubestash` plugin.

pub mod api;
pub mod blueprint;
pub mod duration;
pub mod engine;
pub mod manifest;
pub mod naming;
pub mod object;
pub mod placeholder;
pub mod retention;
pub mod schedule;
pub mod validation;
