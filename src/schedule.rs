//! Cron schedules exactly as a Kubernetes CronJob reads them (5 fields, names, `@daily`-style
//! macros, `@every`), checked field by field and evaluated with the `cron` crate.
//!
//! The `cron` crate wants a seconds field, numbers Sunday as 1, and ANDs day-of-month with
//! day-of-week. Kubernetes (robfig/cron) numbers Sunday as 0 and ORs the two day fields when
//! both are restricted, so each field is expanded here and the OR case is evaluated as two
//! schedules.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::duration::parse_go_duration;

/// A parsed CronJob schedule.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    source: String,
    kind: ScheduleKind,
}

#[derive(Clone, Debug)]
enum ScheduleKind {
    Fields(Vec<cron::Schedule>),
    Every(Duration),
}

/// Why a schedule was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The schedule is empty.
    #[error("the schedule is empty")]
    Empty,
    /// A time zone prefix, which CronJobs reject in `schedule`.
    #[error("`{0}` is not allowed in a schedule; CronJobs take the time zone separately")]
    TimeZonePrefix(String),
    /// An `@` macro that does not exist.
    #[error("unknown schedule macro `{0}` (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>)")]
    UnknownMacro(String),
    /// An `@every` with a bad duration.
    #[error("bad duration in `@every {duration}`: {reason}")]
    BadEvery {
        /// The duration text.
        duration: String,
        /// Why it is bad.
        reason: String,
    },
    /// Not five fields.
    #[error("expected 5 fields (minute hour day-of-month month day-of-week), found {0}")]
    FieldCount(usize),
    /// A field that does not parse or is out of range.
    #[error("{field} `{value}`: {reason}")]
    Field {
        /// Which field.
        field: &'static str,
        /// The field's text.
        value: String,
        /// Why it is bad.
        reason: String,
    },
}

#[derive(Clone, Copy)]
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// One field after parsing: `None` for `*`/`?` (robfig's "star"), else the allowed values.
type FieldValues = Option<BTreeSet<u32>>;

impl CronSchedule {
    /// Parses a schedule in the form a Kubernetes CronJob accepts.
    pub fn parse(expression: &str) -> Result<Self, ScheduleError> {
        let trimmed = expression.trim();
        if trimmed.is_empty() {
            return Err(ScheduleError::Empty);
        }
        for prefix in ["TZ=", "CRON_TZ="] {
            if trimmed.starts_with(prefix) {
                return Err(ScheduleError::TimeZonePrefix(
                    prefix.trim_end_matches('=').to_string(),
                ));
            }
        }
        let fields_text = if let Some(descriptor) = trimmed.strip_prefix('@') {
            // robfig/cron, which Kubernetes uses, matches descriptors case-sensitively.
            match descriptor {
                "yearly" | "annually" => "0 0 1 1 *".to_string(),
                "monthly" => "0 0 1 * *".to_string(),
                "weekly" => "0 0 * * 0".to_string(),
                "daily" | "midnight" => "0 0 * * *".to_string(),
                "hourly" => "0 * * * *".to_string(),
                other => {
                    let Some(duration) = other.strip_prefix("every ") else {
                        return Err(ScheduleError::UnknownMacro(trimmed.to_string()));
                    };
                    let duration = duration.trim();
                    let every =
                        parse_go_duration(duration).map_err(|error| ScheduleError::BadEvery {
                            duration: duration.to_string(),
                            reason: error.to_string(),
                        })?;
                    // robfig rounds sub-second intervals up to one second.
                    let every = every.max(Duration::from_secs(1));
                    return Ok(Self {
                        source: trimmed.to_string(),
                        kind: ScheduleKind::Every(every),
                    });
                }
            }
        } else {
            trimmed.to_string()
        };
        let fields: Vec<&str> = fields_text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError::FieldCount(fields.len()));
        }
        let minute = parse_field(fields[0], MINUTE)?;
        let hour = parse_field(fields[1], HOUR)?;
        let day_of_month = parse_field(fields[2], DAY_OF_MONTH)?;
        let month = parse_field(fields[3], MONTH)?;
        let day_of_week = parse_field(fields[4], DAY_OF_WEEK)?;

        let common = format!("0 {} {}", render(&minute, 0), render(&hour, 0),);
        let month_text = render(&month, 0);
        let variants = match (&day_of_month, &day_of_week) {
            (Some(_), Some(_)) => vec![
                format!("{common} {} {month_text} *", render(&day_of_month, 0)),
                format!("{common} * {month_text} {}", render(&day_of_week, 1)),
            ],
            _ => vec![format!(
                "{common} {} {month_text} {}",
                render(&day_of_month, 0),
                render(&day_of_week, 1)
            )],
        };
        let schedules = variants
            .iter()
            .map(|text| {
                cron::Schedule::from_str(text).map_err(|error| ScheduleError::Field {
                    field: "schedule",
                    value: trimmed.to_string(),
                    reason: error.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            source: trimmed.to_string(),
            kind: ScheduleKind::Fields(schedules),
        })
    }

    /// The schedule as written (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first run strictly after `after`; `None` when the schedule never fires
    /// (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            ScheduleKind::Every(every) => {
                let step = chrono::Duration::from_std(*every).ok()?;
                after.checked_add_signed(step)
            }
            ScheduleKind::Fields(schedules) => schedules
                .iter()
                .filter_map(|schedule| schedule.after(&after).next())
                .min(),
        }
    }

    /// The latest run in `(since, now]`, if any (what a CronJob controller fires for a tick).
    pub fn latest_between(
        &self,
        since: &DateTime<Utc>,
        now: &DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut latest = None;
        let mut cursor = *since;
        while let Some(next) = self.next_after(cursor).filter(|next| next <= now) {
            latest = Some(next);
            cursor = next;
        }
        latest
    }

    /// The next `count` runs after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(count);
        let mut cursor = after;
        while runs.len() < count {
            match self.next_after(cursor) {
                Some(next) => {
                    runs.push(next);
                    cursor = next;
                }
                None => break,
            }
        }
        runs
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.source)
    }
}

fn parse_field(text: &str, spec: FieldSpec) -> Result<FieldValues, ScheduleError> {
    let error = |reason: String| ScheduleError::Field {
        field: spec.name,
        value: text.to_string(),
        reason,
    };
    let mut values = BTreeSet::new();
    let mut star = false;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(error("empty list item".into()));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .map_err(|_| error(format!("bad step `{step}`")))?;
                if step == 0 {
                    return Err(error("step must be at least 1".into()));
                }
                (range, Some(step))
            }
            None => (item, None),
        };
        let (start, end) = if range == "*" || range == "?" {
            if step.unwrap_or(1) == 1 {
                star = true;
            }
            (spec.min, spec.max)
        } else if let Some((low, high)) = range.split_once('-') {
            (
                parse_value(low, spec).map_err(error)?,
                parse_value(high, spec).map_err(error)?,
            )
        } else {
            let start = parse_value(range, spec).map_err(error)?;
            // robfig: `N/step` means N through the maximum.
            (start, if step.is_some() { spec.max } else { start })
        };
        if start > end {
            return Err(error(format!("range start {start} is after its end {end}")));
        }
        values.extend((start..=end).step_by(step.unwrap_or(1) as usize));
    }
    Ok(if star { None } else { Some(values) })
}

fn parse_value(text: &str, spec: FieldSpec) -> Result<u32, String> {
    if let Some(position) = spec
        .names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
    {
        return Ok(spec.min + position as u32);
    }
    let value: u32 = text.parse().map_err(|_| {
        if spec.names.is_empty() {
            format!("`{text}` is not a number")
        } else {
            format!(
                "`{text}` is not a number or a {} name ({})",
                spec.name,
                spec.names.join(", ")
            )
        }
    })?;
    if value < spec.min || value > spec.max {
        return Err(format!("{value} is out of range {}-{}", spec.min, spec.max));
    }
    Ok(value)
}

fn render(values: &FieldValues, offset: u32) -> String {
    match values {
        None => "*".to_string(),
        Some(values) => values
            .iter()
            .map(|value| (value + offset).to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn next(schedule: &str, after: &str) -> String {
        CronSchedule::parse(schedule)
            .unwrap()
            .next_after(at(after))
            .unwrap()
            .to_rfc3339()
    }

    #[test]
    fn five_field_schedules_fire_on_the_minute() {
        assert_eq!(
            next("30 2 * * *", "2026-11-22T03:00:00Z"),
            "2026-11-23T02:30:00+00:00"
        );
        assert_eq!(
            next("*/5 * * * *", "2026-11-22T03:01:10Z"),
            "2026-11-22T03:05:00+00:00"
        );
        assert_eq!(
            next("0 */6 * * *", "2026-11-22T06:00:00Z"),
            "2026-11-22T12:00:00+00:00"
        );
    }

    #[test]
    fn sunday_is_zero_and_names_work() {
        // 2026-11-22 is a Sunday.
        assert_eq!(
            next("0 2 * * 0", "2026-11-21T12:00:00Z"),
            "2026-11-22T02:00:00+00:00"
        );
        assert_eq!(
            next("0 2 * * SUN", "2026-11-21T12:00:00Z"),
            "2026-11-22T02:00:00+00:00"
        );
        assert_eq!(
            next("0 2 * * mon-fri", "2026-11-21T12:00:00Z"),
            "2026-11-23T02:00:00+00:00"
        );
        assert_eq!(
            next("0 0 1 feb *", "2026-11-21T12:00:00Z"),
            "2027-02-01T00:00:00+00:00"
        );
    }

    #[test]
    fn macros_match_their_five_field_forms() {
        assert_eq!(
            next("@daily", "2026-11-22T03:00:00Z"),
            "2026-11-23T00:00:00+00:00"
        );
        assert_eq!(
            next("@midnight", "2026-11-22T03:00:00Z"),
            "2026-11-23T00:00:00+00:00"
        );
        assert_eq!(
            next("@hourly", "2026-11-22T03:00:00Z"),
            "2026-11-22T04:00:00+00:00"
        );
        assert_eq!(
            next("@weekly", "2026-11-22T03:00:00Z"),
            "2026-11-29T00:00:00+00:00"
        );
        assert_eq!(
            next("@monthly", "2026-11-22T03:00:00Z"),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            next("@yearly", "2026-11-22T03:00:00Z"),
            "2027-01-01T00:00:00+00:00"
        );
        assert_eq!(
            next("@annually", "2026-11-22T03:00:00Z"),
            "2027-01-01T00:00:00+00:00"
        );
        assert_eq!(
            next("@every 90m", "2026-11-22T03:00:00Z"),
            "2026-11-22T04:30:00+00:00"
        );
    }

    #[test]
    fn restricted_day_of_month_and_day_of_week_are_ored() {
        // The 1st of the month OR a Monday, as Kubernetes reads it.
        let schedule = CronSchedule::parse("0 0 1 * 1").unwrap();
        let runs = schedule.upcoming(Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap(), 3);
        let days: Vec<String> = runs
            .iter()
            .map(|run| run.format("%Y-%m-%d").to_string())
            .collect();
        assert_eq!(days, ["2026-11-23", "2026-11-30", "2026-12-01"]);
    }

    #[test]
    fn a_starred_day_field_keeps_the_other_one_alone() {
        let schedule = CronSchedule::parse("0 0 * * 1").unwrap();
        let runs = schedule.upcoming(Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap(), 2);
        let days: Vec<String> = runs
            .iter()
            .map(|run| run.format("%Y-%m-%d").to_string())
            .collect();
        assert_eq!(days, ["2026-11-23", "2026-11-30"]);
    }

    #[test]
    fn out_of_range_values_are_rejected_with_the_field_named() {
        let error = CronSchedule::parse("61 * * * *").unwrap_err();
        assert_eq!(error.to_string(), "minute `61`: 61 is out of range 0-59");
        let error = CronSchedule::parse("0 0 * * 7").unwrap_err();
        assert!(error.to_string().starts_with("day-of-week `7`"), "{error}");
        assert!(CronSchedule::parse("0 24 * * *").is_err());
        assert!(CronSchedule::parse("0 0 0 * *").is_err());
        assert!(CronSchedule::parse("0 0 * 13 *").is_err());
    }

    #[test]
    fn malformed_schedules_are_rejected() {
        assert_eq!(CronSchedule::parse("").unwrap_err(), ScheduleError::Empty);
        assert_eq!(
            CronSchedule::parse("* * * *").unwrap_err(),
            ScheduleError::FieldCount(4)
        );
        assert_eq!(
            CronSchedule::parse("0 * * * * *").unwrap_err(),
            ScheduleError::FieldCount(6)
        );
        assert!(matches!(
            CronSchedule::parse("@often").unwrap_err(),
            ScheduleError::UnknownMacro(_)
        ));
        assert!(matches!(
            CronSchedule::parse("@every soon").unwrap_err(),
            ScheduleError::BadEvery { .. }
        ));
        assert!(matches!(
            CronSchedule::parse("CRON_TZ=UTC 0 * * * *").unwrap_err(),
            ScheduleError::TimeZonePrefix(_)
        ));
        assert!(CronSchedule::parse("*/0 * * * *").is_err());
        assert!(CronSchedule::parse("5-1 * * * *").is_err());
        assert!(CronSchedule::parse("1,,2 * * * *").is_err());
        assert!(CronSchedule::parse("0 0 * * funday").is_err());
        // Kubernetes' parser: descriptors are case-sensitive, `@every` is a Go duration.
        assert!(matches!(
            CronSchedule::parse("@Daily").unwrap_err(),
            ScheduleError::UnknownMacro(_)
        ));
        assert!(matches!(
            CronSchedule::parse("@every 2562048h").unwrap_err(),
            ScheduleError::BadEvery { .. }
        ));
        let longest = CronSchedule::parse("@every 2562047h").unwrap();
        assert!(longest
            .next_after(chrono::DateTime::<chrono::Utc>::MAX_UTC)
            .is_none());
    }

    #[test]
    fn latest_between_finds_the_last_missed_run() {
        let schedule = CronSchedule::parse("*/15 * * * *").unwrap();
        let latest =
            schedule.latest_between(&at("2026-11-22T10:01:00Z"), &at("2026-11-22T10:40:00Z"));
        assert_eq!(latest.unwrap().to_rfc3339(), "2026-11-22T10:30:00+00:00");
        assert_eq!(
            schedule.latest_between(&at("2026-11-22T10:01:00Z"), &at("2026-11-22T10:10:00Z")),
            None
        );
    }

    #[test]
    fn a_schedule_that_never_fires_has_no_next_run() {
        let schedule = CronSchedule::parse("0 0 30 2 *").unwrap();
        assert_eq!(schedule.next_after(at("2026-11-22T00:00:00Z")), None);
    }

    #[test]
    fn single_value_with_step_runs_to_the_end_of_the_range() {
        assert_eq!(
            next("50/5 * * * *", "2026-11-22T03:51:00Z"),
            "2026-11-22T03:55:00+00:00"
        );
        assert_eq!(
            next("50/5 * * * *", "2026-11-22T03:56:00Z"),
            "2026-11-22T04:50:00+00:00"
        );
    }
}
