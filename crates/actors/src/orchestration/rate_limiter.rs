//! [`RateLimiterActor`]: per-key token buckets, refilled to capacity every
//! period (1 s by default), with a non-blocking acquire that answers `false`
//! when the key's bucket is empty. Handlers reach it through the
//! [`RateLimiter`] in their `TaskContext` (for an external API, say).
//!
//! Durability: every refusal is a `RateLimited { key }` event (the ones of
//! one period appended in one batch at its end), so throttling history is
//! in the log and in the `StateManager`. Grants are not logged, one fsync
//! per acquire would cost more than the call it guards; instead a new
//! incarnation, after a restart or a process restart, starts with every
//! bucket empty until its first refill. A crash therefore never lets more
//! than `capacity` grants through in one period.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use strand_projections::DomainEvent;
use tokio::task::JoinHandle;

use crate::error::{ActorError, Result};
use crate::orchestration::tree::names;
use crate::store::EventStore;
use crate::supervisor::{ChildHandle, SupervisorRef};

/// How long an acquire waits for the limiter to answer.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The limiter's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Tokens per key per period (default 100).
    pub capacity: u32,
    /// The refill period (default 1 s).
    pub refill_every: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            capacity: 100,
            refill_every: Duration::from_secs(1),
        }
    }
}

/// What the limiter is sent.
#[derive(Debug)]
pub enum RateLimiterMsg {
    /// Take a token of this key, if there is one.
    Acquire(String, RpcReplyPort<bool>),
    /// The period ended: refill, and log its refusals.
    Refill,
}

/// A handle to the rate limiter, set once the tree runs. It follows the
/// limiter across restarts, and finds it again from the tree's root after
/// a restart of the queue supervisor.
#[derive(Clone, Debug, Default)]
pub struct RateLimiter(Arc<RwLock<Option<Found>>>);

/// The tree's root and the limiter last found from it.
type Found = (SupervisorRef, ChildHandle<RateLimiterMsg>);

impl PartialEq for RateLimiter {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RateLimiter {}

impl RateLimiter {
    /// A handle not yet pointing at a limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Point the handle at the running limiter, found from `root`.
    ///
    /// # Errors
    /// The queue supervisor or the limiter is not in the tree.
    pub async fn set(&self, root: SupervisorRef) -> Result<()> {
        let limiter = Self::resolve(&root).await?;
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some((root, limiter));
        Ok(())
    }

    async fn resolve(root: &SupervisorRef) -> Result<ChildHandle<RateLimiterMsg>> {
        root.supervisor(names::QUEUE)
            .await?
            .child::<RateLimiterMsg>(names::RATE_LIMITER)
            .await
    }

    /// Take a token of `key` without waiting for one: `false` when the
    /// bucket is empty (the refusal is logged).
    ///
    /// # Errors
    /// [`ActorError::NotRunning`] when no limiter runs; a call timeout.
    pub async fn try_acquire(&self, key: &str) -> Result<bool> {
        let (root, limiter) = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| ActorError::NotRunning {
                actor: names::RATE_LIMITER.to_owned(),
            })?;
        let acquire = |limiter: ChildHandle<RateLimiterMsg>, key: String| async move {
            limiter
                .call(|reply| RateLimiterMsg::Acquire(key, reply), ACQUIRE_TIMEOUT)
                .await
        };
        match acquire(limiter, key.to_owned()).await {
            // Its supervisor may have been restarted: find the current one.
            Err(ActorError::NotRunning { .. }) => {
                let fresh = Self::resolve(&root).await?;
                let answer = acquire(fresh.clone(), key.to_owned()).await;
                *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some((root, fresh));
                answer
            }
            answer => answer,
        }
    }
}

/// The limiter actor; its arguments are the event store and the limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimiterActor;

/// Its state.
#[derive(Debug)]
pub struct RateLimiterState {
    store: EventStore,
    limits: RateLimits,
    /// Tokens left per key in this period; a key not here has none until
    /// the first refill of this incarnation, then a full bucket.
    tokens: HashMap<String, u32>,
    refilled: bool,
    refused: Vec<String>,
    timer: Option<JoinHandle<()>>,
}

impl RateLimiterState {
    fn acquire(&mut self, key: String) -> bool {
        let capacity = self.limits.capacity;
        let refilled = self.refilled;
        let tokens = self
            .tokens
            .entry(key.clone())
            .or_insert(if refilled { capacity } else { 0 });
        if *tokens > 0 {
            *tokens -= 1;
            true
        } else {
            self.refused.push(key);
            false
        }
    }

    async fn refill(&mut self) -> Result<()> {
        let refused: Vec<DomainEvent> = std::mem::take(&mut self.refused)
            .into_iter()
            .map(|key| DomainEvent::RateLimited { key })
            .collect();
        // Refusals are history: durable before the period they end is over.
        if !refused.is_empty() {
            self.store.append(&refused).await?;
        }
        self.refilled = true;
        for tokens in self.tokens.values_mut() {
            *tokens = self.limits.capacity;
        }
        Ok(())
    }
}

impl Actor for RateLimiterActor {
    type Msg = RateLimiterMsg;
    type State = RateLimiterState;
    type Arguments = (EventStore, RateLimits);

    async fn pre_start(
        &self,
        _myself: ActorRef<RateLimiterMsg>,
        (store, limits): Self::Arguments,
    ) -> Result<RateLimiterState, ActorProcessingErr> {
        Ok(RateLimiterState {
            store,
            limits,
            tokens: HashMap::new(),
            refilled: false,
            refused: Vec::new(),
            timer: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<RateLimiterMsg>,
        state: &mut RateLimiterState,
    ) -> Result<(), ActorProcessingErr> {
        let every = state.limits.refill_every;
        state.timer = Some(myself.send_interval(every, || RateLimiterMsg::Refill));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<RateLimiterMsg>,
        state: &mut RateLimiterState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.timer.take() {
            timer.abort();
        }
        // Log the refusals of the unfinished period.
        state.refill().await?;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<RateLimiterMsg>,
        message: RateLimiterMsg,
        state: &mut RateLimiterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RateLimiterMsg::Acquire(key, reply) => {
                let _ = reply.send(state.acquire(key));
            }
            RateLimiterMsg::Refill => state.refill().await?,
        }
        Ok(())
    }
}
