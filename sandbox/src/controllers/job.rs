//! The Job controller: creates pods from the template up to parallelism and completions,
//! counts successes and failures, honours backoffLimit (with a short exponential delay
//! between retries), activeDeadlineSeconds, suspend and ttlSecondsAfterFinished, and sets
//! the Complete/Failed conditions a real controller sets.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use super::{condition_true, controller_reference, deleting, owned, set_condition, Cluster};
use crate::api::{name_of, namespace_of, uid_of, ApiError, Subresource};
use crate::names;
use crate::store::Change;

/// Delay before the first replacement of a failed pod; doubles per failure up to the cap.
const RETRY_DELAY: Duration = Duration::from_millis(500);
const RETRY_DELAY_CAP: Duration = Duration::from_secs(10);

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("Pending")
}

fn finished_at(pod: &Value) -> Option<chrono::DateTime<Utc>> {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|status| status["state"]["terminated"]["finishedAt"].as_str())
        .filter_map(names::parse_time)
        .max()
}

/// Runs one pass over every Job.
pub(crate) fn reconcile(cluster: &Cluster, _changes: &[Change]) -> Result<(), ApiError> {
    let jobs = cluster.builtin("batch", "jobs");
    for job in cluster.objects(&jobs, None) {
        if let Err(error) = reconcile_job(cluster, &job) {
            tracing::debug!(job = name_of(&job), %error, "job reconcile failed");
        }
    }
    Ok(())
}

/// A pod built from a Job's template.
fn pod_for(job: &Value) -> Value {
    let template = &job["spec"]["template"];
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["generateName"] = json!(format!("{}-", name_of(job)));
    metadata["namespace"] = json!(namespace_of(job));
    metadata["ownerReferences"] = json!([controller_reference(job)]);
    if let Some(map) = metadata.as_object_mut() {
        map.remove("name");
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]})
}

fn reconcile_job(cluster: &Cluster, job: &Value) -> Result<(), ApiError> {
    let jobs = cluster.builtin("batch", "jobs");
    let pods = cluster.builtin("", "pods");
    if deleting(job) {
        return Ok(());
    }
    let spec = &job["spec"];
    let owned_pods = owned(cluster, &pods, uid_of(job));
    let active: Vec<&Value> = owned_pods
        .iter()
        .map(|pod| pod.as_ref())
        .filter(|pod| !deleting(pod) && !matches!(phase(pod), "Succeeded" | "Failed"))
        .collect();
    let succeeded = owned_pods
        .iter()
        .filter(|pod| phase(pod) == "Succeeded")
        .count() as i64;
    let failed_pods: Vec<&Value> = owned_pods
        .iter()
        .map(|pod| pod.as_ref())
        .filter(|pod| phase(pod) == "Failed")
        .collect();
    let restarts: i64 = if spec["template"]["spec"]["restartPolicy"] == "OnFailure" {
        active
            .iter()
            .flat_map(|pod| {
                pod["status"]["containerStatuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|status| status["restartCount"].as_i64())
            .sum()
    } else {
        0
    };
    let failed = failed_pods.len() as i64;
    let finished = condition_true(job, "Complete") || condition_true(job, "Failed");
    let now = Utc::now();
    if finished {
        for pod in &active {
            super::delete(cluster, &pods, pod)?;
        }
        if let Some(ttl) = spec["ttlSecondsAfterFinished"].as_i64() {
            let finished_time = job["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|condition| {
                    matches!(condition["type"].as_str(), Some("Complete" | "Failed"))
                })
                .filter_map(|condition| {
                    condition["lastTransitionTime"]
                        .as_str()
                        .and_then(names::parse_time)
                })
                .max();
            if finished_time.is_some_and(|time| (now - time).num_seconds() >= ttl) {
                super::delete(cluster, &jobs, job)?;
            }
        }
        return Ok(());
    }
    let ready = active
        .iter()
        .filter(|pod| {
            pod["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
        })
        .count() as i64;
    let suspended = spec["suspend"].as_bool() == Some(true);
    let completions = spec["completions"].as_i64().unwrap_or(1);
    let parallelism = spec["parallelism"].as_i64().unwrap_or(1);
    let backoff_limit = spec["backoffLimit"].as_i64().unwrap_or(6);
    let start_time = job["status"]["startTime"]
        .as_str()
        .and_then(names::parse_time)
        .unwrap_or(now);
    let mut outcome: Option<(&str, &str, &str)> = None;
    if suspended {
        for pod in &active {
            super::delete(cluster, &pods, pod)?;
        }
    } else if spec["activeDeadlineSeconds"]
        .as_i64()
        .is_some_and(|deadline| (now - start_time).num_seconds() >= deadline)
    {
        outcome = Some((
            "Failed",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        ));
    } else if failed + restarts > backoff_limit {
        outcome = Some((
            "Failed",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        ));
    } else if succeeded >= completions {
        outcome = Some(("Complete", "", ""));
    } else {
        let wanted = parallelism.min(completions - succeeded) - active.len() as i64;
        let last_failure = failed_pods.iter().filter_map(|pod| finished_at(pod)).max();
        let delay = RETRY_DELAY
            .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1) as u32))
            .min(RETRY_DELAY_CAP);
        let waited = last_failure
            .map(|time| (now - time).to_std().unwrap_or_default() >= delay)
            .unwrap_or(true);
        if wanted > 0 && waited {
            for _ in 0..wanted {
                super::create(cluster, &pods, pod_for(job))?;
            }
        }
    }
    if matches!(outcome, Some(("Failed", _, _))) {
        for pod in &active {
            super::delete(cluster, &pods, pod)?;
        }
    }
    let active_count = if outcome.is_some() || suspended {
        0
    } else {
        active.len() as i64
    };
    cluster.mutate(
        &jobs,
        namespace_of(job),
        name_of(job),
        Subresource::Status,
        |job| {
            let status = &mut job["status"];
            if !status.is_object() {
                *status = json!({});
            }
            if status["startTime"].is_null() && !suspended {
                status["startTime"] = json!(names::format_time(start_time));
            }
            status["active"] = json!(active_count);
            status["ready"] = json!(if active_count == 0 { 0 } else { ready });
            status["succeeded"] = json!(succeeded);
            status["failed"] = json!(failed);
            status["terminating"] = json!(0);
            status["uncountedTerminatedPods"] = json!({});
            if let Some(map) = status.as_object_mut() {
                for zero in ["active", "succeeded", "failed"] {
                    if map[zero] == 0 {
                        map.remove(zero);
                    }
                }
            }
            if suspended {
                set_condition(status, "Suspended", "True", "JobSuspended", "Job suspended");
            } else if status["conditions"].as_array().is_some_and(|conditions| {
                conditions.iter().any(|condition| {
                    condition["type"] == "Suspended" && condition["status"] == "True"
                })
            }) {
                set_condition(status, "Suspended", "False", "JobResumed", "Job resumed");
            }
            match outcome {
                Some(("Complete", _, _)) => {
                    set_condition(
                        status,
                        "SuccessCriteriaMet",
                        "True",
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                    );
                    set_condition(
                        status,
                        "Complete",
                        "True",
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                    );
                    status["completionTime"] = json!(names::now());
                }
                Some((_, reason, message)) => {
                    set_condition(status, "FailureTarget", "True", reason, message);
                    set_condition(status, "Failed", "True", reason, message);
                }
                None => {}
            }
        },
    )?;
    Ok(())
}
