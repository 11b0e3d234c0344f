//! Kubernetes CronJob schedules (5 fields, Sunday = 0, `@daily`-style macros) translated to
//! the `cron` crate's 6-field syntax.

use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A schedule that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScheduleError {
    /// Not five space-separated fields.
    #[error("expected exactly 5 fields, found {found}: {schedule}")]
    FieldCount { schedule: String, found: usize },
    /// A field the cron parser rejected.
    #[error("{0}")]
    Invalid(String),
}

/// A parsed CronJob schedule.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    inner: cron::Schedule,
}

const DAY_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

fn translate_day_of_week(field: &str) -> String {
    let mut translated = String::new();
    let mut number = String::new();
    let mut after_slash = false;
    let flush = |number: &mut String, translated: &mut String, after_slash: bool| {
        if number.is_empty() {
            return;
        }
        match number.parse::<usize>().ok().filter(|_| !after_slash) {
            Some(day) if day < DAY_NAMES.len() => translated.push_str(DAY_NAMES[day]),
            _ => translated.push_str(number),
        }
        number.clear();
    };
    for character in field.chars() {
        if character.is_ascii_digit() {
            number.push(character);
        } else {
            flush(&mut number, &mut translated, after_slash);
            after_slash = character == '/';
            translated.push(character);
        }
    }
    flush(&mut number, &mut translated, after_slash);
    translated
}

impl Schedule {
    /// Parses a Kubernetes schedule such as `*/5 * * * *` or `@daily`.
    pub fn parse(schedule: &str) -> Result<Self, ScheduleError> {
        let trimmed = schedule.trim();
        let expanded = match trimmed {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError::FieldCount {
                schedule: schedule.to_string(),
                found: fields.len(),
            });
        }
        let day_of_week = translate_day_of_week(fields[4]);
        let six_fields = format!(
            "0 {} {} {} {} {day_of_week}",
            fields[0], fields[1], fields[2], fields[3]
        );
        let inner = cron::Schedule::from_str(&six_fields)
            .map_err(|error| ScheduleError::Invalid(error.to_string()))?;
        Ok(Self { inner })
    }

    /// The first scheduled time strictly after `time`.
    #[cfg(test)]
    pub fn next_after(&self, time: &DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.inner.after(time).next()
    }

    /// The latest scheduled time in `(since, now]`, if any.
    pub fn latest_between(
        &self,
        since: &DateTime<Utc>,
        now: &DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut latest = None;
        for time in self.inner.after(since) {
            if time > *now {
                break;
            }
            latest = Some(time);
        }
        latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, hour, minute, 30).unwrap()
    }

    #[test]
    fn five_field_schedules_fire_on_the_minute() {
        let schedule = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            schedule.next_after(&at(10, 7)),
            Some(Utc.with_ymd_and_hms(2025, 1, 6, 10, 15, 0).unwrap())
        );
        let every_minute = Schedule::parse("* * * * *").unwrap();
        assert_eq!(
            every_minute.next_after(&at(10, 7)),
            Some(Utc.with_ymd_and_hms(2025, 1, 6, 10, 8, 0).unwrap())
        );
    }

    #[test]
    fn macros_expand_like_kubernetes() {
        let daily = Schedule::parse("@daily").unwrap();
        assert_eq!(
            daily.next_after(&at(10, 7)),
            Some(Utc.with_ymd_and_hms(2025, 1, 7, 0, 0, 0).unwrap())
        );
        assert!(Schedule::parse("@hourly").is_ok());
    }

    #[test]
    fn sunday_is_day_zero() {
        // 2025-01-06 is a Monday, so the next Sunday is the 12th.
        let sundays = Schedule::parse("0 3 * * 0").unwrap();
        assert_eq!(
            sundays.next_after(&at(10, 7)),
            Some(Utc.with_ymd_and_hms(2025, 1, 12, 3, 0, 0).unwrap())
        );
        let weekdays = Schedule::parse("30 2 * * 1-5").unwrap();
        assert_eq!(
            weekdays.next_after(&at(10, 7)),
            Some(Utc.with_ymd_and_hms(2025, 1, 7, 2, 30, 0).unwrap())
        );
    }

    #[test]
    fn invalid_schedules_are_rejected() {
        assert!(matches!(
            Schedule::parse("61 * * * *"),
            Err(ScheduleError::Invalid(_))
        ));
        assert!(matches!(
            Schedule::parse("* * * *"),
            Err(ScheduleError::FieldCount { .. })
        ));
        assert!(Schedule::parse("0 */6 * * *").is_ok());
    }

    #[test]
    fn latest_between_picks_the_most_recent_missed_time() {
        let schedule = Schedule::parse("*/10 * * * *").unwrap();
        assert_eq!(
            schedule.latest_between(&at(10, 0), &at(10, 35)),
            Some(Utc.with_ymd_and_hms(2025, 1, 6, 10, 30, 0).unwrap())
        );
        assert_eq!(schedule.latest_between(&at(10, 31), &at(10, 35)), None);
    }
}
