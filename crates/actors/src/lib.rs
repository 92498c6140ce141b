//! Strand's supervised actor runtime on ractor: durable supervision.
//!
//! Supervisors here work like OTP's (`one_for_one`, `one_for_all`,
//! `rest_for_one`; permanent, transient and temporary children; restart
//! intensity that escalates) with what a durable engine needs on top:
//!
//! - every supervision action is an event on the supervisor's stream,
//!   appended (synced) **before** it takes effect, and the supervisor's
//!   memory (restart window, backoff streaks, breakers) is a fold of that
//!   stream, rebuilt on start: a crash loop across process restarts is
//!   still detected;
//! - per-failure directives (restart, resume, stop, escalate), exponential
//!   backoff with deterministic jitter, and circuit breakers in front of
//!   calls into a failing child;
//! - [`EventStoreActor`], the actors' only path to the log's group-commit
//!   writer, and [`StateManagerActor`], the `StateManager` projection kept
//!   current by following the log;
//! - [`DurableActor`]: an actor whose state is a projection of its own
//!   stream, recovered from its checkpoint plus the stream after it.
//!
//! [`Runtime`] starts the tree of DESIGN.md (its storage branch; the
//! orchestration branches are added by the engine). The guarantees are
//! stated case by case in `docs/supervision.md`.
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand_actors::{Runtime, RuntimeOptions};
//! use strand_projections::{DomainEvent, WorkerId};
//!
//! let dir = tempfile::tempdir()?;
//! let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
//! // Appended through the event store: acknowledged once synced.
//! let appended = runtime
//!     .store()
//!     .append(&[DomainEvent::WorkerSpawned {
//!         worker: WorkerId::from("w1".to_owned()),
//!         labels: vec![],
//!     }])
//!     .await?;
//! // The state manager follows the log: read your own write.
//! runtime.state().wait_applied(appended.range.last).await?;
//! let workers = runtime.state().query(|state| state.workers().len()).await?;
//! assert_eq!(workers, 1);
//! // Reverse start order, a checkpoint on the way out, the log closed last.
//! runtime.shutdown().await?;
//! # Ok(())
//! # }
//! ```

pub mod clock;
mod context;
mod durable;
mod error;
mod history;
pub mod metrics;
pub mod orchestration;
pub mod panic;
pub mod policy;
mod runtime;
mod state_manager;
mod store;
mod supervisor;

pub use context::{Context, ErrorHistory, ErrorRecord};
pub use durable::{Durable, DurableActor, DurableContext, DurableMsg, DurableOptions};
pub use error::{ActorError, Result, RunDifference};
pub use history::{apply_with_log, read_run_history, run_history, stream_before};
pub use runtime::{Runtime, RuntimeOptions, names};
pub use state_manager::{StateManagerActor, StateManagerHandle, StateManagerMsg, StateManagerSlot};
pub use store::{EVENT_STORE, EventStore, EventStoreActor, StoreMsg, decode, encode};
pub use supervisor::{
    ChildContext, ChildHandle, ChildInfo, ChildSpec, ChildState, ChildStatus, Decider, Directive,
    Health, InspectFn, LOST_AT_EXIT, Restart, StartFn, Strategy, Supervisor, SupervisorMsg,
    SupervisorRef, SupervisorSpec, SupervisorState,
};
