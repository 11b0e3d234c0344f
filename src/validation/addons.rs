//! Rules for addons.kubestash.com kinds: Addon and Function.

use crate::api::addons::{Addon, Function};

use super::{duplicates, Findings};

pub(super) fn addon(addon: &Addon, findings: &mut Findings) {
    for (list, tasks) in [
        ("backupTasks", &addon.spec.backup_tasks),
        ("restoreTasks", &addon.spec.restore_tasks),
    ] {
        let tasks = tasks.as_deref().unwrap_or_default();
        for (index, task) in tasks.iter().enumerate() {
            if task.name.is_empty() {
                findings.error(
                    format!("spec.{list}[{index}].name"),
                    "task name is required",
                );
            }
            if task.function.is_empty() {
                findings.error(
                    format!("spec.{list}[{index}].function"),
                    "function is required",
                );
            }
        }
        for name in duplicates(tasks.iter().map(|task| task.name.as_str())) {
            findings.error(
                format!("spec.{list}"),
                format!("duplicate task name `{name}`"),
            );
        }
    }
}

pub(super) fn function(function: &Function, findings: &mut Findings) {
    if function.spec.image.is_empty() {
        findings.error("spec.image", "image is required");
    }
}
