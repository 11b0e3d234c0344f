//! Which snapshots a RetentionPolicy keeps. restic's keep rules (last, hourly, daily,
//! weekly, monthly, yearly: the newest snapshot of each of the last n buckets) applied to
//! successful snapshots, `maxRetentionPeriod` as an upper bound on age, and
//! `failedSnapshots.last` over failed ones.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::api::storage::RetentionPolicySpec;
use crate::retention::RetentionPeriod;

/// Something with an age: a restic snapshot or a Snapshot object.
pub trait Dated {
    /// When it was taken.
    fn time(&self) -> DateTime<Utc>;
}

impl Dated for crate::engine::SnapshotSummary {
    fn time(&self) -> DateTime<Utc> {
        self.time
    }
}

impl<T> Dated for (T, DateTime<Utc>) {
    fn time(&self) -> DateTime<Utc> {
        self.1
    }
}

/// The split of a list of snapshots into kept and forgotten.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection<T> {
    /// Snapshots the policy keeps, newest first.
    pub keep: Vec<T>,
    /// Snapshots to forget, newest first.
    pub forget: Vec<T>,
}

type BucketKey = (i32, u32, u32, u32);

fn bucket(rule: usize, time: DateTime<Utc>, index: usize) -> BucketKey {
    match rule {
        0 => (index as i32, 0, 0, 0),
        1 => (time.year(), time.ordinal(), time.hour(), 0),
        2 => (time.year(), time.ordinal(), 0, 0),
        3 => {
            let week = time.iso_week();
            (week.year(), week.week(), 0, 0)
        }
        4 => (time.year(), time.month(), 0, 0),
        _ => (time.year(), 0, 0, 0),
    }
}

/// Applies the successful-snapshot rules of `policy` at `now`. With no count rules, every
/// snapshot younger than `maxRetentionPeriod` is kept. An invalid period keeps everything
/// (validation rejects it before it gets here).
pub fn select_successful<T: Dated + Clone>(
    snapshots: &[T],
    policy: &RetentionPolicySpec,
    now: DateTime<Utc>,
) -> Selection<T> {
    let mut sorted: Vec<T> = snapshots.to_vec();
    sorted.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.time()));
    let cutoff = match policy
        .max_retention_period
        .as_deref()
        .map(str::parse::<RetentionPeriod>)
    {
        Some(Ok(period)) => Some(period.cutoff(now)),
        Some(Err(_)) => {
            return Selection {
                keep: sorted,
                forget: Vec::new(),
            }
        }
        None => None,
    };
    let counts: [Option<i32>; 6] = match &policy.successful_snapshots {
        Some(rules) => [
            rules.last,
            rules.hourly,
            rules.daily,
            rules.weekly,
            rules.monthly,
            rules.yearly,
        ],
        None => [None; 6],
    };
    // As in restic, a count of zero is no rule: `{last: 0}` does not forget everything.
    let has_counts = counts
        .iter()
        .any(|count| count.is_some_and(|count| count > 0));
    let mut remaining: Vec<i64> = counts
        .iter()
        .map(|count| count.map(i64::from).unwrap_or(0))
        .collect();
    let mut last_bucket: [Option<BucketKey>; 6] = [None; 6];
    let mut selection = Selection {
        keep: Vec::new(),
        forget: Vec::new(),
    };
    for (index, snapshot) in sorted.into_iter().enumerate() {
        let time = snapshot.time();
        if cutoff.is_some_and(|cutoff| time < cutoff) {
            selection.forget.push(snapshot);
            continue;
        }
        let mut keep = !has_counts;
        for rule in 0..6 {
            if remaining[rule] == 0 {
                continue;
            }
            let key = bucket(rule, time, index);
            if last_bucket[rule] != Some(key) {
                last_bucket[rule] = Some(key);
                remaining[rule] -= 1;
                keep = true;
            }
        }
        if keep {
            selection.keep.push(snapshot);
        } else {
            selection.forget.push(snapshot);
        }
    }
    selection
}

/// Keeps the newest `failedSnapshots.last` failed snapshots (1 when unset).
pub fn select_failed<T: Dated + Clone>(
    snapshots: &[T],
    policy: &RetentionPolicySpec,
) -> Selection<T> {
    let mut sorted: Vec<T> = snapshots.to_vec();
    sorted.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.time()));
    let keep = policy.effective_failed_snapshots().last.max(0) as usize;
    let forget = sorted.split_off(keep.min(sorted.len()));
    Selection {
        keep: sorted,
        forget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::storage::SuccessfulSnapshotsKeepPolicy;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn snapshots(times: &[&str]) -> Vec<(String, DateTime<Utc>)> {
        times
            .iter()
            .map(|time| (time.to_string(), at(time)))
            .collect()
    }

    fn kept(selection: &Selection<(String, DateTime<Utc>)>) -> Vec<&str> {
        selection
            .keep
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    fn policy(rules: SuccessfulSnapshotsKeepPolicy, period: Option<&str>) -> RetentionPolicySpec {
        RetentionPolicySpec {
            successful_snapshots: Some(rules),
            max_retention_period: period.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn keep_last_keeps_the_newest() {
        let list = snapshots(&[
            "2026-11-01T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T00:00:00Z",
            "2026-11-04T00:00:00Z",
        ]);
        let selection = select_successful(
            &list,
            &policy(
                SuccessfulSnapshotsKeepPolicy {
                    last: Some(2),
                    ..Default::default()
                },
                None,
            ),
            at("2026-11-22T00:00:00Z"),
        );
        assert_eq!(
            kept(&selection),
            ["2026-11-04T00:00:00Z", "2026-11-03T00:00:00Z"]
        );
        assert_eq!(selection.forget.len(), 2);
    }

    #[test]
    fn daily_keeps_the_newest_of_each_day() {
        let list = snapshots(&[
            "2026-11-01T01:00:00Z",
            "2026-11-01T23:00:00Z",
            "2026-11-02T05:00:00Z",
            "2026-11-02T06:00:00Z",
            "2026-11-03T00:00:00Z",
        ]);
        let selection = select_successful(
            &list,
            &policy(
                SuccessfulSnapshotsKeepPolicy {
                    daily: Some(2),
                    ..Default::default()
                },
                None,
            ),
            at("2026-11-22T00:00:00Z"),
        );
        assert_eq!(
            kept(&selection),
            ["2026-11-03T00:00:00Z", "2026-11-02T06:00:00Z"]
        );
    }

    #[test]
    fn rules_combine_as_a_union() {
        let list = snapshots(&[
            "2026-10-01T00:00:00Z",
            "2026-11-01T00:00:00Z",
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
        ]);
        let rules = SuccessfulSnapshotsKeepPolicy {
            last: Some(1),
            monthly: Some(2),
            ..Default::default()
        };
        let selection = select_successful(&list, &policy(rules, None), at("2026-11-22T00:00:00Z"));
        assert_eq!(
            kept(&selection),
            ["2026-11-03T00:00:00Z", "2026-10-01T00:00:00Z"]
        );
    }

    #[test]
    fn zero_counts_are_no_rule() {
        let list = snapshots(&[
            "2026-10-01T00:00:00Z",
            "2026-11-20T00:00:00Z",
            "2026-11-21T00:00:00Z",
        ]);
        let zeros = SuccessfulSnapshotsKeepPolicy {
            last: Some(0),
            daily: Some(0),
            ..Default::default()
        };
        let now = at("2026-11-22T00:00:00Z");
        assert_eq!(
            select_successful(&list, &policy(zeros.clone(), None), now)
                .keep
                .len(),
            3,
            "nothing is forgotten by count"
        );
        assert_eq!(
            kept(&select_successful(&list, &policy(zeros, Some("30d")), now)),
            ["2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z"],
            "the period still applies"
        );
    }

    #[test]
    fn the_retention_period_bounds_every_rule() {
        let list = snapshots(&[
            "2026-10-01T00:00:00Z",
            "2026-11-20T00:00:00Z",
            "2026-11-21T00:00:00Z",
        ]);
        let selection = select_successful(
            &list,
            &policy(
                SuccessfulSnapshotsKeepPolicy {
                    last: Some(5),
                    ..Default::default()
                },
                Some("30d"),
            ),
            at("2026-11-22T00:00:00Z"),
        );
        assert_eq!(
            kept(&selection),
            ["2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z"]
        );
        let only_period = RetentionPolicySpec {
            max_retention_period: Some("30d".into()),
            ..Default::default()
        };
        assert_eq!(
            select_successful(&list, &only_period, at("2026-11-22T00:00:00Z"))
                .keep
                .len(),
            2
        );
    }

    #[test]
    fn failed_snapshots_keep_the_newest_ones() {
        let list = snapshots(&[
            "2026-11-01T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T00:00:00Z",
        ]);
        let selection = select_failed(&list, &RetentionPolicySpec::default());
        assert_eq!(kept(&selection), ["2026-11-03T00:00:00Z"]);
        assert_eq!(selection.forget.len(), 2);
    }
}
