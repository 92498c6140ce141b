//! [`DurableActor`]: an actor whose state is a projection of its own stream.
//!
//! It recovers the way every stateful Strand actor does: restore its newest
//! valid checkpoint, replay its stream after the checkpoint's seq, then take
//! messages. A handler changes state only through
//! [`DurableContext::persist`], which appends (synced) and then applies the
//! events with the seqs and stamp the log gave them, so the live state is
//! exactly what a replay of the stream gives.
//!
//! An event its state cannot take (it does not decode, the projection
//! refuses it or panics on it) fails recovery with
//! [`ActorError::PoisonEvent`] naming its seq. Restarts cannot help; once
//! they exceed the intensity the supervisor quarantines the seq
//! (`EventQuarantined`) and the next incarnation skips it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort};
use strand_eventlog::Appended;
use strand_projections::{DomainEvent, Projection};
use tokio::task::JoinHandle;

use crate::error::{ActorError, Result};
use crate::store::EventStore;
use crate::supervisor::{ChildContext, ChildSpec, ChildState, InspectFn};

/// How long an inspection waits for the actor.
const INSPECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The behaviour of a durable actor.
pub trait Durable: Send + Sync + 'static {
    /// Its state: a fold of its stream.
    type State: Projection;
    /// What it is sent.
    type Msg: Send + 'static;

    /// Its stream. Every event it persists must belong to it.
    fn stream(&self) -> String;

    /// The name its checkpoints are stored under (default: its stream).
    fn checkpoint_name(&self) -> String {
        self.stream()
    }

    /// Handle one message. Errors and panics are failures its supervisor
    /// handles.
    fn handle(
        &self,
        context: &mut DurableContext<'_, Self::State>,
        message: Self::Msg,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send;

    /// Called once its state is recovered, before any message.
    fn started(
        &self,
        _context: &mut DurableContext<'_, Self::State>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        async { Ok(()) }
    }

    /// Called on a graceful stop, before the final checkpoint.
    fn stopped(
        &self,
        _state: &Self::State,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        async { Ok(()) }
    }
}

/// When a durable actor checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurableOptions {
    /// Periodic checkpoints (default every 60 s); `None` for none.
    pub checkpoint_every: Option<Duration>,
    /// Checkpoint on a graceful stop (default true).
    pub checkpoint_on_stop: bool,
}

impl Default for DurableOptions {
    fn default() -> Self {
        Self {
            checkpoint_every: Some(Duration::from_secs(60)),
            checkpoint_on_stop: true,
        }
    }
}

/// What a durable actor is sent: its own messages, and the runtime's.
#[derive(Debug)]
pub enum DurableMsg<M> {
    /// The behaviour's message.
    User(M),
    /// Report the state's applied seq and hash.
    Inspect(RpcReplyPort<ChildState>),
    /// Checkpoint now; answers the checkpoint's seq.
    Checkpoint(RpcReplyPort<Result<u64>>),
    /// The periodic checkpoint.
    Tick,
}

/// A handler's view: the state, and the only way to change it.
pub struct DurableContext<'a, S> {
    store: &'a EventStore,
    stream: &'a str,
    state: &'a mut S,
}

impl<S: Projection> DurableContext<'_, S> {
    /// The current state.
    pub fn state(&self) -> &S {
        self.state
    }

    /// The actor's stream.
    pub fn stream(&self) -> &str {
        self.stream
    }

    /// Append `events` (synced, one batch) and apply them to the state.
    ///
    /// # Errors
    /// [`ActorError::ForeignStream`] (nothing appended) when an event is not
    /// on the actor's stream; the log's errors; the projection refusing an
    /// event (a bug in the handler: the event is in the log).
    pub async fn persist(&mut self, events: Vec<DomainEvent>) -> Result<Appended> {
        if let Some(foreign) = events.iter().find(|e| e.stream() != self.stream) {
            return Err(ActorError::ForeignStream {
                expected: self.stream.to_owned(),
                found: foreign.stream(),
            });
        }
        self.store.append_applied(self.state, events).await
    }
}

/// The ractor actor running a [`Durable`] behaviour.
pub struct DurableActor<B> {
    behavior: Arc<B>,
}

impl<B> DurableActor<B> {
    /// An actor running `behavior`.
    pub fn new(behavior: Arc<B>) -> Self {
        Self { behavior }
    }
}

/// A running durable actor's state.
pub struct DurableState<S> {
    store: EventStore,
    stream: String,
    checkpoint_name: String,
    options: DurableOptions,
    state: S,
    checkpointed: u64,
    timer: Option<JoinHandle<()>>,
}

impl<S: Projection> DurableState<S> {
    async fn checkpoint(&mut self) -> Result<u64> {
        let seq = self.state.applied_seq();
        if seq == 0 || seq == self.checkpointed {
            return Ok(self.checkpointed);
        }
        self.store
            .checkpoint_projection(&self.checkpoint_name, &self.state)
            .await?;
        self.checkpointed = seq;
        Ok(seq)
    }

    fn context(&mut self) -> DurableContext<'_, S> {
        DurableContext {
            store: &self.store,
            stream: &self.stream,
            state: &mut self.state,
        }
    }
}

impl<B: Durable> Actor for DurableActor<B> {
    type Msg = DurableMsg<B::Msg>;
    type State = DurableState<B::State>;
    /// The store, the options, and the seqs of its stream its supervisor
    /// quarantined (never applied).
    type Arguments = (EventStore, DurableOptions, Vec<u64>);

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        (store, options, quarantined): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let stream = self.behavior.stream();
        let checkpoint_name = self.behavior.checkpoint_name();
        let rebuilt = store
            .rebuild::<B::State>(Some(stream.clone()), checkpoint_name.clone(), quarantined)
            .await?;
        let checkpointed = rebuilt.report.checkpoint.map_or(0, |c| c.seq);
        let mut state = DurableState {
            store,
            stream,
            checkpoint_name,
            options,
            state: rebuilt.projection,
            checkpointed,
            timer: None,
        };
        self.behavior.started(&mut state.context()).await?;
        Ok(state)
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(every) = state.options.checkpoint_every {
            state.timer = Some(myself.send_interval(every, || DurableMsg::Tick));
        }
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
        self.behavior.stopped(&state.state).await?;
        if state.options.checkpoint_on_stop {
            state.checkpoint().await?;
        }
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            DurableMsg::User(message) => self.behavior.handle(&mut state.context(), message).await,
            DurableMsg::Inspect(reply) => {
                let _ = reply.send(ChildState {
                    applied_seq: state.state.applied_seq(),
                    state_hash: state.state.state_hash(),
                });
                Ok(())
            }
            DurableMsg::Checkpoint(reply) => {
                let _ = reply.send(state.checkpoint().await);
                Ok(())
            }
            DurableMsg::Tick => {
                state.checkpoint().await?;
                Ok(())
            }
        }
    }
}

/// Ask a running durable actor (of any behaviour) for its state.
fn inspect_fn<M: Send + 'static>() -> InspectFn {
    Arc::new(|cell: ActorCell| {
        Box::pin(async move {
            let actor: ActorRef<DurableMsg<M>> = cell.into();
            let name = actor.get_name().unwrap_or_default();
            match actor.call(DurableMsg::Inspect, Some(INSPECT_TIMEOUT)).await {
                Ok(CallResult::Success(state)) => Ok(state),
                _ => Err(ActorError::NotRunning { actor: name }),
            }
        })
    })
}

impl ChildSpec {
    /// A permanent child running the durable behaviour `make` builds; its
    /// stream is its history and its state is inspectable.
    pub fn durable<B, F>(name: impl Into<String>, options: DurableOptions, make: F) -> Self
    where
        B: Durable,
        F: Fn() -> B + Send + Sync + 'static,
    {
        let stream = make().stream();
        Self::new(name, move |cx: ChildContext| {
            let behavior = Arc::new(make());
            Box::pin(async move {
                let (actor, _) = Actor::spawn_linked(
                    None,
                    DurableActor::new(behavior),
                    (cx.context.store.clone(), options, cx.quarantined),
                    cx.supervisor,
                )
                .await?;
                Ok(actor.get_cell())
            })
        })
        .stream(stream)
        .inspect(inspect_fn::<B::Msg>())
    }
}
