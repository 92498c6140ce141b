//! The replay engine's error type. Callers branch on variants, never on text.

use strand_projections::{ProjectionError, StateHash};

/// Why a projection could not be rebuilt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The log refused a read (corruption, storage error, ...).
    #[error(transparent)]
    Log(#[from] strand_eventlog::Error),
    /// A record's body is not a domain event.
    #[error("event at seq {seq} does not decode: {source}")]
    Decode {
        /// The record's seq.
        seq: u64,
        /// The codec's error.
        #[source]
        source: ProjectionError,
    },
    /// The projection refused an event as impossible in its state.
    #[error("event at seq {seq} cannot be applied: {source}")]
    Apply {
        /// The event's seq.
        seq: u64,
        /// The projection's error.
        #[source]
        source: ProjectionError,
    },
    /// The projection panicked applying an event.
    #[error("applying the event at seq {seq} panicked: {message}")]
    Panicked {
        /// The event's seq.
        seq: u64,
        /// The panic's message.
        message: String,
    },
    /// The log was trimmed and no checkpoint of this state at or after its
    /// base restores: it cannot be rebuilt from what is left.
    #[error(
        "the log starts after its base at seq {base} and no checkpoint of {name} at or after it restores"
    )]
    Trimmed {
        /// The state's checkpoint name.
        name: String,
        /// The log's base.
        base: u64,
    },
    /// A fold was stopped on purpose (internal: never returned).
    #[error("stopped")]
    Stopped,
    /// The log ends before the seq it reported as its last.
    #[error("log ends at seq {reached}, expected it to reach seq {expected_last}")]
    ShortLog {
        /// The last seq the log reported.
        expected_last: u64,
        /// The last seq actually read.
        reached: u64,
    },
    /// The state rebuilt from a checkpoint differs from a full replay: the
    /// checkpoint (or the projection's snapshot code) is wrong.
    #[error(
        "checkpoint {name:?} generation {id} at seq {seq} gives state {from_checkpoint}, \
         a full replay gives {full}"
    )]
    HashMismatch {
        /// Checkpoint name.
        name: String,
        /// Its generation id.
        id: u64,
        /// Its watermark seq.
        seq: u64,
        /// State hash rebuilt from the checkpoint plus the tail.
        from_checkpoint: StateHash,
        /// State hash of the full replay.
        full: StateHash,
    },
    /// Taking a snapshot of the projection failed.
    #[error("cannot snapshot the projection: {0}")]
    Snapshot(#[source] ProjectionError),
}

impl ReplayError {
    /// The seq of the event this error is about, when one event caused it
    /// (it does not decode, is refused, or panics the projection): the
    /// candidate for quarantine.
    pub fn event_seq(&self) -> Option<u64> {
        match self {
            Self::Decode { seq, .. } | Self::Apply { seq, .. } | Self::Panicked { seq, .. } => {
                Some(*seq)
            }
            _ => None,
        }
    }
}
