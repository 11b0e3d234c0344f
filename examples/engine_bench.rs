//! Benchmark driver for the repository engine: `init`, `backup` and `restore` of a local
//! repository through `kubestash::engine`, timed from outside by `bench/engine.sh`, plus the
//! tuning experiments (repository config at init, restore strategies) chosen by environment.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use kubestash::engine::{BackupRequest, ComponentRepository, Location, RestoreRequest};
use rustic_backend::BackendOptions;
use rustic_core::repofile::{Node, NodeType};
use rustic_core::{
    ConfigOptions, Credentials, IndexedFullStatus, KeyOptions, LocalDestination, LsOptions,
    Repository, RepositoryOptions, RestoreOptions,
};

const USAGE: &str = "usage: engine_bench init <repository>
       engine_bench backup <repository> <path>
       engine_bench restore <repository> <path-in-snapshot> <destination>
The password is read from `RESTIC_PASSWORD`. Experiments (all optional):
  ENGINE_BENCH_COMPRESSION=<level>      init: zstd level (rustic default 0 = zstd's 3)
  ENGINE_BENCH_EXTRA_VERIFY=false       init: skip rustic's decrypt-and-compare of every blob
  ENGINE_BENCH_DATAPACK_SIZE=<size>     init: target data pack size, e.g. `8 MiB` (default 32 MiB)
  ENGINE_BENCH_DATAPACK_GROWFACTOR=<n>  init: data pack grow factor (default 32)
  ENGINE_BENCH_RESTORE=engine|split|dump
      engine: one `ComponentRepository::restore` (default)
      split:  one `ComponentRepository::restore` per directory that holds files
      dump:   the prototype of the engine's restore since 1e1e0c7: file contents through
              `Repository::dump` on ENGINE_BENCH_RESTORE_THREADS threads (default 2), then
              rustic's restore for metadata and hard links only";

type Outcome = Result<String, String>;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match run(&arguments) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(arguments: &[String]) -> Outcome {
    let password =
        std::env::var("RESTIC_PASSWORD").map_err(|_| "`RESTIC_PASSWORD` is not set".to_string())?;
    match arguments {
        [command, root] if command == "init" => init(root, &password),
        [command, root, path] if command == "backup" => backup(root, &password, path),
        [command, root, path, destination] if command == "restore" => {
            let destination = PathBuf::from(destination);
            match setting("ENGINE_BENCH_RESTORE").as_deref() {
                None | Some("engine") => restore(root, &password, path, &destination),
                Some("split") => restore_split(root, &password, path, &destination),
                Some("dump") => restore_by_dump(root, &password, path, &destination),
                Some(other) => Err(format!("unknown ENGINE_BENCH_RESTORE `{other}`")),
            }
        }
        _ => Err(USAGE.to_string()),
    }
}

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    setting(name)
        .map(|text| {
            text.parse()
                .map_err(|error| format!("invalid {name} `{text}`: {error}"))
        })
        .transpose()
}

fn engine(root: &str, password: &str) -> ComponentRepository {
    ComponentRepository::new(
        Location::Local {
            root: PathBuf::from(root),
        },
        password,
    )
}

/// The repository opened directly with rustic_core, for what the engine does not expose.
fn unopened(root: &str) -> Result<Repository<()>, String> {
    let backends = BackendOptions::default()
        .repository(root)
        .to_backends()
        .map_err(|error| format!("failed to open backend `{root}`: {error}"))?;
    Repository::new(&RepositoryOptions::default().no_cache(true), &backends)
        .map_err(|error| format!("failed to open repository `{root}`: {error}"))
}

fn indexed(root: &str, password: &str) -> Result<Repository<IndexedFullStatus>, String> {
    unopened(root)?
        .open(&Credentials::password(password))
        .and_then(Repository::to_indexed)
        .map_err(|error| format!("failed to open repository `{root}`: {error}"))
}

fn init(root: &str, password: &str) -> Outcome {
    let mut options = ConfigOptions::default();
    options.set_compression = parsed("ENGINE_BENCH_COMPRESSION")?;
    options.set_extra_verify = parsed("ENGINE_BENCH_EXTRA_VERIFY")?;
    options.set_datapack_size = parsed("ENGINE_BENCH_DATAPACK_SIZE")?;
    options.set_datapack_growfactor = parsed("ENGINE_BENCH_DATAPACK_GROWFACTOR")?;
    let tuned = options.set_compression.is_some()
        || options.set_extra_verify.is_some()
        || options.set_datapack_size.is_some()
        || options.set_datapack_growfactor.is_some();
    if !tuned {
        let created = engine(root, password)
            .init()
            .map_err(|error| error.to_string())?;
        return Ok(format!("initialized through the engine: {created}"));
    }
    // What `ComponentRepository::init` does, with the experiment's config options.
    unopened(root)?
        .init(
            &Credentials::password(password),
            &KeyOptions::default().with_created(true),
            &options,
        )
        .map_err(|error| format!("failed to initialize `{root}`: {error}"))?;
    // Swap rustic's first key for one of the engine's, as `ComponentRepository::init` does,
    // so that the measured steps open the repository at the engine's key cost.
    let ours = engine(root, password)
        .add_key(password, None, None)
        .map_err(|error| error.to_string())?;
    let keys = std::path::Path::new(root).join("keys");
    for entry in std::fs::read_dir(&keys).map_err(|error| error.to_string())? {
        let path = entry.map_err(|error| error.to_string())?.path();
        if path.file_name().is_some_and(|name| *name != *ours) {
            std::fs::remove_file(&path).map_err(|error| error.to_string())?;
        }
    }
    Ok(format!("initialized with {options:?}"))
}

fn backup(root: &str, password: &str, path: &str) -> Outcome {
    let request = BackupRequest {
        paths: vec![PathBuf::from(path)],
        ..BackupRequest::default()
    };
    let summary = engine(root, password)
        .backup(&request)
        .map_err(|error| error.to_string())?;
    Ok(format!(
        "snapshot {}: {} files ({} new), {} bytes read, {} bytes added",
        summary.snapshot_id,
        summary.files,
        summary.files_new,
        summary.bytes_processed,
        summary.bytes_uploaded
    ))
}

fn restore(root: &str, password: &str, path: &str, destination: &Path) -> Outcome {
    let request = RestoreRequest {
        snapshot: "latest".into(),
        path: Some(path.to_string()),
        destination: destination.to_path_buf(),
        ..RestoreRequest::default()
    };
    let summary = engine(root, password)
        .restore(&request)
        .map_err(|error| error.to_string())?;
    Ok(format!(
        "restored snapshot {}: {} files, {} bytes",
        summary.snapshot_id, summary.files, summary.bytes_restored
    ))
}

/// Restores each directory that directly holds files on its own, through the engine, so
/// that each restore plans and buffers only that directory's packs.
fn restore_split(root: &str, password: &str, path: &str, destination: &Path) -> Outcome {
    let units = {
        let repository = indexed(root, password)?;
        let listing = listing(&repository, path)?;
        let mut units: Vec<PathBuf> = Vec::new();
        for (relative, node) in &listing {
            if node.node_type == NodeType::Dir {
                continue;
            }
            let parent = relative.parent().unwrap_or(Path::new("")).to_path_buf();
            if parent.as_os_str().is_empty() {
                return Err(format!("split restore needs no files directly in `{path}`"));
            }
            if units.last() != Some(&parent) {
                units.push(parent);
            }
        }
        units.dedup();
        let nested = units.iter().any(|unit| {
            units
                .iter()
                .any(|other| other != unit && other.starts_with(unit))
        });
        if nested {
            return Err("split restore needs files only in leaf directories".into());
        }
        units
    };
    for unit in &units {
        let inside = format!("{}/{}", path.trim_end_matches('/'), unit.display());
        restore(root, password, &inside, &destination.join(unit))?;
    }
    Ok(format!("restored {} directories one by one", units.len()))
}

fn listing(
    repository: &Repository<IndexedFullStatus>,
    path: &str,
) -> Result<Vec<(PathBuf, Node)>, String> {
    let snapshot = repository
        .get_snapshot_from_str("latest", |_| true)
        .map_err(|error| format!("failed to find the latest snapshot: {error}"))?;
    let node = repository
        .node_from_snapshot_and_path(&snapshot, path)
        .map_err(|error| format!("failed to find `{path}` in the snapshot: {error}"))?;
    repository
        .ls(&node, &LsOptions::default())
        .and_then(|entries| entries.collect())
        .map_err(|error| format!("failed to list `{path}`: {error}"))
}

/// Writes file contents with `Repository::dump` (which keeps only a few blobs in flight) on a
/// few threads, stamps each file's mtime, then lets rustic's restore find the files unchanged
/// and set directories, permissions, ownership and times.
fn restore_by_dump(root: &str, password: &str, path: &str, destination: &Path) -> Outcome {
    let threads: usize = parsed("ENGINE_BENCH_RESTORE_THREADS")?.unwrap_or(2);
    let repository = indexed(root, password)?;
    let snapshot = repository
        .get_snapshot_from_str("latest", |_| true)
        .map_err(|error| format!("failed to find the latest snapshot: {error}"))?;
    let node = repository
        .node_from_snapshot_and_path(&snapshot, path)
        .map_err(|error| format!("failed to find `{path}` in the snapshot: {error}"))?;
    let entries = listing(&repository, path)?;
    // Only the first path of a hard-linked inode gets contents: rustic links the others to it
    // and fails if they already exist.
    let mut inodes = HashSet::new();
    let files: Vec<&(PathBuf, Node)> = entries
        .iter()
        .filter(|(_, node)| node.node_type == NodeType::File)
        .filter(|(_, node)| {
            let meta = &node.meta;
            let linked = meta.links > 1 && meta.device_id != 0 && meta.inode != 0;
            !linked || inodes.insert((meta.device_id, meta.inode))
        })
        .collect();
    for (relative, node) in &entries {
        if node.node_type == NodeType::Dir {
            let directory = destination.join(relative);
            std::fs::create_dir_all(&directory)
                .map_err(|error| format!("failed to create `{}`: {error}", directory.display()))?;
        }
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| -> Result<u64, String> {
                    let mut bytes = 0;
                    while let Some((relative, node)) =
                        files.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        bytes += write_file(&repository, node, &destination.join(relative))?;
                    }
                    Ok(bytes)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a worker panicked".into()))
            })
            .collect()
    });
    let mut bytes = 0;
    for result in results {
        bytes += result?;
    }
    let text = destination.display().to_string();
    let local = LocalDestination::new(&text, true, !node.is_dir())
        .map_err(|error| format!("failed to use `{text}`: {error}"))?;
    let options = RestoreOptions::default();
    let listing = repository
        .ls(&node, &LsOptions::default())
        .map_err(|error| format!("failed to list `{path}`: {error}"))?;
    let plan = repository
        .prepare_restore(&options, listing.clone(), &local, false)
        .map_err(|error| format!("failed to plan the metadata restore: {error}"))?;
    let leftover = plan.restore_size;
    repository
        .restore(plan, &options, listing, &local)
        .map_err(|error| format!("failed to restore metadata: {error}"))?;
    Ok(format!(
        "restored {} files, {bytes} bytes by dump on {threads} threads; {leftover} bytes left to rustic",
        files.len()
    ))
}

fn write_file(
    repository: &Repository<IndexedFullStatus>,
    node: &Node,
    target: &Path,
) -> Result<u64, String> {
    let failed = |error: &dyn std::fmt::Display| {
        format!("failed to restore `{}`: {error}", target.display())
    };
    let mut file = std::fs::File::create(target).map_err(|error| failed(&error))?;
    repository
        .dump(node, &mut file)
        .map_err(|error| failed(&error))?;
    // rustic's restore then takes a file with the snapshot's size and mtime as unchanged.
    if let Some(mtime) = node.meta.mtime {
        file.set_modified(SystemTime::from(mtime))
            .map_err(|error| failed(&error))?;
    }
    Ok(node.meta.size)
}
