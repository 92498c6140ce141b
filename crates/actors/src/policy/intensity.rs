//! OTP restart intensity: at most `max_restarts` restarts within a sliding
//! `window`; one more means the supervisor gives up and escalates.

use std::collections::VecDeque;
use std::time::Duration;

use super::duration_ms;

/// Restart intensity limits: at most `max_restarts` restarts in any `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed inside one window; `0` refuses every restart.
    pub max_restarts: u32,
    /// Length of the sliding window (counted in whole milliseconds).
    pub window: Duration,
}

impl Default for Intensity {
    /// Elixir's default: 3 restarts in 5 seconds.
    fn default() -> Self {
        Self {
            max_restarts: 3,
            window: Duration::from_secs(5),
        }
    }
}

/// The decision of [`RestartWindow::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The restart stays within the limits.
    Allowed {
        /// Restarts in the window, including this one.
        restarts: u32,
    },
    /// The restart would exceed the limits: escalate instead.
    Exceeded {
        /// Restarts already in the window (at least `max_restarts`).
        restarts: u32,
    },
}

impl Admission {
    /// Whether the restart may go ahead.
    #[must_use]
    pub fn is_allowed(self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}

/// The recent restarts of one child, oldest first, as the input of
/// [`Intensity`] decisions.
#[derive(Debug, Clone, Default)]
pub struct RestartWindow {
    /// `at_ms` of each counted restart, oldest first; at most
    /// `max_restarts + 1` entries.
    at_ms: VecDeque<u64>,
}

impl RestartWindow {
    /// An empty window: no restarts yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Would one more restart at `now_ms` stay within `limits`?
    ///
    /// A restart at `t` counts while `now_ms - t < window` (saturating, so a
    /// restart stamped after `now_ms` counts too). [`Admission::Allowed`]
    /// carries the count including the new restart, [`Admission::Exceeded`]
    /// the count already in the window. With `max_restarts == 0` every
    /// restart is exceeded.
    #[must_use]
    pub fn check(&self, limits: &Intensity, now_ms: u64) -> Admission {
        let restarts = self.count(limits, now_ms);
        if restarts < limits.max_restarts {
            Admission::Allowed {
                restarts: restarts + 1,
            }
        } else {
            Admission::Exceeded { restarts }
        }
    }

    /// Records a restart at `at_ms`, live or replayed.
    ///
    /// Drops the restarts that fell out of `limits.window` relative to the
    /// newest recorded restart (`at_ms` when history is recorded in order)
    /// and keeps at most `max_restarts + 1` of the newest entries, which is
    /// all any decision needs.
    pub fn record(&mut self, limits: &Intensity, at_ms: u64) {
        let position = self.at_ms.partition_point(|&t| t <= at_ms);
        self.at_ms.insert(position, at_ms);
        let window = duration_ms(limits.window);
        let newest = self.at_ms.back().copied().unwrap_or(at_ms);
        while self
            .at_ms
            .front()
            .is_some_and(|&t| newest.saturating_sub(t) >= window)
        {
            self.at_ms.pop_front();
        }
        let keep = usize::try_from(limits.max_restarts)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        while self.at_ms.len() > keep {
            self.at_ms.pop_front();
        }
    }

    /// Restarts inside the window ending at `now_ms` (never more than
    /// `max_restarts + 1`, see [`record`](Self::record)).
    #[must_use]
    pub fn count(&self, limits: &Intensity, now_ms: u64) -> u32 {
        let window = duration_ms(limits.window);
        let counted = self
            .at_ms
            .iter()
            .filter(|&&t| now_ms.saturating_sub(t) < window)
            .count();
        u32::try_from(counted).unwrap_or(u32::MAX)
    }

    /// Forgets every restart.
    pub fn clear(&mut self) {
        self.at_ms.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Admission::{Allowed, Exceeded};
    use proptest::prelude::*;

    const HOUR_MS: u64 = 3_600_000;

    fn limits(max_restarts: u32, window_ms: u64) -> Intensity {
        let window = Duration::from_millis(window_ms);
        Intensity {
            max_restarts,
            window,
        }
    }

    fn recorded(limits: &Intensity, times: &[u64]) -> RestartWindow {
        let mut window = RestartWindow::new();
        for &t in times {
            window.record(limits, t);
        }
        window
    }

    #[test]
    fn given_default_when_built_then_three_restarts_in_five_seconds() {
        assert_eq!(Intensity::default(), limits(3, 5_000));
    }

    #[test]
    fn given_two_per_hour_when_three_failures_in_the_hour_then_third_is_exceeded() {
        let limits = limits(2, HOUR_MS);
        let mut window = RestartWindow::new();
        assert_eq!(window.check(&limits, 1_000), Allowed { restarts: 1 });
        window.record(&limits, 1_000);
        assert_eq!(window.check(&limits, 2_000), Allowed { restarts: 2 });
        window.record(&limits, 2_000);
        assert_eq!(window.check(&limits, 3_000), Exceeded { restarts: 2 });
        assert!(!window.check(&limits, 3_000).is_allowed());
    }

    #[test]
    fn given_full_window_when_the_hour_passes_then_allowed_again() {
        let limits = limits(2, HOUR_MS);
        let window = recorded(&limits, &[1_000, 2_000]);
        let (first_expired, both_expired) = (1_000 + HOUR_MS, 2_000 + HOUR_MS);
        assert_eq!(
            window.check(&limits, first_expired),
            Allowed { restarts: 2 }
        );
        assert_eq!(window.check(&limits, both_expired), Allowed { restarts: 1 });
        assert!(window.check(&limits, both_expired).is_allowed());
    }

    #[test]
    fn given_restart_exactly_window_old_when_counting_then_it_no_longer_counts() {
        let limits = limits(2, HOUR_MS);
        let window = recorded(&limits, &[10_000]);
        assert_eq!(window.count(&limits, 10_000 + HOUR_MS - 1), 1);
        assert_eq!(window.count(&limits, 10_000 + HOUR_MS), 0);
    }

    #[test]
    fn given_zero_max_restarts_when_checking_then_every_restart_is_exceeded() {
        let limits = limits(0, 1_000);
        let window = RestartWindow::new();
        assert_eq!(window.check(&limits, 0), Exceeded { restarts: 0 });
        assert_eq!(window.check(&limits, u64::MAX), Exceeded { restarts: 0 });
    }

    #[test]
    fn given_old_restarts_when_recording_then_they_are_pruned() {
        let limits = limits(2, HOUR_MS);
        let window = recorded(&limits, &[0, 1, HOUR_MS]);
        assert_eq!(window.at_ms, [1, HOUR_MS]);
    }

    #[test]
    fn given_many_restarts_when_recording_then_at_most_max_plus_one_are_kept() {
        let limits = limits(2, HOUR_MS);
        let window = recorded(&limits, &[1, 2, 3, 4, 5]);
        assert_eq!(window.at_ms, [3, 4, 5]);
        assert_eq!(window.count(&limits, 5), 3);
        assert_eq!(window.check(&limits, 5), Exceeded { restarts: 3 });
    }

    #[test]
    fn given_out_of_order_replay_when_recording_then_entries_stay_sorted() {
        let limits = limits(5, 10_000);
        let window = recorded(&limits, &[3_000, 1_000, 2_000]);
        assert_eq!(window.at_ms, [1_000, 2_000, 3_000]);
    }

    #[test]
    fn given_restart_stamped_in_the_future_when_counting_then_it_counts() {
        let limits = limits(2, HOUR_MS);
        let window = recorded(&limits, &[5_000]);
        assert_eq!(window.count(&limits, 1_000), 1);
    }

    #[test]
    fn given_recorded_restarts_when_cleared_then_window_is_empty() {
        let limits = limits(2, HOUR_MS);
        let mut window = recorded(&limits, &[1, 2]);
        window.clear();
        assert_eq!(window.count(&limits, 2), 0);
        assert_eq!(window.check(&limits, 2), Allowed { restarts: 1 });
    }

    proptest! {
        #[test]
        fn given_in_order_history_when_checking_then_matches_counting_every_restart(
            mut times in proptest::collection::vec(0u64..10_000, 0..20),
            max_restarts in 0u32..5, window_ms in 0u64..5_000, after in 0u64..6_000,
        ) {
            times.sort_unstable();
            let limits = limits(max_restarts, window_ms);
            let now = times.last().copied().unwrap_or(0) + after;
            let all = times.iter().filter(|&&t| now - t < window_ms).count();
            let expected = u32::try_from(all).unwrap_or(u32::MAX).min(max_restarts + 1);
            let window = recorded(&limits, &times);
            prop_assert!(window.at_ms.len() <= max_restarts as usize + 1);
            prop_assert_eq!(window.count(&limits, now), expected);
            prop_assert_eq!(window.check(&limits, now).is_allowed(), expected < max_restarts);
        }
    }
}
