//! KubeStash API types, validation and the repository engine.
