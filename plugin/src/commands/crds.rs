//! `kubectl kubestash crds`: print the CustomResourceDefinitions, or write `crds/`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::exit::ExitStatus;

/// Arguments of `crds`.
#[derive(Debug, Args)]
pub struct CrdsArgs {
    /// Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints or writes the CRDs.
pub fn run(args: &CrdsArgs) -> anyhow::Result<ExitStatus> {
    let definitions = kubestash::api::crds();
    match &args.out {
        None => {
            for definition in &definitions {
                print!("---\n{}", kubestash::api::crd_yaml(definition));
            }
        }
        Some(directory) => {
            std::fs::create_dir_all(directory)
                .with_context(|| format!("failed to create `{}`", directory.display()))?;
            for definition in &definitions {
                let path = directory.join(kubestash::api::crd_file_name(definition));
                write_atomically(&path, &kubestash::api::crd_yaml(definition))?;
            }
            eprintln!(
                "wrote {} CRDs to {}",
                definitions.len(),
                directory.display()
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// Writes a file through a temporary sibling and a rename, so readers never see half of it.
pub fn write_atomically(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, contents)
        .with_context(|| format!("failed to write `{}`", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}
