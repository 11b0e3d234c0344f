//! HookTemplates on the sandbox: pre/post backup and restore hooks with the Function
//! executor (a Job running a command, parameters filled in) and the Operator executor
//! (httpPost with a templated body), the execution policies, retries, and a failing pre hook
//! that stops the backup.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::operator::{Operator, Setup};

/// A one-shot-per-request HTTP server that answers 200 and hands over each request body.
fn http_sink() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = sender.send(String::from_utf8_lossy(&body).into_owned());
        }
    });
    (port, receiver)
}

fn apply_json(setup: &Setup, dir: &Path, name: &str, objects: &[Value]) {
    let path = dir.join(format!("{name}.json"));
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(&path, serde_json::to_string(&list).unwrap()).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", &path.display().to_string()]);
}

/// A Function running `script` with `sh` (the sandbox runs project-image pods locally) and a
/// HookTemplate `name` running it with the Function executor.
fn function_hook(name: &str, image: &Value, script: &str, params: Value) -> [Value; 2] {
    [
        json!({
            "apiVersion": "addons.kubestash.com/v1alpha1", "kind": "Function",
            "metadata": {"name": format!("{name}-fn")},
            "spec": {"image": image, "command": ["sh", "-c", script]},
        }),
        json!({
            "apiVersion": "core.kubestash.com/v1alpha1", "kind": "HookTemplate",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "params": params,
                "executor": {"type": "Function", "function": {"name": format!("{name}-fn"),
                             "env": [{"name": "GREETING", "value": "hello"}]}},
            },
        }),
    ]
}

/// Sets (`op` add or replace) the hooks of the workload example's first session.
fn patch_hooks(setup: &Setup, op: &str, hooks: Value) {
    let patch = json!([{"op": op, "path": "/spec/sessions/0/hooks", "value": hooks}]);
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "--type",
        "json",
        "-p",
        &patch.to_string(),
    ]);
}

#[test]
fn backup_and_restore_hooks_run_in_order_with_their_policies_and_a_failing_pre_hook_stops_the_backup(
) {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    setup.seed_orders_data();
    let scratch = tempfile::tempdir().unwrap();
    let marks = scratch.path().join("marks.log");
    let marks_text = || std::fs::read_to_string(&marks).unwrap_or_default();
    let (port, bodies) = http_sink();
    let image = setup.field(&["get", "function", "workload-backup"], "/spec/image");

    let mut objects = Vec::new();
    // `${TABLE}` inside single quotes: only the operator's substitution can fill it in.
    objects.extend(function_hook(
        "flush",
        &image,
        &format!("echo 'pre ${{TABLE}}' \"$GREETING\" >> {}", marks.display()),
        json!([{"name": "TABLE", "required": true}]),
    ));
    objects.extend(function_hook(
        "on-failure",
        &image,
        &format!("echo on-failure >> {}", marks.display()),
        json!([]),
    ));
    objects.extend(function_hook(
        "gate",
        &image,
        "echo 'database locked' >&2; exit 4",
        json!([]),
    ));
    objects.push(json!({
        "apiVersion": "core.kubestash.com/v1alpha1", "kind": "HookTemplate",
        "metadata": {"name": "notify", "namespace": "shop"},
        "spec": {
            "action": {"httpPost": {
                "host": "127.0.0.1", "port": port, "path": "/hook",
                "body": "{{ .Target.Name }} {{.Status.Phase}} ${channel}",
            }},
            "executor": {"type": "Operator"},
        },
    }));
    apply_json(&setup, scratch.path(), "templates", &objects);
    let hooks = json!({
        "preBackup": [
            {"name": "flush", "hookTemplate": {"name": "flush", "namespace": "shop"}, "params": {"TABLE": "orders"}, "timeout": "60s"},
        ],
        "postBackup": [
            {"name": "notify", "hookTemplate": {"name": "notify"}, "params": {"channel": "#ops"}},
            {"name": "on-failure", "hookTemplate": {"name": "on-failure"}, "executionPolicy": "OnFailure"},
        ],
    });
    patch_hooks(&setup, "add", hooks);

    let backup = setup.backup_wait(&["-o", "json"]);
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    assert_eq!(marks_text(), "pre orders hello\n");
    let body = bodies.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(body, "orders Succeeded #ops");
    let session = crate::only_session(&backup.stdout);
    let name = session["backupSession"].as_str().unwrap().to_string();
    let status = setup.json(&["get", "backupsession", &name, "-n", "shop"])["status"].clone();
    assert_eq!(
        status["hooks"],
        json!({
            "preHooks": [{"name": "flush", "phase": "Succeeded"}],
            "postHooks": [{"name": "notify", "phase": "Succeeded"}],
        })
    );
    let conditions = status["conditions"].as_array().unwrap();
    for wanted in [
        "PreBackupHooksExecutionSucceeded",
        "PostBackupHooksExecutionSucceeded",
    ] {
        assert!(
            conditions
                .iter()
                .any(|c| c["type"] == wanted && c["status"] == "True"),
            "{wanted}: {conditions:?}"
        );
    }

    // A pre hook that keeps failing (one retry) fails the session before any snapshot.
    let hooks = json!({
        "preBackup": [{"name": "gate", "hookTemplate": {"name": "gate"}, "maxRetry": 1}],
        "postBackup": [{"name": "on-failure", "hookTemplate": {"name": "on-failure"}, "executionPolicy": "OnFailure"}],
    });
    patch_hooks(&setup, "replace", hooks);
    let snapshots_before = setup.json(&["get", "snapshots", "-n", "shop"])["items"]
        .as_array()
        .unwrap()
        .len();
    let failed = setup.backup_wait(&[]);
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    let output = format!("{}{}", failed.stdout, failed.stderr);
    assert!(
        output.contains("hook `gate`") && output.contains("database locked"),
        "{output}"
    );
    assert_eq!(
        setup.json(&["get", "snapshots", "-n", "shop"])["items"]
            .as_array()
            .unwrap()
            .len(),
        snapshots_before,
        "no snapshot is taken after a failed pre hook"
    );
    // The backup never started, but the failure still runs the OnFailure post hook (it
    // would undo what earlier pre hooks did, or tell someone).
    crate::sandbox::wait_for("the OnFailure post hook", Duration::from_secs(30), || {
        marks_text().contains("on-failure")
    });
    let name = setup.json(&[
        "get",
        "backupsessions",
        "-n",
        "shop",
        "--sort-by",
        ".metadata.creationTimestamp",
    ])["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let status = setup.json(&["get", "backupsession", &name, "-n", "shop"])["status"].clone();
    assert_eq!(
        status["hooks"]["postHooks"],
        json!([{"name": "on-failure", "phase": "Succeeded"}]),
        "{status}"
    );

    // Restore hooks: pre and post around the restore Job.
    let restore = std::fs::read_to_string(setup.file("workload/restoresession.yaml")).unwrap();
    let mut restore: Value = serde_yaml::from_str(&restore).unwrap();
    restore["spec"]["hooks"] = json!({
        "preRestore": [{"name": "flush", "hookTemplate": {"name": "flush"}, "params": {"TABLE": "restore"}}],
        "postRestore": [{"name": "notify", "hookTemplate": {"name": "notify"}, "params": {"channel": "#restores"}}],
    });
    apply_json(&setup, scratch.path(), "restore", &[restore]);
    crate::sandbox::wait_for(
        "the RestoreSession to succeed",
        Duration::from_secs(60),
        || {
            setup.field(
                &["get", "restoresession", "orders-restore", "-n", "shop"],
                "/status/phase",
            ) == "Succeeded"
        },
    );
    assert!(
        marks_text().ends_with("pre restore hello\n"),
        "{}",
        marks_text()
    );
    let body = bodies.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(body, "orders Succeeded #restores");
}

#[test]
fn pod_executor_hooks_exec_in_the_selected_pods_and_a_failing_exec_fails_the_backup() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    setup.seed_orders_data();
    let scratch = tempfile::tempdir().unwrap();
    let marks = scratch.path().join("marks.log");
    let marks_text = || std::fs::read_to_string(&marks).unwrap_or_default();
    let image = setup.field(&["get", "function", "workload-backup"], "/spec/image");
    // Two replicas of the project image: the sandbox runs them as processes, so it can exec.
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "orders-db", "namespace": "shop"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "orders-db"}},
            "template": {
                "metadata": {"labels": {"app": "orders-db"}},
                "spec": {"containers": [
                    {"name": "sidecar", "image": image, "command": ["sh", "-c", "sleep 3600"]},
                    {"name": "db", "image": image, "command": ["sh", "-c", "sleep 3600"],
                     "env": [{"name": "ROLE", "value": "database"}]},
                ]},
            },
        },
    });
    let exec_template = |name: &str, strategy: &str, script: &str| {
        json!({
            "apiVersion": "core.kubestash.com/v1alpha1", "kind": "HookTemplate",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "params": [{"name": "MODE", "default": "quiesce"}],
                "action": {"exec": {"command": ["sh", "-c", script]}, "containerName": "db"},
                "executor": {"type": "Pod", "pod": {"selector": "app=orders-db", "strategy": strategy}},
            },
        })
    };
    apply_json(
        &setup,
        scratch.path(),
        "objects",
        &[
            deployment,
            exec_template(
                "quiesce",
                "ExecuteOnAll",
                &format!("echo \"${{MODE}} $ROLE $HOSTNAME\" >> {}", marks.display()),
            ),
            exec_template(
                "resume",
                "ExecuteOnOne",
                &format!("echo \"resume $ROLE\" >> {}", marks.display()),
            ),
            exec_template(
                "locked",
                "ExecuteOnOne",
                "echo 'tables are locked' >&2; exit 7",
            ),
        ],
    );
    crate::sandbox::wait_for("two Running pods", Duration::from_secs(30), || {
        let pods = setup.json(&["get", "pods", "-n", "shop", "-l", "app=orders-db"]);
        pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"]["phase"] == "Running")
            .count()
            == 2
    });
    patch_hooks(
        &setup,
        "add",
        json!({
            "preBackup": [{"name": "quiesce", "hookTemplate": {"name": "quiesce"}}],
            "postBackup": [{"name": "resume", "hookTemplate": {"name": "resume"}}],
        }),
    );
    let backup = setup.backup_wait(&[]);
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    // ExecuteOnAll ran in both pods, in the `db` container (its env), the default param
    // filled in; ExecuteOnOne ran once.
    let lines: Vec<String> = marks_text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut pods: Vec<&str> = lines[..2]
        .iter()
        .map(|line| {
            assert!(line.starts_with("quiesce database orders-db-"), "{line}");
            line.rsplit(' ').next().unwrap()
        })
        .collect();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.len(), 2, "{lines:?}");
    assert_eq!(lines[2], "resume database");

    // An exec that exits non-zero fails the backup before any snapshot, with its stderr.
    patch_hooks(
        &setup,
        "replace",
        json!({"preBackup": [{"name": "locked", "hookTemplate": {"name": "locked"}}]}),
    );
    let failed = setup.backup_wait(&[]);
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    let output = format!("{}{}", failed.stdout, failed.stderr);
    assert!(
        output.contains("hook `locked`")
            && output.contains("exit status 7")
            && output.contains("tables are locked"),
        "{output}"
    );
}
