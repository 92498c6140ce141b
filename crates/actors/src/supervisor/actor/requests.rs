//! A supervisor's requests: introspection (children, health, state,
//! history) and the operator's controls (stop, restart), plus the call
//! outcomes its breakers are fed.

use std::sync::Arc;
use std::time::Duration;

use ractor::RpcReplyPort;
use strand_eventlog::Seq;
use strand_projections::{BreakerState, DomainEvent, EventMeta};

use super::{Exit, Request, SupervisorState};
use crate::error::{ActorError, Result};
use crate::policy::Outcome;
use crate::store::decode;
use crate::supervisor::inspect::{ChildInfo, ChildState, ChildStatus, Health};

impl SupervisorState {
    fn info(&self) -> Vec<ChildInfo> {
        let now = self.now_ms();
        self.children
            .iter()
            .map(|child| {
                let memory = self.memory.children.get(&child.spec.name);
                ChildInfo {
                    name: child.spec.name.clone(),
                    restart: child.spec.restart,
                    is_supervisor: child.is_supervisor,
                    health: Health {
                        status: child.status,
                        errors: memory.map_or(0, |m| m.errors),
                        restarts: memory.map_or(0, |m| m.restarts),
                        last_error: memory.and_then(|m| m.last_error.clone()),
                        uptime: (child.status == ChildStatus::Running).then(|| {
                            Duration::from_millis(now.saturating_sub(child.started_at_ms))
                        }),
                        breaker: memory.map_or(BreakerState::Closed, |m| m.breaker.state()),
                        quarantined: memory.map(|m| m.quarantined.clone()).unwrap_or_default(),
                    },
                }
            })
            .collect()
    }

    /// A call outcome reported by a handle: feed the breaker.
    async fn call_outcome(&mut self, index: usize, ok: bool) -> Result<()> {
        let name = self.child_name(index);
        let Some(config) = self.children.get(index).and_then(|c| c.spec.breaker) else {
            return Ok(());
        };
        let outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let memory = self.memory.child(&name);
        if let Some(to) = memory.breaker.on_outcome(&config, outcome) {
            let event = DomainEvent::BreakerChanged {
                supervisor: self.name.clone(),
                child: name,
                state: to,
            };
            self.log(vec![event]).await
        } else {
            memory.breaker.count(outcome);
            Ok(())
        }
    }

    pub(super) async fn handle_request(&mut self, request: Request) -> Result<()> {
        match request {
            Request::Children(reply) => {
                let _ = reply.send(self.info());
            }
            Request::Slot(name, reply) => {
                let slot = self
                    .named(&name)
                    .ok()
                    .and_then(|i| self.children.get(i))
                    .map(|c| Arc::clone(&c.slot));
                let _ = reply.send(slot);
            }
            Request::StopChild(name, reply) => {
                let outcome = self.stop_child(&name).await;
                let _ = reply.send(outcome);
            }
            Request::RestartChild(name, reply) => {
                let outcome = self.restart_child(&name).await;
                let _ = reply.send(outcome);
            }
            Request::ChildState(name, reply) => self.child_state(&name, reply),
            Request::History(name, reply) => self.history(&name, reply),
            Request::RestartDue {
                plan,
                children,
                announce,
            } => {
                let due: Vec<usize> = children
                    .into_iter()
                    .filter(|&i| self.children.get(i).is_some_and(|c| c.plan == Some(plan)))
                    .collect();
                let events = announce
                    .iter()
                    .filter(|i| due.contains(i))
                    .map(|&i| self.started(i))
                    .collect();
                self.log(events).await?;
                for index in due {
                    self.spawn(index).await;
                }
            }
            Request::HalfOpenDue { child, plan } => {
                let current = self
                    .children
                    .get(child)
                    .is_some_and(|c| c.breaker_plan == Some(plan));
                let name = self.child_name(child);
                if current && self.memory.child(&name).breaker.state() == BreakerState::Open {
                    let event = DomainEvent::BreakerChanged {
                        supervisor: self.name.clone(),
                        child: name,
                        state: BreakerState::HalfOpen,
                    };
                    self.log(vec![event]).await?;
                }
            }
            Request::StartFailed {
                child,
                reason,
                poison,
            } => {
                let error = match poison {
                    Some((stream, seq)) => ActorError::PoisonEvent {
                        stream,
                        seq,
                        reason: reason.clone(),
                    },
                    None => ActorError::StartFailed {
                        child: self.child_name(child),
                        reason: reason.clone(),
                    },
                };
                self.on_exit(
                    child,
                    Exit::Failed {
                        reason,
                        error: &error,
                    },
                )
                .await?;
            }
            Request::CallOutcome { child, ok } | Request::TrialOutcome { child, ok } => {
                self.call_outcome(child, ok).await?;
            }
        }
        Ok(())
    }

    async fn stop_child(&mut self, name: &str) -> Result<()> {
        let index = self.named(name)?;
        if self.active(index) {
            self.log(vec![self.stopped(index, "stopped on request")])
                .await?;
            self.halt(index, "stopped on request").await;
        }
        Ok(())
    }

    /// An operator's restart: not a failure, so not counted.
    async fn restart_child(&mut self, name: &str) -> Result<()> {
        let index = self.named(name)?;
        let mut events = Vec::new();
        if self.active(index) {
            events.push(self.stopped(index, "restart requested"));
        }
        events.push(self.started(index));
        self.log(events).await?;
        self.halt(index, "restart requested").await;
        self.spawn(index).await;
        Ok(())
    }

    fn child_state(&self, name: &str, reply: RpcReplyPort<Result<ChildState>>) {
        let found = self.named(name).and_then(|i| {
            let child = self
                .children
                .get(i)
                .ok_or_else(|| ActorError::UnknownChild {
                    supervisor: self.name.clone(),
                    child: name.to_owned(),
                })?;
            let inspect = child
                .spec
                .inspect
                .clone()
                .ok_or_else(|| ActorError::NotInspectable {
                    child: name.to_owned(),
                })?;
            let cell = child.cell.clone().ok_or_else(|| ActorError::NotRunning {
                actor: name.to_owned(),
            })?;
            Ok((inspect, cell))
        });
        match found {
            Ok((inspect, cell)) => {
                tokio::spawn(async move {
                    let _ = reply.send(inspect(cell).await);
                });
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// A child's history: its own stream when it has one, else what this
    /// supervisor logged about it.
    fn history(&self, name: &str, reply: RpcReplyPort<Result<Vec<(EventMeta, DomainEvent)>>>) {
        let stream = match self.named(name) {
            Ok(i) => self.children.get(i).and_then(|c| c.spec.stream.clone()),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let store = self.context.store.clone();
        let (own, about) = match stream {
            Some(stream) => (stream, None),
            None => (self.stream.clone(), Some(name.to_owned())),
        };
        tokio::spawn(async move {
            let events = async {
                let mut out = Vec::new();
                for event in store.read_stream(&own, Seq::FIRST).await? {
                    let (meta, event) = decode(&event)?;
                    let keep = about.as_deref().is_none_or(|child| mentions(&event, child));
                    if keep {
                        out.push((meta, event));
                    }
                }
                Ok(out)
            }
            .await;
            let _ = reply.send(events);
        });
    }
}

fn mentions(event: &DomainEvent, name: &str) -> bool {
    match event {
        DomainEvent::ActorStarted { child, .. }
        | DomainEvent::ActorFailed { child, .. }
        | DomainEvent::ActorRestarted { child, .. }
        | DomainEvent::ActorStopped { child, .. }
        | DomainEvent::RestartBackoffScheduled { child, .. }
        | DomainEvent::BreakerChanged { child, .. } => child == name,
        _ => false,
    }
}
