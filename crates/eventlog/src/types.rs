//! The vocabulary of the log: sequence numbers, ranges, streams, events.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A log sequence number. Strand assigns them: they start at 1 and are
/// contiguous per log (no gaps, no duplicates). RocksDB's own sequence numbers
/// are never used.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// The first sequence number of every log.
    pub const FIRST: Seq = Seq(1);

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The sequence number after this one.
    #[must_use]
    pub const fn next(self) -> Seq {
        Seq(self.0.saturating_add(1))
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for Seq {
    fn from(value: u64) -> Self {
        Seq(value)
    }
}

/// An inclusive, non-empty range of sequence numbers assigned to one append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeqRange {
    /// First sequence number of the range.
    pub first: Seq,
    /// Last sequence number of the range (inclusive).
    pub last: Seq,
}

impl SeqRange {
    /// Number of sequence numbers in the range.
    pub const fn len(&self) -> u64 {
        self.last.0 - self.first.0 + 1
    }

    /// A `SeqRange` is never empty; provided for clippy's `len_without_is_empty`.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Iterate the sequence numbers of the range.
    pub fn iter(&self) -> impl Iterator<Item = Seq> + use<> {
        (self.first.0..=self.last.0).map(Seq)
    }
}

/// An acknowledged append: its seqs, and the time the writer stamped on
/// every event of its batch (the `at_ms` a replay will see).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The seqs assigned, contiguous.
    pub range: SeqRange,
    /// Milliseconds since the Unix epoch, stamped on each event.
    pub at_ms: u64,
}

/// Longest stream name accepted, in bytes. Bounded so that index keys stay small.
pub const MAX_STREAM_LEN: usize = 1024;

/// An event to append: the writer assigns its sequence number and timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The stream (usually one actor or one workflow) the event belongs to.
    pub stream: String,
    /// Application-defined tag naming the event type; opaque to the log.
    pub kind: u16,
    /// Application-defined body; opaque to the log.
    pub body: Vec<u8>,
}

impl NewEvent {
    /// Build an event for `stream` with the given kind tag and body.
    pub fn new(stream: impl Into<String>, kind: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            stream: stream.into(),
            kind,
            body: body.into(),
        }
    }
}

/// An event read back from the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its sequence number in the log.
    pub seq: Seq,
    /// The stream it belongs to.
    pub stream: String,
    /// Wall-clock time at which the writer committed it, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Application-defined kind tag.
    pub kind: u16,
    /// Application-defined body.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}
