//! [`ChildHandle`]: typed calls into a supervised child, through its
//! circuit breaker, surviving restarts.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{ActorCell, ActorRef, Message, RpcReplyPort};
use strand_projections::BreakerState;

use crate::error::{ActorError, Result};
use crate::supervisor::actor::{Request, SupervisorMsg};

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// The supervisor's published view of one child: its current incarnation
/// and its breaker. Callers read it without a message to the supervisor.
#[derive(Debug)]
pub(crate) struct ChildSlot {
    pub(crate) name: String,
    pub(crate) index: usize,
    cell: RwLock<Option<ActorCell>>,
    gate: AtomicU8,
    /// The half-open trial call is taken.
    trial_taken: AtomicBool,
    /// A call failed since the supervisor last heard of a success.
    failing: AtomicBool,
    pub(crate) has_breaker: bool,
    supervisor: ActorRef<SupervisorMsg>,
}

impl ChildSlot {
    pub(crate) fn new(
        name: String,
        index: usize,
        has_breaker: bool,
        supervisor: ActorRef<SupervisorMsg>,
    ) -> Self {
        Self {
            name,
            index,
            cell: RwLock::new(None),
            gate: AtomicU8::new(CLOSED),
            trial_taken: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            has_breaker,
            supervisor,
        }
    }

    pub(crate) fn set_cell(&self, cell: Option<ActorCell>) {
        *self.cell.write().unwrap_or_else(PoisonError::into_inner) = cell;
    }

    pub(crate) fn cell(&self) -> Option<ActorCell> {
        self.cell
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_breaker(&self, state: BreakerState) {
        let gate = match state {
            BreakerState::Closed => CLOSED,
            BreakerState::Open => OPEN,
            BreakerState::HalfOpen => HALF_OPEN,
        };
        self.trial_taken.store(false, Ordering::Release);
        self.gate.store(gate, Ordering::Release);
    }

    /// May a call pass? `Some(true)` for the half-open trial.
    fn admit(&self) -> Option<bool> {
        match self.gate.load(Ordering::Acquire) {
            CLOSED => Some(false),
            HALF_OPEN
                if self
                    .trial_taken
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok() =>
            {
                Some(true)
            }
            _ => None,
        }
    }

    fn report(&self, ok: bool, trial: bool) {
        if !self.has_breaker {
            return;
        }
        let message = if trial {
            Some(Request::TrialOutcome {
                child: self.index,
                ok,
            })
        } else if ok {
            // Only tell the supervisor about a success that ends a run of
            // failures: the common path sends nothing.
            self.failing
                .swap(false, Ordering::AcqRel)
                .then_some(Request::CallOutcome {
                    child: self.index,
                    ok,
                })
        } else {
            self.failing.store(true, Ordering::Release);
            Some(Request::CallOutcome {
                child: self.index,
                ok,
            })
        };
        if let Some(message) = message {
            let _ = self.supervisor.send_message(message.into());
        }
    }
}

/// A typed handle to a supervised child whose messages are `M`. It follows
/// the child across restarts and refuses calls while its breaker is open.
pub struct ChildHandle<M> {
    slot: Arc<ChildSlot>,
    _message: PhantomData<fn(M)>,
}

impl<M> Clone for ChildHandle<M> {
    fn clone(&self) -> Self {
        Self {
            slot: Arc::clone(&self.slot),
            _message: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for ChildHandle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildHandle")
            .field("child", &self.slot.name)
            .finish_non_exhaustive()
    }
}

impl<M: Message> ChildHandle<M> {
    pub(crate) fn new(slot: Arc<ChildSlot>) -> Self {
        Self {
            slot,
            _message: PhantomData,
        }
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.slot.name
    }

    /// The current incarnation, when running. `M` must be the child's
    /// message type (checked by ractor when a message is sent).
    pub fn actor(&self) -> Option<ActorRef<M>> {
        self.slot.cell().map(ActorRef::from)
    }

    /// The state of its circuit breaker.
    pub fn breaker(&self) -> BreakerState {
        match self.slot.gate.load(Ordering::Acquire) {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    fn not_running(&self) -> ActorError {
        ActorError::NotRunning {
            actor: self.slot.name.clone(),
        }
    }

    /// Send a message without waiting for an answer. Not guarded by the
    /// breaker (there is no outcome to judge).
    ///
    /// # Errors
    /// [`ActorError::NotRunning`].
    pub fn cast(&self, message: M) -> Result<()> {
        let actor = self.actor().ok_or_else(|| self.not_running())?;
        actor.send_message(message).map_err(|_| self.not_running())
    }

    /// Ask the child and await its answer: `build` wraps the reply port in a
    /// message. A failed or timed-out call counts against the breaker.
    ///
    /// # Errors
    /// [`ActorError::BreakerOpen`] without reaching the child;
    /// [`ActorError::NotRunning`] when it is down or dies before answering;
    /// [`ActorError::Timeout`].
    pub async fn call<R: Send + 'static>(
        &self,
        build: impl FnOnce(RpcReplyPort<R>) -> M,
        timeout: Duration,
    ) -> Result<R> {
        let Some(trial) = self.slot.admit() else {
            return Err(ActorError::BreakerOpen {
                child: self.slot.name.clone(),
            });
        };
        let Some(actor) = self.actor() else {
            self.slot.report(false, trial);
            return Err(self.not_running());
        };
        let outcome = match actor.call(build, Some(timeout)).await {
            Ok(CallResult::Success(answer)) => Ok(answer),
            Ok(CallResult::Timeout) => Err(ActorError::Timeout {
                actor: self.slot.name.clone(),
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            }),
            Ok(CallResult::SenderError) | Err(_) => Err(self.not_running()),
        };
        self.slot.report(outcome.is_ok(), trial);
        outcome
    }
}
