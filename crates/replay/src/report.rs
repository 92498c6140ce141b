//! What a replay did: where it started, what it skipped, how fast it ran.

use std::time::Duration;

use strand_eventlog::CheckpointDefect;
use strand_projections::{ProjectionError, StateHash};

/// The checkpoint a replay started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedCheckpoint {
    /// Generation id.
    pub id: u64,
    /// Watermark: the replay applied only events after it.
    pub seq: u64,
}

/// Why a checkpoint generation was passed over.
#[derive(Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// It failed the log's checks (checksum, payload, key) or has another
    /// snapshot version.
    Defect(CheckpointDefect),
    /// Its watermark is past the end of the log.
    Ahead {
        /// The checkpoint's watermark.
        seq: u64,
        /// The log's last seq.
        last: u64,
    },
    /// The projection refused its snapshot bytes.
    Restore(ProjectionError),
    /// The restored state says it is at another seq than the checkpoint.
    Watermark {
        /// The checkpoint's watermark.
        checkpoint: u64,
        /// The restored state's applied seq.
        restored: u64,
    },
    /// Its watermark is before the base of a trimmed log: the events
    /// after it that it needs are gone.
    BehindBase {
        /// The checkpoint's watermark.
        seq: u64,
        /// The log's base.
        base: u64,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Defect(defect) => write!(f, "{defect}"),
            Self::Ahead { seq, last } => {
                write!(f, "at seq {seq}, past the log's end at seq {last}")
            }
            Self::Restore(e) => write!(f, "snapshot refused: {e}"),
            Self::BehindBase { seq, base } => {
                write!(
                    f,
                    "at seq {seq}, before the trimmed log's base at seq {base}"
                )
            }
            Self::Watermark {
                checkpoint,
                restored,
            } => write!(
                f,
                "restored state is at seq {restored}, the checkpoint says {checkpoint}"
            ),
        }
    }
}

/// A checkpoint generation a replay passed over, and why.
#[derive(Debug)]
pub struct SkippedGeneration {
    /// Generation id.
    pub id: u64,
    /// Why.
    pub reason: SkipReason,
}

/// Where a replay started, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the newest checkpoint generation.
    NewestCheckpoint,
    /// From an older generation: the newer ones were skipped.
    OlderCheckpoint,
    /// From seq 1: there was no checkpoint, or none was usable.
    FullReplay,
}

impl Start {
    /// `newest_checkpoint`, `older_checkpoint` or `full_replay`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewestCheckpoint => "newest_checkpoint",
            Self::OlderCheckpoint => "older_checkpoint",
            Self::FullReplay => "full_replay",
        }
    }
}

/// What a replay did.
#[derive(Debug)]
pub struct ReplayReport {
    /// The checkpoint name looked up.
    pub checkpoint_name: String,
    /// The checkpoint the replay started from, if any.
    pub checkpoint: Option<UsedCheckpoint>,
    /// Newer generations passed over, newest first.
    pub skipped: Vec<SkippedGeneration>,
    /// Events applied on top of the checkpoint (or from seq 1).
    pub events_replayed: u64,
    /// The seq the rebuilt state is at.
    pub last_seq: u64,
    /// Wall time of loading the checkpoint and applying the events (the
    /// state hash, computed after, is not included).
    pub elapsed: Duration,
    /// The rebuilt state's hash.
    pub state_hash: StateHash,
    /// `Some(true)` when a full replay was run too and gave the same hash.
    pub verified: Option<bool>,
}

impl ReplayReport {
    /// Where the replay started.
    pub fn start(&self) -> Start {
        match (self.checkpoint, self.skipped.is_empty()) {
            (None, _) => Start::FullReplay,
            (Some(_), true) => Start::NewestCheckpoint,
            (Some(_), false) => Start::OlderCheckpoint,
        }
    }

    /// Events applied per second.
    #[expect(clippy::cast_precision_loss, reason = "a rate for reporting")]
    pub fn events_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.events_replayed as f64 / secs
        } else {
            0.0
        }
    }
}

/// A long replay's progress, passed to the caller's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The seq just applied.
    pub seq: u64,
    /// The seq the replay runs to.
    pub last_seq: u64,
    /// Events applied so far.
    pub events: u64,
}
