//! What the engine publishes on demand to the `metrics` recorder: the log
//! writer's counters, and what the StateManager projection knows (runs and
//! beads by state, supervision restarts, failures and breakers), so that
//! none of it costs anything on the hot path. A scrape calls
//! [`Engine::publish_metrics`] and then renders.

use strand_actors::ActorError;
use strand_eventlog::metrics as log_metrics;
use strand_projections::{BeadState, BreakerState, ChildSupervision, RunStatus, StateManager};

use crate::Engine;

pub use strand_eventlog::metrics::EVENTS_PER_FSYNC;

/// Gauge: runs by `state` (`running`, `paused`, `completed`, `failed`, `cancelled`).
pub const RUNS: &str = "strand_runs";
/// Gauge: beads by `state`, over every run.
pub const BEADS: &str = "strand_beads";
/// Counter: restarts of a supervised child (by `supervisor`, `child`), from the log.
pub const RESTARTS: &str = "strand_actor_restarts_total";
/// Counter: failures of a supervised child (by `supervisor`, `child`), from the log.
pub const FAILURES: &str = "strand_actor_failures_total";
/// Gauge: a child's circuit breaker (0 closed, 1 half open, 2 open).
pub const BREAKER: &str = "strand_breaker_state";

/// Describe every metric of the engine, the log's and the actors' too, to
/// the installed recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge};
    log_metrics::describe();
    strand_actors::metrics::describe();
    describe_gauge!(RUNS, Unit::Count, "Runs by state.");
    describe_gauge!(BEADS, Unit::Count, "Beads by state, over every run.");
    describe_counter!(RESTARTS, Unit::Count, "Restarts of a supervised child.");
    describe_counter!(FAILURES, Unit::Count, "Failures of a supervised child.");
    describe_counter!(
        crate::trimming::TRIMMED_RECORDS,
        Unit::Count,
        "Records trimmed from the log's front by the running engine."
    );
    describe_gauge!(
        BREAKER,
        Unit::Count,
        "A child's circuit breaker: 0 closed, 1 half open, 2 open."
    );
}

/// What the projection knows, counted.
struct Counts {
    runs: Vec<(&'static str, u64)>,
    beads: Vec<(&'static str, u64)>,
    children: Vec<ChildSupervision>,
}

fn counts(state: &StateManager) -> Counts {
    let mut runs = [0_u64; 5];
    let mut beads = [0_u64; BEAD_STATES.len()];
    // Finished runs are kept as summaries, their counts summed: O(1); only
    // the unfinished runs are walked.
    let finished = state.finished_totals();
    runs[2] = finished.completed;
    runs[3] = finished.failed;
    runs[4] = finished.cancelled;
    for (count, bead_state) in beads.iter_mut().zip(BEAD_STATES) {
        *count = finished.beads.get(bead_state);
    }
    for run in state.runs() {
        let slot = match (run.status(), run.paused()) {
            (RunStatus::Running, false) => 0,
            (RunStatus::Running, true) => 1,
            (RunStatus::Completed, _) => 2,
            (RunStatus::Failed, _) => 3,
            (RunStatus::Cancelled, _) => 4,
        };
        if let Some(count) = runs.get_mut(slot) {
            *count += 1;
        }
        let counts = run.counts();
        for (count, state) in beads.iter_mut().zip(BEAD_STATES) {
            *count += counts.get(state);
        }
    }
    Counts {
        runs: ["running", "paused", "completed", "failed", "cancelled"]
            .into_iter()
            .zip(runs)
            .collect(),
        beads: BEAD_STATES.iter().map(|s| s.as_str()).zip(beads).collect(),
        children: state.supervision(),
    }
}

const BEAD_STATES: [BeadState; 8] = [
    BeadState::Pending,
    BeadState::Ready,
    BeadState::Scheduled,
    BeadState::Running,
    BeadState::Completed,
    BeadState::Failed,
    BeadState::TimedOut,
    BeadState::Cancelled,
];

#[expect(clippy::cast_precision_loss, reason = "gauges")]
fn gauge(value: u64) -> f64 {
    value as f64
}

impl Engine {
    /// Publish to the installed `metrics` recorder what is counted on
    /// demand: the log writer's counters and queue, runs and beads by
    /// state, and the supervision tree's restarts, failures and breakers
    /// (from the log, so they survive restarts). Call it before rendering
    /// a scrape.
    ///
    /// # Errors
    /// The state manager is not running.
    pub async fn publish_metrics(&self) -> Result<(), ActorError> {
        let log = self.runtime().store().log();
        let stats = log.stats();
        metrics::counter!(log_metrics::APPENDS).absolute(stats.appends);
        metrics::counter!(log_metrics::EVENTS).absolute(stats.events);
        metrics::counter!(log_metrics::BYTES).absolute(stats.bytes);
        metrics::counter!(log_metrics::FSYNCS).absolute(stats.fsyncs);
        metrics::gauge!(log_metrics::QUEUE_DEPTH).set(gauge(log.queued() as u64));
        metrics::gauge!(log_metrics::LAST_SEQ).set(gauge(log.last_seq().get()));
        let counts = self.query(|state, _| counts(state)).await?;
        for (state, count) in counts.runs {
            metrics::gauge!(RUNS, "state" => state).set(gauge(count));
        }
        for (state, count) in counts.beads {
            metrics::gauge!(BEADS, "state" => state).set(gauge(count));
        }
        for child in counts.children {
            let labels = [("supervisor", child.supervisor), ("child", child.child)];
            metrics::counter!(RESTARTS, &labels).absolute(child.record.restarts);
            metrics::counter!(FAILURES, &labels).absolute(child.record.failures);
            let breaker = match child.record.breaker {
                BreakerState::Closed => 0.0,
                BreakerState::HalfOpen => 1.0,
                BreakerState::Open => 2.0,
            };
            metrics::gauge!(BREAKER, &labels).set(breaker);
        }
        Ok(())
    }
}
