//! Retention periods (`maxRetentionPeriod`): `1y2mo3w4d5h6m` style, units in that order.

use std::fmt;
use std::str::FromStr;

/// A parsed `maxRetentionPeriod`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionPeriod {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Weeks.
    pub weeks: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
}

/// Why a retention period was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a retention period: {reason} (expected e.g. `30d`, `1y2mo`, `4w`, `12h30m`; units y, mo, w, d, h, m in that order)")]
pub struct PeriodError {
    /// The rejected text.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

const UNITS: [&str; 6] = ["y", "mo", "w", "d", "h", "m"];

impl FromStr for RetentionPeriod {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| PeriodError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(error("it is empty"));
        }
        let mut period = Self::default();
        let mut next_unit = 0;
        let mut remaining = text;
        while !remaining.is_empty() {
            let digits = remaining
                .find(|character: char| !character.is_ascii_digit())
                .unwrap_or(remaining.len());
            if digits == 0 {
                return Err(error("each unit needs a number before it"));
            }
            let value: u32 = remaining[..digits]
                .parse()
                .map_err(|_| error("number too large"))?;
            remaining = &remaining[digits..];
            let unit = if remaining.starts_with("mo") {
                "mo"
            } else {
                match remaining.chars().next() {
                    Some('y') => "y",
                    Some('w') => "w",
                    Some('d') => "d",
                    Some('h') => "h",
                    Some('m') => "m",
                    Some(_) => return Err(error("unknown unit")),
                    None => return Err(error("the last number has no unit")),
                }
            };
            let position = UNITS
                .iter()
                .position(|candidate| *candidate == unit)
                .unwrap_or(0);
            if position < next_unit {
                return Err(error("units repeat or are out of order"));
            }
            next_unit = position + 1;
            remaining = &remaining[unit.len()..];
            match unit {
                "y" => period.years = value,
                "mo" => period.months = value,
                "w" => period.weeks = value,
                "d" => period.days = value,
                "h" => period.hours = value,
                _ => period.minutes = value,
            }
        }
        Ok(period)
    }
}

impl RetentionPeriod {
    /// The oldest time still kept when measured back from `now`.
    pub fn cutoff(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        let months = self.years.saturating_mul(12).saturating_add(self.months);
        let back = now
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        // A period reaching before the earliest representable time keeps everything.
        [
            chrono::Duration::try_weeks(i64::from(self.weeks)),
            chrono::Duration::try_days(i64::from(self.days)),
            chrono::Duration::try_hours(i64::from(self.hours)),
            chrono::Duration::try_minutes(i64::from(self.minutes)),
        ]
        .into_iter()
        .try_fold(back, |time, step| time.checked_sub_signed(step?))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (self.years, "y"),
            (self.months, "mo"),
            (self.weeks, "w"),
            (self.days, "d"),
            (self.hours, "h"),
            (self.minutes, "m"),
        ];
        let mut written = false;
        for (value, unit) in parts {
            if value > 0 {
                write!(formatter, "{value}{unit}")?;
                written = true;
            }
        }
        if !written {
            formatter.write_str("0m")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_the_documented_form_parse() {
        let period: RetentionPeriod = "1y2mo3w4d5h6m".parse().unwrap();
        assert_eq!(
            period,
            RetentionPeriod {
                years: 1,
                months: 2,
                weeks: 3,
                days: 4,
                hours: 5,
                minutes: 6
            }
        );
        assert_eq!("30d".parse::<RetentionPeriod>().unwrap().days, 30);
        assert_eq!(
            "30d12h30m".parse::<RetentionPeriod>().unwrap().to_string(),
            "30d12h30m"
        );
        assert_eq!("6mo".parse::<RetentionPeriod>().unwrap().months, 6);
    }

    #[test]
    fn huge_periods_keep_everything_instead_of_overflowing() {
        let now = chrono::Utc::now();
        for text in ["100000000d", "4000000000y", "4000000000w1h"] {
            let period: RetentionPeriod = text.parse().unwrap();
            assert_eq!(
                period.cutoff(now),
                chrono::DateTime::<chrono::Utc>::MIN_UTC,
                "{text}"
            );
        }
        let week: RetentionPeriod = "1w".parse().unwrap();
        assert_eq!(week.cutoff(now), now - chrono::Duration::weeks(1));
    }

    #[test]
    fn malformed_periods_are_rejected() {
        for text in [
            "", "3 weeks", "30", "d", "1d1y", "1d2d", "5s", "1.5d", "-1d",
        ] {
            assert!(
                text.parse::<RetentionPeriod>().is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn cutoff_counts_back_calendar_months_then_fixed_units() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-31T12:00:00Z")
            .unwrap()
            .to_utc();
        let period: RetentionPeriod = "1mo1d".parse().unwrap();
        assert_eq!(period.cutoff(now).to_rfc3339(), "2026-02-27T12:00:00+00:00");
    }
}
