//! Rules shared by every kind that carries sessions (BackupConfiguration, BackupBlueprint,
//! BackupBatch, BackupVerifier): backends, schedulers, hooks, addons and repositories.

use std::collections::BTreeSet;

use crate::api::core::{
    AddonInfo, BackendReference, BackupHooks, HookInfo, RepositoryInfo, SchedulerSpec, Session,
    SessionConfig,
};
use crate::schedule::CronSchedule;

use super::{check_duration, duplicates, Findings};

/// Backends and sessions of a BackupConfiguration (or a blueprint's template, where
/// `templated` lets `${variable}` placeholders through); `prefix` is the path of their parent.
pub(super) fn check_sessions(
    backends: &[BackendReference],
    sessions: &[Session],
    prefix: &str,
    templated: bool,
    findings: &mut Findings,
) {
    check_backends(backends, prefix, findings);
    if sessions.is_empty() {
        findings.error(
            format!("{prefix}.sessions"),
            "at least one session is required",
        );
    }
    for name in duplicates(sessions.iter().map(|session| session.config.name.as_str())) {
        findings.error(
            format!("{prefix}.sessions"),
            format!("duplicate session name `{name}`"),
        );
    }
    let mut repositories = RepositoryRegistry::default();
    for (index, session) in sessions.iter().enumerate() {
        let field = format!("{prefix}.sessions[{index}]");
        check_session_config(&session.config, &field, templated, findings);
        check_addon(session.addon.as_ref(), &format!("{field}.addon"), findings);
        check_repositories(
            session.repositories.as_deref(),
            backends,
            &field,
            templated,
            &mut repositories,
            findings,
        );
    }
}

/// Whether a string holds a `${variable}` placeholder (blueprint templates).
pub(super) fn is_templated(text: &str) -> bool {
    text.contains("${")
}

pub(super) fn check_backends(backends: &[BackendReference], prefix: &str, findings: &mut Findings) {
    for (index, backend) in backends.iter().enumerate() {
        if backend.name.is_empty() {
            findings.error(
                format!("{prefix}.backends[{index}].name"),
                "backend name is required",
            );
        }
        if backend
            .storage_ref
            .as_ref()
            .is_some_and(|reference| reference.name.is_empty())
        {
            findings.error(
                format!("{prefix}.backends[{index}].storageRef.name"),
                "BackupStorage name is required",
            );
        }
        if backend
            .retention_policy
            .as_ref()
            .is_some_and(|reference| reference.name.is_empty())
        {
            findings.error(
                format!("{prefix}.backends[{index}].retentionPolicy.name"),
                "RetentionPolicy name is required",
            );
        }
    }
    for name in duplicates(backends.iter().map(|backend| backend.name.as_str())) {
        findings.error(
            format!("{prefix}.backends"),
            format!("duplicate backend name `{name}`"),
        );
    }
}

pub(super) fn check_session_config(
    config: &SessionConfig,
    field: &str,
    templated: bool,
    findings: &mut Findings,
) {
    if config.name.is_empty() {
        findings.error(format!("{field}.name"), "session name is required");
    }
    match &config.scheduler {
        None => findings.error(
            format!("{field}.scheduler"),
            "a scheduler (with a schedule) is required",
        ),
        Some(scheduler) => check_scheduler(
            scheduler,
            &format!("{field}.scheduler"),
            templated,
            findings,
        ),
    }
    if let Some(retry) = &config.retry_config {
        if retry.max_retry < 1 {
            findings.error(
                format!("{field}.retryConfig.maxRetry"),
                "must be at least 1",
            );
        }
        check_duration(
            findings,
            &format!("{field}.retryConfig.delay"),
            retry.delay.as_deref(),
        );
    }
    check_duration(
        findings,
        &format!("{field}.backupTimeout"),
        config.backup_timeout.as_deref(),
    );
    if config.session_history_limit < 0 {
        findings.error(
            format!("{field}.sessionHistoryLimit"),
            "must not be negative",
        );
    }
    if let Some(BackupHooks {
        pre_backup,
        post_backup,
    }) = &config.hooks
    {
        check_hooks(
            pre_backup.as_deref(),
            &format!("{field}.hooks.preBackup"),
            findings,
        );
        check_hooks(
            post_backup.as_deref(),
            &format!("{field}.hooks.postBackup"),
            findings,
        );
    }
}

pub(super) fn check_scheduler(
    scheduler: &SchedulerSpec,
    field: &str,
    templated: bool,
    findings: &mut Findings,
) {
    let schedule = &scheduler.schedule;
    if templated && is_templated(schedule) {
        return;
    }
    match CronSchedule::parse(schedule) {
        Err(error) => findings.error(
            format!("{field}.schedule"),
            format!("invalid cron schedule `{schedule}`: {error}"),
        ),
        Ok(parsed) if parsed.next_after(chrono::Utc::now()).is_none() => findings.warning(
            format!("{field}.schedule"),
            format!("cron schedule `{schedule}` never fires"),
        ),
        Ok(_) => {}
    }
    for (name, value) in [
        (
            "successfulJobsHistoryLimit",
            scheduler.successful_jobs_history_limit,
        ),
        (
            "failedJobsHistoryLimit",
            scheduler.failed_jobs_history_limit,
        ),
        (
            "jobTemplate.backoffLimit",
            scheduler.job_template.backoff_limit,
        ),
    ] {
        if value.is_some_and(|value| value < 0) {
            findings.error(format!("{field}.{name}"), "must not be negative");
        }
    }
}

pub(super) fn check_hooks(hooks: Option<&[HookInfo]>, field: &str, findings: &mut Findings) {
    let hooks = hooks.unwrap_or_default();
    for (index, hook) in hooks.iter().enumerate() {
        let hook_field = format!("{field}[{index}]");
        if hook.name.is_empty() {
            findings.error(format!("{hook_field}.name"), "hook name is required");
        }
        if hook
            .hook_template
            .as_ref()
            .is_none_or(|template| template.name.is_empty())
        {
            findings.error(
                format!("{hook_field}.hookTemplate"),
                "a HookTemplate reference is required",
            );
        }
        if hook.max_retry.is_some_and(|retries| retries < 0) {
            findings.error(format!("{hook_field}.maxRetry"), "must not be negative");
        }
        check_duration(
            findings,
            &format!("{hook_field}.timeout"),
            hook.timeout.as_deref(),
        );
    }
    for name in duplicates(hooks.iter().map(|hook| hook.name.as_str())) {
        findings.error(field, format!("duplicate hook name `{name}`"));
    }
}

pub(super) fn check_addon(addon: Option<&AddonInfo>, field: &str, findings: &mut Findings) {
    let Some(addon) = addon else {
        findings.error(field, "an addon (name and task) is required");
        return;
    };
    if addon.name.is_empty() {
        findings.error(format!("{field}.name"), "addon name is required");
    }
    let tasks = addon.tasks.as_deref().unwrap_or_default();
    if tasks.is_empty() {
        findings.error(format!("{field}.tasks"), "at least one task is required");
    }
    for (index, task) in tasks.iter().enumerate() {
        if task.name.is_empty() {
            findings.error(
                format!("{field}.tasks[{index}].name"),
                "task name is required",
            );
        }
    }
}

/// Repository names and backend/directory pairs seen so far in one configuration.
#[derive(Default)]
pub(super) struct RepositoryRegistry {
    names: BTreeSet<String>,
    locations: BTreeSet<(String, String)>,
}

pub(super) fn check_repositories(
    repositories: Option<&[RepositoryInfo]>,
    backends: &[BackendReference],
    field: &str,
    templated: bool,
    registry: &mut RepositoryRegistry,
    findings: &mut Findings,
) {
    let repositories = repositories.unwrap_or_default();
    if repositories.is_empty() {
        findings.error(
            format!("{field}.repositories"),
            "at least one repository is required",
        );
    }
    let backend_names: Vec<&str> = backends
        .iter()
        .map(|backend| backend.name.as_str())
        .collect();
    for (index, repository) in repositories.iter().enumerate() {
        let repository_field = format!("{field}.repositories[{index}]");
        if repository.name.is_empty() {
            findings.error(
                format!("{repository_field}.name"),
                "repository name is required",
            );
        } else if !registry.names.insert(repository.name.clone()) {
            findings.error(
                format!("{repository_field}.name"),
                format!("duplicate repository name `{}`", repository.name),
            );
        }
        let directory = crate::engine::location::clean_prefix(&repository.directory);
        let directory = directory.as_str();
        if let Some(problem) = super::storage::directory_problem(directory) {
            findings.error(format!("{repository_field}.directory"), problem);
        }
        let backend = repository.backend.as_deref().unwrap_or_default();
        if backend.is_empty() {
            if backend_names.len() > 1 {
                findings.warning(
                    format!("{repository_field}.backend"),
                    format!(
                        "no backend named while {} are defined; the default one is used",
                        backend_names.len()
                    ),
                );
            }
        } else if !(backend_names.contains(&backend) || templated && is_templated(backend)) {
            let known = if backend_names.is_empty() {
                "no backends are defined in spec.backends".to_string()
            } else {
                format!("defined: {}", backend_names.join(", "))
            };
            findings.error(
                format!("{repository_field}.backend"),
                format!("unknown backend `{backend}` ({known})"),
            );
        }
        if !directory.is_empty()
            && !registry
                .locations
                .insert((backend.to_string(), directory.to_string()))
        {
            findings.error(
                format!("{repository_field}.directory"),
                format!("directory `{directory}` of backend `{backend}` is already used by another repository"),
            );
        }
        if repository
            .encryption_secret
            .as_ref()
            .is_none_or(|secret| secret.name.is_empty())
        {
            findings.warning(
                format!("{repository_field}.encryptionSecret"),
                "no encryption Secret: backups into this repository cannot run",
            );
        }
    }
}
