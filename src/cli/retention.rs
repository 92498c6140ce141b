//! The retention flags of `strand serve` (and `strand log trim`): how long
//! finished runs stay, by age and by number, with overrides by definition.

use std::time::Duration;

use clap::Args;
use strand_projections::{Retention, RetentionPolicy};

use super::CliError;

/// How long finished runs stay. Unset: forever.
#[derive(Debug, Args, Default, Clone)]
pub struct RetentionArgs {
    /// Keep finished runs this long after they finish (`30d`, `12h`).
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub retention: Option<Duration>,
    /// Keep at most this many finished runs (the most recent).
    #[arg(long, value_name = "N")]
    pub keep_runs: Option<u64>,
    /// The retention of one definition, `NAME=AGE`, `NAME=/N` or
    /// `NAME=AGE/N` (repeatable): its runs are counted apart.
    #[arg(long = "retention-for", value_name = "NAME=AGE/N")]
    pub retention_for: Vec<String>,
}

impl RetentionArgs {
    /// The policy the flags describe.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a malformed `--retention-for` or a
    /// `--keep-runs` of 0.
    pub fn policy(&self) -> Result<RetentionPolicy, CliError> {
        if self.keep_runs == Some(0) {
            return Err(CliError::Usage {
                name: "--keep-runs",
                reason: "must be at least 1".into(),
            });
        }
        let mut policy = RetentionPolicy {
            default: Retention {
                max_age_ms: self.retention.map(ms),
                max_runs: self.keep_runs,
            },
            ..RetentionPolicy::default()
        };
        for pair in &self.retention_for {
            let (name, retention) = parse_override(pair).ok_or_else(|| CliError::Usage {
                name: "--retention-for",
                reason: format!(
                    "{pair:?} is not NAME=AGE, NAME=/N or NAME=AGE/N (AGE like 7d, N at least 1)"
                ),
            })?;
            policy.per_definition.insert(name, retention);
        }
        Ok(policy)
    }
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `NAME=AGE`, `NAME=/N` or `NAME=AGE/N`.
fn parse_override(pair: &str) -> Option<(String, Retention)> {
    let (name, rule) = pair.split_once('=')?;
    if name.is_empty() || rule.is_empty() {
        return None;
    }
    let (age, count) = match rule.split_once('/') {
        Some((age, count)) => (age, Some(count)),
        None => (rule, None),
    };
    let max_age_ms = match age {
        "" => None,
        age => Some(ms(humantime::parse_duration(age).ok()?)),
    };
    let max_runs = match count {
        None => None,
        Some(count) => Some(count.parse::<u64>().ok().filter(|n| *n > 0)?),
    };
    if max_age_ms.is_none() && max_runs.is_none() {
        return None;
    }
    Some((
        name.to_owned(),
        Retention {
            max_age_ms,
            max_runs,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_overrides_when_parsed_then_each_form_gives_its_bounds() {
        let day = 86_400_000;
        assert_eq!(
            parse_override("nightly=7d"),
            Some((
                "nightly".into(),
                Retention {
                    max_age_ms: Some(7 * day),
                    max_runs: None
                }
            ))
        );
        assert_eq!(
            parse_override("nightly=/10"),
            Some((
                "nightly".into(),
                Retention {
                    max_age_ms: None,
                    max_runs: Some(10)
                }
            ))
        );
        assert_eq!(
            parse_override("etl=1d/3"),
            Some((
                "etl".into(),
                Retention {
                    max_age_ms: Some(day),
                    max_runs: Some(3)
                }
            ))
        );
        for bad in [
            "nightly",
            "=7d",
            "nightly=",
            "nightly=/0",
            "nightly=soon",
            "nightly=/",
        ] {
            assert_eq!(parse_override(bad), None, "{bad}");
        }
    }
}
