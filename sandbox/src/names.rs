//! Generated identifiers and timestamps: uids, `generateName` suffixes, RFC 3339 times.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random 64-bit number (SipHash over a per-process random key and a counter).
pub(crate) fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// A random version-4 UUID.
pub(crate) fn new_uid() -> String {
    let high = random_u64();
    let low = random_u64();
    let high = (high & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let low = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// The alphabet apimachinery uses for `generateName` suffixes (no vowels, no ambiguous digits).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A random suffix of `length` characters, as used by `generateName`.
pub(crate) fn random_suffix(length: usize) -> String {
    let mut value = random_u64();
    (0..length)
        .map(|_| {
            let character = ALPHABET[(value % ALPHABET.len() as u64) as usize] as char;
            value /= ALPHABET.len() as u64;
            if value == 0 {
                value = random_u64();
            }
            character
        })
        .collect()
}

/// `generateName` + suffix, with the prefix cut so the name stays within 63 characters.
pub(crate) fn generate_name(prefix: &str) -> String {
    let prefix: String = prefix.chars().take(58).collect();
    format!("{prefix}{}", random_suffix(5))
}

/// A time as Kubernetes serializes `metav1.Time`.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Now, as Kubernetes serializes `metav1.Time`.
pub(crate) fn now() -> String {
    format_time(Utc::now())
}

/// Parses a `metav1.Time`.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_distinct_version_four_uuids() {
        let first = new_uid();
        let second = new_uid();
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4");
    }

    #[test]
    fn generated_names_use_the_apimachinery_alphabet() {
        let name = generate_name("job-");
        assert_eq!(name.len(), 9);
        assert!(name[4..].bytes().all(|byte| ALPHABET.contains(&byte)));
    }
}
