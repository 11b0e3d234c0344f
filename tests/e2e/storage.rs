//! `storage setup|list|check` against the sandbox, with the controllers embedded in the CLI
//! (no operator runs): from flags on the S3 test server, interactively on a pseudo-terminal
//! for a volume, and the refusals and rollbacks of bad input.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::pty::{Pty, DOWN, ENTER};
use crate::sandbox::RunningSandbox;
use crate::{binary, Run};

fn sandbox_with_crds() -> RunningSandbox {
    let sandbox = RunningSandbox::start();
    sandbox.kubectl_ok(&[
        "apply",
        "-f",
        crate::repository_root().join("crds").to_str().unwrap(),
    ]);
    sandbox.kubectl_ok(&["create", "namespace", "backups"]);
    sandbox
}

/// Runs the plugin against the sandbox with extra environment variables.
fn plugin_env(sandbox: &RunningSandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    Run::from_output(command.output().unwrap())
}

/// `storage setup NAME` of an S3 storage in the test server's `kubestash-e2e` bucket under
/// `prefix`, with the test server's keys from the environment (plus `env`) and `extra` flags.
fn setup_s3(
    sandbox: &RunningSandbox,
    name: &str,
    endpoint: &str,
    prefix: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut args = vec![
        "storage",
        "setup",
        name,
        "-n",
        "backups",
        "--provider",
        "s3",
        "--endpoint",
        endpoint,
        "--bucket",
        "kubestash-e2e",
        "--prefix",
        prefix,
        "--secret-from-env",
    ];
    args.extend_from_slice(extra);
    let mut environment = vec![
        ("AWS_ACCESS_KEY_ID", "testkey"),
        ("AWS_SECRET_ACCESS_KEY", "testsecret"),
    ];
    environment.extend_from_slice(env);
    plugin_env(sandbox, &args, &environment)
}

fn exists(sandbox: &RunningSandbox, kind: &str, name: &str) -> bool {
    sandbox
        .kubectl(&["get", kind, name, "-n", "backups"])
        .status
        .success()
}

#[test]
fn setup_on_an_s3_endpoint_with_its_own_ca_needs_the_ca_and_rolls_back_without_it() {
    let (Ok(endpoint), Ok(ca_file)) = (
        std::env::var("KUBESTASH_TEST_S3_TLS_ENDPOINT"),
        std::env::var("KUBESTASH_TEST_S3_CA_FILE"),
    ) else {
        eprintln!("skipped: KUBESTASH_TEST_S3_TLS_ENDPOINT is not set (.ci/run sets it)");
        return;
    };
    let sandbox = sandbox_with_crds();
    let prefix = format!("storage-tls-e2e/{}", std::process::id());
    let setup = |name: &str, extra: &[&str]| {
        let mut flags = vec!["--timeout", "60s"];
        flags.extend_from_slice(extra);
        setup_s3(&sandbox, name, &endpoint, &prefix, &flags, &[])
    };
    // Without the CA the storage never becomes Ready; the command says why and removes what
    // it created.
    let refused = setup("tls-refused", &[]);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(refused.stderr.contains("certificate"), "{}", refused.stderr);
    assert!(!exists(&sandbox, "backupstorage", "tls-refused"));
    assert!(!exists(&sandbox, "secret", "tls-refused-credentials"));
    // With it, the controllers and the command's own probe trust the endpoint.
    let trusted = setup("tls-store", &["--ca-cert", &ca_file, "-o", "json"]);
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    let result: Value = serde_json::from_str(&trusted.stdout).unwrap();
    assert_eq!(result["phase"], "Ready", "{result}");
    assert_eq!(result["check"]["initialized"], true, "{result}");
}

#[test]
fn setup_from_flags_on_s3_creates_the_secret_waits_for_ready_and_checks_the_bucket() {
    let Ok(endpoint) = std::env::var("KUBESTASH_TEST_S3_ENDPOINT") else {
        eprintln!("skipped: KUBESTASH_TEST_S3_ENDPOINT is not set (.ci/run sets it)");
        return;
    };
    let sandbox = sandbox_with_crds();
    let prefix = format!("storage-e2e/{}", std::process::id());
    let setup = setup_s3(
        &sandbox,
        "s3-store",
        &endpoint,
        &prefix,
        &["--usage-policy", "All", "-o", "json"],
        &[],
    );
    assert_eq!(setup.code, 0, "{}", setup.stderr);
    let result: Value = serde_json::from_str(&setup.stdout).unwrap();
    assert_eq!(result["phase"], "Ready");
    assert_eq!(result["secret"], "s3-store-credentials");
    assert_eq!(result["secretCreated"], true);
    assert_eq!(result["check"]["initialized"], true, "{result}");
    assert!(result["check"]["location"]
        .as_str()
        .unwrap()
        .contains(&prefix));
    assert!(
        !setup.stdout.contains("testsecret") && !setup.stderr.contains("testsecret"),
        "secrets are never printed"
    );
    assert!(
        setup
            .stderr
            .contains("running the controllers in this process"),
        "says it runs the controllers itself: {}",
        setup.stderr
    );
    assert!(exists(&sandbox, "secret", "s3-store-credentials"));

    let check = sandbox.plugin(&[
        "storage", "check", "s3-store", "-n", "backups", "-o", "json",
    ]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let check: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(check["check"]["initialized"], true);

    let list = sandbox.plugin(&["storage", "list", "-A"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let row = list
        .stdout
        .lines()
        .find(|l| l.contains("s3-store"))
        .unwrap();
    for column in ["backups", "s3", "kubestash-e2e", "Ready"] {
        assert!(row.contains(column), "{column} in {row}");
    }

    // A second setup under the same name is refused and changes nothing.
    let again = plugin_env(
        &sandbox,
        &[
            "storage",
            "setup",
            "s3-store",
            "-n",
            "backups",
            "--provider",
            "s3",
            "--endpoint",
            &endpoint,
            "--bucket",
            "kubestash-e2e",
            "--secret",
            "s3-store-credentials",
        ],
        &[],
    );
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("BackupStorage backups/s3-store already exists"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_ready_cloud_storage_this_machine_cannot_reach_is_kept_with_a_warning() {
    let Ok(endpoint) = std::env::var("KUBESTASH_TEST_S3_ENDPOINT") else {
        eprintln!("skipped: KUBESTASH_TEST_S3_ENDPOINT is not set (.ci/run sets it)");
        return;
    };
    let sandbox = sandbox_with_crds();
    // The operator, its own process, reaches the endpoint; this command goes through a proxy
    // that is not there, as a laptop outside the cluster's network would fail to connect.
    let _operator = crate::operator::Operator::start(&sandbox);
    let prefix = format!("storage-e2e/{}-in-cluster", std::process::id());
    let dead_proxy = "http://127.0.0.1:9";
    let run = setup_s3(
        &sandbox,
        "in-cluster",
        &endpoint,
        &prefix,
        &["--timeout", "60s", "-o", "json"],
        &[
            ("HTTP_PROXY", dead_proxy),
            ("http_proxy", dead_proxy),
            ("NO_PROXY", ""),
            ("no_proxy", ""),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("warning: backupstorage/in-cluster is Ready")
            && run.stderr.contains("so it is kept"),
        "{}",
        run.stderr
    );
    let result: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(result["phase"], "Ready", "{result}");
    assert!(result["check"].is_null(), "{result}");
    assert!(
        result["checkError"]
            .as_str()
            .unwrap()
            .contains("connectivity check failed"),
        "{result}"
    );
    assert!(exists(&sandbox, "backupstorage", "in-cluster"));
    assert!(exists(&sandbox, "secret", "in-cluster-credentials"));
}

#[test]
fn an_unreachable_endpoint_fails_and_leaves_nothing_behind() {
    let sandbox = sandbox_with_crds();
    let run = plugin_env(
        &sandbox,
        &[
            "storage",
            "setup",
            "nowhere",
            "-n",
            "backups",
            "--provider",
            "s3",
            "--endpoint",
            "http://127.0.0.1:9",
            "--bucket",
            "missing",
            "--secret-from-env",
            "--timeout",
            "40s",
        ],
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("BackupStorage backups/nowhere"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("removed backupstorage/nowhere and secret/nowhere-credentials"),
        "{}",
        run.stderr
    );
    assert!(!exists(&sandbox, "backupstorage", "nowhere"));
    assert!(!exists(&sandbox, "secret", "nowhere-credentials"));
}

#[test]
fn bad_input_names_the_flag_and_field_and_creates_nothing() {
    let sandbox = sandbox_with_crds();
    let no_bucket = plugin_env(
        &sandbox,
        &["storage", "setup", "x", "-n", "backups", "--provider", "s3"],
        &[],
    );
    assert_eq!(no_bucket.code, 2);
    assert!(
        no_bucket.stderr.contains("--bucket")
            && no_bucket.stderr.contains("spec.storage.s3.bucket"),
        "{}",
        no_bucket.stderr
    );
    assert!(no_bucket.stderr.contains("hint:"), "{}", no_bucket.stderr);

    let no_env = plugin_env(
        &sandbox,
        &[
            "storage",
            "setup",
            "x",
            "-n",
            "backups",
            "--provider",
            "s3",
            "--bucket",
            "b",
            "--secret-from-env",
        ],
        &[],
    );
    assert_eq!(no_env.code, 2);
    assert!(
        no_env.stderr.contains("AWS_ACCESS_KEY_ID"),
        "{}",
        no_env.stderr
    );

    let no_secret = plugin_env(
        &sandbox,
        &[
            "storage",
            "setup",
            "x",
            "-n",
            "backups",
            "--provider",
            "gcs",
            "--bucket",
            "b",
            "--secret",
            "gone",
        ],
        &[],
    );
    assert_eq!(no_secret.code, 2);
    assert!(
        no_secret.stderr.contains("Secret backups/gone"),
        "{}",
        no_secret.stderr
    );
    assert!(!exists(&sandbox, "backupstorage", "x"));

    // The rules across storages: one default per namespace, one storage per location.
    let first = sandbox.data_dir().join("first.yaml");
    std::fs::write(
        &first,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: BackupStorage\nmetadata:\n  name: first\n  namespace: backups\nspec:\n  default: true\n  storage:\n    provider: s3\n    s3:\n      endpoint: https://s3.example.com\n      bucket: shared\n      prefix: team/\n      secretName: creds\n",
    )
    .unwrap();
    sandbox.kubectl_ok(&["apply", "-f", first.to_str().unwrap()]);
    let keys = [
        ("AWS_ACCESS_KEY_ID", "id"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    // A second storage `second` on S3 at the same endpoint, with these flags as well.
    let second = |extra: &[&str]| {
        let mut args = vec![
            "storage",
            "setup",
            "second",
            "-n",
            "backups",
            "--provider",
            "s3",
            "--endpoint",
            "https://s3.example.com",
            "--secret-from-env",
            "--secret",
            "second-creds",
        ];
        args.extend_from_slice(extra);
        plugin_env(&sandbox, &args, &keys)
    };
    let same_location = second(&["--bucket", "shared", "--prefix", "/team"]);
    assert_eq!(same_location.code, 2, "{}", same_location.stderr);
    assert!(
        same_location.stderr.contains("spec.storage")
            && same_location
                .stderr
                .contains("already uses the same backend location"),
        "{}",
        same_location.stderr
    );
    let second_default = second(&["--bucket", "other", "--default"]);
    assert_eq!(second_default.code, 2, "{}", second_default.stderr);
    assert!(
        second_default.stderr.contains("spec.default")
            && second_default.stderr.contains("--default"),
        "{}",
        second_default.stderr
    );
    assert!(!exists(&sandbox, "backupstorage", "second"));
    assert!(!exists(&sandbox, "secret", "second-creds"));

    let missing = sandbox.plugin(&["storage", "check", "ghost", "-n", "backups"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("BackupStorage backups/ghost not found"),
        "{}",
        missing.stderr
    );

    // A dry run needs no cluster and never prints secret values.
    let dry = plugin_env(
        &sandbox,
        &[
            "storage",
            "setup",
            "x",
            "-n",
            "backups",
            "--provider",
            "s3",
            "--bucket",
            "b",
            "--secret-from-env",
            "--dry-run",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("kind: BackupStorage") && dry.stdout.contains("kind: Secret"));
    assert!(!dry.stdout.contains("hunter2"), "{}", dry.stdout);
    assert!(!exists(&sandbox, "backupstorage", "x"));
}

#[test]
fn interactive_setup_of_a_volume_on_a_terminal_then_check_through_a_job() {
    let sandbox = sandbox_with_crds();
    let storage = tempfile::tempdir().unwrap();
    let mut command = Command::new(binary());
    command
        .args(["storage", "setup", "-n", "backups"])
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut pty = Pty::spawn(command);
    let prompt = Duration::from_secs(20);
    pty.expect("BackupStorage name", prompt);
    pty.send(&format!("disk{ENTER}"));
    pty.expect("Provider", prompt);
    pty.send(&format!("{DOWN}{DOWN}{DOWN}{ENTER}"));
    pty.expect("Volume", prompt);
    pty.send(ENTER);
    pty.expect("Directory on the node", prompt);
    pty.send(&format!("{}{ENTER}", storage.path().display()));
    pty.expect("default BackupStorage", prompt);
    pty.send("y");
    pty.expect("Who may use it", prompt);
    pty.send(&format!("{DOWN}{ENTER}"));
    let (code, screen) = pty.wait(Duration::from_secs(90));
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("backupstorage/disk ok"), "{screen}");
    assert!(
        storage.path().join("metadata.yaml").exists(),
        "the backend is initialized"
    );

    let spec: Value = serde_json::from_str(&sandbox.kubectl_ok(&[
        "get",
        "backupstorage",
        "disk",
        "-n",
        "backups",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(spec["spec"]["storage"]["provider"], "local");
    assert_eq!(spec["spec"]["default"], true);
    assert_eq!(
        spec["spec"]["usagePolicy"]["allowedNamespaces"]["from"],
        "All"
    );
    assert_eq!(
        spec["spec"]["storage"]["local"]["hostPath"]["path"],
        storage.path().display().to_string()
    );

    // The check of a volume runs in a Job that mounts it, and cleans up after itself.
    let check = sandbox.plugin(&["storage", "check", "disk", "-n", "backups", "-o", "json"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let report: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["check"]["initialized"], true);
    assert_eq!(report["check"]["location"], "/kubestash");
    let leftovers = std::fs::read_dir(storage.path().join(".kubestash-probe"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0);
}
