//! [`SupervisorRef`]: introspection and control of a running supervisor.

use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{ActorCell, ActorRef, Message, RpcReplyPort};
use strand_projections::{DomainEvent, EventMeta};

use crate::error::{ActorError, Result};
use crate::supervisor::actor::{Request, SupervisorMsg};
use crate::supervisor::handle::ChildHandle;
use crate::supervisor::inspect::{ChildInfo, ChildState};

/// How long introspection waits for a supervisor busy restarting.
const ASK_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle to a running supervisor, for its parent or the embedding
/// program: list, stop and restart children, read a child's state, its
/// history and its health, and get typed handles to call children.
#[derive(Clone, Debug)]
pub struct SupervisorRef {
    name: String,
    actor: ActorRef<SupervisorMsg>,
}

impl SupervisorRef {
    /// A handle to the supervisor `actor`, called `name`.
    pub fn new(name: impl Into<String>, actor: ActorRef<SupervisorMsg>) -> Self {
        Self {
            name: name.into(),
            actor,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actor.
    pub fn actor(&self) -> &ActorRef<SupervisorMsg> {
        &self.actor
    }

    async fn ask<R: Send + 'static>(
        &self,
        build: impl FnOnce(RpcReplyPort<R>) -> Request,
    ) -> Result<R> {
        match self
            .actor
            .call(|reply| SupervisorMsg(build(reply)), Some(ASK_TIMEOUT))
            .await
        {
            Ok(CallResult::Success(answer)) => Ok(answer),
            Ok(CallResult::Timeout) => Err(ActorError::Timeout {
                actor: self.name.clone(),
                timeout_ms: u64::try_from(ASK_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            }),
            Ok(CallResult::SenderError) | Err(_) => Err(ActorError::NotRunning {
                actor: self.name.clone(),
            }),
        }
    }

    /// Every child in start order, with its health.
    ///
    /// # Errors
    /// The supervisor is not running.
    pub async fn children(&self) -> Result<Vec<ChildInfo>> {
        self.ask(Request::Children).await
    }

    /// Stop a child (logged first); it stays stopped.
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`]; the log's errors.
    pub async fn stop_child(&self, child: &str) -> Result<()> {
        let child = child.to_owned();
        self.ask(|reply| Request::StopChild(child, reply)).await?
    }

    /// Stop and start a child again (logged first; not a failure, so not
    /// counted against the restart intensity).
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`]; the log's errors.
    pub async fn restart_child(&self, child: &str) -> Result<()> {
        let child = child.to_owned();
        self.ask(|reply| Request::RestartChild(child, reply))
            .await?
    }

    /// A running child's state.
    ///
    /// # Errors
    /// [`ActorError::NotInspectable`], [`ActorError::NotRunning`].
    pub async fn child_state(&self, child: &str) -> Result<ChildState> {
        let child = child.to_owned();
        self.ask(|reply| Request::ChildState(child, reply)).await?
    }

    /// A child's event history: its own stream, or (for a child without
    /// one) what this supervisor logged about it.
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`]; the log's errors.
    pub async fn child_history(&self, child: &str) -> Result<Vec<(EventMeta, DomainEvent)>> {
        let child = child.to_owned();
        self.ask(|reply| Request::History(child, reply)).await?
    }

    /// A typed handle to call `child`, whose messages are `M`.
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`].
    pub async fn child<M: Message>(&self, child: &str) -> Result<ChildHandle<M>> {
        let name = child.to_owned();
        self.ask(|reply| Request::Slot(name, reply))
            .await?
            .map(ChildHandle::new)
            .ok_or_else(|| ActorError::UnknownChild {
                supervisor: self.name.clone(),
                child: child.to_owned(),
            })
    }

    /// The current incarnation of `child` as an untyped cell (to kill it,
    /// or wait on it), or `None` while it is down.
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`].
    pub async fn child_cell(&self, child: &str) -> Result<Option<ActorCell>> {
        let name = child.to_owned();
        self.ask(|reply| Request::Slot(name, reply))
            .await?
            .map(|slot| slot.cell())
            .ok_or_else(|| ActorError::UnknownChild {
                supervisor: self.name.clone(),
                child: child.to_owned(),
            })
    }

    /// The handle of a child that is itself a supervisor.
    ///
    /// # Errors
    /// [`ActorError::UnknownChild`], [`ActorError::NotRunning`].
    pub async fn supervisor(&self, child: &str) -> Result<SupervisorRef> {
        let handle = self.child::<SupervisorMsg>(child).await?;
        let actor = handle.actor().ok_or_else(|| ActorError::NotRunning {
            actor: child.to_owned(),
        })?;
        Ok(SupervisorRef::new(child, actor))
    }
}
