//! [`StateManagerActor`]: the `StateManager` projection, kept current by
//! following the log.
//!
//! On start it rebuilds through the replay engine (newest valid checkpoint
//! plus the tail). It then follows the log's durable end (a watch updated
//! once per synced batch) and applies every new event in seq order: it
//! reads `applied + 1 ..= end`, so it can never skip one, and a read that
//! comes back short is a gap it reports by failing. It checkpoints every
//! interval (60 s by default) and on a graceful stop; queries are answered
//! from memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, ActorStatus, RpcReplyPort};
use strand_eventlog::Seq;
use strand_projections::{DomainEvent, Projection, StateHash, StateManager};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::{ActorError, Result};
use crate::history::apply_with_log;
use crate::runtime::names;
use crate::store::{EventStore, decode};
use crate::supervisor::{ChildHandle, ChildState, SupervisorRef};

/// Longest wait for a query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// A read-only query run against the state.
pub type Query = Box<dyn FnOnce(&StateManager) + Send>;

/// What the [`StateManagerActor`] is sent.
#[non_exhaustive]
pub enum StateManagerMsg {
    /// Run a query against the current state.
    Query(Query),
    /// Answer once every event up to this seq is applied.
    WaitApplied(Seq, RpcReplyPort<Seq>),
    /// Run a query once every event up to this seq is applied.
    QueryAfter(Seq, Query),
    /// Checkpoint now; answers the checkpoint's seq.
    Checkpoint(RpcReplyPort<Result<u64>>),
    /// Report the applied seq and state hash.
    Inspect(RpcReplyPort<ChildState>),
    /// The log moved on: catch up.
    CatchUp,
    /// The periodic checkpoint.
    Tick,
}

impl std::fmt::Debug for StateManagerMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Query(_) => "Query",
            Self::WaitApplied(..) => "WaitApplied",
            Self::QueryAfter(..) => "QueryAfter",
            Self::Checkpoint(_) => "Checkpoint",
            Self::Inspect(_) => "Inspect",
            Self::CatchUp => "CatchUp",
            Self::Tick => "Tick",
        })
    }
}

/// Where a tree's state manager is found by the actors beside it: set by
/// the state manager itself once it has rebuilt its state. A supervisor
/// starts its children after it has started, so an actor of another branch
/// may look before the state manager exists: it waits for the publication.
#[derive(Clone, Debug)]
pub struct StateManagerSlot(Arc<watch::Sender<Option<ActorRef<StateManagerMsg>>>>);

impl Default for StateManagerSlot {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(None)))
    }
}

impl StateManagerSlot {
    fn publish(&self, actor: ActorRef<StateManagerMsg>) {
        self.0.send_replace(Some(actor));
    }

    /// A copy of the state with every event up to `seq` applied, once a
    /// state manager is published; `None` when none answers within
    /// `timeout` (the caller then rebuilds the state from the log itself).
    pub async fn copy_after(&self, seq: Seq, timeout: Duration) -> Option<StateManager> {
        let mut published = self.0.subscribe();
        let copy = async {
            // Cloned out at once: the borrow must not be held across an await.
            let actor = published
                .wait_for(Option::is_some)
                .await
                .ok()?
                .as_ref()
                .cloned()?;
            let (reply, copied) = oneshot::channel();
            let query: Query = Box::new(move |state: &StateManager| {
                let _ = reply.send(state.clone());
            });
            // A dead state manager refuses the message (its successor
            // publishes itself anew); one still starting queues it.
            actor
                .send_message(StateManagerMsg::QueryAfter(seq, query))
                .ok()?;
            copied.await.ok()
        };
        tokio::time::timeout(timeout, copy).await.ok().flatten()
    }
}

/// The actor. Its arguments are the event store, the checkpoint interval
/// and the tree's slot to publish itself in.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateManagerActor;

/// The actor's state.
pub struct StateManagerState {
    store: EventStore,
    state: StateManager,
    every: Duration,
    checkpointed: u64,
    /// What waits for a seq to be applied, with that seq.
    waiters: Vec<(Seq, Waiter)>,
    /// A `CatchUp` is queued; the follower does not queue another.
    pending: Arc<AtomicBool>,
    timer: Option<JoinHandle<()>>,
}

/// Something waiting for the state to reach a seq.
enum Waiter {
    /// Told the applied seq.
    Reply(RpcReplyPort<Seq>),
    /// Run against the state.
    Query(Query),
}

impl StateManagerState {
    /// Serve `waiter` once `seq` is applied: now if it is, else after the
    /// catch-up that gets there. A catch-up is queued (one at a time, as
    /// the follower does), never run here: under many readers, one read of
    /// the log serves all of them, rather than a small read each.
    fn when_applied(&mut self, myself: &ActorRef<StateManagerMsg>, seq: Seq, waiter: Waiter) {
        if self.applied() >= seq {
            self.serve(waiter);
            return;
        }
        self.waiters.push((seq, waiter));
        if !self.pending.swap(true, Ordering::AcqRel) {
            // Only fails once the actor is stopping; its waiters go with it.
            let _ = myself.send_message(StateManagerMsg::CatchUp);
        }
    }

    fn serve(&self, waiter: Waiter) {
        match waiter {
            Waiter::Reply(reply) => {
                let _ = reply.send(self.applied());
            }
            Waiter::Query(query) => query(&self.state),
        }
    }

    fn applied(&self) -> Seq {
        Seq(self.state.applied_seq())
    }

    async fn catch_up(&mut self) -> Result<()> {
        self.pending.store(false, Ordering::Release);
        let last = self.store.watch_status().borrow().last_seq;
        let applied = self.applied();
        if last > applied {
            let events = self.store.read_range(applied.next(), last).await?;
            let mut expected = applied.next();
            for event in &events {
                if event.seq != expected {
                    return Err(ActorError::Gap {
                        applied: self.applied(),
                        last,
                    });
                }
                let (meta, domain) = decode(event)?;
                apply_with_log(&self.store, &mut self.state, meta, domain).await?;
                expected = expected.next();
            }
            if self.applied() < last {
                return Err(ActorError::Gap {
                    applied: self.applied(),
                    last,
                });
            }
        }
        let applied = self.applied();
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|(seq, _)| *seq <= applied);
        self.waiters = waiting;
        for (_, waiter) in ready {
            self.serve(waiter);
        }
        Ok(())
    }

    /// Store a checkpoint at the applied seq, then log `CheckpointTaken`.
    async fn checkpoint(&mut self) -> Result<u64> {
        let seq = self.state.applied_seq();
        if seq == 0 || seq == self.checkpointed {
            return Ok(self.checkpointed);
        }
        self.store
            .checkpoint_projection(StateManager::NAME, &self.state)
            .await?;
        self.store
            .append(&[DomainEvent::CheckpointTaken {
                name: StateManager::NAME.to_owned(),
                seq,
            }])
            .await?;
        self.checkpointed = seq;
        Ok(seq)
    }
}

impl Actor for StateManagerActor {
    type Msg = StateManagerMsg;
    type State = StateManagerState;
    type Arguments = (EventStore, Duration, StateManagerSlot);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (store, every, slot): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let rebuilt = store
            .rebuild::<StateManager>(None, StateManager::NAME.to_owned(), Vec::new())
            .await?;
        let checkpointed = rebuilt.report.checkpoint.map_or(0, |c| c.seq);
        metrics::gauge!(crate::metrics::REPLAY_SECONDS).set(rebuilt.report.elapsed.as_secs_f64());
        #[expect(clippy::cast_precision_loss, reason = "a gauge")]
        metrics::gauge!(crate::metrics::REPLAY_EVENTS).set(rebuilt.report.events_replayed as f64);
        // Rebuilt: the actors beside it may copy the state now (what they
        // send waits in the mailbox until it runs).
        slot.publish(myself);
        Ok(StateManagerState {
            store,
            state: rebuilt.projection,
            every,
            checkpointed,
            waiters: Vec::new(),
            pending: Arc::new(AtomicBool::new(false)),
            timer: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let mut status = state.store.watch_status();
        let pending = Arc::clone(&state.pending);
        let cell = myself.get_cell();
        let follower = myself.clone();
        // Catch up on anything appended while the state was rebuilt.
        let _ = follower.send_message(StateManagerMsg::CatchUp);
        tokio::spawn(async move {
            let exited = async {
                let _ = cell.wait(None).await;
            };
            tokio::pin!(exited);
            loop {
                tokio::select! {
                    changed = status.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        // One queued catch-up reads everything up to the end.
                        if !pending.swap(true, Ordering::AcqRel)
                            && follower.send_message(StateManagerMsg::CatchUp).is_err()
                        {
                            break;
                        }
                    }
                    () = &mut exited => break,
                }
            }
        });
        state.timer = Some(myself.send_interval(state.every, || StateManagerMsg::Tick));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.timer.take() {
            timer.abort();
        }
        state.catch_up().await?;
        state.checkpoint().await?;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            StateManagerMsg::Query(query) => query(&state.state),
            StateManagerMsg::WaitApplied(seq, reply) => {
                state.when_applied(&myself, seq, Waiter::Reply(reply));
            }
            StateManagerMsg::QueryAfter(seq, query) => {
                state.when_applied(&myself, seq, Waiter::Query(query));
            }
            StateManagerMsg::Checkpoint(reply) => {
                let _ = reply.send(state.checkpoint().await);
            }
            StateManagerMsg::Inspect(reply) => {
                let _ = reply.send(ChildState {
                    applied_seq: state.state.applied_seq(),
                    state_hash: state.state.state_hash(),
                });
            }
            StateManagerMsg::CatchUp => state.catch_up().await?,
            StateManagerMsg::Tick => {
                state.catch_up().await?;
                state.checkpoint().await?;
            }
        }
        Ok(())
    }
}

/// A handle to the state manager that follows it across restarts.
#[derive(Clone, Debug)]
pub struct StateManagerHandle {
    /// The tree's root, to find the state manager again after a restart of
    /// its supervisor (a handle follows only the child's own restarts).
    root: SupervisorRef,
    child: Arc<RwLock<ChildHandle<StateManagerMsg>>>,
}

impl StateManagerHandle {
    pub(crate) fn new(root: SupervisorRef, child: ChildHandle<StateManagerMsg>) -> Self {
        Self {
            root,
            child: Arc::new(RwLock::new(child)),
        }
    }

    /// The handle to call: the cached one while its actor runs, else the
    /// state manager found again from the root.
    async fn current(&self) -> ChildHandle<StateManagerMsg> {
        let cached = self
            .child
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let running = cached
            .actor()
            .is_some_and(|a| matches!(a.get_status(), ActorStatus::Running));
        if running {
            return cached;
        }
        let found = async {
            self.root
                .supervisor(names::STORAGE)
                .await?
                .child::<StateManagerMsg>(names::STATE_MANAGER)
                .await
        }
        .await;
        match found {
            Ok(fresh) => {
                *self.child.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
                fresh
            }
            Err(_) => cached,
        }
    }

    /// Run `query` against the current state and return its answer.
    ///
    /// # Errors
    /// The actor is not running or does not answer.
    pub async fn query<R: Send + 'static>(
        &self,
        query: impl FnOnce(&StateManager) -> R + Send + 'static,
    ) -> Result<R> {
        // Every state has applied seq 0: answered at once.
        self.query_after(Seq(0), query).await
    }

    /// Run `query` against the state once every event up to `seq` is
    /// applied (read your writes, in one round trip).
    ///
    /// # Errors
    /// The actor is not running or does not answer.
    pub async fn query_after<R: Send + 'static>(
        &self,
        seq: Seq,
        query: impl FnOnce(&StateManager) -> R + Send + 'static,
    ) -> Result<R> {
        self.current()
            .await
            .call(
                |reply: RpcReplyPort<R>| {
                    StateManagerMsg::QueryAfter(
                        seq,
                        Box::new(move |state| {
                            let _ = reply.send(query(state));
                        }),
                    )
                },
                QUERY_TIMEOUT,
            )
            .await
    }

    /// Wait until every event up to `seq` is applied (read your writes).
    ///
    /// # Errors
    /// The actor is not running or does not answer.
    pub async fn wait_applied(&self, seq: Seq) -> Result<Seq> {
        self.current()
            .await
            .call(
                |reply| StateManagerMsg::WaitApplied(seq, reply),
                QUERY_TIMEOUT,
            )
            .await
    }

    /// Checkpoint now; the checkpoint's seq.
    ///
    /// # Errors
    /// The actor is not running; the log's errors.
    pub async fn checkpoint(&self) -> Result<u64> {
        self.current()
            .await
            .call(StateManagerMsg::Checkpoint, QUERY_TIMEOUT)
            .await?
    }

    /// The applied seq and state hash.
    ///
    /// # Errors
    /// The actor is not running or does not answer.
    pub async fn inspect(&self) -> Result<ChildState> {
        self.current()
            .await
            .call(StateManagerMsg::Inspect, QUERY_TIMEOUT)
            .await
    }

    /// The state hash (shorthand for [`StateManagerHandle::inspect`]).
    ///
    /// # Errors
    /// As [`StateManagerHandle::inspect`].
    pub async fn state_hash(&self) -> Result<StateHash> {
        Ok(self.inspect().await?.state_hash)
    }
}
