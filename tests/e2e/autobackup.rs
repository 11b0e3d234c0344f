//! Auto-backup (flow 8) on the sandbox: the operator turns the annotated Deployment of
//! `examples/auto-backup` into `deployment-invoices`, follows annotation changes, removes
//! the configuration when the annotation or the blueprint goes, and reports what it cannot
//! resolve as an Event on the target.

use std::time::Duration;

use serde_json::Value;

use crate::operator::{Operator, Setup};
use crate::sandbox::wait_for;

fn configuration(setup: &Setup) -> Option<Value> {
    let output = setup.sandbox.kubectl(&[
        "get",
        "backupconfiguration",
        "deployment-invoices",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).unwrap())
}

/// `kubectl annotate <object> -n shop <changes…>`.
fn annotate(setup: &Setup, object: &str, changes: &[&str]) {
    let mut args = vec!["annotate", object, "-n", "shop"];
    args.extend_from_slice(changes);
    setup.sandbox.kubectl_ok(&args);
}

fn wait_until(setup: &Setup, what: &str, check: impl Fn(Option<Value>) -> bool) {
    wait_for(what, Duration::from_secs(30), || {
        check(configuration(setup))
    });
}

#[test]
fn an_annotated_deployment_gets_its_configuration_which_follows_the_annotations() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.shared();
    setup.apply(&[
        "auto-backup/backupblueprint.yaml",
        "auto-backup/deployment.yaml",
    ]);

    wait_until(&setup, "deployment-invoices to be Ready", |c| {
        c.and_then(|c| c.pointer("/status/phase").cloned()) == Some(Value::from("Ready"))
    });
    let generated = configuration(&setup).unwrap();
    let session = &generated["spec"]["sessions"][0];
    assert_eq!(session["scheduler"]["schedule"], "15 3 * * *");
    assert_eq!(session["repositories"][0]["name"], "invoices-repo");
    assert_eq!(session["repositories"][0]["directory"], "shop/invoices");
    assert_eq!(
        session["addon"]["tasks"][0]["params"]["paths"],
        "/srv/invoices"
    );
    assert_eq!(
        generated["metadata"]["labels"]["kubestash.com/invoker-name"],
        "team-workloads"
    );
    assert_eq!(
        generated["metadata"]["ownerReferences"][0]["name"],
        "invoices"
    );
    assert_eq!(
        setup.field(
            &[
                "get",
                "cronjob",
                "trigger-deployment-invoices-daily",
                "-n",
                "shop"
            ],
            "/spec/schedule",
        ),
        "15 3 * * *"
    );

    // The generated configuration backs up like a hand-written one.
    let data = setup.pvc("shop", "invoices-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("invoice-1.pdf"), b"%PDF invoice").unwrap();
    let backup = setup.sandbox.plugin(&[
        "backup",
        "now",
        "deployment-invoices",
        "-n",
        "shop",
        "--wait",
        "--timeout",
        "2m",
    ]);
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    let listing = crate::operator::restic(
        &setup
            .storage()
            .join("shop/invoices/repository/v1/daily/dump"),
        &["ls", "latest"],
    );
    assert!(listing.contains("invoice-1.pdf"), "{listing}");

    // A changed variable changes the configuration.
    annotate(
        &setup,
        "deployment/invoices",
        &["--overwrite", "variables.kubestash.com/schedule=0 4 * * *"],
    );
    wait_until(&setup, "the new schedule", |c| {
        c.and_then(|c| c.pointer("/spec/sessions/0/scheduler/schedule").cloned())
            == Some(Value::from("0 4 * * *"))
    });

    // A variable the blueprint needs but no annotation gives: nothing is generated for that
    // claim, and an Event on it names the annotation to set.
    annotate(
        &setup,
        "pvc/invoices-data",
        &[
            "blueprint.kubestash.com/name=team-workloads",
            "blueprint.kubestash.com/namespace=shop",
            "variables.kubestash.com/schedule=0 5 * * *",
            "variables.kubestash.com/repoName=claim-repo",
        ],
    );
    wait_for(
        "an AutoBackupFailed Event on the claim",
        Duration::from_secs(30),
        || {
            let events = setup.json(&["get", "events", "-n", "shop"]);
            events["items"].as_array().unwrap().iter().any(|event| {
                event["reason"] == "AutoBackupFailed"
                    && event["involvedObject"]["name"] == "invoices-data"
                    && event["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("variables.kubestash.com/paths")
            })
        },
    );
    // Removing the annotation removes the configuration (and its CronJob with it).
    annotate(
        &setup,
        "deployment/invoices",
        &["blueprint.kubestash.com/name-"],
    );
    wait_until(&setup, "deployment-invoices to be deleted", |c| c.is_none());
    wait_for("its CronJob to go", Duration::from_secs(30), || {
        !setup
            .sandbox
            .kubectl(&[
                "get",
                "cronjob",
                "trigger-deployment-invoices-daily",
                "-n",
                "shop",
            ])
            .status
            .success()
    });

    // Annotated again it comes back; the blueprint says OnDelete, so deleting the blueprint
    // deletes it.
    annotate(
        &setup,
        "deployment/invoices",
        &["blueprint.kubestash.com/name=team-workloads"],
    );
    wait_until(&setup, "deployment-invoices to come back", |c| c.is_some());
    assert_eq!(
        configuration(&setup).unwrap()["metadata"]["annotations"]
            ["kubestash.com/blueprint-deletion-policy"],
        "OnDelete"
    );
    setup
        .sandbox
        .kubectl_ok(&["delete", "backupblueprint", "team-workloads", "-n", "shop"]);
    wait_until(
        &setup,
        "deployment-invoices to go with the blueprint",
        |c| c.is_none(),
    );
}
