//! Supervision policies: restart intensity, restart backoff and circuit
//! breaking.
//!
//! Every policy here follows **decide, then apply**:
//!
//! 1. a `&self` method *decides* what should happen
//!    ([`RestartWindow::check`], [`Backoff::delay`] with
//!    [`FailureStreak::next`], [`Breaker::on_outcome`] and
//!    [`Breaker::half_open_in`]);
//! 2. the caller logs that decision durably;
//! 3. a `&mut self` method *applies* what happened
//!    ([`RestartWindow::record`], [`FailureStreak::record`],
//!    [`Breaker::count`] and [`Breaker::transition`]).
//!
//! The apply methods are also how state is rebuilt after a restart: replaying
//! the recorded history through them gives back the same state, because
//! nothing here reads a clock, draws unseeded randomness or does I/O. Time is
//! always passed in by the caller as `u64` milliseconds since the Unix epoch
//! (`now_ms` when deciding, `at_ms` when applying); durations are
//! [`Duration`]s.

use std::time::Duration;

pub mod backoff;
pub mod breaker;
pub mod intensity;

pub use backoff::{Backoff, FailureStreak};
pub use breaker::{Breaker, BreakerConfig, Outcome};
pub use intensity::{Admission, Intensity, RestartWindow};
pub use strand_projections::BreakerState;

/// Whole milliseconds in `d`, saturating at `u64::MAX`.
fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
