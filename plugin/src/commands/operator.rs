//! `kubectl kubestash operator run`: every controller in the foreground against the current
//! context, as the in-cluster Deployment runs it.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Client};
use kubestash_operator::controllers::FIELD_MANAGER;

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// `operator` subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Run the operator in the foreground (Lease namespace from -n, default `kubestash`).
    Run(RunArgs),
}

/// Flags of `operator run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Image of the backup, restore and trigger Jobs.
    #[arg(long, default_value = kubestash_operator::IMAGE)]
    pub image: String,
    /// Serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Do not apply the CRDs and the default catalog at start.
    #[arg(long)]
    pub no_bootstrap: bool,
    /// Fail a backup or restore component whose Job's pod stays Pending this long (an image
    /// that cannot be pulled, a pod that cannot be scheduled); 0 waits for the session's own
    /// timeout.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub pending_pod_timeout: std::time::Duration,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    kubestash::duration::parse_go_duration(text).map_err(|error| error.to_string())
}

/// The plural of a kind, by the rules Kubernetes' defaults use (`RetentionPolicy` →
/// `retentionpolicies`, `Ingress` → `ingresses`).
pub(crate) fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s') || lower.ends_with("ch") || lower.ends_with('x') {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Applies objects with server-side apply, in order.
pub async fn apply_objects(
    client: &Client,
    objects: impl IntoIterator<Item = impl std::borrow::Borrow<serde_json::Value>>,
) -> anyhow::Result<()> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut new_definitions: Vec<String> = Vec::new();
    for object in objects {
        let object = object.borrow();
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        if kind == "CustomResourceDefinition" {
            new_definitions.push(name.to_string());
        } else if !new_definitions.is_empty() {
            // A real apiserver serves a new CRD's resources only once it is Established.
            wait_established(client, &std::mem::take(&mut new_definitions)).await?;
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, kind),
            &plural(kind),
        );
        let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
            Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        api.patch(name, &params, &Patch::Apply(object))
            .await
            .with_context(|| format!("failed to apply {kind} {name}"))?;
    }
    Ok(())
}

/// Waits (up to a minute) until the named CRDs report `Established`.
async fn wait_established(client: &Client, names: &[String]) -> anyhow::Result<()> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for name in names {
        loop {
            let established = api.get(name).await?.status.is_some_and(|status| {
                status
                    .conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
            if established {
                break;
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!("CustomResourceDefinition {name} is not Established after 60s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// The CRDs and the default catalog.
/// Each CRD is parsed only when its turn to be applied comes.
pub fn bootstrap_objects(image: &str) -> impl Iterator<Item = serde_json::Value> {
    kubestash::api::crd_manifests().chain(kubestash_operator::bundle::catalog(image))
}

/// Runs `operator run`.
pub fn run(command: &OperatorCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let OperatorCommand::Run(args) = command;
    allocator::limit_arenas();
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        tokio::spawn(allocator::trim_periodically());
        let cluster = crate::cluster::connect(global).await?;
        if !args.no_bootstrap {
            apply_objects(&cluster.client, bootstrap_objects(&args.image)).await?;
            eprintln!("CRDs and the default catalog are in place");
        }
        // The start-up (flags, kubeconfig, TLS, CRD schemas, the catalog) is over and its
        // code does not run again.
        allocator::release_code_pages();
        let options = kubestash_operator::Options {
            image: args.image.clone(),
            namespace: global
                .namespace
                .clone()
                .unwrap_or_else(|| kubestash_operator::DEFAULT_NAMESPACE.into()),
            metrics_addr: args.metrics_addr,
            pending_pod_timeout: args.pending_pod_timeout,
            ..kubestash_operator::Options::default()
        };
        eprintln!(
            "operator starting (Lease {}/{})",
            options.namespace,
            kubestash_operator::leader::LEASE_NAME
        );
        kubestash_operator::run(cluster.client, options, shutdown_signal()).await?;
        eprintln!("operator stopped");
        Ok(ExitStatus::Success)
    })
}

/// glibc keeps freed memory in per-thread arenas and seldom hands it back, so the operator's
/// RSS stayed at its start-up peak (every controller's initial list at once) for good. One
/// arena and a trim every second return it: a burst of reconciles (1,000 configurations
/// created, or re-read after a restart) frees most of what it allocates within a second, and
/// a trim of a heap this size takes well under a millisecond. With two arenas each grew to
/// about the size of the one, half of it free space between live objects (~60 against ~47 MiB
/// while 1,000 configurations were readied); the reconciles are short enough that the two
/// runtime threads hardly contend for one. Other allocators need neither. The code that only
/// the start-up ran is unmapped once it is over.
mod allocator {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn limit_arenas() {
        // SAFETY: mallopt only changes allocator tuning; called before any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub async fn trim_periodically() {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            // SAFETY: malloc_trim only releases free memory back to the OS.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    }

    /// Unmaps this binary's read-only pages (code, constants) from the process. The pages
    /// stay in the page cache: the ones still in use fault straight back in (a minor fault
    /// maps 16 pages), the ones nothing runs any more (the start-up's argument parsing,
    /// kubeconfig and TLS set-up, CRD schemas and catalog) leave the RSS and age out of the
    /// container's working set. Writable segments, RELRO included, are left alone. Returns
    /// the bytes advised.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn release_code_pages() -> usize {
        unsafe extern "C" fn first_object(
            info: *mut libc::dl_phdr_info,
            _size: usize,
            data: *mut libc::c_void,
        ) -> libc::c_int {
            // SAFETY: the loader passes a valid entry; `data` is the `usize` below. The first
            // entry is the executable itself.
            let (info, advised) = unsafe { (&*info, &mut *(data as *mut usize)) };
            let page = 4096usize.max(unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize);
            for index in 0..usize::from(info.dlpi_phnum) {
                // SAFETY: `dlpi_phdr` points at `dlpi_phnum` program headers.
                let header = unsafe { &*info.dlpi_phdr.add(index) };
                if header.p_type != libc::PT_LOAD || header.p_flags & libc::PF_W != 0 {
                    continue;
                }
                let start = info.dlpi_addr as usize + header.p_vaddr as usize;
                let end = start + header.p_memsz as usize;
                // Whole pages inside the segment only.
                let start = start.div_ceil(page) * page;
                let end = end / page * page;
                if end <= start {
                    continue;
                }
                // SAFETY: a read-only, private file mapping of the executable that nothing
                // wrote to: dropping its pages only makes the next access read them again
                // from the file, unchanged.
                if unsafe {
                    libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
                } == 0
                {
                    *advised += end - start;
                }
            }
            1
        }
        let mut advised = 0usize;
        // SAFETY: the callback only reads the loader's entries and writes `advised`.
        unsafe {
            libc::dl_iterate_phdr(
                Some(first_object),
                &mut advised as *mut usize as *mut libc::c_void,
            );
        }
        advised
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn limit_arenas() {}

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn release_code_pages() -> usize {
        0
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub async fn trim_periodically() {}
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate.recv() => {},
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn releasing_code_pages_lowers_the_rss_and_the_code_still_runs() {
        fn rss_file() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            status
                .lines()
                .find_map(|line| line.strip_prefix("RssFile:"))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
                .unwrap()
        }
        let before = rss_file();
        let advised = super::allocator::release_code_pages();
        let after = rss_file();
        assert!(advised > 1 << 20, "advised {advised} bytes");
        assert!(
            after < before,
            "RssFile {before} kB before, {after} kB after"
        );
        // Code and constants fault back in unchanged.
        assert_eq!(super::plural("RetentionPolicy"), "retentionpolicies");
        let objects = super::bootstrap_objects("example/image:1").count();
        assert!(objects > 12, "{objects} bootstrap objects");
    }

    #[test]
    fn plurals_follow_the_kubernetes_defaults() {
        for (kind, plural) in [
            ("CustomResourceDefinition", "customresourcedefinitions"),
            ("RetentionPolicy", "retentionpolicies"),
            ("Ingress", "ingresses"),
            ("Deployment", "deployments"),
            ("Gateway", "gateways"),
        ] {
            assert_eq!(super::plural(kind), plural);
        }
    }
}
