//! KubeStash API types, validation and blueprint resolution, shared by the operator and the
//! `kubectl kubestash` plugin.

pub mod api;
pub mod duration;
pub mod schedule;
