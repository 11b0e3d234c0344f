//! The install bundle, generated from code: namespace, ServiceAccount, least-privilege RBAC
//! for the operator and the executor, the operator Deployment, the CRDs and the default
//! catalog.

use serde_json::{json, Value};

/// Verbs for objects the operator only reads.
const READ: [&str; 3] = ["get", "list", "watch"];
/// Verbs for objects it manages.
const MANAGE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

const KUBESTASH_RESOURCES: [&str; 12] = [
    "backupstorages",
    "repositories",
    "retentionpolicies",
    "snapshots",
    "backupconfigurations",
    "backupsessions",
    "restoresessions",
    "hooktemplates",
    "backupblueprints",
    "backupbatches",
    // KubeStash names these two CRDs with singular plurals.
    "backupverifier",
    "backupverificationsession",
];

fn kubestash_status() -> Vec<String> {
    KUBESTASH_RESOURCES
        .iter()
        .map(|r| format!("{r}/status"))
        .collect()
}

/// The ClusterRole of the operator.
pub fn operator_rules() -> Vec<Value> {
    let status = kubestash_status();
    let status: Vec<&str> = status.iter().map(String::as_str).collect();
    vec![
        rule(
            &["storage.kubestash.com", "core.kubestash.com"],
            &KUBESTASH_RESOURCES,
            &MANAGE,
        ),
        rule(
            &["storage.kubestash.com", "core.kubestash.com"],
            &status,
            &["get", "update", "patch"],
        ),
        rule(&["addons.kubestash.com"], &["addons", "functions"], &MANAGE),
        rule(&["batch"], &["jobs", "cronjobs"], &MANAGE),
        rule(&["coordination.k8s.io"], &["leases"], &MANAGE),
        rule(
            &[""],
            &["persistentvolumeclaims", "pods", "namespaces"],
            &READ,
        ),
        // Read one at a time by name (a storage's credentials): never listed or watched, so
        // the operator's token cannot enumerate the cluster's Secrets.
        rule(&[""], &["secrets"], &["get"]),
        rule(&[""], &["pods/log"], &["get"]),
        // Whether the node a per-node Job is pinned to still exists.
        rule(&[""], &["nodes"], &["get"]),
        // Pod-executor hooks (`get` opens the WebSocket, `create` is the SPDY form).
        rule(&[""], &["pods/exec"], &["create", "get"]),
        rule(
            &[""],
            &["serviceaccounts"],
            &["get", "list", "watch", "create", "update", "patch"],
        ),
        rule(&[""], &["events"], &["create", "patch"]),
        rule(&["events.k8s.io"], &["events"], &["create", "patch"]),
        rule(
            &["apps"],
            &["deployments", "statefulsets", "daemonsets", "replicasets"],
            &READ,
        ),
        rule(&["appcatalog.appscode.com"], &["appbindings"], &READ),
        rule(
            &["rbac.authorization.k8s.io"],
            &["clusterrolebindings"],
            &["get", "list", "watch", "create", "update", "patch"],
        ),
        // Binding the executor roles requires holding their permissions, or this.
        json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
               "resourceNames": [crate::controllers::EXECUTOR_ROLE, crate::controllers::MANIFEST_EXECUTOR_ROLE]}),
    ]
}

/// The ClusterRole of the Jobs' executor (backup, restore, retention, trigger, storage sync,
/// and Function hooks): the KubeStash objects it reads and records into, and the Secrets
/// they name. Cluster-wide because a storage, its Secret, a RetentionPolicy or a restore's
/// source may be in another namespace, and a storage sync re-creates the Repositories and
/// Snapshots a backend holds in their namespaces.
pub fn executor_rules() -> Vec<Value> {
    vec![
        rule(
            &["core.kubestash.com"],
            &["backupsessions"],
            &["get", "create"],
        ),
        rule(
            &["core.kubestash.com"],
            &["restoresessions", "backupconfigurations", "backupbatches"],
            &["get"],
        ),
        rule(
            &["core.kubestash.com"],
            &["backupsessions/status", "restoresessions/status"],
            &["patch"],
        ),
        rule(
            &["storage.kubestash.com"],
            &["snapshots"],
            &["get", "list", "create", "patch", "delete"],
        ),
        rule(
            &["storage.kubestash.com"],
            &["repositories"],
            &["get", "list", "create"],
        ),
        rule(&["storage.kubestash.com"], &["retentionpolicies"], &["get"]),
        // A volume storage's first sync (a Job) tells its own Repositories from those of
        // other storages on the same backend.
        rule(
            &["storage.kubestash.com"],
            &["backupstorages"],
            &["get", "list"],
        ),
        rule(
            &["storage.kubestash.com"],
            &[
                "snapshots/status",
                "repositories/status",
                "backupstorages/status",
            ],
            &["patch"],
        ),
        rule(&[""], &["secrets", "namespaces"], &["get"]),
    ]
}

/// The ClusterRole of manifest (kubedump) backup and restore Jobs only: the executor's rules,
/// plus listing every kind (a dump) and creating or replacing it (a restore, with
/// OverrideResources). Restoring RBAC objects stays subject to Kubernetes' rule against
/// granting more than the restorer holds.
pub fn manifest_executor_rules() -> Vec<Value> {
    let mut rules = executor_rules();
    // A dump lists every kind. `list` grants no subresource (no pods/exec, no token).
    rules.push(rule(&["*"], &["*"], &["list"]));
    // A restore creates (and with OverrideResources replaces) what a dump holds. Core kinds
    // are named, so that `*` does not take in serviceaccounts/token, pods/exec or
    // nodes/proxy; pods are left out (their controllers make them).
    rules.push(rule(
        &[""],
        &[
            "configmaps",
            "secrets",
            "services",
            "serviceaccounts",
            "persistentvolumeclaims",
            "persistentvolumes",
            "namespaces",
            "limitranges",
            "resourcequotas",
            "replicationcontrollers",
        ],
        &["get", "create", "update"],
    ));
    rules.push(rule(
        &[
            "apps",
            "batch",
            "networking.k8s.io",
            "rbac.authorization.k8s.io",
            "storage.k8s.io",
            "policy",
            "autoscaling",
            "scheduling.k8s.io",
            "apiextensions.k8s.io",
            "core.kubestash.com",
            "storage.kubestash.com",
            "addons.kubestash.com",
        ],
        &["*"],
        &["get", "create", "update"],
    ));
    rules
}

/// Every object of the bundle, in apply order.
pub fn objects(namespace: &str, image: &str) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/name": "kubestash-operator", crate::MANAGED_BY.0: crate::MANAGED_BY.1});
    let mut out = Vec::new();
    out.extend(kubestash::api::crd_manifests());
    out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}));
    out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kubestash-operator", "namespace": namespace, "labels": labels}}));
    out.push(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kubestash-operator", "labels": labels}, "rules": operator_rules()}),
    );
    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": crate::controllers::EXECUTOR_ROLE, "labels": labels}, "rules": executor_rules()}));
    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": crate::controllers::MANIFEST_EXECUTOR_ROLE, "labels": labels}, "rules": manifest_executor_rules()}));
    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "kubestash-operator", "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubestash-operator"},
        "subjects": [{"kind": "ServiceAccount", "name": "kubestash-operator", "namespace": namespace}]}));
    out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kubestash-operator", "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            // The new pod is Ready only once it holds the Lease, which the old one keeps
            // renewing: a rolling update would never finish.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": "kubestash-operator"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "kubestash-operator",
                    "containers": [{
                        "name": "operator",
                        "image": image,
                        "args": ["operator", "run", format!("--namespace={namespace}"), format!("--image={image}"), "--metrics-addr=0.0.0.0:8080", "--no-bootstrap"],
                        "ports": [{"name": "metrics", "containerPort": 8080}],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
                        // The limit leaves room for the work the operator does itself on
                        // cloud storages: a WipeOut's forget and prune reads the whole index.
                        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "1Gi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 65534,
                                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
                    }],
                },
            },
        }}));
    out.extend(catalog(image));
    out
}

/// The default catalog: the Functions, then the Addons.
pub fn catalog(image: &str) -> Vec<Value> {
    let functions = crate::catalog::functions(image)
        .into_iter()
        .map(|function| serde_json::to_value(function).expect("a Function serializes"));
    let addons = crate::catalog::addons()
        .into_iter()
        .map(|addon| serde_json::to_value(addon).expect("an Addon serializes"));
    functions.chain(addons).collect()
}

/// The bundle as one multi-document YAML.
pub fn render(namespace: &str, image: &str) -> String {
    objects(namespace, image)
        .iter()
        .map(|object| serde_yaml::to_string(object).expect("YAML serializes"))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_role_has_no_wildcards() {
        for rule in operator_rules() {
            for key in ["apiGroups", "resources", "verbs"] {
                assert!(
                    !rule[key].as_array().unwrap().iter().any(|v| v == "*"),
                    "{rule}"
                );
            }
        }
        for rule in executor_rules() {
            for key in ["apiGroups", "resources", "verbs"] {
                assert!(
                    !rule[key].as_array().unwrap().iter().any(|v| v == "*"),
                    "the executor role of every Job names what it grants: {rule}"
                );
            }
        }
        for rule in manifest_executor_rules() {
            assert!(
                !rule["verbs"].as_array().unwrap().iter().any(|v| v == "*"),
                "{rule}"
            );
        }
    }

    #[test]
    fn the_bundle_holds_crds_rbac_deployment_and_catalog() {
        let kinds: Vec<String> = objects("kubestash", "img:1")
            .iter()
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect();
        for kind in [
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Function",
            "Addon",
        ] {
            assert!(kinds.iter().any(|k| k == kind), "{kind}");
        }
    }
}
