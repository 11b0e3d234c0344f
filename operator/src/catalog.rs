//! The default catalog: the `workload-addon`, `pvc-addon` and `kubedump-addon` Addons with
//! KubeStash's task names and parameters, and their Functions, all running this project's
//! image, whose arguments are the executor's subcommands.

use kubestash::api::addons::{Addon, Function};
use serde_json::{json, Value};

/// The scratch volume every Restic task declares.
fn tmp_volume() -> (Value, Value) {
    (
        json!([{"name": "kubestash-tmp-volume", "usage": "Holds temporary files and the restic cache", "source": {"emptyDir": {}}}]),
        json!([{"name": "kubestash-tmp-volume", "mountPath": "/kubestash-tmp"}]),
    )
}

/// The volumes of the PVC tasks; a backup mounts the claim read-only, so it can never change
/// the data it copies.
fn pvc_volumes(read_only: bool) -> (Value, Value) {
    let mut data = json!({"name": "kubestash-data-volume", "mountPath": "/kubestash-data"});
    if read_only {
        data["readOnly"] = json!(true);
    }
    (
        json!([
            {"name": "kubestash-tmp-volume", "usage": "Holds temporary files and the restic cache", "source": {"emptyDir": {}}},
            {"name": "kubestash-data-volume", "usage": "The PVC to back up or restore", "source": {"persistentVolumeClaim": {"claimName": "${PVC_NAME}"}}}
        ]),
        json!([{"name": "kubestash-tmp-volume", "mountPath": "/kubestash-tmp"}, data]),
    )
}

fn parameter(name: &str, usage: &str, required: bool, default: Option<&str>) -> Value {
    let mut value = json!({"name": name, "usage": usage, "required": required});
    if let Some(default) = default {
        value["default"] = json!(default);
    }
    value
}

fn task(
    name: &str,
    function: &str,
    singleton: bool,
    parameters: Value,
    volumes: (Value, Value),
) -> Value {
    json!({
        "name": name,
        "function": function,
        "driver": "Restic",
        "executor": "Job",
        "singleton": singleton,
        "parameters": parameters,
        "volumeTemplate": volumes.0,
        "volumeMounts": volumes.1,
    })
}

const KUBEDUMP_FILTERS: [(&str, &str, Option<&str>); 7] = [
    (
        "ANDedLabelSelectors",
        "Labels every object must have (`k:v,k2:v2`)",
        None,
    ),
    (
        "ORedLabelSelectors",
        "Labels of which an object must have one",
        None,
    ),
    (
        "IncludeClusterResources",
        "Whether cluster-scoped objects are taken",
        Some("false"),
    ),
    (
        "IncludeNamespaces",
        "Namespaces to take (default all)",
        Some("*"),
    ),
    ("ExcludeNamespaces", "Namespaces to leave out", None),
    (
        "IncludeResources",
        "Resources to take, `resource` or `resource.group` (default all)",
        Some("*"),
    ),
    ("ExcludeResources", "Resources to leave out", None),
];

fn kubedump_parameters(restore: bool) -> Value {
    let mut list: Vec<Value> = KUBEDUMP_FILTERS
        .iter()
        .map(|(name, usage, default)| parameter(name, usage, false, *default))
        .collect();
    if restore {
        list.push(parameter(
            "OverrideResources",
            "Replace objects that already exist",
            false,
            Some("false"),
        ));
        list.push(parameter(
            "RestoreNamespace",
            "Namespace to restore namespaced objects into",
            false,
            None,
        ));
        list.push(parameter(
            "RestorePVs",
            "Restore PersistentVolumes too, bound to their claims again",
            false,
            Some("false"),
        ));
        list.push(parameter(
            "StorageClassMappings",
            "StorageClass renames for claims and volumes: old=new,...",
            false,
            None,
        ));
    }
    list.push(parameter(
        "enableCache",
        "Keep the restic cache",
        false,
        Some("true"),
    ));
    list.push(parameter(
        "scratchDir",
        "Directory for temporary files",
        false,
        Some("/kubestash-tmp"),
    ));
    Value::Array(list)
}

fn param_args(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| format!("--param={name}=${{{name}:=}}"))
        .collect()
}

fn function(name: &str, image: &str, args: Vec<String>) -> Function {
    serde_json::from_value(json!({
        "apiVersion": "addons.kubestash.com/v1alpha1",
        "kind": "Function",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kubestash.com"}},
        "spec": {"image": image, "args": args},
    }))
    .expect("catalog Functions are valid")
}

fn backup_args(mode: &str, params: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "executor",
        "backup",
        &format!("--mode={mode}"),
        "--namespace=${namespace:=default}",
        "--backupsession=${backupSession:=}",
        "--component=${COMPONENT_NAME:=dump}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(param_args(params));
    args
}

fn restore_args(mode: &str, params: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "executor",
        "restore",
        &format!("--mode={mode}"),
        "--namespace=${namespace:=default}",
        "--restoresession=${restoreSession:=}",
        "--snapshot=${snapshot:=}",
        "--component=${COMPONENT_NAME:=dump}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(param_args(params));
    args
}

/// The default Functions, using `image`.
pub fn functions(image: &str) -> Vec<Function> {
    let filters: Vec<&str> = KUBEDUMP_FILTERS.iter().map(|(name, _, _)| *name).collect();
    let mut restore_filters = filters.clone();
    restore_filters.extend([
        "OverrideResources",
        "RestoreNamespace",
        "RestorePVs",
        "StorageClassMappings",
    ]);
    vec![
        function(
            "workload-backup",
            image,
            backup_args("paths", &["paths", "exclude"]),
        ),
        function(
            "workload-restore",
            image,
            restore_args("paths", &["include", "exclude"]),
        ),
        function(
            "pvc-backup",
            image,
            backup_args("paths", &["paths", "exclude"]),
        ),
        function(
            "pvc-restore",
            image,
            restore_args("paths", &["include", "exclude"]),
        ),
        function("kubedump-backup", image, backup_args("manifest", &filters)),
        function(
            "kubedump-restore",
            image,
            restore_args("manifest", &restore_filters),
        ),
    ]
}

fn addon(name: &str, backup: Vec<Value>, restore: Vec<Value>) -> Addon {
    serde_json::from_value(json!({
        "apiVersion": "addons.kubestash.com/v1alpha1",
        "kind": "Addon",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kubestash.com"}},
        "spec": {"backupTasks": backup, "restoreTasks": restore},
    }))
    .expect("catalog Addons are valid")
}

/// The default Addons.
pub fn addons() -> Vec<Addon> {
    let workload_params = json!([
        parameter("paths", "Comma-separated paths to back up", true, None),
        parameter(
            "exclude",
            "Comma-separated paths or globs to leave out",
            false,
            None
        ),
    ]);
    let restore_params = json!([
        parameter(
            "include",
            "Comma-separated paths or globs to restore",
            false,
            None
        ),
        parameter(
            "exclude",
            "Comma-separated paths or globs not to restore",
            false,
            None
        ),
    ]);
    let pvc_params = json!([
        parameter(
            "paths",
            "Comma-separated paths to back up",
            false,
            Some("/kubestash-data")
        ),
        parameter(
            "exclude",
            "Comma-separated paths or globs to leave out",
            false,
            None
        ),
    ]);
    vec![
        addon(
            "workload-addon",
            vec![task(
                "logical-backup",
                "workload-backup",
                false,
                workload_params,
                tmp_volume(),
            )],
            vec![task(
                "logical-backup-restore",
                "workload-restore",
                false,
                restore_params.clone(),
                tmp_volume(),
            )],
        ),
        addon(
            "pvc-addon",
            vec![task(
                "logical-backup",
                "pvc-backup",
                true,
                pvc_params,
                pvc_volumes(true),
            )],
            vec![task(
                "logical-backup-restore",
                "pvc-restore",
                true,
                restore_params,
                pvc_volumes(false),
            )],
        ),
        addon(
            "kubedump-addon",
            vec![task(
                "manifest-backup",
                "kubedump-backup",
                true,
                kubedump_parameters(false),
                tmp_volume(),
            )],
            vec![task(
                "manifest-restore",
                "kubedump-restore",
                true,
                kubedump_parameters(true),
                tmp_volume(),
            )],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_names_a_function_of_the_catalog() {
        let functions: Vec<String> = functions("image:1")
            .iter()
            .map(|f| f.metadata.name.clone().unwrap())
            .collect();
        for addon in addons() {
            let tasks = addon
                .spec
                .backup_tasks
                .iter()
                .flatten()
                .chain(addon.spec.restore_tasks.iter().flatten());
            for task in tasks {
                assert!(functions.contains(&task.function), "{}", task.function);
            }
        }
        assert!(addons()[0].spec.backup_task("logical-backup").is_some());
        assert!(addons()[2].spec.restore_task("manifest-restore").is_some());
    }
}
