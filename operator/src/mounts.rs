//! Where a container path really is. In a cluster the executor sees its volumes at their
//! mount paths; in the sandbox the simulated kubelet runs it as a local process and passes a
//! JSON map from mount path to host directory in `KUBESTASH_SANDBOX_MOUNTS`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable the sandbox's kubelet sets.
pub const MOUNTS_ENV: &str = "KUBESTASH_SANDBOX_MOUNTS";

/// Container mount paths and the directories behind them.
#[derive(Clone, Debug, Default)]
pub struct Mounts {
    map: BTreeMap<PathBuf, PathBuf>,
}

impl Mounts {
    /// The mounts of this process (none outside the sandbox).
    pub fn from_env() -> Self {
        std::env::var(MOUNTS_ENV)
            .ok()
            .and_then(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses the JSON map.
    pub fn parse(text: &str) -> Option<Self> {
        let map: BTreeMap<String, String> = serde_json::from_str(text).ok()?;
        Some(Self {
            map: map
                .into_iter()
                .map(|(mount, host)| (PathBuf::from(mount), PathBuf::from(host)))
                .collect(),
        })
    }

    /// The host path of a container path: the longest mount containing it, or the path
    /// itself.
    pub fn resolve(&self, container_path: &Path) -> PathBuf {
        self.map
            .iter()
            .filter(|(mount, _)| container_path.starts_with(mount))
            .max_by_key(|(mount, _)| mount.as_os_str().len())
            .map(|(mount, host)| {
                let rest = container_path.strip_prefix(mount).unwrap_or(Path::new(""));
                if rest.as_os_str().is_empty() {
                    host.clone()
                } else {
                    host.join(rest)
                }
            })
            .unwrap_or_else(|| container_path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_mount_wins() {
        let mounts =
            Mounts::parse(r#"{"/data": "/tmp/a", "/data/sub": "/tmp/b", "/x": "/tmp/x"}"#).unwrap();
        assert_eq!(
            mounts.resolve(Path::new("/data/f")),
            PathBuf::from("/tmp/a/f")
        );
        assert_eq!(
            mounts.resolve(Path::new("/data/sub/f")),
            PathBuf::from("/tmp/b/f")
        );
        assert_eq!(mounts.resolve(Path::new("/data")), PathBuf::from("/tmp/a"));
        assert_eq!(mounts.resolve(Path::new("/other")), PathBuf::from("/other"));
        assert_eq!(mounts.resolve(Path::new("/xy")), PathBuf::from("/xy"));
    }
}
