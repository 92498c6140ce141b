//! The [`Projection`] trait: state as a fold of the log.

use crate::error::ProjectionError;
use crate::event::DomainEvent;
use crate::hash::StateHash;

/// Where an event sits in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventMeta {
    /// The event's sequence number (from 1, contiguous per log).
    pub seq: u64,
    /// When the log's writer stamped it, in milliseconds since the Unix
    /// epoch: the only time a projection ever sees.
    pub at_ms: u64,
}

/// A state that is a fold of the log: `empty()`, then `apply` of every event
/// in seq order.
///
/// **Invariant:** for every `n`, `restore(snapshot())` of the state after
/// event `n`, then `apply` of the events after `n`, gives the same
/// [`state_hash`](Self::state_hash) as applying every event from seq 1.
/// Implementations are pure: no I/O, no clock, no randomness, no iteration
/// over unordered containers in anything that reaches a snapshot or a hash.
pub trait Projection: Sized + Send + 'static {
    /// Checkpoint name.
    const NAME: &'static str;
    /// Version of [`snapshot`](Self::snapshot)'s byte format; bump on any change.
    const SNAPSHOT_VERSION: u32;
    /// The oldest snapshot version [`restore`](Self::restore) reads (it
    /// migrates the older ones): a trimmed log's base checkpoint cannot
    /// be skipped for a replay from seq 1, so a new version must read it.
    const OLDEST_SNAPSHOT_VERSION: u32 = Self::SNAPSHOT_VERSION;

    /// An empty projection (the state before seq 1).
    fn empty() -> Self;

    /// Applies one event.
    ///
    /// # Errors
    ///
    /// [`ProjectionError::OutOfOrder`] if `meta.seq` is not after
    /// [`applied_seq`](Self::applied_seq); a typed error for an event that is
    /// impossible in the current state. After an error the state is exactly
    /// as it was before the call.
    fn apply(&mut self, meta: EventMeta, event: DomainEvent) -> Result<(), ProjectionError>;

    /// The stream of the log whose earlier events the fold of `event`
    /// reads besides the state, if any (`None`, the default, for almost
    /// every event of every projection). A driver given `Some(stream)`
    /// reads that stream's events before `event` and applies it with
    /// [`apply_with_stream`](Self::apply_with_stream) instead of
    /// [`apply`](Self::apply): the state stays a fold of the log, of more
    /// of it than the state holds.
    fn stream_needed(&self, event: &DomainEvent) -> Option<String> {
        let _ = event;
        None
    }

    /// Applies `event` as [`apply`](Self::apply) does, given `stream`: the
    /// events of the stream [`stream_needed`](Self::stream_needed) named,
    /// in seq order, each before `meta.seq`.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply); a typed error when `stream` is not the
    /// history the state holds a record of. After an error the state is
    /// exactly as it was before the call.
    fn apply_with_stream(
        &mut self,
        meta: EventMeta,
        event: DomainEvent,
        stream: Vec<(EventMeta, DomainEvent)>,
    ) -> Result<(), ProjectionError> {
        let _ = stream;
        self.apply(meta, event)
    }

    /// The seq of the last applied event (0 when empty). Restored by
    /// [`restore`](Self::restore).
    fn applied_seq(&self) -> u64;

    /// The canonical bytes of the state: equal states give equal bytes.
    ///
    /// # Errors
    ///
    /// An encoding error, or a snapshot over the size bound.
    fn snapshot(&self) -> Result<Vec<u8>, ProjectionError>;

    /// The state whose snapshot is `bytes`.
    ///
    /// # Errors
    ///
    /// A typed error (never a panic) for bytes of another version, bytes that
    /// do not decode, and bytes that decode to an impossible state.
    fn restore(bytes: &[u8]) -> Result<Self, ProjectionError>;

    /// Deterministic digest: equal states give equal hashes on every machine
    /// and in every run.
    fn state_hash(&self) -> StateHash;
}

/// Applies `event` at `meta` to `projection`, reading the stream it may
/// need ([`Projection::stream_needed`]) from `earlier`, every event before
/// it in seq order: the in-memory form of what the replay engine does with
/// the log, for folds of histories held in memory (tests, benches, tools).
///
/// # Errors
///
/// As [`Projection::apply_with_stream`].
pub fn apply_after<P: Projection>(
    projection: &mut P,
    earlier: &[(EventMeta, DomainEvent)],
    meta: EventMeta,
    event: DomainEvent,
) -> Result<(), ProjectionError> {
    match projection.stream_needed(&event) {
        None => projection.apply(meta, event),
        Some(stream) => {
            let events = earlier
                .iter()
                .filter(|(at, earlier)| at.seq < meta.seq && earlier.stream() == stream)
                .cloned()
                .collect();
            projection.apply_with_stream(meta, event, events)
        }
    }
}

/// `projection` after `events`, in seq order, each applied with
/// [`apply_after`] (the events before it kept for the folds that read a
/// stream): a whole history folded in memory.
///
/// # Errors
/// The first event the projection refuses.
pub fn fold_in_memory<P: Projection>(
    mut projection: P,
    events: impl IntoIterator<Item = (EventMeta, DomainEvent)>,
) -> Result<P, ProjectionError> {
    let mut earlier = Vec::new();
    for (meta, event) in events {
        apply_after(&mut projection, &earlier, meta, event.clone())?;
        earlier.push((meta, event));
    }
    Ok(projection)
}
