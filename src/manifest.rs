//! Manifest backup and restore with kubedump semantics: which objects to take (namespaces,
//! resources, AND/OR label selectors, cluster scope), how they are cleaned, where they live in
//! a snapshot (`<resource>[.group]/namespaces/<ns>/<name>.yaml`, `<resource>[.group]/cluster/<name>.yaml`)
//! and in which order a restore creates them.

pub mod cluster;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::common::Parameters;

/// Resources never backed up or restored: node state, events, and KubeStash's own records.
pub const NON_RESTORABLE: [&str; 11] = [
    "nodes",
    "events",
    "events.events.k8s.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backupsessions.core.kubestash.com",
    "restoresessions.core.kubestash.com",
    "backupverificationsession.core.kubestash.com",
    "snapshots.storage.kubestash.com",
    "repositories.storage.kubestash.com",
    "leases.coordination.k8s.io",
];

/// Which objects a manifest backup or restore takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestFilter {
    /// Namespaces to take; empty or `*` means all.
    pub include_namespaces: Vec<String>,
    /// Namespaces to leave out.
    pub exclude_namespaces: Vec<String>,
    /// Resources to take (`plural` or `plural.group`); empty or `*` means all.
    pub include_resources: Vec<String>,
    /// Resources to leave out.
    pub exclude_resources: Vec<String>,
    /// Every one of these selectors must match.
    pub and_label_selectors: Vec<LabelRequirement>,
    /// At least one of these must match (when any are given).
    pub or_label_selectors: Vec<LabelRequirement>,
    /// Take cluster-scoped objects too.
    pub include_cluster_resources: bool,
}

/// One `k:v`, `k=v` or bare `k` selector term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRequirement {
    /// Label key.
    pub key: String,
    /// Required value; `None` means the key only has to exist.
    pub value: Option<String>,
}

impl LabelRequirement {
    fn parse(term: &str) -> Option<Self> {
        let term = term.trim();
        if term.is_empty() {
            return None;
        }
        let split = term.split_once(':').or_else(|| term.split_once('='));
        Some(match split {
            Some((key, value)) => Self {
                key: key.trim().to_string(),
                value: Some(value.trim().to_string()),
            },
            None => Self {
                key: term.to_string(),
                value: None,
            },
        })
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match (&self.value, labels.get(&self.key)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(wanted), Some(actual)) => wanted == actual,
        }
    }
}

fn list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

fn lowercase(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|item| item.to_lowercase()).collect()
}

fn is_all(items: &[String]) -> bool {
    items.is_empty() || items.iter().any(|item| item == "*")
}

impl ManifestFilter {
    /// Reads the kubedump task parameters (`IncludeNamespaces`, `ANDedLabelSelectors`, ...).
    /// The 2024 parameter `labelSelector` is read as `ANDedLabelSelectors`.
    pub fn from_parameters(parameters: &Parameters) -> Self {
        let text = |key: &str| parameters.get(key).and_then(Value::as_str);
        let mut and_text = list(text("ANDedLabelSelectors"));
        and_text.extend(list(text("labelSelector")));
        Self {
            include_namespaces: list(text("IncludeNamespaces")),
            exclude_namespaces: list(text("ExcludeNamespaces")),
            // Resource names are lowercase; `Deployments.Apps` means the same.
            include_resources: lowercase(list(text("IncludeResources"))),
            exclude_resources: lowercase(list(text("ExcludeResources"))),
            and_label_selectors: and_text
                .iter()
                .filter_map(|term| LabelRequirement::parse(term))
                .collect(),
            or_label_selectors: list(text("ORedLabelSelectors"))
                .iter()
                .filter_map(|term| LabelRequirement::parse(term))
                .collect(),
            include_cluster_resources: text("IncludeClusterResources")
                .is_some_and(|value| value.eq_ignore_ascii_case("true")),
        }
    }

    /// Whether a resource (`plural`, `group`) is taken.
    pub fn takes_resource(&self, plural: &str, group: &str) -> bool {
        let qualified = qualified_resource(plural, group);
        let named = |items: &[String]| {
            items
                .iter()
                .any(|item| *item == qualified || (item == plural && !item.contains('.')))
        };
        if NON_RESTORABLE.contains(&qualified.as_str()) {
            return false;
        }
        (is_all(&self.include_resources) || named(&self.include_resources))
            && !named(&self.exclude_resources)
    }

    /// Whether objects of a namespace are taken.
    pub fn takes_namespace(&self, namespace: &str) -> bool {
        (is_all(&self.include_namespaces)
            || self.include_namespaces.iter().any(|item| item == namespace))
            && !self.exclude_namespaces.iter().any(|item| item == namespace)
    }

    /// Whether an object's labels pass the selectors.
    pub fn takes_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.and_label_selectors
            .iter()
            .all(|requirement| requirement.matches(labels))
            && (self.or_label_selectors.is_empty()
                || self
                    .or_label_selectors
                    .iter()
                    .any(|requirement| requirement.matches(labels)))
    }

    /// Whether an object (given as JSON) of the resource is taken.
    pub fn takes_object(
        &self,
        plural: &str,
        group: &str,
        namespaced: bool,
        object: &Value,
    ) -> bool {
        if !self.takes_resource(plural, group) {
            return false;
        }
        if namespaced {
            let namespace = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            if !self.takes_namespace(namespace) {
                return false;
            }
        } else if !self.include_cluster_resources {
            return false;
        }
        self.takes_labels(&crate::object::labels_of(object))
    }
}

/// `plural` for the core group, `plural.group` otherwise.
pub fn qualified_resource(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// Where an object lives in a manifest snapshot.
pub fn manifest_path(plural: &str, group: &str, namespace: Option<&str>, name: &str) -> String {
    let resource = qualified_resource(plural, group);
    match namespace {
        Some(namespace) => format!("/{resource}/namespaces/{namespace}/{name}.yaml"),
        None => format!("/{resource}/cluster/{name}.yaml"),
    }
}

/// The resource, namespace and name encoded in a manifest path.
pub fn parse_manifest_path(path: &str) -> Option<(String, Option<String>, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let file = |name: &str| name.strip_suffix(".yaml").map(str::to_string);
    match parts.as_slice() {
        [resource, "namespaces", namespace, name] => Some((
            resource.to_string(),
            Some(namespace.to_string()),
            file(name)?,
        )),
        [resource, "cluster", name] => Some((resource.to_string(), None, file(name)?)),
        _ => None,
    }
}

/// Whether an object is recreated by its controller (a ReplicaSet's pods, a Deployment's
/// ReplicaSets), so backing it up would only duplicate it on restore.
pub fn is_controlled(object: &Value) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|owner| owner.get("controller") == Some(&Value::Bool(true)))
        })
}

/// Drops what the API server owns and what a restore would fight: server metadata, status,
/// allocated addresses and bindings.
pub fn clean(object: &mut Value) {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "ownerReferences",
        ] {
            metadata.remove(field);
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.retain(|key, _| {
                key != "kubectl.kubernetes.io/last-applied-configuration"
                    && !key.starts_with("pv.kubernetes.io/")
                    // Set by the scheduler and the provisioner for this cluster's nodes.
                    && key != "volume.kubernetes.io/selected-node"
                    && key != "volume.kubernetes.io/storage-provisioner"
                    && key != "volume.beta.kubernetes.io/storage-provisioner"
                    // The token controller's record of the ServiceAccount's uid.
                    && key != "kubernetes.io/service-account.uid"
            });
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if map.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token") {
            // The token was issued for the old ServiceAccount; the token controller fills in
            // a new one for the restored Secret.
            map.remove("data");
        }
    }
    let spec = object.get_mut("spec").and_then(Value::as_object_mut);
    match (kind.as_str(), spec) {
        ("Service", Some(spec)) => {
            // A headless Service keeps `None`: it is what makes it headless.
            if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
            spec.remove("healthCheckNodePort");
        }
        ("PersistentVolume", Some(spec)) => {
            // The claim it belongs to, by name: restored with it (`RestorePVs`), the volume
            // binds to that claim again.
            if let Some(claim) = spec.get_mut("claimRef").and_then(Value::as_object_mut) {
                claim.retain(|key, _| {
                    matches!(key.as_str(), "apiVersion" | "kind" | "namespace" | "name")
                });
            }
        }
        ("Pod", Some(spec)) => {
            spec.remove("nodeName");
        }
        ("Job", Some(spec)) => {
            // Generated from the Job's uid; a new Job gets its own.
            spec.remove("selector");
            if let Some(labels) = spec
                .get_mut("template")
                .and_then(|template| template.pointer_mut("/metadata/labels"))
                .and_then(Value::as_object_mut)
            {
                labels.retain(|key, _| {
                    !key.contains("controller-uid")
                        && key != "job-name"
                        && key != "batch.kubernetes.io/job-name"
                });
            }
        }
        _ => {}
    }
}

/// Restore order: what others depend on first (namespaces, CRDs, priority classes), then
/// configuration, storage, workloads, services, the rest, and admission webhooks and
/// policies last.
pub fn restore_rank(resource: &str) -> u8 {
    let plural = resource.split('.').next().unwrap_or(resource);
    match plural {
        "namespaces" => 0,
        "customresourcedefinitions" | "priorityclasses" => 1,
        // Before their token Secrets, which the token controller deletes when their
        // ServiceAccount is missing.
        "serviceaccounts" => 2,
        "secrets" | "configmaps" | "limitranges" | "resourcequotas" => 3,
        "clusterroles" | "roles" | "clusterrolebindings" | "rolebindings" => 4,
        "storageclasses" | "persistentvolumes" | "persistentvolumeclaims" => 5,
        "deployments" | "statefulsets" | "daemonsets" | "replicasets" | "jobs" | "cronjobs"
        | "pods" => 6,
        "services" | "ingresses" | "networkpolicies" => 7,
        // Last: restored early, they would judge (and could refuse) the objects after them.
        "validatingwebhookconfigurations"
        | "mutatingwebhookconfigurations"
        | "validatingadmissionpolicies"
        | "validatingadmissionpolicybindings" => 9,
        _ => 8,
    }
}

/// One object read back from a manifest snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestObject {
    /// `plural` or `plural.group`.
    pub resource: String,
    /// Namespace, for namespaced objects.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// The object.
    pub object: Value,
}

/// How a manifest restore changes what it reads: the kubedump restore parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Namespace to put every namespaced object into (`RestoreNamespace`).
    pub target_namespace: Option<String>,
    /// Restore PersistentVolumes too, bound to their claims again (`RestorePVs`). Without
    /// it, claims are restored unbound and get new volumes.
    pub restore_pvs: bool,
    /// StorageClass renames for claims and volumes (`StorageClassMappings`: `old=new,…`).
    pub storage_class_mappings: BTreeMap<String, String>,
}

impl RestoreOptions {
    /// Reads `RestorePVs` and `StorageClassMappings`; `target_namespace` comes from the
    /// RestoreSession. A mapping without `=` is an error naming it.
    pub fn from_parameters(
        parameters: &Parameters,
        target_namespace: Option<&str>,
    ) -> Result<Self, String> {
        let text = |key: &str| parameters.get(key).and_then(Value::as_str);
        let mut storage_class_mappings = BTreeMap::new();
        for mapping in list(text("StorageClassMappings")) {
            match mapping.split_once('=') {
                Some((old, new)) if !old.trim().is_empty() && !new.trim().is_empty() => {
                    storage_class_mappings.insert(old.trim().to_string(), new.trim().to_string());
                }
                _ => {
                    return Err(format!(
                        "StorageClassMappings: `{mapping}` is not `old-class=new-class`"
                    ))
                }
            }
        }
        Ok(Self {
            target_namespace: target_namespace.map(str::to_string),
            restore_pvs: text("RestorePVs").is_some_and(|value| value.eq_ignore_ascii_case("true")),
            storage_class_mappings,
        })
    }

    /// Applies the options to one object of `resource` read from `namespace`; `false` when
    /// the object is not restored at all.
    fn adapt(&self, resource: &str, namespace: Option<&str>, object: &mut Value) -> bool {
        let target = self.target_namespace.as_deref();
        match resource {
            "persistentvolumes" if !self.restore_pvs => return false,
            // The target namespace takes the place of the namespaces it replaces.
            "namespaces" if target.is_some() => return false,
            "persistentvolumeclaims" if !self.restore_pvs => {
                if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.remove("volumeName");
                }
            }
            "persistentvolumes" => {
                if let (Some(target), Some(claim)) = (target, object.pointer_mut("/spec/claimRef"))
                {
                    claim["namespace"] = Value::String(target.to_string());
                }
            }
            "rolebindings.rbac.authorization.k8s.io" => {
                // Its own namespace's ServiceAccounts move with it.
                if let (Some(target), Some(subjects)) = (
                    target,
                    object
                        .pointer_mut("/subjects")
                        .and_then(Value::as_array_mut),
                ) {
                    for subject in subjects {
                        if subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                            && subject.get("namespace").and_then(Value::as_str) == namespace
                        {
                            subject["namespace"] = Value::String(target.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
        if matches!(resource, "persistentvolumeclaims" | "persistentvolumes") {
            let class = object
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                .and_then(|class| self.storage_class_mappings.get(class));
            if let Some(class) = class.cloned() {
                object["spec"]["storageClassName"] = Value::String(class);
            }
        }
        if let (Some(target), Some(metadata), true) = (
            target,
            object.get_mut("metadata").and_then(Value::as_object_mut),
            namespace.is_some(),
        ) {
            metadata.insert("namespace".into(), Value::String(target.to_string()));
        }
        true
    }
}

/// Reads manifest files (path, YAML) back into objects, filtered and changed by `options`
/// (another namespace, PersistentVolumes, StorageClasses), in restore order. Files that are
/// not manifests are skipped. Two objects that would land on one name are an error.
pub fn plan_restore(
    files: &[(String, Vec<u8>)],
    filter: &ManifestFilter,
    options: &RestoreOptions,
) -> Result<Vec<ManifestObject>, String> {
    let mut objects = Vec::new();
    let mut origins: BTreeMap<(String, Option<String>, String), String> = BTreeMap::new();
    for (path, data) in files {
        let Some((resource, namespace, name)) = parse_manifest_path(path) else {
            continue;
        };
        let mut object: Value = serde_yaml::from_slice(data)
            .map_err(|error| format!("`{path}` is not a manifest: {error}"))?;
        let (plural, group) = resource.split_once('.').unwrap_or((resource.as_str(), ""));
        if !filter.takes_object(plural, group, namespace.is_some(), &object)
            || !options.adapt(&resource, namespace.as_deref(), &mut object)
        {
            continue;
        }
        let namespace = match (namespace, &options.target_namespace) {
            (Some(_), Some(target)) => Some(target.clone()),
            (namespace, _) => namespace,
        };
        let key = (resource.clone(), namespace.clone(), name.clone());
        if let Some(first) = origins.insert(key, path.clone()) {
            return Err(format!(
                "`{first}` and `{path}` would both be restored as {resource} {}/{name}: restore their namespaces one at a time",
                namespace.unwrap_or_default()
            ));
        }
        objects.push(ManifestObject {
            resource,
            namespace,
            name,
            object,
        });
    }
    objects.sort_by(|left, right| {
        (
            restore_rank(&left.resource),
            &left.resource,
            &left.namespace,
            &left.name,
        )
            .cmp(&(
                restore_rank(&right.resource),
                &right.resource,
                &right.namespace,
                &right.name,
            ))
    });
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parameters(pairs: &[(&str, &str)]) -> Parameters {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), Value::String(value.to_string())))
            .collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn the_example_filter_takes_exactly_the_selected_objects() {
        let filter = ManifestFilter::from_parameters(&parameters(&[
            ("IncludeNamespaces", "shop"),
            (
                "IncludeResources",
                "deployments.apps,configmaps,secrets,persistentvolumeclaims,services",
            ),
            ("ANDedLabelSelectors", "tier:backend"),
            ("IncludeClusterResources", "false"),
        ]));
        let configmap = json!({"metadata": {"namespace": "shop", "labels": {"tier": "backend"}}});
        let frontend = json!({"metadata": {"namespace": "shop", "labels": {"tier": "frontend"}}});
        let elsewhere = json!({"metadata": {"namespace": "demo", "labels": {"tier": "backend"}}});
        assert!(filter.takes_object("configmaps", "", true, &configmap));
        assert!(!filter.takes_object("configmaps", "", true, &frontend));
        assert!(!filter.takes_object("configmaps", "", true, &elsewhere));
        assert!(!filter.takes_object("pods", "", true, &configmap));
        assert!(filter.takes_object("deployments", "apps", true, &configmap));
        assert!(!filter.takes_object("namespaces", "", false, &configmap));
    }

    #[test]
    fn selectors_accept_colons_equals_and_bare_keys() {
        let filter = ManifestFilter::from_parameters(&parameters(&[
            ("ANDedLabelSelectors", "app=web, tier"),
            ("ORedLabelSelectors", "env:prod,env:staging"),
        ]));
        assert!(filter.takes_labels(&labels(&[("app", "web"), ("tier", "x"), ("env", "prod")])));
        assert!(!filter.takes_labels(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!filter.takes_labels(&labels(&[("app", "web"), ("tier", "x"), ("env", "dev")])));
    }

    #[test]
    fn defaults_take_everything_but_non_restorable_resources() {
        let filter = ManifestFilter::default();
        assert!(filter.takes_resource("deployments", "apps"));
        assert!(!filter.takes_resource("events", ""));
        assert!(!filter.takes_resource("snapshots", "storage.kubestash.com"));
        let excluded = ManifestFilter::from_parameters(&parameters(&[
            ("ExcludeResources", "secrets"),
            ("ExcludeNamespaces", "kube-system"),
        ]));
        assert!(!excluded.takes_resource("secrets", ""));
        assert!(!excluded.takes_namespace("kube-system"));
        assert!(
            !ManifestFilter::default().takes_object("namespaces", "", false, &json!({})),
            "cluster scope is opt-in"
        );
    }

    #[test]
    fn paths_encode_resource_scope_and_name() {
        assert_eq!(
            manifest_path("deployments", "apps", Some("shop"), "orders"),
            "/deployments.apps/namespaces/shop/orders.yaml"
        );
        assert_eq!(
            manifest_path("namespaces", "", None, "shop"),
            "/namespaces/cluster/shop.yaml"
        );
        assert_eq!(
            parse_manifest_path("/configmaps/namespaces/shop/a.yaml"),
            Some(("configmaps".into(), Some("shop".into()), "a".into()))
        );
        assert_eq!(
            parse_manifest_path("/clusterroles.rbac.authorization.k8s.io/cluster/view.yaml")
                .unwrap()
                .1,
            None
        );
        assert_eq!(parse_manifest_path("/notes.txt"), None);
    }

    #[test]
    fn cleaning_drops_server_fields() {
        let mut service = json!({
            "kind": "Service",
            "metadata": {"name": "orders", "uid": "u", "resourceVersion": "5", "managedFields": [], "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]},
            "status": {"loadBalancer": {}}
        });
        clean(&mut service);
        assert_eq!(
            service,
            json!({"kind": "Service", "metadata": {"name": "orders"}, "spec": {"ports": [{"port": 80}]}})
        );
    }

    #[test]
    fn restore_plans_order_filter_and_retarget() {
        let files = vec![
            (
                "/services/namespaces/shop/orders.yaml".to_string(),
                b"kind: Service\nmetadata: {name: orders, namespace: shop}\n".to_vec(),
            ),
            (
                "/configmaps/namespaces/shop/a.yaml".to_string(),
                b"kind: ConfigMap\nmetadata: {name: a, namespace: shop}\n".to_vec(),
            ),
            (
                "/secrets/namespaces/shop/s.yaml".to_string(),
                b"kind: Secret\nmetadata: {name: s, namespace: shop}\n".to_vec(),
            ),
        ];
        let filter =
            ManifestFilter::from_parameters(&parameters(&[("ExcludeResources", "secrets")]));
        let options = RestoreOptions {
            target_namespace: Some("shop-copy".into()),
            ..RestoreOptions::default()
        };
        let plan = plan_restore(&files, &filter, &options).unwrap();
        let names: Vec<&str> = plan.iter().map(|object| object.name.as_str()).collect();
        assert_eq!(names, ["a", "orders"]);
        assert_eq!(plan[0].object["metadata"]["namespace"], "shop-copy");
    }
    #[test]
    fn cleaning_keeps_what_makes_an_object_what_it_is() {
        let mut headless = json!({"kind": "Service", "metadata": {"name": "web"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        clean(&mut headless);
        assert_eq!(headless["spec"]["clusterIP"], "None", "still headless");
        let mut token = json!({
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "ci-token", "annotations": {
                "kubernetes.io/service-account.name": "ci",
                "kubernetes.io/service-account.uid": "old-uid"
            }},
            "data": {"token": "b2xk"}
        });
        clean(&mut token);
        assert_eq!(
            token,
            json!({"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {"name": "ci-token", "annotations": {"kubernetes.io/service-account.name": "ci"}}}),
            "the token controller issues a new token"
        );
        let mut claim = json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "data", "annotations": {"volume.kubernetes.io/selected-node": "node-7"}}, "spec": {"volumeName": "pv-1"}});
        clean(&mut claim);
        assert_eq!(
            claim,
            json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {"volumeName": "pv-1"}})
        );
        let mut volume = json!({"kind": "PersistentVolume", "metadata": {"name": "pv-1"}, "spec": {"claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data", "uid": "u", "resourceVersion": "9"}}});
        clean(&mut volume);
        assert_eq!(
            volume["spec"]["claimRef"],
            json!({"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data"})
        );
    }

    fn file(path: &str, yaml: &str) -> (String, Vec<u8>) {
        (path.to_string(), yaml.as_bytes().to_vec())
    }

    #[test]
    fn restore_options_move_bindings_volumes_and_classes() {
        let files = vec![
            file("/namespaces/cluster/shop.yaml", "kind: Namespace\nmetadata: {name: shop}\n"),
            file(
                "/persistentvolumeclaims/namespaces/shop/data.yaml",
                "kind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec: {volumeName: pv-1, storageClassName: old}\n",
            ),
            file(
                "/persistentvolumes/cluster/pv-1.yaml",
                "kind: PersistentVolume\nmetadata: {name: pv-1}\nspec: {storageClassName: old, claimRef: {namespace: shop, name: data}}\n",
            ),
            file(
                "/rolebindings.rbac.authorization.k8s.io/namespaces/shop/ci.yaml",
                "kind: RoleBinding\nmetadata: {name: ci, namespace: shop}\nsubjects: [{kind: ServiceAccount, name: ci, namespace: shop}, {kind: ServiceAccount, name: x, namespace: other}]\n",
            ),
        ];
        let everything = ManifestFilter {
            include_cluster_resources: true,
            ..ManifestFilter::default()
        };
        let mapped = parameters(&[("StorageClassMappings", "old=fast")]);
        let options = RestoreOptions::from_parameters(&mapped, Some("shop-copy")).unwrap();
        let plan = plan_restore(&files, &everything, &options).unwrap();
        let names: Vec<&str> = plan.iter().map(|object| object.resource.as_str()).collect();
        assert_eq!(
            names,
            [
                "rolebindings.rbac.authorization.k8s.io",
                "persistentvolumeclaims"
            ],
            "no volumes without RestorePVs, and the target replaces the old namespace"
        );
        assert_eq!(plan[0].object["subjects"][0]["namespace"], "shop-copy");
        assert_eq!(plan[0].object["subjects"][1]["namespace"], "other");
        assert_eq!(
            plan[1].object["spec"],
            json!({"storageClassName": "fast"}),
            "unbound"
        );

        let with_volumes =
            parameters(&[("RestorePVs", "true"), ("StorageClassMappings", "old=fast")]);
        let options = RestoreOptions::from_parameters(&with_volumes, Some("shop-copy")).unwrap();
        let plan = plan_restore(&files, &everything, &options).unwrap();
        let volume = plan
            .iter()
            .find(|o| o.resource == "persistentvolumes")
            .unwrap();
        assert_eq!(volume.object["spec"]["claimRef"]["namespace"], "shop-copy");
        assert_eq!(volume.object["spec"]["storageClassName"], "fast");
        let claim = plan
            .iter()
            .find(|o| o.resource == "persistentvolumeclaims")
            .unwrap();
        assert_eq!(claim.object["spec"]["volumeName"], "pv-1", "bound again");

        let error =
            RestoreOptions::from_parameters(&parameters(&[("StorageClassMappings", "old")]), None)
                .unwrap_err();
        assert!(error.contains("StorageClassMappings: `old`"), "{error}");
    }

    #[test]
    fn two_namespaces_into_one_must_not_collide() {
        let files = vec![
            file(
                "/configmaps/namespaces/a/settings.yaml",
                "kind: ConfigMap\nmetadata: {name: settings, namespace: a}\n",
            ),
            file(
                "/configmaps/namespaces/b/settings.yaml",
                "kind: ConfigMap\nmetadata: {name: settings, namespace: b}\n",
            ),
        ];
        let options = RestoreOptions {
            target_namespace: Some("merged".into()),
            ..RestoreOptions::default()
        };
        let error = plan_restore(&files, &ManifestFilter::default(), &options).unwrap_err();
        assert!(error.contains("configmaps merged/settings"), "{error}");
        let kept = plan_restore(
            &files,
            &ManifestFilter::default(),
            &RestoreOptions::default(),
        );
        assert_eq!(kept.unwrap().len(), 2);
    }

    #[test]
    fn resource_names_are_matched_whatever_their_case() {
        let filter = ManifestFilter::from_parameters(&parameters(&[(
            "IncludeResources",
            "Deployments.Apps,ConfigMaps",
        )]));
        assert!(filter.takes_resource("deployments", "apps"));
        assert!(filter.takes_resource("configmaps", ""));
        assert!(!filter.takes_resource("secrets", ""));
    }
}
