//! The CronJob controller: fires Jobs on the (5-field) schedule, honours suspend,
//! startingDeadlineSeconds, concurrencyPolicy (Allow, Forbid, Replace) and the history
//! limits, keeps `status.active` and the schedule times, and fires a CronJob on demand.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{condition_true, controller_reference, deleting, owned, Cluster};
use crate::api::{name_of, namespace_of, uid_of, ApiError, Subresource, WriteOptions};
use crate::names;
use crate::store::Change;
use kubestash::schedule::CronSchedule as Schedule;

fn finished(job: &Value) -> bool {
    condition_true(job, "Complete") || condition_true(job, "Failed")
}

fn creation(object: &Value) -> Option<DateTime<Utc>> {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(names::parse_time)
}

/// A Job built from a CronJob's template.
fn job_for(cronjob: &Value, name: &str, annotation: (&str, String)) -> Value {
    let template = &cronjob["spec"]["jobTemplate"];
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["name"] = json!(name);
    metadata["namespace"] = json!(namespace_of(cronjob));
    metadata["ownerReferences"] = json!([controller_reference(cronjob)]);
    if !metadata["annotations"].is_object() {
        metadata["annotations"] = json!({});
    }
    metadata["annotations"][annotation.0] = json!(annotation.1);
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": template["spec"]})
}

/// Creates a Job from a CronJob now, like `kubectl create job --from=cronjob/<name>`.
pub(crate) fn fire_now(cluster: &Cluster, namespace: &str, name: &str) -> Result<String, ApiError> {
    let cronjobs = cluster.builtin("batch", "cronjobs");
    let jobs = cluster.builtin("batch", "jobs");
    let cronjob = cluster.get(&cronjobs, namespace, name)?;
    let job_name = format!(
        "{}-manual-{}",
        name.chars().take(44).collect::<String>(),
        names::random_suffix(5)
    );
    let job = job_for(
        &cronjob,
        &job_name,
        ("cronjob.kubernetes.io/instantiate", "manual".to_string()),
    );
    let written = cluster.create(&jobs, namespace, job, &WriteOptions::default())?;
    Ok(name_of(&written.object).to_string())
}

/// Runs one pass over every CronJob.
pub(crate) fn reconcile(cluster: &Cluster, _changes: &[Change]) -> Result<(), ApiError> {
    let cronjobs = cluster.builtin("batch", "cronjobs");
    for cronjob in cluster.objects(&cronjobs, None) {
        if let Err(error) = reconcile_cronjob(cluster, &cronjob) {
            tracing::debug!(cronjob = name_of(&cronjob), %error, "cronjob reconcile failed");
        }
    }
    Ok(())
}

fn reconcile_cronjob(cluster: &Cluster, cronjob: &Value) -> Result<(), ApiError> {
    if deleting(cronjob) {
        return Ok(());
    }
    let cronjobs = cluster.builtin("batch", "cronjobs");
    let jobs = cluster.builtin("batch", "jobs");
    let spec = &cronjob["spec"];
    let mut children = owned(cluster, &jobs, uid_of(cronjob));
    children.sort_by_key(|job| creation(job));
    let (done, mut active): (Vec<_>, Vec<_>) = children.into_iter().partition(|job| finished(job));
    for (succeeded, limit_field, default_limit) in [
        (true, "successfulJobsHistoryLimit", 3),
        (false, "failedJobsHistoryLimit", 1),
    ] {
        let limit = spec[limit_field].as_i64().unwrap_or(default_limit).max(0) as usize;
        let matching: Vec<_> = done
            .iter()
            .filter(|job| condition_true(job, "Complete") == succeeded)
            .collect();
        if matching.len() > limit {
            for job in &matching[..matching.len() - limit] {
                super::delete(cluster, &jobs, job)?;
            }
        }
    }
    let now = Utc::now();
    let mut scheduled: Option<DateTime<Utc>> = None;
    let suspended = spec["suspend"].as_bool() == Some(true);
    if let (false, Ok(schedule)) = (
        suspended,
        Schedule::parse(spec["schedule"].as_str().unwrap_or_default()),
    ) {
        let since = cronjob["status"]["lastScheduleTime"]
            .as_str()
            .and_then(names::parse_time)
            .or_else(|| creation(cronjob))
            .unwrap_or(now);
        if let Some(time) = schedule.latest_between(&since, &now) {
            let too_late = spec["startingDeadlineSeconds"]
                .as_i64()
                .is_some_and(|deadline| (now - time).num_seconds() > deadline);
            let policy = spec["concurrencyPolicy"].as_str().unwrap_or("Allow");
            if too_late {
                scheduled = Some(time);
            } else if policy == "Forbid" && !active.is_empty() {
                tracing::debug!(
                    cronjob = name_of(cronjob),
                    "skipping a run while a job is active"
                );
            } else {
                if policy == "Replace" {
                    for job in active.drain(..) {
                        super::delete(cluster, &jobs, &job)?;
                    }
                }
                let job_name = format!("{}-{}", name_of(cronjob), time.timestamp() / 60);
                let job = job_for(
                    cronjob,
                    &job_name,
                    (
                        "batch.kubernetes.io/cronjob-scheduled-timestamp",
                        names::format_time(time),
                    ),
                );
                super::create(cluster, &jobs, job)?;
                if let Ok(created) = cluster.get(&jobs, namespace_of(cronjob), &job_name) {
                    active.push(created);
                }
                scheduled = Some(time);
            }
        }
    }
    let active_references: Vec<Value> = active
        .iter()
        .map(|job| {
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": name_of(job),
                "namespace": namespace_of(job),
                "uid": uid_of(job),
            })
        })
        .collect();
    let last_successful = done
        .iter()
        .filter(|job| condition_true(job, "Complete"))
        .filter_map(|job| job["status"]["completionTime"].as_str().map(str::to_string))
        .max();
    cluster.mutate(
        &cronjobs,
        namespace_of(cronjob),
        name_of(cronjob),
        Subresource::Status,
        |cronjob| {
            let status = &mut cronjob["status"];
            if !status.is_object() {
                *status = json!({});
            }
            match active_references.is_empty() {
                true => {
                    if let Some(map) = status.as_object_mut() {
                        map.remove("active");
                    }
                }
                false => status["active"] = json!(active_references),
            }
            if let Some(time) = scheduled {
                status["lastScheduleTime"] = json!(names::format_time(time));
            }
            if let Some(time) = &last_successful {
                status["lastSuccessfulTime"] = json!(time);
            }
        },
    )?;
    Ok(())
}
