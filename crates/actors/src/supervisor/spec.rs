//! What a supervisor is told: its strategy, limits and children.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use ractor::{Actor, ActorCell, SpawnErr};

use crate::context::Context;
use crate::error::Result;
use crate::policy::{Backoff, BreakerConfig, Intensity};
use crate::supervisor::inspect::ChildState;

/// Which children restart when one fails (OTP's strategies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// Every child: the others are stopped (in reverse start order), then
    /// all start again in order.
    OneForAll,
    /// The failed child and every child started after it.
    RestForOne,
}

impl Strategy {
    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneForOne => "one_for_one",
            Self::OneForAll => "one_for_all",
            Self::RestForOne => "rest_for_one",
        }
    }
}

/// When a child that exited is started again (OTP's restart types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Always, also after a normal exit.
    Permanent,
    /// Only after a failure.
    Transient,
    /// Never.
    Temporary,
}

/// What a supervisor does about one failure of a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    /// Restart it (and others, by strategy), counted against the restart
    /// intensity and backed off.
    Restart,
    /// Start it again at once with its durable state, without counting the
    /// failure against the intensity, backoff or breaker: for failures the
    /// child's own state does not cause. (A ractor actor whose handler
    /// failed cannot keep running, so resuming is a fresh incarnation that
    /// recovers its state from the log, as every Strand actor does.)
    Resume,
    /// Leave it stopped.
    Stop,
    /// Give up: stop every child and fail, so the parent decides.
    Escalate,
}

/// Chooses the directive for a failure: `(child, error)`. Panics arrive as
/// ractor's panic error; a typed error can be downcast.
pub type Decider = Arc<dyn Fn(&str, &(dyn Error + 'static)) -> Directive + Send + Sync>;

/// Starts one incarnation of a child, linked to the supervisor.
pub type StartFn =
    Arc<dyn Fn(ChildContext) -> BoxFuture<'static, Result<ActorCell, SpawnErr>> + Send + Sync>;

/// Reads a running child's state (see [`ChildState`]).
pub type InspectFn = Arc<dyn Fn(ActorCell) -> BoxFuture<'static, Result<ChildState>> + Send + Sync>;

/// What a child's start function receives.
#[derive(Clone, Debug)]
pub struct ChildContext {
    /// The supervisor to link to (`spawn_linked(.., supervisor)`).
    pub supervisor: ActorCell,
    /// The tree's shared context.
    pub context: Context,
    /// Seqs of its stream its supervisor quarantined: a durable child never
    /// applies them.
    pub quarantined: Vec<u64>,
}

/// One child of a supervisor.
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) name: String,
    pub(crate) start: StartFn,
    pub(crate) restart: Restart,
    pub(crate) decider: Option<Decider>,
    pub(crate) breaker: Option<BreakerConfig>,
    pub(crate) stream: Option<String>,
    pub(crate) inspect: Option<InspectFn>,
    pub(crate) is_supervisor: bool,
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("breaker", &self.breaker)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl ChildSpec {
    /// A permanent child started by `start`.
    pub fn new(
        name: impl Into<String>,
        start: impl Fn(ChildContext) -> BoxFuture<'static, Result<ActorCell, SpawnErr>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            start: Arc::new(start),
            restart: Restart::Permanent,
            decider: None,
            breaker: None,
            stream: None,
            inspect: None,
            is_supervisor: false,
        }
    }

    /// A permanent child: the actor `make` builds from the tree's context,
    /// spawned unnamed (names are process-global) and linked.
    pub fn actor<A, F>(name: impl Into<String>, make: F) -> Self
    where
        A: Actor,
        F: Fn(&Context) -> (A, A::Arguments) + Send + Sync + 'static,
    {
        Self::new(name, move |cx: ChildContext| {
            let (actor, args) = make(&cx.context);
            Box::pin(async move {
                let (actor, _) = Actor::spawn_linked(None, actor, args, cx.supervisor).await?;
                Ok(actor.get_cell())
            })
        })
    }

    /// Its name, unique under its supervisor.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Set the restart type.
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Choose directives per failure (default: always restart).
    #[must_use]
    pub fn decider(
        mut self,
        decider: impl Fn(&str, &(dyn Error + 'static)) -> Directive + Send + Sync + 'static,
    ) -> Self {
        self.decider = Some(Arc::new(decider));
        self
    }

    /// Put a circuit breaker in front of calls into the child.
    #[must_use]
    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = Some(config);
        self
    }

    /// The child's own stream: its event history.
    #[must_use]
    pub fn stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = Some(stream.into());
        self
    }

    /// How to read the child's state while it runs.
    #[must_use]
    pub fn inspect(mut self, inspect: InspectFn) -> Self {
        self.inspect = Some(inspect);
        self
    }
}

/// A supervisor: its name (its stream is `supervisor/<name>`), strategy,
/// restart intensity, backoff, and children in start order.
#[derive(Clone, Debug)]
pub struct SupervisorSpec {
    pub(crate) name: String,
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Backoff,
    pub(crate) children: Vec<ChildSpec>,
}

impl SupervisorSpec {
    /// A `one_for_one` supervisor with the default intensity (3 restarts in
    /// 5 s) and backoff, and no children yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            strategy: Strategy::OneForOne,
            intensity: Intensity::default(),
            backoff: Backoff::default(),
            children: Vec::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Set the strategy.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Set the restart intensity: at most `max_restarts` within `window`.
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, window: Duration) -> Self {
        self.intensity = Intensity {
            max_restarts,
            window,
        };
        self
    }

    /// Set the restart backoff.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Add a child, started after those added before it.
    #[must_use]
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// This supervisor as a permanent child of another.
    pub fn into_child(self) -> ChildSpec {
        let name = self.name.clone();
        let mut child = ChildSpec::new(name, move |cx: ChildContext| {
            let spec = self.clone();
            Box::pin(async move {
                let (actor, _) = Actor::spawn_linked(
                    None,
                    crate::supervisor::Supervisor,
                    (spec, cx.context),
                    cx.supervisor,
                )
                .await?;
                Ok(actor.get_cell())
            })
        });
        child.is_supervisor = true;
        child
    }
}
