//! Rules for core.kubestash.com kinds: configurations and their sessions, sessions, restores,
//! hooks, blueprints, batches and verifiers.

use std::collections::BTreeSet;

use crate::api::core::{
    BackupBatch, BackupBlueprint, BackupConfiguration, BackupSession, BackupVerificationSession,
    BackupVerifier, HookExecutorType, HookTemplate, RestoreSession, LATEST_SNAPSHOT,
};

use super::session::{
    check_addon, check_backends, check_hooks, check_repositories, check_scheduler,
    check_session_config, check_sessions, RepositoryRegistry,
};
use super::{check_duration, duplicates, usage_policy, Findings};

pub(super) fn backup_configuration(configuration: &BackupConfiguration, findings: &mut Findings) {
    let spec = &configuration.spec;
    check_sessions(
        spec.backends.as_deref().unwrap_or_default(),
        spec.sessions.as_deref().unwrap_or_default(),
        "spec",
        false,
        findings,
    );
}

pub(super) fn backup_blueprint(blueprint: &BackupBlueprint, findings: &mut Findings) {
    let spec = &blueprint.spec;
    usage_policy::check(spec.usage_policy.as_ref(), "spec.usagePolicy", findings);
    let Some(template) = &spec.backup_configuration_template else {
        findings.error(
            "spec.backupConfigurationTemplate",
            "a BackupConfiguration template is required",
        );
        return;
    };
    check_sessions(
        template.backends.as_deref().unwrap_or_default(),
        template.sessions.as_deref().unwrap_or_default(),
        "spec.backupConfigurationTemplate",
        true,
        findings,
    );
}

/// A DNS-1123 label: lowercase alphanumerics and `-`, starting and ending alphanumeric.
fn is_dns_label(name: &str) -> bool {
    name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

pub(super) fn backup_batch(batch: &BackupBatch, findings: &mut Findings) {
    let spec = &batch.spec;
    let backends = spec.backends.as_deref().unwrap_or_default();
    check_backends(backends, "spec", findings);
    let targets = spec.targets.as_deref().unwrap_or_default();
    if targets.is_empty() {
        findings.error("spec.targets", "at least one target is required");
    }
    for (index, target) in targets.iter().enumerate() {
        if target.name.is_empty() {
            findings.error(
                format!("spec.targets[{index}].name"),
                "target name is required",
            );
        } else if !is_dns_label(&target.name) {
            // It names the target's backup Jobs.
            findings.error(
                format!("spec.targets[{index}].name"),
                format!(
                    "`{}` is not a DNS label (lowercase letters, digits and `-`, at most 63)",
                    target.name
                ),
            );
        }
        if target.app_ref.is_none() {
            findings.error(
                format!("spec.targets[{index}].appRef"),
                "the target object is required",
            );
        }
    }
    for name in duplicates(targets.iter().map(|target| target.name.as_str())) {
        findings.error("spec.targets", format!("duplicate target name `{name}`"));
    }
    let target_names: BTreeSet<&str> = targets.iter().map(|target| target.name.as_str()).collect();
    let sessions = spec.sessions.as_deref().unwrap_or_default();
    if sessions.is_empty() {
        findings.error("spec.sessions", "at least one session is required");
    }
    for name in duplicates(sessions.iter().map(|session| session.config.name.as_str())) {
        findings.error("spec.sessions", format!("duplicate session name `{name}`"));
    }
    let mut repositories = RepositoryRegistry::default();
    for (index, session) in sessions.iter().enumerate() {
        let field = format!("spec.sessions[{index}]");
        check_session_config(&session.config, &field, false, findings);
        let session_targets = session.targets.as_deref().unwrap_or_default();
        if session_targets.is_empty() {
            findings.error(
                format!("{field}.targets"),
                "at least one target is required",
            );
        }
        for (target_index, target) in session_targets.iter().enumerate() {
            let target_field = format!("{field}.targets[{target_index}]");
            if !target_names.contains(target.name.as_str()) {
                findings.error(
                    format!("{target_field}.name"),
                    format!("unknown target `{}` (not in spec.targets)", target.name),
                );
            }
            check_addon(
                target.addon.as_ref(),
                &format!("{target_field}.addon"),
                findings,
            );
            check_repositories(
                target.repositories.as_deref(),
                backends,
                &target_field,
                false,
                &mut repositories,
                findings,
            );
        }
    }
}

pub(super) fn backup_session(session: &BackupSession, findings: &mut Findings) {
    let spec = &session.spec;
    match &spec.invoker {
        None => findings.error(
            "spec.invoker",
            "the invoking BackupConfiguration or BackupBatch is required",
        ),
        Some(invoker) => {
            if !["BackupConfiguration", "BackupBatch"].contains(&invoker.kind.as_str()) {
                findings.error(
                    "spec.invoker.kind",
                    format!(
                        "`{}` cannot invoke a backup (BackupConfiguration or BackupBatch)",
                        invoker.kind
                    ),
                );
            }
            if invoker.name.is_empty() {
                findings.error("spec.invoker.name", "invoker name is required");
            }
        }
    }
    if spec.session.as_deref().unwrap_or_default().is_empty() {
        findings.error("spec.session", "the session name is required");
    }
    check_duration(
        findings,
        "spec.backupTimeout",
        spec.backup_timeout.as_deref(),
    );
}

pub(super) fn restore_session(session: &RestoreSession, findings: &mut Findings) {
    let spec = &session.spec;
    match &spec.data_source {
        None => findings.error(
            "spec.dataSource",
            "a data source (repository and snapshot) is required",
        ),
        Some(source) => {
            let repository = source.repository.as_deref().unwrap_or_default();
            let snapshot = source.snapshot.as_deref().unwrap_or_default();
            match (snapshot.is_empty(), source.pitr.is_some()) {
                (true, false) => findings.error(
                    "spec.dataSource.snapshot",
                    "a snapshot name, `latest`, or `pitr` is required",
                ),
                (false, true) => findings.error(
                    "spec.dataSource",
                    "`snapshot` and `pitr` cannot both be set",
                ),
                _ => {}
            }
            if snapshot == LATEST_SNAPSHOT && repository.is_empty() {
                findings.error(
                    "spec.dataSource.repository",
                    "repository is required when snapshot is `latest`",
                );
            }
            if source.pitr.is_some() && repository.is_empty() {
                findings.error(
                    "spec.dataSource.repository",
                    "repository is required with `pitr`",
                );
            }
            if let Some(pitr) = &source.pitr {
                if pitr.target_time.is_none() {
                    findings.error("spec.dataSource.pitr.targetTime", "target time is required");
                }
            }
            for name in duplicates(source.components.iter().flatten().map(String::as_str)) {
                findings.error(
                    "spec.dataSource.components",
                    format!("duplicate component `{name}`"),
                );
            }
        }
    }
    check_addon(spec.addon.as_ref(), "spec.addon", findings);
    check_duration(
        findings,
        "spec.restoreTimeout",
        spec.restore_timeout.as_deref(),
    );
    if let Some(hooks) = &spec.hooks {
        check_hooks(
            hooks.pre_restore.as_deref(),
            "spec.hooks.preRestore",
            findings,
        );
        check_hooks(
            hooks.post_restore.as_deref(),
            "spec.hooks.postRestore",
            findings,
        );
    }
}

pub(super) fn hook_template(template: &HookTemplate, findings: &mut Findings) {
    let spec = &template.spec;
    usage_policy::check(spec.usage_policy.as_ref(), "spec.usagePolicy", findings);
    let Some(executor) = &spec.executor else {
        findings.error(
            "spec.executor",
            "an executor (Function, Pod or Operator) is required",
        );
        return;
    };
    let Some(kind) = executor.type_ else {
        findings.error(
            "spec.executor.type",
            "executor type is required (Function, Pod or Operator)",
        );
        return;
    };
    match kind {
        HookExecutorType::Function => {
            if executor
                .function
                .as_ref()
                .is_none_or(|function| function.name.is_empty())
            {
                findings.error(
                    "spec.executor.function.name",
                    "a Function is required for the Function executor",
                );
            }
        }
        HookExecutorType::Pod => match &executor.pod {
            Some(pod) if !pod.selector.is_empty() => {
                for pair in pod.selector.split(',') {
                    let valid = pair
                        .split_once('=')
                        .is_some_and(|(key, _)| !key.trim().is_empty());
                    if !valid {
                        findings.error(
                            "spec.executor.pod.selector",
                            format!("`{pair}` is not a `key=value` pair"),
                        );
                    }
                }
            }
            _ => findings.error(
                "spec.executor.pod.selector",
                "a pod selector (`k=v,k2=v2`) is required for the Pod executor",
            ),
        },
        HookExecutorType::Operator => {}
    }
    match &spec.action {
        None if kind != HookExecutorType::Function => findings.error(
            "spec.action",
            format!("an action is required for the {kind:?} executor"),
        ),
        None => {}
        Some(action) => {
            match action.handler_count() {
                0 => findings.error(
                    "spec.action",
                    "one of exec, httpGet, httpPost or tcpSocket is required",
                ),
                1 => {}
                _ => findings.error(
                    "spec.action",
                    "only one of exec, httpGet, httpPost or tcpSocket may be set",
                ),
            }
            if kind == HookExecutorType::Operator && action.exec.is_some() {
                findings.error(
                    "spec.action.exec",
                    "the Operator executor cannot exec; use the Pod executor",
                );
            }
        }
    }
}

pub(super) fn backup_verifier(verifier: &BackupVerifier, findings: &mut Findings) {
    if let Some(scheduler) = &verifier.spec.scheduler {
        check_scheduler(scheduler, "spec.scheduler", false, findings);
    }
    if let Some(retry) = &verifier.spec.retry_config {
        if retry.max_retry < 1 {
            findings.error("spec.retryConfig.maxRetry", "must be at least 1");
        }
        check_duration(findings, "spec.retryConfig.delay", retry.delay.as_deref());
    }
}

pub(super) fn backup_verification_session(
    session: &BackupVerificationSession,
    findings: &mut Findings,
) {
    if session.spec.invoker.is_none() {
        findings.error(
            "spec.invoker",
            "the invoking BackupConfiguration or BackupBatch is required",
        );
    }
    if session
        .spec
        .snapshot
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        findings.error("spec.snapshot", "the snapshot to verify is required");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_findings(targets: serde_json::Value, session_targets: serde_json::Value) -> String {
        let batch: BackupBatch = serde_json::from_value(serde_json::json!({
            "apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupBatch",
            "metadata": {"name": "b", "namespace": "demo"},
            "spec": {
                "backends": [{"name": "local", "storageRef": {"name": "s"}, "retentionPolicy": {"name": "r"}}],
                "targets": targets,
                "sessions": [{"name": "nightly", "scheduler": {"schedule": "0 1 * * *", "jobTemplate": {}},
                              "targets": session_targets}],
            },
        }))
        .unwrap();
        crate::validation::validate_object(&crate::object::Object::BackupBatch(batch))
            .iter()
            .filter(|f| f.severity == crate::validation::Severity::Error)
            .map(|f| format!("{}: {}", f.field, f.reason))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn batch_targets_are_dns_labels_and_sessions_name_known_targets() {
        let session_target = |name: &str| {
            serde_json::json!({"name": name, "addon": {"name": "pvc-addon", "tasks": [{"name": "logical-backup"}]},
                               "repositories": [{"name": format!("{name}-repo"), "backend": "local", "directory": name}]})
        };
        let app = serde_json::json!({"kind": "PersistentVolumeClaim", "name": "data"});
        let good = batch_findings(
            serde_json::json!([{"name": "data", "appRef": app}]),
            serde_json::json!([session_target("data")]),
        );
        assert!(!good.contains("targets"), "{good}");
        let slashed = batch_findings(
            serde_json::json!([{"name": "web/db", "appRef": app}]),
            serde_json::json!([session_target("web/db")]),
        );
        assert!(
            slashed.contains("spec.targets[0].name: `web/db` is not a DNS label"),
            "{slashed}"
        );
        let unknown = batch_findings(
            serde_json::json!([{"name": "data", "appRef": app}]),
            serde_json::json!([session_target("other")]),
        );
        assert!(
            unknown.contains("spec.sessions[0].targets[0].name: unknown target `other`"),
            "{unknown}"
        );
    }
}
