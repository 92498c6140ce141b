//! [`Runtime`]: the supervision tree of DESIGN.md, started in order and shut
//! down in reverse, the log flushed last.
//!
//! ```text
//! universe (one_for_one)
//! ├── storage (one_for_one): event_store, state_manager
//! └── branches added by the embedding program (workflow, queue, reconciler)
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorCell, ActorStatus};
use strand_eventlog::{EventLog, LogOptions};
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::context::{Context, ErrorHistory, ErrorRecord};
use crate::error::{ActorError, Result};
use crate::panic;
use crate::policy::{Backoff, Intensity};
use crate::state_manager::{
    StateManagerActor, StateManagerHandle, StateManagerMsg, StateManagerSlot,
};
use crate::store::{EventStore, EventStoreActor};
use crate::supervisor::{ChildSpec, Directive, Supervisor, SupervisorRef, SupervisorSpec};

/// Names in the tree.
pub mod names {
    /// The root supervisor.
    pub const UNIVERSE: &str = "universe";
    /// The storage supervisor.
    pub const STORAGE: &str = "storage";
    /// The event store actor.
    pub const EVENT_STORE: &str = "event_store";
    /// The state manager actor.
    pub const STATE_MANAGER: &str = "state_manager";
}

/// How the runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// How often the state manager checkpoints (default 60 s).
    pub checkpoint_every: Duration,
    /// The clock for supervision decisions (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// Failures kept in the root's error history (default 128).
    pub error_history: usize,
    /// Restart intensity of the universe and storage supervisors (default 3
    /// in 5 s).
    pub intensity: Intensity,
    /// Restart backoff of the universe and storage supervisors.
    pub backoff: Backoff,
    /// Branches started under the universe after storage, in order.
    pub branches: Vec<ChildSpec>,
    /// Install [`panic::install`] (default true).
    pub panic_hook: bool,
    /// How [`Runtime::open`] opens the log (default [`LogOptions::default`]).
    pub log: LogOptions,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            checkpoint_every: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
            error_history: 128,
            intensity: Intensity::default(),
            backoff: Backoff::default(),
            branches: Vec::new(),
            panic_hook: true,
            log: LogOptions::default(),
        }
    }
}

/// A poisoned log cannot be fixed by a restart: escalate.
fn poison_escalates(_child: &str, error: &(dyn std::error::Error + 'static)) -> Directive {
    match error.downcast_ref::<ActorError>() {
        Some(ActorError::Poisoned) => Directive::Escalate,
        _ => Directive::Restart,
    }
}

/// A running supervision tree over one log.
#[derive(Debug)]
pub struct Runtime {
    root: SupervisorRef,
    storage: SupervisorRef,
    state: StateManagerHandle,
    context: Context,
    task: JoinHandle<()>,
}

impl Runtime {
    /// Open (or create) the log in `dir` and start the tree on it.
    ///
    /// # Errors
    /// The log's open errors; a child that cannot start.
    pub async fn open(dir: impl AsRef<Path>, options: RuntimeOptions) -> Result<Self> {
        let (dir, log_options) = (dir.as_ref().to_owned(), options.log.clone());
        let log = tokio::task::spawn_blocking(move || EventLog::open(dir, log_options))
            .await
            .map_err(|_| ActorError::NotRunning {
                actor: "log open".to_owned(),
            })??;
        Self::start(log, options).await
    }

    /// Start the tree on `log`: the universe, then storage (the event store
    /// first, then the state manager), then each branch in order.
    ///
    /// # Errors
    /// A child that cannot start.
    pub async fn start(log: EventLog, options: RuntimeOptions) -> Result<Self> {
        if options.panic_hook {
            panic::install();
        }
        let store = EventStore::new(log);
        let context = Context {
            store: store.clone(),
            clock: Arc::clone(&options.clock),
            errors: ErrorHistory::new(options.error_history),
            stop_timeout: Duration::from_secs(5),
            state_manager: StateManagerSlot::default(),
        };
        let every = options.checkpoint_every;
        let storage = SupervisorSpec::new(names::STORAGE)
            .intensity(options.intensity.max_restarts, options.intensity.window)
            .backoff(options.backoff)
            .child(
                ChildSpec::actor(names::EVENT_STORE, |cx: &Context| {
                    (EventStoreActor, cx.store.clone())
                })
                .decider(poison_escalates),
            )
            .child(
                ChildSpec::actor(names::STATE_MANAGER, move |cx: &Context| {
                    (
                        StateManagerActor,
                        (cx.store.clone(), every, cx.state_manager.clone()),
                    )
                })
                .decider(poison_escalates)
                .inspect(Arc::new(|cell: ActorCell| {
                    Box::pin(async move {
                        let actor: ractor::ActorRef<StateManagerMsg> = cell.into();
                        match actor
                            .call(StateManagerMsg::Inspect, Some(Duration::from_secs(30)))
                            .await
                        {
                            Ok(ractor::rpc::CallResult::Success(state)) => Ok(state),
                            _ => Err(ActorError::NotRunning {
                                actor: names::STATE_MANAGER.to_owned(),
                            }),
                        }
                    })
                })),
            );
        let mut universe = SupervisorSpec::new(names::UNIVERSE)
            .intensity(options.intensity.max_restarts, options.intensity.window)
            .backoff(options.backoff)
            .child(storage.into_child().decider(poison_escalates));
        for branch in options.branches {
            universe = universe.child(branch);
        }
        let (root, task) = Actor::spawn(None, Supervisor, (universe, context.clone()))
            .await
            .map_err(|e| ActorError::StartFailed {
                child: names::UNIVERSE.to_owned(),
                reason: e.to_string(),
            })?;
        let root = SupervisorRef::new(names::UNIVERSE, root);
        let storage = root.supervisor(names::STORAGE).await?;
        let state =
            StateManagerHandle::new(root.clone(), storage.child(names::STATE_MANAGER).await?);
        Ok(Self {
            root,
            storage,
            state,
            context,
            task,
        })
    }

    /// The root supervisor.
    pub fn root(&self) -> &SupervisorRef {
        &self.root
    }

    /// The storage supervisor.
    pub fn storage(&self) -> &SupervisorRef {
        &self.storage
    }

    /// The state manager.
    pub fn state(&self) -> &StateManagerHandle {
        &self.state
    }

    /// The event store handle.
    pub fn store(&self) -> &EventStore {
        &self.context.store
    }

    /// The tree's shared context (for starting children of one's own).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The root's bounded error history, oldest first.
    pub fn errors(&self) -> Vec<ErrorRecord> {
        self.context.errors.snapshot()
    }

    /// True while the root supervisor runs (false once it escalated).
    pub fn is_running(&self) -> bool {
        matches!(
            self.root.actor().get_status(),
            ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
        )
    }

    /// Wait until the root supervisor ends (it escalated, or was stopped).
    pub async fn wait(&self) {
        let _ = self.root.actor().get_cell().wait(None).await;
    }

    /// Stop the tree in reverse start order (each stop logged, the state
    /// manager checkpointing on its way out), then close the log: flushed
    /// last, after every actor that could write to it is gone.
    ///
    /// # Errors
    /// The log's close errors (a poisoned log).
    pub async fn shutdown(self) -> Result<()> {
        let _ = self
            .root
            .actor()
            .stop_and_wait(Some("shutdown".to_owned()), None)
            .await;
        let _ = self.task.await;
        self.context.store.log().close().await?;
        Ok(())
    }
}
