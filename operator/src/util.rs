//! Small helpers shared by the reconcilers and the executor: conditions, status patches,
//! sizes and durations the way KubeStash writes them.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use kubestash::api::common::Condition;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Result;

/// The current time as a Kubernetes timestamp.
pub fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// A Kubernetes timestamp as chrono.
pub fn to_chrono(time: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(time.0.as_second(), time.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

/// chrono as a Kubernetes timestamp.
pub fn from_chrono(time: DateTime<Utc>) -> Time {
    Time(
        k8s_openapi::jiff::Timestamp::new(time.timestamp(), time.timestamp_subsec_nanos() as i32)
            .unwrap_or_else(|_| k8s_openapi::jiff::Timestamp::now()),
    )
}

/// How long ago an object was created (zero when unknown).
pub fn since_creation(metadata: &kube::api::ObjectMeta) -> std::time::Duration {
    metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| (chrono::Utc::now() - to_chrono(t)).to_std().ok())
        .unwrap_or_default()
}

/// A condition with the current time.
pub fn condition(type_: &str, status: bool, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        observed_generation: None,
        severity: None,
        last_transition_time: now(),
        reason: Some(reason.to_string()),
        message: Some(message.into()).filter(|message: &String| !message.is_empty()),
    }
}

/// Puts `new` into `conditions`, keeping the transition time when the status is unchanged.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    if let Some(existing) = conditions.iter_mut().find(|c| c.type_ == new.type_) {
        if existing.status == new.status {
            new.last_transition_time = existing.last_transition_time.clone();
        }
        *existing = new;
    } else {
        conditions.push(new);
    }
}

/// The non-empty items of a comma-separated annotation value.
pub fn comma_list(text: Option<&String>) -> Vec<String> {
    text.map(|text| {
        text.split(',')
            .filter(|item| !item.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Whether `conditions` holds `type_` with status True.
pub fn is_true(conditions: Option<&Vec<Condition>>, type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// The condition of `type_`.
pub fn find<'a>(conditions: Option<&'a Vec<Condition>>, type_: &str) -> Option<&'a Condition> {
    conditions.and_then(|list| list.iter().find(|c| c.type_ == type_))
}

/// The API server's message when it refused a request for good: the request is invalid
/// (400, 422) or not allowed (403: RBAC, admission). Trying the same request again gets the
/// same answer, so a session that depends on it has to end. An exhausted ResourceQuota
/// (also 403) is not: other Jobs finish and free it, so that is waited out, up to the
/// session's deadline.
pub fn refused(error: &kube::Error) -> Option<String> {
    match error {
        kube::Error::Api(status)
            if matches!(status.code, 400 | 403 | 422)
                && !status.message.contains("exceeded quota") =>
        {
            Some(status.message.clone())
        }
        _ => None,
    }
}

/// Merge-patches the status subresource.
pub async fn patch_status<K>(api: &Api<K>, name: &str, status: Value) -> Result<K>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(api
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": status })),
        )
        .await?)
}

/// Merges `status` into `read`'s status only while the object is still as it was read
/// (its resourceVersion, which the server checks); `Ok(None)` when it changed meanwhile, so
/// a decision made on what was read is not written over what another writer (an executor)
/// recorded since.
pub async fn patch_status_at<K>(api: &Api<K>, read: &K, status: Value) -> Result<Option<K>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let name = read.meta().name.clone().unwrap_or_default();
    let version =
        read.meta().resource_version.clone().ok_or_else(|| {
            crate::Error::msg(format!("`{name}` was read without a resourceVersion"))
        })?;
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": version},
        "status": status,
    });
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(object) => Ok(Some(object)),
        Err(kube::Error::Api(response)) if response.code == 409 => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// How often a guarded write is re-decided on a fresh read before giving up with an error
/// (the reconcile then runs again).
pub const GUARDED_TRIES: usize = 5;

/// The conditions the server holds now (a reconcile's copy may be behind its own writes).
pub async fn fresh_conditions<K>(api: &Api<K>, name: &str) -> Result<Vec<Condition>>
where
    K: Clone + DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    let current = serde_json::to_value(api.get_status(name).await?)?;
    Ok(current
        .pointer("/status/conditions")
        .cloned()
        .map(serde_json::from_value)
        .transpose()?
        .unwrap_or_default())
}

/// Merge-patches the object.
pub async fn patch_merge<K>(api: &Api<K>, name: &str, patch: Value) -> Result<K>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(api
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?)
}

/// The finalizer of objects whose deletion must clean the backend (`deletionPolicy: WipeOut`).
pub const CLEANUP_FINALIZER: &str = "kubestash.com/cleanup";

/// Whether the object carries the cleanup finalizer.
pub fn has_cleanup_finalizer<K: ResourceExt>(object: &K) -> bool {
    object.finalizers().iter().any(|f| f == CLEANUP_FINALIZER)
}

/// Adds the cleanup finalizer (guarded by the resourceVersion read).
pub async fn add_cleanup_finalizer<K>(api: &Api<K>, object: &K) -> Result<()>
where
    K: Clone + DeserializeOwned + std::fmt::Debug + ResourceExt,
{
    if has_cleanup_finalizer(object) {
        return Ok(());
    }
    let mut finalizers = object.finalizers().to_vec();
    finalizers.push(CLEANUP_FINALIZER.to_string());
    let patch = serde_json::json!({"metadata": {"finalizers": finalizers, "resourceVersion": object.resource_version()}});
    patch_merge(api, &object.name_any(), patch)
        .await
        .map(|_| ())
}

/// Removes the cleanup finalizer; an object already gone is fine.
pub async fn remove_cleanup_finalizer<K>(api: &Api<K>, object: &K) -> Result<()>
where
    K: Clone + DeserializeOwned + std::fmt::Debug + ResourceExt,
{
    if !has_cleanup_finalizer(object) {
        return Ok(());
    }
    let rest: Vec<&String> = object
        .finalizers()
        .iter()
        .filter(|f| *f != CLEANUP_FINALIZER)
        .collect();
    let patch = serde_json::json!({"metadata": {"finalizers": rest, "resourceVersion": object.resource_version()}});
    match patch_merge(api, &object.name_any(), patch).await {
        Ok(_) => Ok(()),
        Err(crate::Error::Kube(kube::Error::Api(status))) if status.code == 404 => Ok(()),
        Err(error) => Err(error),
    }
}

/// Drops what no reconciler reads from an object's metadata: `managedFields` and kubectl's
/// last-applied annotation.
pub fn slim(metadata: &mut kube::api::ObjectMeta) {
    metadata.managed_fields = None;
    if let Some(annotations) = metadata.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// How many objects one page of [`list_all`] asks for.
pub const LIST_PAGE: u32 = 100;

/// Every object `params` selects, read [`LIST_PAGE`] at a time and [`slim`]med as each page
/// arrives. One unpaged list of a thousand Repositories held the whole response and every
/// object's `managedFields` at once, ~10 MB, and the storage and repository reconcilers list
/// them on each change: that was most of the operator's memory in a burst of new objects.
/// The pages are one consistent list (the continue token pins its resourceVersion).
pub async fn list_all<K>(api: &Api<K>, params: &kube::api::ListParams) -> Result<Vec<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut params = params.clone().limit(LIST_PAGE);
    let mut items = Vec::new();
    loop {
        let page = api.list(&params).await?;
        items.extend(page.items.into_iter().map(|mut object| {
            slim(object.meta_mut());
            object
        }));
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params.continue_token = Some(token),
            None => return Ok(items),
        }
    }
}

/// Gets an object, `None` when it does not exist.
pub async fn get_opt<K>(api: &Api<K>, name: &str) -> Result<Option<K>>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(api.get_opt(name).await?)
}

/// An ownerReference to `owner`; `controller` marks the managing owner.
pub fn owner_reference<K>(owner: &K, controller: bool) -> OwnerReference
where
    K: Resource<DynamicType = ()>,
{
    OwnerReference {
        api_version: K::api_version(&()).to_string(),
        kind: K::kind(&()).to_string(),
        name: owner.name_any(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(controller),
        block_owner_deletion: Some(controller),
    }
}

/// Bytes the way KubeStash writes sizes: `12.222 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text} {}", UNITS[unit])
    }
}

/// Parses a size written by [`human_bytes`] back into bytes (approximately).
pub fn parse_human_bytes(text: &str) -> Option<u64> {
    let (number, unit) = text.trim().split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    let power = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        .iter()
        .position(|candidate| *candidate == unit)?;
    Some((number * 1024f64.powi(power as i32)).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// More objects than three pages hold, applied server-side so each carries
    /// `managedFields` and kubectl's last-applied annotation: `list_all` returns every one of
    /// them once, in the order of one list, without either; a label selector still applies.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_all_reads_every_page_and_slims_each_object() {
        use k8s_openapi::api::core::v1::ConfigMap;
        use kube::api::ListParams;
        use kubestash_sandbox::{Sandbox, SandboxOptions};

        let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
        let kubeconfig = kube::config::Kubeconfig::read_from(sandbox.kubeconfig_path()).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let count = 3 * LIST_PAGE as usize + 7;
        for index in 0..count {
            let name = format!("cm-{index:04}");
            let object = serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "labels": {"half": (index % 2).to_string()},
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": "{}",
                        "kept": "yes",
                    },
                },
                "data": {"index": index.to_string()},
            });
            api.patch(&name, &PatchParams::apply("test"), &Patch::Apply(&object))
                .await
                .unwrap();
        }
        let unpaged = api.list(&ListParams::default()).await.unwrap().items;
        assert_eq!(unpaged.len(), count);
        assert!(unpaged[0].metadata.managed_fields.is_some());

        let all = list_all(&api, &ListParams::default()).await.unwrap();
        let names: Vec<String> = all.iter().map(|c| c.name_any()).collect();
        let expected: Vec<String> = unpaged.iter().map(|c| c.name_any()).collect();
        assert_eq!(names, expected);
        for object in &all {
            assert_eq!(object.metadata.managed_fields, None);
            let annotations = object.metadata.annotations.as_ref().unwrap();
            assert_eq!(annotations.get("kept").map(String::as_str), Some("yes"));
            assert!(!annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        }

        let odd = list_all(&api, &ListParams::default().labels("half=1"))
            .await
            .unwrap();
        assert_eq!(odd.len(), count / 2);
        assert!(odd
            .iter()
            .all(|c| c.labels().get("half").map(String::as_str) == Some("1")));
    }

    #[test]
    fn sizes_read_like_kubestash() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12_816_000), "12.222 MiB");
        assert_eq!(human_bytes(2048), "2 KiB");
        assert_eq!(parse_human_bytes("2 KiB"), Some(2048));
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_unchanged() {
        let mut list = vec![condition("Ready", true, "A", "")];
        let first = list[0].last_transition_time.clone();
        std::thread::sleep(Duration::from_millis(5));
        set_condition(&mut list, condition("Ready", true, "B", "again"));
        assert_eq!(list[0].last_transition_time, first);
        assert_eq!(list[0].reason.as_deref(), Some("B"));
        set_condition(&mut list, condition("Other", false, "C", "x"));
        assert_eq!(list.len(), 2);
    }
}
