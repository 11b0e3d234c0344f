//! The static table of built-in resources the sandbox serves, with the discovery facts a
//! real kube-apiserver 1.33 reports for them.

use std::collections::BTreeMap;

use super::ResourceType;

/// Flags of a built-in row; spelled out so the table stays readable.
#[derive(Clone, Copy, Default)]
struct Traits {
    cluster_scoped: bool,
    status: bool,
    log: bool,
    generation: bool,
    orphans: bool,
}

const PLAIN: Traits = Traits {
    cluster_scoped: false,
    status: false,
    log: false,
    generation: false,
    orphans: false,
};

const WORKLOAD: Traits = Traits {
    status: true,
    generation: true,
    ..PLAIN
};

struct Row {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    traits: Traits,
    field_labels: &'static [&'static str],
}

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

const ROWS: &[Row] = &[
    Row {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        short_names: &["ns"],
        categories: &[],
        traits: Traits {
            cluster_scoped: true,
            status: true,
            ..PLAIN
        },
        field_labels: &["status.phase"],
    },
    Row {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        short_names: &["no"],
        categories: &[],
        traits: Traits {
            cluster_scoped: true,
            status: true,
            ..PLAIN
        },
        field_labels: &["spec.unschedulable"],
    },
    Row {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        short_names: &[],
        categories: &[],
        traits: PLAIN,
        field_labels: &["type"],
    },
    Row {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        short_names: &["cm"],
        categories: &[],
        traits: PLAIN,
        field_labels: &[],
    },
    Row {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        short_names: &["pvc"],
        categories: &[],
        traits: Traits {
            status: true,
            ..PLAIN
        },
        field_labels: &[],
    },
    Row {
        group: "",
        version: "v1",
        kind: "PersistentVolume",
        plural: "persistentvolumes",
        short_names: &["pv"],
        categories: &[],
        traits: Traits {
            cluster_scoped: true,
            status: true,
            ..PLAIN
        },
        field_labels: &[],
    },
    Row {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        short_names: &["po"],
        categories: &["all"],
        traits: Traits {
            status: true,
            log: true,
            ..PLAIN
        },
        field_labels: &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
    },
    Row {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        short_names: &["svc"],
        categories: &["all"],
        traits: Traits {
            status: true,
            ..PLAIN
        },
        field_labels: &[],
    },
    Row {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        short_names: &["sa"],
        categories: &[],
        traits: PLAIN,
        field_labels: &[],
    },
    Row {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        short_names: &["ev"],
        categories: &[],
        traits: PLAIN,
        field_labels: EVENT_FIELDS,
    },
    Row {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        short_names: &["deploy"],
        categories: &["all"],
        traits: WORKLOAD,
        field_labels: &[],
    },
    Row {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        short_names: &["sts"],
        categories: &["all"],
        traits: WORKLOAD,
        field_labels: &[],
    },
    Row {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        short_names: &["ds"],
        categories: &["all"],
        traits: WORKLOAD,
        field_labels: &[],
    },
    Row {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        short_names: &["rs"],
        categories: &["all"],
        traits: WORKLOAD,
        field_labels: &["status.replicas"],
    },
    Row {
        group: "batch",
        version: "v1",
        kind: "Job",
        plural: "jobs",
        short_names: &[],
        categories: &["all"],
        traits: Traits {
            orphans: true,
            ..WORKLOAD
        },
        field_labels: &["status.successful"],
    },
    Row {
        group: "batch",
        version: "v1",
        kind: "CronJob",
        plural: "cronjobs",
        short_names: &["cj"],
        categories: &["all"],
        traits: WORKLOAD,
        field_labels: &[],
    },
    Row {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        short_names: &[],
        categories: &[],
        traits: PLAIN,
        field_labels: &[],
    },
    Row {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        plural: "events",
        short_names: &["ev"],
        categories: &[],
        traits: PLAIN,
        field_labels: EVENT_FIELDS,
    },
    Row {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        plural: "roles",
        short_names: &[],
        categories: &[],
        traits: PLAIN,
        field_labels: &[],
    },
    Row {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        short_names: &[],
        categories: &[],
        traits: PLAIN,
        field_labels: &[],
    },
    Row {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        short_names: &[],
        categories: &[],
        traits: Traits {
            cluster_scoped: true,
            ..PLAIN
        },
        field_labels: &[],
    },
    Row {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        short_names: &[],
        categories: &[],
        traits: Traits {
            cluster_scoped: true,
            ..PLAIN
        },
        field_labels: &[],
    },
    Row {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
        traits: Traits {
            cluster_scoped: true,
            status: true,
            generation: true,
            ..PLAIN
        },
        field_labels: &[],
    },
];

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

/// Every built-in resource type.
pub(crate) fn builtin_resources() -> Vec<ResourceType> {
    ROWS.iter()
        .map(|row| ResourceType {
            group: row.group.to_string(),
            versions: vec![row.version.to_string()],
            kind: row.kind.to_string(),
            list_kind: format!("{}List", row.kind),
            plural: row.plural.to_string(),
            singular: row.kind.to_lowercase(),
            short_names: strings(row.short_names),
            categories: strings(row.categories),
            namespaced: !row.traits.cluster_scoped,
            status_subresource: row.traits.status,
            log_subresource: row.traits.log,
            tracks_generation: row.traits.generation,
            orphans_by_default: row.traits.orphans,
            field_labels: strings(row.field_labels),
            schemas: BTreeMap::new(),
            printer_columns: BTreeMap::new(),
            custom: false,
        })
        .collect()
}
