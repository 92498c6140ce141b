//! [`RunEntry`]: a run as the state holds it, whole (unfinished, failed or
//! cancelled) or as the summary a finished run leaves (a completed one; in
//! the scheduler's live view, any).

use crate::definition::DefinitionHash;
use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::state::bead::BeadCounts;
use crate::state::finished::{FinishedRun, InputDigest};
use crate::state::workflow::{RunRecord, RunSummary};

/// A run in the state: its record, or what is kept once it finished.
#[derive(Clone, Copy, Debug)]
pub enum RunEntry<'a> {
    /// Kept whole: beads, tasks, outputs.
    Whole(&'a RunRecord),
    /// Finished: its summary only (the rest is in its stream).
    Summary(&'a FinishedRun),
}

impl<'a> RunEntry<'a> {
    /// Its id.
    pub fn id(&self) -> &'a RunId {
        match self {
            Self::Whole(record) => record.id(),
            Self::Summary(finished) => &finished.summary.id,
        }
    }

    /// Its definition's name.
    pub fn name(&self) -> &'a str {
        match self {
            Self::Whole(record) => record.name(),
            Self::Summary(finished) => &finished.summary.name,
        }
    }

    /// Its definition's content hash.
    pub fn definition(&self) -> DefinitionHash {
        match self {
            Self::Whole(record) => record.definition(),
            Self::Summary(finished) => finished.summary.definition,
        }
    }

    /// Its input's digest.
    pub fn input_digest(&self) -> InputDigest {
        match self {
            Self::Whole(record) => InputDigest::of(record.input()),
            Self::Summary(finished) => finished.input,
        }
    }

    /// Running, or how it finished.
    pub fn status(&self) -> RunStatus {
        match self {
            Self::Whole(record) => record.status(),
            Self::Summary(finished) => finished.summary.status,
        }
    }

    /// Beads per state.
    pub fn counts(&self) -> BeadCounts {
        match self {
            Self::Whole(record) => record.counts(),
            Self::Summary(finished) => finished.summary.counts,
        }
    }

    /// When it was submitted.
    pub fn submitted_at_ms(&self) -> u64 {
        match self {
            Self::Whole(record) => record.submitted_at_ms(),
            Self::Summary(finished) => finished.summary.submitted_at_ms,
        }
    }

    /// When it finished, if it has.
    pub fn finished_at_ms(&self) -> Option<u64> {
        match self {
            Self::Whole(record) => record.finished_at_ms,
            Self::Summary(finished) => finished.summary.finished_at_ms,
        }
    }

    /// The seq of its submission: where its stream begins.
    pub fn submitted_seq(&self) -> u64 {
        match self {
            Self::Whole(record) => record.submitted_seq,
            Self::Summary(finished) => finished.summary.submitted_seq,
        }
    }

    /// Why it failed or was cancelled (cut, for a summary).
    pub fn reason(&self) -> Option<&'a str> {
        match self {
            Self::Whole(record) => record.reason(),
            Self::Summary(finished) => finished.summary.reason.as_deref(),
        }
    }

    /// Its summary.
    pub fn summary(&self) -> RunSummary {
        match self {
            Self::Whole(record) => record.summary(),
            Self::Summary(finished) => finished.summary.clone(),
        }
    }

    /// Its record, when it is kept whole.
    pub fn record(&self) -> Option<&'a RunRecord> {
        match self {
            Self::Whole(record) => Some(record),
            Self::Summary(_) => None,
        }
    }
}
