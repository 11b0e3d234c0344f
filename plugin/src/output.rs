//! Output formats (`-o table|json|yaml`), tables, and colour that honours `NO_COLOR` and TTYs.

use std::io::IsTerminal;

use clap::ValueEnum;
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

/// How a read verb prints its result on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A human-readable table.
    #[default]
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Prints a serializable value as JSON or YAML on stdout.
pub fn print_structured(format: OutputFormat, value: &impl Serialize) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Table => {
            println!("{}", serde_json::to_string_pretty(value)?)
        }
        OutputFormat::Yaml => print!("{}", serde_yaml::to_string(value)?),
    }
    Ok(())
}

/// A borderless table in kubectl's style.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|title| title.to_uppercase()));
    table
}

/// Prints a table on stdout, flush left like kubectl's.
pub fn print_table(table: &Table) {
    for line in table.lines() {
        // The preset pads every cell with one space on each side; drop the first column's.
        let line = line.strip_prefix(' ').unwrap_or(&line);
        println!("{}", line.trim_end());
    }
}

fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Whether stdout gets colour.
pub fn color_enabled_for_stdout() -> bool {
    color_allowed() && std::io::stdout().is_terminal()
}

/// Whether stderr gets colour.
pub fn color_enabled_for_stderr() -> bool {
    color_allowed() && std::io::stderr().is_terminal()
}

/// kubectl's short age: `45s`, `12m`, `5h`, `3d`.
pub fn age(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    let Some(time) = time else {
        return "<unknown>".into();
    };
    let seconds = (chrono::Utc::now() - time).num_seconds().max(0);
    match seconds {
        0..=119 => format!("{seconds}s"),
        120..=7199 => format!("{}m", seconds / 60),
        7200..=172_799 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}
