//! The [`Supervisor`] actor: decide, append, then act.
//!
//! Every supervision action is a [`DomainEvent`] on the supervisor's stream
//! (`supervisor/<name>`), appended (synced) before it takes effect: a child
//! is started only after its `ActorStarted` is durable, restarted only after
//! its `ActorFailed` and `ActorRestarted` are, and so on. What the
//! supervisor remembers (restart window, failure streaks, breakers, pending
//! backoffs) is a fold of that stream ([`Memory`]), rebuilt on start, so a
//! crash loop across process restarts is detected like one inside a process.

mod decide;
mod requests;

use decide::poison_of;

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnErr,
    SupervisionEvent,
};
use strand_eventlog::Seq;
use strand_projections::{BreakerState, DomainEvent, EventMeta};

use crate::context::Context;
use crate::error::{ActorError, Result};
use crate::panic;
use crate::policy::{Backoff, Intensity};
use crate::store::decode;
use crate::supervisor::handle::ChildSlot;
use crate::supervisor::inspect::{ChildInfo, ChildState, ChildStatus};
use crate::supervisor::memory::Memory;
use crate::supervisor::spec::{ChildContext, ChildSpec, Strategy, SupervisorSpec};

/// The reason logged for a child that was running when the process died.
pub const LOST_AT_EXIT: &str = "lost at process exit";

/// The supervisor actor. Spawn it with `(SupervisorSpec, Context)`, or use
/// [`SupervisorSpec::into_child`] to nest it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Supervisor;

/// A message to a supervisor; build them through
/// [`SupervisorRef`](crate::SupervisorRef).
#[derive(Debug)]
pub struct SupervisorMsg(pub(crate) Request);

/// What a supervisor is asked, or tells itself.
pub(crate) enum Request {
    Children(RpcReplyPort<Vec<ChildInfo>>),
    Slot(String, RpcReplyPort<Option<Arc<ChildSlot>>>),
    StopChild(String, RpcReplyPort<Result<()>>),
    RestartChild(String, RpcReplyPort<Result<()>>),
    ChildState(String, RpcReplyPort<Result<ChildState>>),
    History(String, RpcReplyPort<Result<Vec<(EventMeta, DomainEvent)>>>),
    /// A backoff ended: start `children`, logging `ActorStarted` for
    /// `announce` first.
    RestartDue {
        plan: u64,
        children: Vec<usize>,
        announce: Vec<usize>,
    },
    HalfOpenDue {
        child: usize,
        plan: u64,
    },
    StartFailed {
        child: usize,
        reason: String,
        /// The poison event (stream, seq) its recovery stopped at, if any.
        poison: Option<(String, u64)>,
    },
    CallOutcome {
        child: usize,
        ok: bool,
    },
    TrialOutcome {
        child: usize,
        ok: bool,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Children(_) => "Children",
            Self::Slot(..) => "Slot",
            Self::StopChild(..) => "StopChild",
            Self::RestartChild(..) => "RestartChild",
            Self::ChildState(..) => "ChildState",
            Self::History(..) => "History",
            Self::RestartDue { .. } => "RestartDue",
            Self::HalfOpenDue { .. } => "HalfOpenDue",
            Self::StartFailed { .. } => "StartFailed",
            Self::CallOutcome { .. } => "CallOutcome",
            Self::TrialOutcome { .. } => "TrialOutcome",
        };
        f.write_str(name)
    }
}

impl From<Request> for SupervisorMsg {
    fn from(request: Request) -> Self {
        Self(request)
    }
}

/// One child as the supervisor runs it.
struct Child {
    spec: ChildSpec,
    slot: Arc<ChildSlot>,
    cell: Option<ActorCell>,
    status: ChildStatus,
    started_at_ms: u64,
    /// The pending restart (backoff timer) this child waits on, if any.
    plan: Option<u64>,
    /// The pending half-open timer of its breaker, if any. Apart from
    /// `plan`: a restart must not cancel the breaker's timer.
    breaker_plan: Option<u64>,
    /// Whether it is a supervisor (it escalates rather than fails).
    is_supervisor: bool,
}

/// A supervisor's state.
pub struct SupervisorState {
    name: String,
    stream: String,
    strategy: Strategy,
    intensity: Intensity,
    backoff: Backoff,
    context: Context,
    children: Vec<Child>,
    memory: Memory,
    myself: ActorRef<SupervisorMsg>,
    next_plan: u64,
}

/// How a child ended.
enum Exit<'a> {
    Failed {
        reason: String,
        error: &'a (dyn Error + Send + Sync + 'static),
    },
    Normal {
        reason: String,
    },
}

fn render(error: &(dyn Error + 'static)) -> String {
    let message = error.to_string();
    match panic::location_of(&message) {
        Some(location) => format!("{message} (at {location})"),
        None => message,
    }
}

impl SupervisorState {
    fn now_ms(&self) -> u64 {
        self.context.clock.now_ms()
    }

    fn position(&self, id: ActorId) -> Option<usize> {
        self.children
            .iter()
            .position(|c| c.cell.as_ref().is_some_and(|cell| cell.get_id() == id))
    }

    fn named(&self, name: &str) -> Result<usize> {
        self.children
            .iter()
            .position(|c| c.spec.name == name)
            .ok_or_else(|| ActorError::UnknownChild {
                supervisor: self.name.clone(),
                child: name.to_owned(),
            })
    }

    fn child_name(&self, index: usize) -> String {
        self.children
            .get(index)
            .map(|c| c.spec.name.clone())
            .unwrap_or_default()
    }

    /// Append `events` (synced) and fold them into memory: the decision is
    /// durable before any of it takes effect.
    async fn log(&mut self, events: Vec<DomainEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let appended = self.context.store.append(&events).await?;
        for event in &events {
            self.memory
                .apply(&self.intensity, &self.backoff, appended.at_ms, event);
        }
        for event in &events {
            if let DomainEvent::BreakerChanged { child, state, .. } = event
                && let Ok(index) = self.named(child)
            {
                self.breaker_took_effect(index, *state);
            }
        }
        Ok(())
    }

    fn breaker_took_effect(&mut self, index: usize, state: BreakerState) {
        let plan = self.next_plan;
        self.next_plan += 1;
        let Some(child) = self.children.get_mut(index) else {
            return;
        };
        child.slot.set_breaker(state);
        if state == BreakerState::Open
            && let Some(config) = child.spec.breaker
        {
            child.breaker_plan = Some(plan);
            self.myself.send_after(config.open_for, move || {
                Request::HalfOpenDue { child: index, plan }.into()
            });
        }
    }

    fn started(&self, index: usize) -> DomainEvent {
        DomainEvent::ActorStarted {
            supervisor: self.name.clone(),
            child: self.child_name(index),
        }
    }

    fn stopped(&self, index: usize, reason: impl Into<String>) -> DomainEvent {
        DomainEvent::ActorStopped {
            supervisor: self.name.clone(),
            child: self.child_name(index),
            reason: reason.into(),
        }
    }

    /// Start one incarnation (its `ActorStarted` or `ActorRestarted` is
    /// already durable). A start that fails comes back as a failure.
    async fn spawn(&mut self, index: usize) {
        let now = self.now_ms();
        let quarantined = self
            .memory
            .children
            .get(&self.child_name(index))
            .map(|m| m.quarantined.clone())
            .unwrap_or_default();
        let Some(child) = self.children.get_mut(index) else {
            return;
        };
        let context = ChildContext {
            supervisor: self.myself.get_cell(),
            context: self.context.clone(),
            quarantined,
        };
        child.plan = None;
        match (child.spec.start)(context).await {
            Ok(cell) => {
                child.slot.set_cell(Some(cell.clone()));
                child.cell = Some(cell);
                child.status = ChildStatus::Running;
                child.started_at_ms = now;
            }
            Err(e) => {
                child.status = ChildStatus::Stopped;
                let poison = match &e {
                    SpawnErr::StartupFailed(error) => poison_of(error.as_ref()),
                    _ => None,
                };
                let _ = self.myself.send_message(
                    Request::StartFailed {
                        child: index,
                        reason: render(&e),
                        poison,
                    }
                    .into(),
                );
            }
        }
    }

    /// Stop one incarnation gracefully (killing it after the stop timeout).
    /// Its exit event is then stale and ignored.
    async fn halt(&mut self, index: usize, reason: &str) {
        let timeout = self.context.stop_timeout;
        let Some(child) = self.children.get_mut(index) else {
            return;
        };
        child.status = ChildStatus::Stopped;
        child.plan = None;
        child.slot.set_cell(None);
        if let Some(cell) = child.cell.take()
            && cell
                .stop_and_wait(Some(reason.to_owned()), Some(timeout))
                .await
                .is_err()
        {
            let _ = cell.kill_and_wait(Some(timeout)).await;
        }
    }

    fn active(&self, index: usize) -> bool {
        self.children.get(index).is_some_and(|c| {
            matches!(
                c.status,
                ChildStatus::Running | ChildStatus::BackingOff { .. }
            )
        })
    }

    /// Start every child, in order, honouring backoffs and breakers
    /// remembered from the log. A child the log shows running (started,
    /// never stopped) was lost when the process died: its loss is logged
    /// (`ActorFailed{"lost at process exit"}`) before its fresh start, but
    /// not counted against the restart intensity or backoff. A process
    /// kill is not the child's fault, and a pool of a hundred workers lost
    /// at once must not escalate on the next boot.
    async fn start_all(&mut self) -> Result<()> {
        let now = self.now_ms();
        let mut group = Vec::new();
        for index in 0..self.children.len() {
            let name = self.child_name(index);
            let memory = self.memory.child(&name).clone();
            self.restore_breaker(index, &memory.breaker, now);
            match memory.backoff_until_ms {
                Some(until) if until > now => {
                    self.schedule(
                        vec![index],
                        Vec::new(),
                        Duration::from_millis(until - now),
                        now,
                    );
                }
                _ => group.push((index, memory.live)),
            }
        }
        let mut events = Vec::new();
        for &(index, lost) in &group {
            if lost {
                events.push(DomainEvent::ActorFailed {
                    supervisor: self.name.clone(),
                    child: self.child_name(index),
                    reason: LOST_AT_EXIT.to_owned(),
                });
            }
            events.push(self.started(index));
        }
        self.log(events).await?;
        for (index, _) in group {
            self.spawn(index).await;
        }
        Ok(())
    }

    /// Put a breaker remembered from the log back in front of its child.
    fn restore_breaker(&mut self, index: usize, breaker: &crate::policy::Breaker, now: u64) {
        let Some(config) = self.children.get(index).and_then(|c| c.spec.breaker) else {
            return;
        };
        let state = breaker.state();
        if state == BreakerState::Closed {
            return;
        }
        let plan = self.next_plan;
        self.next_plan += 1;
        if let Some(child) = self.children.get_mut(index) {
            child.slot.set_breaker(state);
            if state == BreakerState::Open {
                let remaining = breaker.half_open_in(&config, now).unwrap_or(0);
                child.breaker_plan = Some(plan);
                self.myself
                    .send_after(Duration::from_millis(remaining), move || {
                        Request::HalfOpenDue { child: index, plan }.into()
                    });
            }
        }
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = (SupervisorSpec, Context);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (spec, context): (SupervisorSpec, Context),
    ) -> Result<Self::State, ActorProcessingErr> {
        let stream = format!("supervisor/{}", spec.name);
        let mut memory = Memory::default();
        for event in context.store.read_stream(&stream, Seq::FIRST).await? {
            let (meta, event) = decode(&event)?;
            memory.apply(&spec.intensity, &spec.backoff, meta.at_ms, &event);
        }
        let children = spec
            .children
            .into_iter()
            .enumerate()
            .map(|(index, child)| {
                let slot = Arc::new(ChildSlot::new(
                    child.name.clone(),
                    index,
                    child.breaker.is_some(),
                    myself.clone(),
                ));
                Child {
                    is_supervisor: child.is_supervisor,
                    spec: child,
                    slot,
                    cell: None,
                    status: ChildStatus::Idle,
                    started_at_ms: 0,
                    plan: None,
                    breaker_plan: None,
                }
            })
            .collect();
        Ok(SupervisorState {
            name: spec.name,
            stream,
            strategy: spec.strategy,
            intensity: spec.intensity,
            backoff: spec.backoff,
            context,
            children,
            memory,
            myself,
            next_plan: 0,
        })
    }

    async fn post_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.start_all().await?;
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Graceful stop: reverse start order, each stop logged first.
        let events: Vec<DomainEvent> = (0..state.children.len())
            .rev()
            .filter(|&i| state.active(i))
            .map(|i| state.stopped(i, "shutdown"))
            .collect();
        let logged = state.log(events).await;
        for index in (0..state.children.len()).rev() {
            state.halt(index, "shutdown").await;
        }
        logged?;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        SupervisorMsg(request): Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.handle_request(request).await?;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, error) => {
                if let Some(index) = state.position(cell.get_id()) {
                    let reason = render(error.as_ref());
                    state
                        .on_exit(
                            index,
                            Exit::Failed {
                                reason,
                                error: error.as_ref(),
                            },
                        )
                        .await?;
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                if let Some(index) = state.position(cell.get_id()) {
                    let reason = reason.unwrap_or_else(|| "normal".to_owned());
                    state.on_exit(index, Exit::Normal { reason }).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
