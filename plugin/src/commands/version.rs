//! `kubectl kubestash version`.

use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;
use crate::output::{print_structured, OutputFormat};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    version: &'static str,
    api_version: String,
    groups: [&'static str; 3],
    repository_format: &'static str,
}

/// Prints the version.
pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let info = VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        api_version: kubestash::api::VERSION.to_string(),
        groups: [
            kubestash::api::storage::GROUP,
            kubestash::api::core::GROUP,
            kubestash::api::addons::GROUP,
        ],
        repository_format: "restic v2",
    };
    match global.output {
        OutputFormat::Table => {
            println!("kubectl-kubestash {}", info.version);
            println!("API: {} ({})", info.api_version, info.groups.join(", "));
            println!("repository format: {}", info.repository_format);
        }
        format => print_structured(format, &info)?,
    }
    Ok(ExitStatus::Success)
}
