//! The durable event feed: the log's events by seq, for followers (the
//! server's live event stream, a dashboard). Only durable events are ever
//! handed out (reads end at the log's durable end), and a follower resumes
//! from the last seq it saw, so it misses nothing and sees nothing twice.

use serde::Serialize;
use strand_actors::ActorError;
use strand_eventlog::{LogStatus, Seq};
use strand_projections::{DomainEvent, RunId, run_stream};
use tokio::sync::watch;

use crate::Engine;

/// One durable event as the feed hands it out.
#[derive(Clone, Debug, Serialize)]
pub struct FedEvent {
    /// Its seq in the log (a follower resumes after it).
    pub seq: u64,
    /// When it was committed (ms since the epoch).
    pub at_ms: u64,
    /// Its stream: the run it belongs to (or an actor's name).
    pub stream: String,
    /// Its kind's name (`BeadCompleted`, ...).
    pub kind: &'static str,
    /// The event.
    pub event: DomainEvent,
}

impl Engine {
    /// Up to `limit` durable events with `seq > after`: every stream's, or
    /// only run `run`'s. Empty when the follower is at the durable end.
    ///
    /// # Errors
    /// The log's read errors; an event that does not decode.
    pub async fn events_after(
        &self,
        after: u64,
        run: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<FedEvent>, ActorError> {
        let store = self.runtime().store();
        let durable = store.log().last_seq().get();
        if after >= durable || limit == 0 {
            return Ok(Vec::new());
        }
        // A trimmed log begins after its base: a follower from before it
        // goes on from the first record left.
        let from = Seq(after.saturating_add(1)).max(store.log().first_seq());
        let mut events = if let Some(run) = run {
            store
                .read_stream_page(&run_stream(run), from, limit)
                .await?
        } else {
            let span = u64::try_from(limit).unwrap_or(u64::MAX).saturating_sub(1);
            let to = Seq(from.get().saturating_add(span).min(durable));
            store.read_range(from, to).await?
        };
        events.truncate(limit);
        events
            .iter()
            .map(|stored| {
                let (meta, event) = strand_actors::decode(stored)?;
                Ok(FedEvent {
                    seq: meta.seq,
                    at_ms: meta.at_ms,
                    stream: stored.stream.clone(),
                    kind: event.kind().name(),
                    event,
                })
            })
            .collect()
    }

    /// The log's durable end, watched: a follower awaits a change, then
    /// reads what became durable ([`Engine::events_after`]).
    pub fn watch_durable(&self) -> watch::Receiver<LogStatus> {
        self.runtime().store().watch_status()
    }

    /// The last durable seq.
    pub fn durable_seq(&self) -> u64 {
        self.runtime().store().log().last_seq().get()
    }
}
