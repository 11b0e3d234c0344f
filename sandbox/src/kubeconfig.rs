//! The kubeconfig written for a running sandbox.

use std::path::Path;

use crate::error::SandboxError;

/// The context, cluster and user name in the kubeconfig.
pub(crate) const CONTEXT_NAME: &str = "kubestash-sandbox";

/// A kubeconfig that points at `server` with no credentials and the `default` namespace.
pub(crate) fn render(server: &str) -> String {
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT_NAME}\n  cluster:\n    server: {server}\n\
         contexts:\n\
         - name: {CONTEXT_NAME}\n  context:\n    cluster: {CONTEXT_NAME}\n    user: {CONTEXT_NAME}\n    namespace: default\n\
         current-context: {CONTEXT_NAME}\n\
         users:\n\
         - name: {CONTEXT_NAME}\n  user: {{}}\n\
         preferences: {{}}\n"
    )
}

/// Writes the kubeconfig to `path`, creating parent directories.
pub(crate) fn write(path: &Path, server: &str) -> Result<(), SandboxError> {
    let io_error = |source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    std::fs::write(path, render(server)).map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_is_valid_yaml_pointing_at_the_server() {
        let parsed: serde_yaml::Value =
            serde_yaml::from_str(&render("http://127.0.0.1:1234")).unwrap();
        assert_eq!(
            parsed["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        assert_eq!(parsed["current-context"], CONTEXT_NAME);
        assert_eq!(parsed["contexts"][0]["context"]["namespace"], "default");
    }
}
