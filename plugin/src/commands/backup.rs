//! `kubectl kubestash backup now <backupconfiguration>` (alias `trigger`; `--batch` for a
//! BackupBatch): create
//! BackupSession(s) named as KubeStash names them and, with `--wait`, follow them to the end:
//! a progress bar on a TTY, plain lines otherwise, a summary table, `-o json` for CI, and the
//! exit code of the outcome (0 Succeeded, 1 Failed/Skipped, 3 timed out).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kube::{Api, Client, ResourceExt};
use kubestash::api::core::{BackupSession, BackupSessionPhase};
use kubestash::api::storage::Snapshot;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};
use crate::output::{self, OutputFormat};

/// `backup` subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Trigger a backup of a BackupConfiguration (or, with --batch, a BackupBatch) now.
    #[command(alias = "trigger")]
    Now(NowArgs),
}

/// Flags of `backup now`.
#[derive(Debug, Args)]
pub struct NowArgs {
    /// The BackupConfiguration (with --batch: the BackupBatch).
    pub backup_configuration: String,
    /// The name is a BackupBatch: one session backs up all of its targets.
    #[arg(long)]
    pub batch: bool,
    /// Only these sessions (default: every session).
    #[arg(long = "session", value_name = "NAME")]
    pub sessions: Vec<String>,
    /// Wait until the sessions end, and exit with their outcome.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait (Go duration: 90s, 10m, 1h).
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub timeout: String,
    /// With --wait: when a session fails and its retryConfig leaves retries, wait for the
    /// operator's retry and exit with the last attempt's outcome.
    #[arg(long, requires = "wait")]
    pub follow_retries: bool,
    /// With --wait: run the controllers in this process even if an operator is running.
    #[arg(long, requires = "wait")]
    pub embedded: bool,
}

/// One snapshot in the result.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotResult {
    name: String,
    repository: String,
    phase: String,
    size: Option<String>,
    components: Vec<ComponentResult>,
}

/// One component in the result.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentResult {
    name: String,
    phase: String,
    size: Option<String>,
    duration: Option<String>,
    restic_id: Option<String>,
    error: Option<String>,
}

/// The machine-readable result of one BackupSession.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResult {
    namespace: String,
    backup_session: String,
    session: String,
    phase: String,
    duration: Option<String>,
    reason: Option<String>,
    snapshots: Vec<SnapshotResult>,
    /// Retries the operator still makes when this session fails.
    #[serde(skip)]
    retry_left: i32,
}

/// What `backup now -o json|yaml` prints: the same shape for one session or several, with
/// or without `--wait`, on timeout too.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NowResult {
    namespace: String,
    /// `Pending` without `--wait`; then `Succeeded` when every session succeeded,
    /// `TimedOut` when the wait ran out, else the first other session's phase.
    phase: String,
    backup_sessions: Vec<SessionResult>,
}

impl NowResult {
    fn new(namespace: &str, backup_sessions: Vec<SessionResult>, timed_out: bool) -> Self {
        let phase = if timed_out {
            "TimedOut".to_string()
        } else {
            backup_sessions
                .iter()
                .map(|result| result.phase.as_str())
                .find(|phase| *phase != "Succeeded")
                .unwrap_or("Succeeded")
                .to_string()
        };
        Self {
            namespace: namespace.to_string(),
            phase,
            backup_sessions,
        }
    }
}

/// Runs `backup now`.
pub fn run(command: &BackupCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let BackupCommand::Now(args) = command;
    let timeout = kubestash::duration::parse_go_duration(&args.timeout)
        .map_err(|error| CliError::bad_input(format!("--timeout `{}`: {error}", args.timeout)))?;
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        let namespace = cluster.namespace.clone();
        let name = &args.backup_configuration;
        let (kind, plural) = if args.batch {
            (kubestash_operator::invoker::BATCH, "backupbatches")
        } else {
            (
                kubestash_operator::invoker::CONFIGURATION,
                "backupconfigurations",
            )
        };
        let invoker =
            kubestash_operator::invoker::Invoker::fetch(&cluster.client, &namespace, kind, name)
                .await?
                .map_err(|_| {
                    CliError::bad_input(format!("{kind} {namespace}/{name} not found")).with_hint(
                        format!("list them with `kubectl get {plural} -n {namespace}`"),
                    )
                })?;
        let available: Vec<String> = invoker
            .sessions
            .iter()
            .map(|s| s.config.name.clone())
            .collect();
        if available.is_empty() {
            return Err(CliError::bad_input(format!(
                "{kind} {namespace}/{name} has no sessions (spec.sessions is empty): there is nothing to back up"
            ))
            .into());
        }
        let mut sessions: Vec<String> = if args.sessions.is_empty() {
            available.clone()
        } else {
            args.sessions.clone()
        };
        // `--session a --session a` is one backup: a second would only be Skipped.
        let mut seen = std::collections::HashSet::new();
        sessions.retain(|session| seen.insert(session.clone()));
        for session in &sessions {
            if !available.contains(session) {
                return Err(CliError::bad_input(format!(
                    "{kind} {namespace}/{name} has no session `{session}` (spec.sessions[].name)"
                ))
                .with_hint(format!("its sessions: {}", available.join(", ")))
                .into());
            }
        }
        let embedded = if args.wait {
            crate::commands::embedded::start_if_needed(&cluster.client, args.embedded, None).await?
        } else {
            None
        };
        let mut created: Vec<String> = Vec::new();
        let mut pending = Vec::new();
        for session in &sessions {
            let object = match kubestash_operator::sessions::trigger(
                &cluster.client,
                &namespace,
                kind,
                name,
                session,
            )
            .await
            {
                Ok(object) => object,
                Err(error) => {
                    // All or nothing: sessions already created would run unreported, and a
                    // Pending one would get the next `backup now` of its session Skipped.
                    // One an operator already started is left to finish (deleting it would
                    // kill its Jobs mid-upload) and named.
                    let api: Api<BackupSession> = Api::namespaced(cluster.client.clone(), &namespace);
                    for done in &created {
                        let phase = api.get(done).await.ok().and_then(|s| s.status?.phase);
                        if phase.is_some_and(|p| p != BackupSessionPhase::Pending) {
                            eprintln!("warning: backupsession/{done} was created and has started; it runs on");
                            continue;
                        }
                        match api.delete(done, &Default::default()).await {
                            Ok(_) => eprintln!("backupsession/{done} deleted"),
                            Err(delete) => eprintln!("warning: backupsession/{done} was created and could not be deleted: {delete}"),
                        }
                    }
                    if let Some(embedded) = embedded {
                        embedded.stop().await;
                    }
                    return Err(anyhow::Error::from(error).context(format!(
                        "failed to create a BackupSession for session `{session}` of {kind} {namespace}/{name}"
                    )));
                }
            };
            eprintln!("backupsession/{} created", object.name_any());
            created.push(object.name_any());
            pending.push(object);
        }
        // What is known of each session: reported as it stands if the wait runs out.
        let mut last_seen = Vec::new();
        for object in &pending {
            last_seen.push(result_of(&cluster.client, &namespace, object).await);
        }
        if !args.wait {
            crate::commands::embedded::warn_if_no_operator(
                &cluster.client,
                &format!("backupsession/{}", created.join(", backupsession/")),
            )
            .await;
            if global.output == OutputFormat::Table {
                for name in &created {
                    println!("backupsession/{name}");
                }
            } else {
                output::print_structured(
                    global.output,
                    &NowResult::new(&namespace, last_seen, false),
                )?;
            }
            return Ok(ExitStatus::Success);
        }
        let mut embedded = embedded;
        // The deadline inside is checked between requests; this bounds a request that hangs.
        let outcome = tokio::time::timeout(
            timeout + Duration::from_secs(10),
            wait_all(
                &cluster.client,
                &namespace,
                &created,
                timeout,
                args.follow_retries,
                embedded.as_mut(),
                &mut last_seen,
            ),
        )
        .await
        // A request that hung past the deadline.
        .unwrap_or(Ok(true));
        if let Some(embedded) = embedded {
            embedded.stop().await;
        }
        let timed_out = outcome?;
        let results = last_seen;
        report(&NowResult::new(&namespace, results.clone(), timed_out), global.output)?;
        if timed_out {
            return Err(CliError {
                status: ExitStatus::TimedOut,
                message: format!(
                    "timed out after {} waiting for {}",
                    args.timeout,
                    created.join(", ")
                ),
                hint: Some(format!(
                    "see `kubectl describe backupsession -n {namespace} {}`",
                    created.join(" ")
                )),
            }
            .into());
        }
        let failed: Vec<&SessionResult> =
            results.iter().filter(|r| r.phase != "Succeeded").collect();
        if failed.is_empty() {
            Ok(ExitStatus::Success)
        } else {
            for result in &failed {
                eprintln!(
                    "error: BackupSession {}/{} {}: {}",
                    result.namespace,
                    result.backup_session,
                    result.phase,
                    result.reason.clone().unwrap_or_default()
                );
                for snapshot in &result.snapshots {
                    for component in snapshot.components.iter().filter(|c| c.error.is_some()) {
                        eprintln!(
                            "  snapshot {} component {}: {}",
                            snapshot.name,
                            component.name,
                            component.error.clone().unwrap_or_default()
                        );
                    }
                }
                if result.phase == "Failed" && result.retry_left > 0 && !args.follow_retries {
                    eprintln!(
                        "  the operator retries it ({} left, per the session's retryConfig); \
                         --follow-retries waits for the last attempt",
                        result.retry_left
                    );
                }
            }
            Ok(ExitStatus::Failed)
        }
    })
}

fn phase_text<T: std::fmt::Debug>(phase: Option<T>) -> String {
    phase
        .map(|p| format!("{p:?}"))
        .unwrap_or_else(|| "Pending".into())
}

async fn result_of(client: &Client, namespace: &str, session: &BackupSession) -> SessionResult {
    let snapshots_api: Api<Snapshot> = Api::namespaced(client.clone(), namespace);
    let status = session.status.clone().unwrap_or_default();
    let mut snapshots = Vec::new();
    for entry in status.snapshots.iter().flatten() {
        let Ok(Some(snapshot)) = snapshots_api.get_opt(&entry.name).await else {
            continue;
        };
        let snapshot_status = snapshot.status.clone().unwrap_or_default();
        let components = snapshot_status
            .components
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(name, c)| ComponentResult {
                name,
                phase: phase_text(c.phase),
                size: c.size.clone(),
                duration: c.duration.clone(),
                restic_id: c
                    .restic_stats
                    .iter()
                    .flatten()
                    .find_map(|s| s.summary.as_ref().and_then(|s| s.id.clone())),
                error: c.error.clone(),
            })
            .collect();
        snapshots.push(SnapshotResult {
            name: entry.name.clone(),
            repository: snapshot.spec.repository.clone(),
            phase: phase_text(snapshot_status.phase),
            size: snapshot_status.size.clone(),
            components,
        });
    }
    let reason = status
        .conditions
        .iter()
        .flatten()
        .filter(|c| c.status == "False" || c.type_ == "BackupSkipped")
        .filter_map(|c| c.message.clone())
        .next_back();
    SessionResult {
        namespace: namespace.to_string(),
        backup_session: session.name_any(),
        session: session.spec.session.clone().unwrap_or_default(),
        phase: phase_text(status.phase),
        duration: status.duration.clone(),
        reason: if status.phase == Some(BackupSessionPhase::Succeeded) {
            None
        } else {
            reason
        },
        snapshots,
        retry_left: session.spec.retry_left.unwrap_or(0),
    }
}

/// Follows the sessions until all end (`false`) or the timeout passes (`true`), keeping
/// `last_seen` at the last complete reading of every session.
async fn wait_all(
    client: &Client,
    namespace: &str,
    names: &[String],
    timeout: Duration,
    follow_retries: bool,
    mut embedded: Option<&mut crate::commands::embedded::Embedded>,
    last_seen: &mut Vec<SessionResult>,
) -> anyhow::Result<bool> {
    let api: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + timeout;
    // The session followed for each one created: a failed session's retry takes its place.
    let mut names = names.to_vec();
    // Outcomes already final are not read again: the operator's history limit may delete a
    // finished session while another one is still followed.
    let mut settled: std::collections::HashMap<String, SessionResult> = Default::default();
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let bar = ProgressBar::new(100);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent:>3}%")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut last_line = String::new();
    // When each failed session was last asked whether its retry can come in time.
    let mut retry_looked_up: std::collections::HashMap<String, Instant> = Default::default();
    loop {
        let ended = match embedded.as_deref_mut() {
            Some(embedded) => embedded.ended().await,
            None => None,
        };
        if let Some(error) = ended {
            if let Some(bar) = &bar {
                bar.abandon();
            }
            return Err(error);
        }
        let mut results = Vec::new();
        let mut done = true;
        let mut complete = true;
        let mut percent: f64 = 0.0;
        let mut line_parts = Vec::new();
        for name in names.iter_mut() {
            if let Some(result) = settled.get(name.as_str()) {
                line_parts.push(format!("{name}: {}", result.phase));
                results.push(result.clone());
                continue;
            }
            let session = match api.get(name).await {
                Ok(session) => session,
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    anyhow::bail!(
                        "BackupSession {namespace}/{name} was deleted while waiting for it"
                    )
                }
                // An API server blip is not the backup's outcome: ask again until the deadline.
                Err(error) if Instant::now() < deadline => {
                    say(
                        &bar,
                        &format!(
                            "warning: reading BackupSession {namespace}/{name}: {error}; retrying"
                        ),
                    );
                    done = false;
                    complete = false;
                    break;
                }
                // Out of time with the API server unanswering: reported as last seen.
                Err(error) => {
                    if let Some(bar) = &bar {
                        bar.abandon();
                    }
                    eprintln!("warning: reading BackupSession {namespace}/{name}: {error}");
                    return Ok(true);
                }
            };
            let phase = session.status.as_ref().and_then(|s| s.phase);
            let result = result_of(client, namespace, &session).await;
            if !phase.is_some_and(|p| p.is_final()) {
                done = false;
            }
            let mut retried_later = follow_retries
                && phase == Some(BackupSessionPhase::Failed)
                && session.spec.retry_left.unwrap_or(0) > 0;
            let looked_up = retry_looked_up.get(name.as_str());
            if retried_later
                && session.status.as_ref().and_then(|s| s.retried) != Some(true)
                && looked_up.is_none_or(|at| at.elapsed() >= Duration::from_secs(5))
            {
                retry_looked_up.insert(name.clone(), Instant::now());
                // A retry that cannot come in time is not waited for until the timeout.
                let message = match no_retry_before(client, namespace, &session, deadline).await {
                    Ok(Some(why)) => {
                        retried_later = false;
                        format!("BackupSession {namespace}/{name} Failed and no retry follows in time: {why}")
                    }
                    Ok(None) => String::new(),
                    Err(error) => format!(
                        "warning: looking up the invoker of BackupSession {namespace}/{name}: {error:#}; retrying"
                    ),
                };
                if !message.is_empty() {
                    say(&bar, &message);
                }
            }
            if retried_later {
                // The operator retries it: the outcome is the retry's. Once the retry exists
                // (`retried`) it is followed; one that is gone leaves this outcome final.
                let retried = session.status.as_ref().and_then(|s| s.retried) == Some(true);
                if !retried {
                    done = false;
                }
                match retry_of(&api, &session).await {
                    Ok(Some(retry)) => {
                        done = false;
                        let message = format!(
                            "BackupSession {namespace}/{name} Failed: {}; following its retry {retry}",
                            result.reason.clone().unwrap_or_default()
                        );
                        say(&bar, &message);
                        // Reported as it stands if the wait runs out before the retry is read.
                        results.push(result);
                        *name = retry;
                        continue;
                    }
                    Ok(None) => {}
                    // Not knowing whether a retry runs is not an outcome: ask again.
                    Err(error) if Instant::now() < deadline => {
                        done = false;
                        let message = format!(
                            "warning: looking for the retry of BackupSession {namespace}/{name}: {error}; retrying"
                        );
                        say(&bar, &message);
                    }
                    Err(error) => {
                        if let Some(bar) = &bar {
                            bar.abandon();
                        }
                        eprintln!("warning: looking for the retry of BackupSession {namespace}/{name}: {error}");
                        return Ok(true);
                    }
                }
            }
            let snapshots_api: Api<Snapshot> = Api::namespaced(client.clone(), namespace);
            for entry in session
                .status
                .as_ref()
                .and_then(|s| s.snapshots.clone())
                .unwrap_or_default()
            {
                if let Ok(Some(snapshot)) = snapshots_api.get_opt(&entry.name).await {
                    for (component, status) in snapshot
                        .status
                        .and_then(|s| s.components)
                        .unwrap_or_default()
                    {
                        let progress = status
                            .restic_stats
                            .iter()
                            .flatten()
                            .find_map(|s| s.progress.clone());
                        if let Some(progress) = progress {
                            percent = percent.max(
                                progress
                                    .percent_done
                                    .as_deref()
                                    .and_then(|p| p.parse().ok())
                                    .unwrap_or(0.0),
                            );
                            line_parts.push(format!(
                                "{component} {} of {} at {}",
                                progress.backup_done.unwrap_or_default(),
                                progress.total.unwrap_or_default(),
                                progress.speed.unwrap_or_default()
                            ));
                        } else {
                            line_parts.push(format!("{component} {}", phase_text(status.phase)));
                        }
                    }
                }
            }
            line_parts.insert(0, format!("{name}: {}", result.phase));
            if phase.is_some_and(|p| p.is_final()) && !retried_later {
                settled.insert(name.clone(), result.clone());
            }
            results.push(result);
        }
        let line = line_parts.join(", ");
        match &bar {
            Some(bar) => {
                bar.set_message(line.clone());
                bar.set_position(if done { 100 } else { percent as u64 });
            }
            None if line != last_line => eprintln!("{line}"),
            None => {}
        }
        last_line = line;
        if complete {
            *last_seen = results;
        }
        if done {
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            return Ok(false);
        }
        if Instant::now() >= deadline {
            if let Some(bar) = bar {
                bar.abandon();
            }
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Prints a line on stderr, above the progress bar when there is one.
fn say(bar: &Option<ProgressBar>, message: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{message}")),
        None => eprintln!("{message}"),
    }
}

/// Why the operator will not have retried `failed` by `deadline`, when it will not: its
/// retry is due later, or its invoker is gone or without its session. A paused invoker
/// is waited for: a restore pauses backups and resumes them when it ends.
async fn no_retry_before(
    client: &Client,
    namespace: &str,
    failed: &BackupSession,
    deadline: Instant,
) -> anyhow::Result<Option<String>> {
    let next_retry = failed.status.as_ref().and_then(|s| s.next_retry.as_ref());
    if let Some(next) = next_retry.map(kubestash_operator::util::to_chrono) {
        let left = chrono::Duration::from_std(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        if next > chrono::Utc::now() + left {
            return Ok(Some(format!(
                "its retry is due at {}, after --timeout",
                next.to_rfc3339()
            )));
        }
    }
    let Some(invoker) = &failed.spec.invoker else {
        return Ok(Some(
            "it names no invoker (spec.invoker) to retry it from".into(),
        ));
    };
    let found = kubestash_operator::invoker::Invoker::fetch(
        client,
        namespace,
        &invoker.kind,
        &invoker.name,
    )
    .await?;
    let session = failed.spec.session.clone().unwrap_or_default();
    Ok(match found {
        Err(why) => Some(why),
        Ok(found) if found.session(&session).is_none() => Some(format!(
            "{} {namespace}/{} no longer has session `{session}`",
            invoker.kind, invoker.name
        )),
        Ok(_) => None,
    })
}

/// The BackupSession the operator created to retry `failed`; `None` before it has (or when
/// that retry is gone).
async fn retry_of(
    api: &Api<BackupSession>,
    failed: &BackupSession,
) -> kube::Result<Option<String>> {
    use kubestash_operator::{ANNOTATION_RETRY_OF, LABEL_INVOKER_NAME, LABEL_SESSION};
    if failed.status.as_ref().and_then(|s| s.retried) != Some(true) {
        return Ok(None);
    }
    let Some(invoker) = failed.labels().get(LABEL_INVOKER_NAME) else {
        return Ok(None);
    };
    let selector = format!("{LABEL_INVOKER_NAME}={invoker}");
    let sessions = api
        .list(&kube::api::ListParams::default().labels(&selector))
        .await?
        .items;
    let failed_name = failed.name_any();
    if let Some(marked) = sessions.iter().find(|s| {
        s.annotations()
            .get(ANNOTATION_RETRY_OF)
            .is_some_and(|of| *of == failed_name)
    }) {
        return Ok(Some(marked.name_any()));
    }
    // An operator from before the annotation: the retry is the first later session of the
    // same invoker session with one retry less and no mark of its own.
    Ok(sessions
        .iter()
        .filter(|s| {
            s.name_any() != failed_name
                && s.labels().get(LABEL_SESSION) == failed.labels().get(LABEL_SESSION)
                && s.spec.retry_left == failed.spec.retry_left.map(|left| left - 1)
                && s.metadata.creation_timestamp >= failed.metadata.creation_timestamp
                && !s.annotations().contains_key(ANNOTATION_RETRY_OF)
        })
        .min_by(|a, b| {
            a.metadata
                .creation_timestamp
                .partial_cmp(&b.metadata.creation_timestamp)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|s| s.name_any()))
}

fn report(result: &NowResult, format: OutputFormat) -> anyhow::Result<()> {
    let results = &result.backup_sessions;
    match format {
        OutputFormat::Table => {
            let mut table = output::table(&[
                "backupsession",
                "phase",
                "duration",
                "snapshot",
                "repository",
                "size",
                "components",
            ]);
            for result in results {
                if result.snapshots.is_empty() {
                    table.add_row(vec![
                        result.backup_session.clone(),
                        result.phase.clone(),
                        result.duration.clone().unwrap_or_default(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                    ]);
                }
                for snapshot in &result.snapshots {
                    let components: Vec<String> = snapshot
                        .components
                        .iter()
                        .map(|c| format!("{}={}", c.name, c.phase))
                        .collect();
                    table.add_row(vec![
                        result.backup_session.clone(),
                        result.phase.clone(),
                        result.duration.clone().unwrap_or_default(),
                        snapshot.name.clone(),
                        snapshot.repository.clone(),
                        snapshot.size.clone().unwrap_or_default(),
                        components.join(","),
                    ]);
                }
            }
            output::print_table(&table);
        }
        _ => output::print_structured(format, result)?,
    }
    Ok(())
}
