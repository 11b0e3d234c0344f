//! `kubectl kubestash validate -f <file|dir|->`: check manifests offline against the API types
//! and the admission rules; exit 2 when anything is invalid.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use colored::Colorize;
use serde::Serialize;

use kubestash::object::{dropped_fields, parse_documents, Object, ObjectError, ObjectKey};
use kubestash::validation::{validate_set, Finding, Severity};

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{color_enabled_for_stdout, print_structured, print_table, table, OutputFormat};

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A file, a directory of .yaml/.yml/.json files, or `-` for stdin; repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub filenames: Vec<PathBuf>,
    /// Walk directories recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

/// One finding with the file it came from.
#[derive(Debug, Serialize)]
struct Reported {
    #[serde(flatten)]
    finding: Finding,
    source: String,
}

/// One checked object.
#[derive(Debug, Serialize)]
struct Checked {
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    name: String,
    source: String,
}

/// The machine-readable result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    valid: bool,
    errors: usize,
    warnings: usize,
    checked: Vec<Checked>,
    skipped: usize,
    findings: Vec<Reported>,
}

/// Validates the given manifests.
pub fn run(args: &ValidateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let sources = collect_sources(&args.filenames, args.recursive)?;
    let mut objects: Vec<Object> = Vec::new();
    let mut origins: BTreeMap<ObjectKey, String> = BTreeMap::new();
    let mut findings: Vec<Reported> = Vec::new();
    let mut checked = Vec::new();
    let mut skipped = 0;
    for (source, text) in &sources {
        for result in parse_documents(text) {
            match result {
                Ok((object, original)) => {
                    if !object.is_kubestash() {
                        skipped += 1;
                        objects.push(object);
                        continue;
                    }
                    let key = object.key();
                    for path in dropped_fields(&original, &object.to_value()) {
                        findings.push(Reported {
                            finding: finding(
                                &key,
                                Severity::Warning,
                                path,
                                "unknown field; the API server drops it",
                            ),
                            source: source.clone(),
                        });
                    }
                    checked.push(Checked {
                        kind: key.kind.clone(),
                        namespace: key.namespace.clone(),
                        name: key.name.clone(),
                        source: source.clone(),
                    });
                    origins.entry(key).or_insert_with(|| source.clone());
                    objects.push(object);
                }
                Err(error) => findings.push(Reported {
                    finding: parse_finding(&error, source),
                    source: source.clone(),
                }),
            }
        }
    }
    if objects.is_empty() && findings.is_empty() {
        let names: Vec<String> = args
            .filenames
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        return Err(
            CliError::bad_input(format!("no objects found in {}", names.join(", ")))
                .with_hint("pass YAML or JSON manifests with -f FILE, -f DIR or -f -")
                .into(),
        );
    }
    for finding in validate_set(&objects) {
        let source = origins.get(&finding.key()).cloned().unwrap_or_default();
        findings.push(Reported { finding, source });
    }
    findings.sort_by(|left, right| {
        (left.finding.severity, &left.source, left.finding.key()).cmp(&(
            right.finding.severity,
            &right.source,
            right.finding.key(),
        ))
    });
    let errors = findings
        .iter()
        .filter(|reported| reported.finding.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let report = Report {
        valid: errors == 0,
        errors,
        warnings,
        checked,
        skipped,
        findings,
    };
    match global.output {
        OutputFormat::Table => print_report_table(&report),
        format => print_structured(format, &report)?,
    }
    eprintln!(
        "checked {} KubeStash object(s) from {} source(s), skipped {} other object(s): {} error(s), {} warning(s)",
        report.checked.len(),
        sources.len(),
        report.skipped,
        report.errors,
        report.warnings
    );
    Ok(if report.valid {
        ExitStatus::Success
    } else {
        ExitStatus::BadInput
    })
}

fn finding(key: &ObjectKey, severity: Severity, field: String, reason: &str) -> Finding {
    Finding {
        severity,
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        field,
        reason: reason.to_string(),
    }
}

fn parse_finding(error: &ObjectError, source: &str) -> Finding {
    match error {
        ObjectError::Field { key, path, reason } => {
            finding(key, Severity::Error, path.clone(), reason)
        }
        ObjectError::Yaml { document, .. } | ObjectError::MissingTypeField { document, .. } => {
            let key = ObjectKey {
                kind: "Document".into(),
                namespace: None,
                name: format!("{source}#{document}"),
            };
            let field = match error {
                ObjectError::MissingTypeField { field, .. } => (*field).to_string(),
                _ => "(document)".to_string(),
            };
            finding(&key, Severity::Error, field, &error.to_string())
        }
    }
}

fn print_report_table(report: &Report) {
    let color = color_enabled_for_stdout();
    if report.findings.is_empty() {
        let mut output = table(&["object", "source", "result"]);
        for object in &report.checked {
            let key = ObjectKey {
                kind: object.kind.clone(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
            };
            let result = if color {
                "valid".green().to_string()
            } else {
                "valid".to_string()
            };
            output.add_row(vec![key.to_string(), object.source.clone(), result]);
        }
        print_table(&output);
        return;
    }
    let mut output = table(&["severity", "object", "field", "reason", "source"]);
    for reported in &report.findings {
        let severity = reported.finding.severity.to_string();
        let severity = match (color, reported.finding.severity) {
            (true, Severity::Error) => severity.red().bold().to_string(),
            (true, Severity::Warning) => severity.yellow().to_string(),
            (false, _) => severity,
        };
        output.add_row(vec![
            severity,
            reported.finding.key().to_string(),
            reported.finding.field.clone(),
            reported.finding.reason.clone(),
            reported.source.clone(),
        ]);
    }
    print_table(&output);
}

/// Reads every source: files, directories of manifests, and `-` for stdin.
fn collect_sources(paths: &[PathBuf], recursive: bool) -> anyhow::Result<Vec<(String, String)>> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("failed to read stdin")?;
            sources.push(("-".to_string(), text));
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|error| {
            CliError::bad_input(format!("unable to read `{}`: {error}", path.display()))
        })?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            list_manifests(path, recursive, &mut files)?;
            for file in files {
                sources.push((file.display().to_string(), read(&file)?));
            }
        } else {
            sources.push((path.display().to_string(), read(path)?));
        }
    }
    Ok(sources)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|error| {
        CliError::bad_input(format!("unable to read `{}`: {error}", path.display())).into()
    })
}

fn list_manifests(
    directory: &Path,
    recursive: bool,
    files: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(|error| {
            CliError::bad_input(format!("unable to read `{}`: {error}", directory.display()))
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if recursive {
                list_manifests(&entry, recursive, files)?;
            }
        } else if matches!(
            entry.extension().and_then(|extension| extension.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(entry);
        }
    }
    Ok(())
}
