//! [`EventStoreActor`] and its handle [`EventStore`]: the actors' only path
//! to the log.
//!
//! The actor fronts the log's group-commit writer. It does not wait for a
//! commit: it queues each append (waiting only while the writer's bounded
//! queue is full, which is the backpressure) and the writer answers the
//! caller directly once the batch is synced, so many concurrent appends
//! still become one synced write. Reads run on tokio's blocking pool, never
//! on a runtime worker. When the log is poisoned the actor fails with
//! [`ActorError::Poisoned`], which its supervisor escalates: a poisoned log
//! is fixed only by reopening it, never by retrying.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

use ractor::{Actor, ActorProcessingErr, ActorRef, ActorStatus};
use strand_eventlog::{
    Appended, CheckpointId, Event, EventLog, LogStatus, NewCheckpoint, NewEvent, Seq,
};
use strand_projections::{DomainEvent, EventMeta, Projection, codec};
use strand_replay::{ReplayEngine, Replayed};
use tokio::sync::{oneshot, watch};

use crate::error::{ActorError, Result};

/// How often [`EventStore::append`] sends a request again that a dying
/// actor dropped (the next attempt finds it down and goes to the writer).
const APPEND_ATTEMPTS: u32 = 3;

/// The name the actor reports in errors.
pub const EVENT_STORE: &str = "event_store";

/// A request to the [`EventStoreActor`].
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreMsg {
    /// Queue events for the next group commit; the writer answers `reply`.
    Append {
        /// Encoded events.
        events: Vec<NewEvent>,
        /// Answered once the batch is durable.
        reply: oneshot::Sender<strand_eventlog::Result<Appended>>,
    },
    /// Read one stream from a seq.
    ReadStream {
        /// The stream.
        stream: String,
        /// First seq wanted.
        from: Seq,
        /// At most this many events (a page).
        limit: usize,
        /// The events, in seq order.
        reply: oneshot::Sender<Result<Vec<Event>>>,
    },
    /// Read the seqs `from..=to`.
    ReadRange {
        /// First seq.
        from: Seq,
        /// Last seq.
        to: Seq,
        /// The events, contiguous.
        reply: oneshot::Sender<Result<Vec<Event>>>,
    },
    /// Store a checkpoint through the writer.
    Checkpoint {
        /// The checkpoint.
        checkpoint: NewCheckpoint,
        /// Answered once it is durable.
        reply: oneshot::Sender<strand_eventlog::Result<CheckpointId>>,
    },
    /// The log was found poisoned: fail and let the supervisor escalate.
    Poisoned,
}

struct Shared {
    log: EventLog,
    /// The running actor, published by its `pre_start`.
    actor: RwLock<Option<ActorRef<StoreMsg>>>,
    /// Rebuilds from the whole log (not one stream) since open.
    full_rebuilds: std::sync::atomic::AtomicU64,
    /// Events those rebuilds applied after their checkpoints.
    full_rebuild_events: std::sync::atomic::AtomicU64,
}

/// A cheap, cloneable handle to the log for actors. Requests go through the
/// [`EventStoreActor`] while it runs. While it is down (being restarted by
/// its supervisor) appends reach the writer directly, so the supervisor can
/// log that restart before it takes effect; the writer is the one point
/// that orders appends either way.
#[derive(Clone)]
pub struct EventStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("log", &self.shared.log)
            .finish_non_exhaustive()
    }
}

/// Encode domain events as log events, each on its own stream.
///
/// # Errors
/// [`ActorError::Projection`] when an event does not encode.
pub fn encode(events: &[DomainEvent]) -> Result<Vec<NewEvent>> {
    events
        .iter()
        .map(|event| {
            Ok(NewEvent {
                stream: event.stream(),
                kind: event.kind().as_u16(),
                body: codec::encode(event)?,
            })
        })
        .collect()
}

/// Decode a log event into its meta and domain event.
///
/// # Errors
/// [`ActorError::Projection`] when the body does not decode.
pub fn decode(event: &Event) -> Result<(EventMeta, DomainEvent)> {
    let domain = codec::decode(event.kind, &event.body)?;
    Ok((
        EventMeta {
            seq: event.seq.get(),
            at_ms: event.at_ms,
        },
        domain,
    ))
}

fn map_log(error: strand_eventlog::Error) -> ActorError {
    match error {
        strand_eventlog::Error::Poisoned | strand_eventlog::Error::WriteFailed { .. } => {
            ActorError::Poisoned
        }
        other => ActorError::Log(other),
    }
}

impl EventStore {
    /// A handle to `log`; start an [`EventStoreActor`] with it.
    pub fn new(log: EventLog) -> Self {
        Self {
            shared: Arc::new(Shared {
                log,
                actor: RwLock::new(None),
                full_rebuilds: std::sync::atomic::AtomicU64::new(0),
                full_rebuild_events: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// How many projections were rebuilt from the whole log (checkpoint +
    /// tail) since open: one per start when the scheduler copies the state
    /// manager's state, as it should.
    pub fn full_rebuilds(&self) -> u64 {
        self.shared
            .full_rebuilds
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many events the rebuilds from the whole log applied after
    /// their checkpoints since open: what a start replayed.
    pub fn full_rebuild_events(&self) -> u64 {
        self.shared
            .full_rebuild_events
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The log, for the runtime's own lifecycle (close, stats).
    pub fn log(&self) -> &EventLog {
        &self.shared.log
    }

    fn actor(&self) -> Option<ActorRef<StoreMsg>> {
        self.shared
            .actor
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn publish(&self, actor: Option<ActorRef<StoreMsg>>) {
        *self
            .shared
            .actor
            .write()
            .unwrap_or_else(PoisonError::into_inner) = actor;
    }

    /// A watch of the log's durable end and poison flag.
    pub fn watch_status(&self) -> watch::Receiver<LogStatus> {
        self.shared.log.watch_status()
    }

    /// Append domain events (each on its stream) as one atomic, synced
    /// batch. Returns once they are durable, with their seqs and stamp.
    ///
    /// # Errors
    /// [`ActorError::Poisoned`] after a failed write; encoding and log errors.
    pub async fn append(&self, events: &[DomainEvent]) -> Result<Appended> {
        let started = std::time::Instant::now();
        let mut attempts = 0;
        loop {
            match self.append_encoded(encode(events)?).await {
                Ok(appended) => {
                    metrics::histogram!(crate::metrics::APPEND_SECONDS)
                        .record(started.elapsed().as_secs_f64());
                    return Ok(appended);
                }
                // The actor died holding the request, before the writer had
                // it (the writer answers every request it takes): nothing
                // was written, so sending it again cannot duplicate it. A
                // supervisor logging a restart of the storage branch must
                // not fail on that moment.
                Err(ActorError::NotRunning { .. }) if attempts < APPEND_ATTEMPTS => attempts += 1,
                outcome => return outcome,
            }
        }
    }

    /// Append `events` (one synced batch), then apply each to `state` with
    /// the seq and stamp the log gave it: the state only ever holds
    /// durable events, exactly as a replay will see them.
    ///
    /// # Errors
    /// As [`EventStore::append`]; the projection refusing an event (a bug in
    /// the caller: the event is in the log).
    pub async fn append_applied<P: Projection>(
        &self,
        state: &mut P,
        events: Vec<DomainEvent>,
    ) -> Result<Appended> {
        let appended = self.append(&events).await?;
        for (seq, event) in appended.range.iter().zip(events) {
            state.apply(
                EventMeta {
                    seq: seq.get(),
                    at_ms: appended.at_ms,
                },
                event,
            )?;
        }
        Ok(appended)
    }

    /// Store a checkpoint of `state` under `name` at its applied seq
    /// (durable, after every append acknowledged before). Returns that seq.
    ///
    /// # Errors
    /// The snapshot does not encode; the log's errors.
    pub fn checkpoint_projection<P: Projection>(
        &self,
        name: &str,
        state: &P,
    ) -> impl Future<Output = Result<u64>> + Send + '_ {
        // The snapshot is taken now, so the future holds no borrow of the
        // state across the write.
        let started = std::time::Instant::now();
        let seq = state.applied_seq();
        let checkpoint = state.snapshot().map(|data| NewCheckpoint {
            name: name.to_owned(),
            seq: Seq(seq),
            format_version: P::SNAPSHOT_VERSION,
            data,
        });
        async move {
            let checkpoint = checkpoint?;
            #[expect(clippy::cast_precision_loss, reason = "a gauge")]
            let size = checkpoint.data.len() as f64;
            self.put_checkpoint(checkpoint).await?;
            metrics::histogram!(crate::metrics::CHECKPOINT_SECONDS)
                .record(started.elapsed().as_secs_f64());
            metrics::gauge!(crate::metrics::CHECKPOINT_BYTES).set(size);
            Ok(seq)
        }
    }

    /// [`EventStore::append`] of events already encoded.
    ///
    /// # Errors
    /// As [`EventStore::append`].
    pub async fn append_encoded(&self, events: Vec<NewEvent>) -> Result<Appended> {
        self.request(|reply| StoreMsg::Append { events, reply })
            .await?
            .map_err(map_log)
    }

    fn gone(&self) -> ActorError {
        if self.shared.log.is_poisoned() {
            ActorError::Poisoned
        } else {
            ActorError::NotRunning {
                actor: EVENT_STORE.to_owned(),
            }
        }
    }

    /// Send `build`'s request to the actor, or, while it is down, serve
    /// it here: reads and checkpoints reach the log either way.
    async fn request<T>(&self, build: impl FnOnce(oneshot::Sender<T>) -> StoreMsg) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let request = build(reply);
        // A killed actor skips `post_stop` and leaves its ref published:
        // one that is not running is treated as down.
        let running = |actor: &ActorRef<StoreMsg>| {
            matches!(
                actor.get_status(),
                ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
            )
        };
        let request = match self.actor() {
            Some(actor) if running(&actor) => match actor.send_message(request) {
                Ok(()) => None,
                Err(ractor::MessagingErr::SendErr(request)) => Some(request),
                Err(_) => return Err(self.gone()),
            },
            _ => Some(request),
        };
        if let Some(request) = request {
            serve(self.log(), request).await?;
        }
        answer.await.map_err(|_| self.gone())
    }

    /// The events of `stream` from `from` on.
    ///
    /// # Errors
    /// The actor is not running; log errors.
    pub async fn read_stream(&self, stream: &str, from: Seq) -> Result<Vec<Event>> {
        self.read_stream_page(stream, from, usize::MAX).await
    }

    /// At most `limit` events of `stream` from `from` on: a page read costs
    /// its own length, not the rest of the stream.
    ///
    /// # Errors
    /// The actor is not running; log errors.
    pub async fn read_stream_page(
        &self,
        stream: &str,
        from: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let stream = stream.to_owned();
        self.request(|reply| StoreMsg::ReadStream {
            stream,
            from,
            limit,
            reply,
        })
        .await?
    }

    /// The events `from..=to`, contiguous.
    ///
    /// # Errors
    /// The actor is not running; log errors, a gap.
    pub async fn read_range(&self, from: Seq, to: Seq) -> Result<Vec<Event>> {
        self.request(|reply| StoreMsg::ReadRange { from, to, reply })
            .await?
    }

    /// Store a checkpoint durably, ordered after every append acknowledged
    /// before this call.
    ///
    /// # Errors
    /// The actor is not running; log errors.
    pub async fn put_checkpoint(&self, checkpoint: NewCheckpoint) -> Result<CheckpointId> {
        self.request(|reply| StoreMsg::Checkpoint { checkpoint, reply })
            .await?
            .map_err(map_log)
    }

    /// Rebuild `P` from checkpoint `checkpoint_name` plus the events of
    /// `stream` after it (or of the whole log when `stream` is `None`), on
    /// the blocking pool, never applying the quarantined seqs in `skip`.
    ///
    /// # Errors
    /// [`ActorError::PoisonEvent`] when one event of `stream` cannot be
    /// applied; other replay errors.
    pub async fn rebuild<P: Projection>(
        &self,
        stream: Option<String>,
        checkpoint_name: String,
        skip: Vec<u64>,
    ) -> Result<Replayed<P>> {
        let engine = ReplayEngine::new(self.shared.log.clone()).skipping(skip);
        if stream.is_none() {
            self.shared
                .full_rebuilds
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let whole = stream.is_none();
        let rebuilt = tokio::task::spawn_blocking(move || {
            match &stream {
                Some(name) => engine.rebuild_stream::<P>(name, &checkpoint_name, &mut |_| {}),
                None => engine.rebuild_named::<P>(&checkpoint_name, &mut |_| {}),
            }
            .map_err(|error| match (stream, error.event_seq()) {
                (Some(stream), Some(seq)) => ActorError::PoisonEvent {
                    stream,
                    seq,
                    reason: error.to_string(),
                },
                _ => error.into(),
            })
        })
        .await
        .map_err(|_| ActorError::NotRunning {
            actor: "replay".to_owned(),
        })??;
        if whole {
            self.shared.full_rebuild_events.fetch_add(
                rebuilt.report.events_replayed,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        Ok(rebuilt)
    }
}

/// The actor fronting the log's writer. Its arguments are the
/// [`EventStore`] handle it publishes itself into.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventStoreActor;

impl Actor for EventStoreActor {
    type Msg = StoreMsg;
    type State = EventStore;
    type Arguments = EventStore;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        store: EventStore,
    ) -> Result<Self::State, ActorProcessingErr> {
        if store.log().is_poisoned() {
            return Err(ActorError::Poisoned.into());
        }
        store.publish(Some(myself));
        Ok(store)
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        store: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Watch for poison until this incarnation exits.
        let mut status = store.watch_status();
        let cell = myself.get_cell();
        tokio::spawn(async move {
            tokio::select! {
                poisoned = status.wait_for(|s| s.poisoned) => {
                    if poisoned.is_ok() {
                        let _ = myself.send_message(StoreMsg::Poisoned);
                    }
                }
                () = async { let _ = cell.wait(None).await; } => {}
            }
        });
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        store: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let mut slot = store
            .shared
            .actor
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|a| a.get_id() == myself.get_id()) {
            *slot = None;
        }
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        store: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        serve(store.log(), message).await?;
        Ok(())
    }
}

/// Carry out one request against the log without waiting for a commit or a
/// read: appends are queued (waiting only while the writer's queue is full,
/// the backpressure), reads run on the blocking pool, and each answers its
/// own reply. Shared by the actor and by the handle while the actor is down.
async fn serve(log: &EventLog, message: StoreMsg) -> Result<()> {
    match message {
        StoreMsg::Append { events, reply } => {
            // Queue, do not wait for the commit: the writer answers the
            // caller once the batch is synced.
            log.enqueue_append(events, reply).await.map_err(map_log)?;
        }
        StoreMsg::ReadStream {
            stream,
            from,
            limit,
            reply,
        } => {
            let log = log.clone();
            tokio::task::spawn_blocking(move || {
                let events = log
                    .read_stream(&stream, from)
                    .and_then(|events| {
                        events
                            .take(limit)
                            .collect::<strand_eventlog::Result<Vec<_>>>()
                    })
                    .map_err(ActorError::Log);
                let _ = reply.send(events);
            });
        }
        StoreMsg::ReadRange { from, to, reply } => {
            let log = log.clone();
            tokio::task::spawn_blocking(move || {
                let events = log
                    .read_range(from, to)
                    .and_then(Iterator::collect::<strand_eventlog::Result<Vec<_>>>)
                    .map_err(ActorError::Log);
                let _ = reply.send(events);
            });
        }
        StoreMsg::Checkpoint { checkpoint, reply } => {
            let log = log.clone();
            tokio::spawn(async move {
                let _ = reply.send(log.put_checkpoint(checkpoint).await);
            });
        }
        StoreMsg::Poisoned => return Err(ActorError::Poisoned),
    }
    Ok(())
}
