//! The engine's metrics, through the `metrics` facade (a no-op until a
//! program installs a recorder). Recorded where the thing happens, at most
//! a few times per bead; what the StateManager projection knows (runs and
//! beads by state, restarts, breakers) is published from it on demand
//! instead (`strand_engine::Engine::publish_metrics`).

/// Histogram: seconds from an append's call to its durable answer.
pub const APPEND_SECONDS: &str = "strand_append_latency_seconds";
/// Histogram: seconds a bead's attempt ran (by `definition`).
pub const BEAD_SECONDS: &str = "strand_bead_duration_seconds";
/// Histogram: seconds a bead waited ready before it started (by `definition`).
pub const QUEUE_WAIT_SECONDS: &str = "strand_bead_queue_wait_seconds";
/// Counter: retries planned (by `definition`).
pub const RETRIES: &str = "strand_bead_retries_total";
/// Counter: attempts that timed out (by `definition`).
pub const TIMEOUTS: &str = "strand_bead_timeouts_total";
/// Gauge: seconds the state manager's replay took at its start.
pub const REPLAY_SECONDS: &str = "strand_replay_duration_seconds";
/// Gauge: events the state manager replayed at its start.
pub const REPLAY_EVENTS: &str = "strand_replay_events";
/// Histogram: seconds a checkpoint of the state took (snapshot and write).
pub const CHECKPOINT_SECONDS: &str = "strand_checkpoint_duration_seconds";
/// Gauge: bytes of the last checkpoint of the state.
pub const CHECKPOINT_BYTES: &str = "strand_checkpoint_size_bytes";

/// The label of a bead's metrics: its run's definition name.
pub const DEFINITION: &str = "definition";

/// Describe the engine's metrics to the installed recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        APPEND_SECONDS,
        Unit::Seconds,
        "From an append's call to its durable answer."
    );
    describe_histogram!(
        BEAD_SECONDS,
        Unit::Seconds,
        "How long a bead's attempt ran."
    );
    describe_histogram!(
        QUEUE_WAIT_SECONDS,
        Unit::Seconds,
        "How long a bead waited ready before it started."
    );
    describe_counter!(RETRIES, Unit::Count, "Retries planned.");
    describe_counter!(TIMEOUTS, Unit::Count, "Attempts that timed out.");
    describe_gauge!(
        REPLAY_SECONDS,
        Unit::Seconds,
        "How long the state manager's replay took at its start."
    );
    describe_gauge!(
        REPLAY_EVENTS,
        Unit::Count,
        "Events the state manager replayed at its start."
    );
    describe_histogram!(
        CHECKPOINT_SECONDS,
        Unit::Seconds,
        "How long a checkpoint of the state took."
    );
    describe_gauge!(
        CHECKPOINT_BYTES,
        Unit::Bytes,
        "Bytes of the last checkpoint of the state."
    );
}
