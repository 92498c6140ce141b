//! The log's metrics, through the `metrics` facade (a no-op until a
//! program installs a recorder, such as `strand serve`'s Prometheus one).
//! Recorded once per fsync, never per event; the counters of
//! [`WriterStats`](crate::WriterStats) are published by whoever exports
//! them (see `strand_engine::Engine::publish_metrics`).

/// Histogram: seconds one WAL sync took.
pub const FSYNC_SECONDS: &str = "strand_log_fsync_seconds";
/// Histogram: events one fsync made durable.
pub const EVENTS_PER_FSYNC: &str = "strand_log_events_per_fsync";
/// Counter: append requests taken by the writer.
pub const APPENDS: &str = "strand_log_appends_total";
/// Counter: events made durable.
pub const EVENTS: &str = "strand_log_events_appended_total";
/// Counter: bytes of records made durable.
pub const BYTES: &str = "strand_log_bytes_appended_total";
/// Counter: fsyncs that made events durable.
pub const FSYNCS: &str = "strand_log_fsyncs_total";
/// Gauge: append and checkpoint requests waiting in the writer's queue.
pub const QUEUE_DEPTH: &str = "strand_log_queue_depth";
/// Gauge: the last durable seq.
pub const LAST_SEQ: &str = "strand_log_last_seq";

/// Describe the log's metrics to the installed recorder (units, help).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(FSYNC_SECONDS, Unit::Seconds, "How long one WAL sync took.");
    describe_histogram!(
        EVENTS_PER_FSYNC,
        Unit::Count,
        "Events one fsync made durable."
    );
    describe_counter!(APPENDS, Unit::Count, "Append requests taken by the writer.");
    describe_counter!(EVENTS, Unit::Count, "Events made durable.");
    describe_counter!(BYTES, Unit::Bytes, "Bytes of records made durable.");
    describe_counter!(FSYNCS, Unit::Count, "Fsyncs that made events durable.");
    describe_gauge!(
        QUEUE_DEPTH,
        Unit::Count,
        "Requests waiting in the writer's queue."
    );
    describe_gauge!(LAST_SEQ, Unit::Count, "The last durable seq.");
}
