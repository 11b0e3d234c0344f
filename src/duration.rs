//! Go `time.Duration` strings (`30s`, `1m30s`, `2h`, `1.5h`), as KubeStash writes timeouts.

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string is empty.
    #[error("empty duration")]
    Empty,
    /// A number without a unit, or an unknown unit.
    #[error("`{0}` is not a Go duration (e.g. `30s`, `5m`, `1h30m`; units ns, us, ms, s, m, h)")]
    Invalid(String),
    /// A negative duration.
    #[error("`{0}` is negative")]
    Negative(String),
    /// Longer than Go's largest duration (about 2562047h).
    #[error("`{0}` is longer than the largest Go duration (2562047h47m16.854775807s)")]
    TooLarge(String),
}

/// Go's largest `time.Duration`: 2^63 - 1 nanoseconds.
pub const MAX_GO_DURATION: Duration = Duration::new(9_223_372_036, 854_775_807);

/// Parses a Go duration string. Negative durations are rejected since no KubeStash field
/// takes one.
pub fn parse_go_duration(text: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative(text.to_string()));
    }
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    let mut remaining = rest;
    while !remaining.is_empty() {
        let number_length = remaining
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .ok_or_else(invalid)?;
        let number_text = &remaining[..number_length];
        if number_text.is_empty() || number_text == "." || number_text.matches('.').count() > 1 {
            return Err(invalid());
        }
        let number: f64 = number_text.parse().map_err(|_| invalid())?;
        remaining = &remaining[number_length..];
        let unit_length = remaining
            .find(|character: char| character.is_ascii_digit() || character == '.')
            .unwrap_or(remaining.len());
        let seconds_per_unit = match &remaining[..unit_length] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        remaining = &remaining[unit_length..];
        total += number * seconds_per_unit;
    }
    match Duration::try_from_secs_f64(total) {
        Ok(duration) if duration <= MAX_GO_DURATION => Ok(duration),
        _ => Err(DurationError::TooLarge(text.to_string())),
    }
}

/// Formats a duration the way Go prints one (`1h2m3s`, `45s`, `1.5s`, `0s`).
pub fn format_go_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let nanos = duration.subsec_nanos();
    if total == 0 && nanos == 0 {
        return "0s".to_string();
    }
    let hours = total / 3600;
    let minutes = (total % 3600) / 60;
    let seconds = total % 60;
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if nanos == 0 {
        text.push_str(&format!("{seconds}s"));
    } else {
        let fraction = format!("{:09}", nanos);
        text.push_str(&format!("{seconds}.{}s", fraction.trim_end_matches('0')));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_go_duration("1.5h").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_go_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_go_duration("2562047h").unwrap(),
            Duration::from_secs(2_562_047 * 3600)
        );
        for huge in ["2562048h", "99999999999999999999h", "1e400h"] {
            assert!(
                matches!(
                    parse_go_duration(huge),
                    Err(DurationError::TooLarge(_) | DurationError::Invalid(_))
                ),
                "{huge}"
            );
        }
        assert!(matches!(
            parse_go_duration("99999999999999999999h"),
            Err(DurationError::TooLarge(_))
        ));
    }

    #[test]
    fn bad_durations_are_rejected() {
        for text in ["", "30", "3 weeks", "1d", "m", "1.2.3s", "-5s", "s30"] {
            assert!(
                parse_go_duration(text).is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn durations_format_like_go() {
        assert_eq!(format_go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(format_go_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_go_duration(Duration::from_secs(120)), "2m0s");
        assert_eq!(format_go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
    }
}
