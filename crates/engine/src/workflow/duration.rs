//! Durations in workflow files (`timeout = "30s"`), parsed by `humantime`:
//! a number and a unit, possibly several (`"1h 30m"`); units from `ns` to
//! `y`. A bare number is refused: the unit is never guessed.

use std::time::Duration;

/// Parses a duration, or says why it cannot.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    if text.trim().is_empty() {
        return Err("empty duration".to_owned());
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// Milliseconds, saturating (durations beyond `u64::MAX` ms are 584 million years).
pub(crate) fn as_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
