//! Circuit breaker: closed, open, half-open.

use std::time::Duration;

use strand_projections::BreakerState;

use super::duration_ms;

/// When a [`Breaker`] opens and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker; `0` behaves like `1`.
    pub failure_threshold: u32,
    /// How long the breaker stays open before a trial call (half-open).
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    /// Opens after 5 consecutive failures, for 30 seconds.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// The result of a call through the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed.
    Failure,
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Current state.
    state: BreakerState,
    /// Consecutive failures counted while closed.
    failures: u32,
    /// When the last transition happened.
    changed_at_ms: u64,
}

impl Default for Breaker {
    fn default() -> Self {
        Self::new()
    }
}

impl Breaker {
    /// A closed breaker with no failures, last changed at 0.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            state: BreakerState::Closed,
            failures: 0,
            changed_at_ms: 0,
        }
    }

    /// Current state.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Consecutive failures counted while closed.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When the last transition happened (0 if none).
    #[must_use]
    pub fn changed_at_ms(&self) -> u64 {
        self.changed_at_ms
    }

    /// The transition `outcome` causes, if any.
    ///
    /// Closed opens when a failure reaches `failure_threshold` consecutive
    /// failures; half-open closes on success and reopens on failure; open
    /// ignores outcomes (of calls made before it opened).
    #[must_use]
    pub fn on_outcome(&self, config: &BreakerConfig, outcome: Outcome) -> Option<BreakerState> {
        match (self.state, outcome) {
            (BreakerState::Closed, Outcome::Failure)
                if self.failures.saturating_add(1) >= config.failure_threshold.max(1) =>
            {
                Some(BreakerState::Open)
            }
            (BreakerState::HalfOpen, Outcome::Success) => Some(BreakerState::Closed),
            (BreakerState::HalfOpen, Outcome::Failure) => Some(BreakerState::Open),
            _ => None,
        }
    }

    /// Counts an outcome that caused no transition: while closed a failure
    /// adds one and a success resets the count; otherwise nothing.
    pub fn count(&mut self, outcome: Outcome) {
        if self.state == BreakerState::Closed {
            self.failures = match outcome {
                Outcome::Failure => self.failures.saturating_add(1),
                Outcome::Success => 0,
            };
        }
    }

    /// Applies a transition to `to` at `at_ms`, live or replayed; resets the
    /// failure count.
    pub fn transition(&mut self, to: BreakerState, at_ms: u64) {
        *self = Self {
            state: to,
            failures: 0,
            changed_at_ms: at_ms,
        };
    }

    /// While open, the milliseconds left until it may go half-open (0 when
    /// due); `None` in other states.
    #[must_use]
    pub fn half_open_in(&self, config: &BreakerConfig, now_ms: u64) -> Option<u64> {
        (self.state == BreakerState::Open).then(|| {
            self.changed_at_ms
                .saturating_add(duration_ms(config.open_for))
                .saturating_sub(now_ms)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BreakerState::{Closed, HalfOpen, Open};
    use Outcome::{Failure, Success};

    const CONFIG: BreakerConfig = BreakerConfig {
        failure_threshold: 3,
        open_for: Duration::from_secs(10),
    };

    /// Decides and applies `outcome` at `at_ms` under [`CONFIG`], as a
    /// supervisor would.
    fn apply(breaker: &mut Breaker, outcome: Outcome, at_ms: u64) -> Option<BreakerState> {
        let to = breaker.on_outcome(&CONFIG, outcome);
        match to {
            Some(to) => breaker.transition(to, at_ms),
            None => breaker.count(outcome),
        }
        to
    }

    fn breaker(state: BreakerState, changed_at_ms: u64) -> Breaker {
        let mut breaker = Breaker::new();
        breaker.transition(state, changed_at_ms);
        breaker
    }

    fn parts(b: Breaker) -> (BreakerState, u32, u64) {
        (b.state(), b.failures(), b.changed_at_ms())
    }

    #[test]
    fn given_new_breaker_when_inspected_then_closed_without_failures() {
        assert_eq!(Breaker::default(), Breaker::new());
        assert_eq!(parts(Breaker::new()), (Closed, 0, 0));
        let config = BreakerConfig::default();
        assert_eq!(
            (config.failure_threshold, config.open_for.as_secs()),
            (5, 30)
        );
    }

    #[test]
    fn given_closed_when_failures_reach_threshold_then_opens() {
        let mut breaker = Breaker::new();
        assert_eq!(apply(&mut breaker, Failure, 1), None);
        assert_eq!(apply(&mut breaker, Failure, 2), None);
        assert_eq!(parts(breaker), (Closed, 2, 0));
        assert_eq!(apply(&mut breaker, Failure, 3), Some(Open));
        assert_eq!(parts(breaker), (Open, 0, 3));
    }

    #[test]
    fn given_closed_with_failures_when_success_then_count_resets() {
        let mut breaker = Breaker::new();
        apply(&mut breaker, Failure, 1);
        apply(&mut breaker, Failure, 2);
        assert_eq!(apply(&mut breaker, Success, 3), None);
        assert_eq!(breaker.failures(), 0);
        assert_eq!(apply(&mut breaker, Failure, 4), None);
    }

    #[test]
    fn given_zero_threshold_when_first_failure_then_opens() {
        let config = BreakerConfig {
            failure_threshold: 0,
            ..CONFIG
        };
        assert_eq!(Breaker::new().on_outcome(&config, Failure), Some(Open));
        assert_eq!(Breaker::new().on_outcome(&config, Success), None);
    }

    #[test]
    fn given_open_when_any_outcome_then_ignored() {
        let mut open = breaker(Open, 100);
        for outcome in [Success, Failure] {
            assert_eq!(apply(&mut open, outcome, 200), None);
        }
        assert_eq!(open, breaker(Open, 100));
    }

    #[test]
    fn given_full_cycle_when_trial_succeeds_then_closed_again() {
        let mut breaker = Breaker::new();
        for at_ms in 1..=3 {
            apply(&mut breaker, Failure, at_ms);
        }
        assert_eq!(breaker.half_open_in(&CONFIG, 3), Some(10_000));
        assert_eq!(breaker.half_open_in(&CONFIG, 10_003), Some(0));
        breaker.transition(HalfOpen, 10_003);
        assert_eq!(breaker.half_open_in(&CONFIG, 10_003), None);
        assert_eq!(apply(&mut breaker, Success, 10_050), Some(Closed));
        assert_eq!(parts(breaker), (Closed, 0, 10_050));
    }

    #[test]
    fn given_half_open_when_trial_fails_then_reopens() {
        let mut half_open = breaker(HalfOpen, 10_000);
        assert_eq!(apply(&mut half_open, Failure, 10_020), Some(Open));
        assert_eq!(parts(half_open), (Open, 0, 10_020));
        assert_eq!(half_open.half_open_in(&CONFIG, 10_020), Some(10_000));
    }

    #[test]
    fn given_open_when_asking_half_open_in_then_remaining_time_saturates() {
        let open = breaker(Open, 1_000);
        assert_eq!(open.half_open_in(&CONFIG, 0), Some(11_000));
        assert_eq!(open.half_open_in(&CONFIG, 10_999), Some(1));
        assert_eq!(open.half_open_in(&CONFIG, 11_000), Some(0));
        assert_eq!(open.half_open_in(&CONFIG, u64::MAX), Some(0));
        let forever = BreakerConfig {
            open_for: Duration::MAX,
            ..CONFIG
        };
        assert_eq!(breaker(Open, 7).half_open_in(&forever, 0), Some(u64::MAX));
        assert_eq!(breaker(HalfOpen, 0).half_open_in(&CONFIG, 0), None);
        assert_eq!(Breaker::new().half_open_in(&CONFIG, 0), None);
    }
}
