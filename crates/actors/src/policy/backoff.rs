//! Exponential restart backoff with deterministic jitter, reset after a quiet
//! period.

use std::time::Duration;

use super::duration_ms;

/// How long to wait before restarting a child after consecutive failures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Consecutive failures restarted with no delay (`1`: the first failure
    /// restarts at once).
    pub immediate: u32,
    /// The first non-zero delay.
    pub initial: Duration,
    /// Growth factor of the delay per further failure.
    pub multiplier: u32,
    /// Cap on the delay.
    pub max: Duration,
    /// Fraction in `[0, 1]`: the delay is scaled by `1 - jitter * u` with `u`
    /// uniform in `[0, 1)`. Clamped to `[0, 1]`; NaN counts as `0`.
    pub jitter: f64,
    /// A failure this long (or longer) after the previous one starts counting
    /// from 1 again.
    pub reset_after: Duration,
    /// Seed of the jitter.
    pub seed: u64,
}

impl Default for Backoff {
    /// First failure at once, then 10 ms doubling up to 10 s, 10% jitter,
    /// reset after 30 s without failures, seed 0.
    fn default() -> Self {
        Self {
            immediate: 1,
            initial: Duration::from_millis(10),
            multiplier: 2,
            max: Duration::from_secs(10),
            jitter: 0.1,
            reset_after: Duration::from_secs(30),
            seed: 0,
        }
    }
}

impl Backoff {
    /// A backoff that never delays (`immediate = u32::MAX`).
    #[must_use]
    pub fn none() -> Self {
        Self {
            immediate: u32::MAX,
            ..Self::default()
        }
    }

    /// The delay before restarting after `consecutive` (1-based) failures,
    /// without jitter: zero while `consecutive <= immediate`, then
    /// `initial * multiplier^(consecutive - immediate - 1)`, saturating,
    /// capped at `max`.
    #[must_use]
    pub fn nominal(&self, consecutive: u32) -> Duration {
        let Some(exponent) = consecutive
            .checked_sub(self.immediate)
            .and_then(|n| n.checked_sub(1))
        else {
            return Duration::ZERO;
        };
        self.multiplier
            .checked_pow(exponent)
            .and_then(|factor| self.initial.checked_mul(factor))
            .map_or(self.max, |delay| delay.min(self.max))
    }

    /// [`nominal`](Self::nominal) scaled by `1 - jitter * u`, with `u` in
    /// `[0, 1)` drawn from a generator seeded by `seed`, a stable hash of
    /// `key` and `consecutive`: the same inputs always give the same delay.
    ///
    /// The result lies in `[nominal * (1 - jitter), nominal]`, computed
    /// exactly in nanoseconds.
    #[must_use]
    pub fn delay(&self, key: &str, consecutive: u32) -> Duration {
        let nominal = self.nominal(consecutive);
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        if nominal.is_zero() || jitter == 0.0 {
            return nominal;
        }
        let mut rng =
            fastrand::Rng::with_seed(self.seed ^ fnv1a(key.as_bytes()) ^ u64::from(consecutive));
        // jitter * u < 1, so the scaled value is below 2^64; `as` truncates
        // towards zero, so `fraction / 2^64 <= jitter * u`.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the value is in [0, 2^64), truncation is the intended floor"
        )]
        let fraction = (jitter * rng.f64() * 18_446_744_073_709_551_616.0) as u64;
        shrink(nominal, fraction)
    }
}

/// `d * (1 - fraction / 2^64)` in whole nanoseconds, rounding the reduction
/// down, without overflow for any `Duration`.
fn shrink(d: Duration, fraction: u64) -> Duration {
    let nanos = d.as_nanos();
    let fraction = u128::from(fraction);
    let (high, low) = (nanos >> 64, nanos & u128::from(u64::MAX));
    let reduction = high * fraction + ((low * fraction) >> 64);
    let nanos = nanos.saturating_sub(reduction);
    let secs = u64::try_from(nanos / 1_000_000_000).ok();
    let subsec = u32::try_from(nanos % 1_000_000_000).ok();
    secs.zip(subsec)
        .map_or(d, |(secs, subsec)| Duration::new(secs, subsec))
}

/// FNV-1a, 64 bits: a hash that never changes between builds or platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The run of consecutive failures of one child, as the input of [`Backoff`]
/// decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureStreak {
    /// Failures in the current streak.
    consecutive: u32,
    /// When the last failure happened.
    last_failure_ms: Option<u64>,
}

impl FailureStreak {
    /// The consecutive count a failure at `now_ms` would have: 1 if there was
    /// no failure or the last one was at least `reset_after` ago, otherwise
    /// one more than now (saturating).
    #[must_use]
    pub fn next(&self, policy: &Backoff, now_ms: u64) -> u32 {
        match self.last_failure_ms {
            Some(last) if now_ms.saturating_sub(last) < duration_ms(policy.reset_after) => {
                self.consecutive.saturating_add(1)
            }
            _ => 1,
        }
    }

    /// Records a failure at `at_ms`, live or replayed, and returns the new
    /// consecutive count (what [`next`](Self::next) returned before).
    pub fn record(&mut self, policy: &Backoff, at_ms: u64) -> u32 {
        self.consecutive = self.next(policy, at_ms);
        self.last_failure_ms = Some(at_ms);
        self.consecutive
    }

    /// Failures in the current streak (0 before the first).
    #[must_use]
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }

    /// When the last failure happened, if any.
    #[must_use]
    pub fn last_failure_ms(&self) -> Option<u64> {
        self.last_failure_ms
    }

    /// Forgets the streak.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curve() -> Backoff {
        Backoff {
            max: Duration::from_millis(100),
            jitter: 0.0,
            ..Backoff::default()
        }
    }

    fn delays_ms(policy: Backoff) -> Vec<u64> {
        (1..=8).map(|n| duration_ms(policy.delay("c", n))).collect()
    }

    #[test]
    fn given_curve_without_jitter_when_failing_repeatedly_then_delays_double_up_to_max() {
        assert_eq!(delays_ms(curve()), [0, 10, 20, 40, 80, 100, 100, 100]);
        let (mut later, mut flat) = (curve(), curve());
        (later.immediate, flat.multiplier) = (3, 1);
        assert_eq!(delays_ms(later), [0, 0, 0, 10, 20, 40, 80, 100]);
        assert_eq!(delays_ms(flat), [0, 10, 10, 10, 10, 10, 10, 10]);
        assert_eq!(delays_ms(Backoff::none()), [0; 8]);
    }

    #[test]
    fn given_extreme_counts_when_nominal_then_zero_or_saturated_at_max() {
        let mut unbounded = curve();
        unbounded.max = Duration::MAX;
        assert_eq!(unbounded.nominal(u32::MAX), Duration::MAX);
        assert_eq!(curve().nominal(u32::MAX), Duration::from_millis(100));
        assert_eq!(curve().nominal(0), Duration::ZERO);
        assert_eq!(Backoff::none().delay("c", u32::MAX), Duration::ZERO);
    }

    #[test]
    fn given_nan_or_negative_jitter_when_delaying_then_delay_is_nominal() {
        for jitter in [f64::NAN, -1.0] {
            let policy = Backoff { jitter, ..curve() };
            assert_eq!(policy.delay("child", 3), Duration::from_millis(20));
        }
    }

    #[test]
    fn given_known_inputs_when_hashing_then_fnv1a_matches_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn given_max_duration_when_shrinking_then_no_overflow() {
        assert_eq!(shrink(Duration::MAX, 0), Duration::MAX);
        assert_eq!(
            shrink(Duration::from_secs(2), 1 << 63),
            Duration::from_secs(1)
        );
        assert!(shrink(Duration::MAX, u64::MAX) < Duration::from_nanos(1 << 30));
    }

    #[test]
    fn given_quiet_period_when_next_failure_then_streak_resets_at_exact_boundary() {
        let policy = Backoff::default(); // reset_after 30 s
        let mut streak = FailureStreak::default();
        assert_eq!(streak.next(&policy, 1_000), 1);
        assert_eq!(streak.record(&policy, 1_000), 1);
        assert_eq!(streak.record(&policy, 2_000), 2);
        assert_eq!(streak.next(&policy, 31_999), 3);
        assert_eq!(streak.next(&policy, 32_000), 1);
        assert_eq!(streak.record(&policy, 32_000), 1);
        assert_eq!(streak.consecutive(), 1);
        assert_eq!(streak.last_failure_ms(), Some(32_000));
    }

    #[test]
    fn given_streak_when_reset_then_it_starts_over() {
        let policy = Backoff::default();
        let mut streak = FailureStreak::default();
        streak.record(&policy, 5);
        streak.record(&policy, 6);
        streak.reset();
        assert_eq!(streak, FailureStreak::default());
        assert_eq!(streak.last_failure_ms(), None);
        assert_eq!(streak.next(&policy, 7), 1);
    }

    #[test]
    fn given_jitter_when_delaying_many_keys_then_delays_vary_within_bounds() {
        let policy = Backoff::default(); // 10 ms at 2 failures, 10% jitter
        let bounds = Duration::from_millis(9)..=Duration::from_millis(10);
        let delays: Vec<_> = (0..100)
            .map(|i| policy.delay(&format!("c{i}"), 2))
            .collect();
        assert!(delays.iter().all(|d| bounds.contains(d)));
        assert!(delays.windows(2).any(|pair| pair.first() != pair.last()));
        let reseeded = Backoff { seed: 1, ..policy };
        assert_ne!(policy.delay("c", 2), reseeded.delay("c", 2));
    }

    proptest! {
        /// `jitter = k / 2^20` is exact in `f64`, so the lower bound can be
        /// checked exactly in integers: `(nominal - delay) * 2^20 <= nominal * k`.
        #[test]
        fn given_any_policy_when_delaying_then_delay_is_deterministic_and_within_bounds(
            seed: u64, key in "[a-z/]{0,12}", consecutive in 0u32..80,
            k in 0u32..=1 << 20, initial_ms in 0u64..100_000, max_ms: u64,
        ) {
            let policy = Backoff {
                initial: Duration::from_millis(initial_ms),
                max: Duration::from_millis(max_ms),
                jitter: f64::from(k) / f64::from(1u32 << 20),
                seed,
                ..Backoff::default()
            };
            let delay = policy.delay(&key, consecutive);
            let nominal = policy.nominal(consecutive);
            prop_assert_eq!(delay, policy.delay(&key, consecutive));
            prop_assert!(delay <= nominal);
            let reduction = nominal.saturating_sub(delay).as_nanos();
            prop_assert!(reduction << 20 <= nominal.as_nanos() * u128::from(k));
        }
    }
}
