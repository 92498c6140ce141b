//! Strand's domain events and projections: state as a fold of the log.
//!
//! Every transition Strand makes is a [`DomainEvent`] appended to the log
//! before it takes effect. A [`Projection`] folds events, in seq order, into
//! in-memory state; after a crash, the state is rebuilt from a checkpoint
//! ([`Projection::snapshot`] / [`Projection::restore`]) plus the log's tail.
//! [`StateManager`] is the projection of workflows, beads, workers,
//! supervision, checkpoints and rate limits that `strand status` shows.
//!
//! The crate is pure: no I/O, no clock, no randomness. Time arrives only
//! inside events, as [`EventMeta::at_ms`]. It offers
//!
//! - the events and their stable kind tags ([`DomainEvent`], [`EventKind`]),
//!   and their byte encoding ([`codec`], the one module that calls bincode);
//! - the [`Projection`] trait and [`StateManager`], which enforces the bead
//!   lifecycle and answers the scheduler's and the CLI's queries;
//! - canonical snapshots and a portable [`StateHash`], so that
//!   "checkpoint + tail == full replay" can be checked byte for byte;
//! - [`synthetic`] histories: valid, seeded event streams of any size for
//!   property tests and benchmarks.
//!
//! # Example
//!
//! ```
//! use strand_dag::{BeadId, WorkflowDag};
//! use strand_projections::{
//!     BeadState, DomainEvent, EventMeta, Projection, StateManager, TaskAction, TaskSpec, WorkerId,
//!     RunId,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (workflow, bead, worker) = (RunId::from("etl"), BeadId::from("extract"), WorkerId::from("w1"));
//! let mut dag = WorkflowDag::new();
//! dag.add_node(bead.clone())?;
//! let task = TaskSpec {
//!     id: bead.clone(),
//!     action: TaskAction::Run("echo extracting".into()),
//!     priority: 0,
//!     retries: 3,
//!     timeout_ms: Some(30_000),
//!     affinity: None,
//! };
//! let events = [
//!     DomainEvent::WorkflowSubmitted { workflow: workflow.clone(), name: "etl".into(), dag: Box::new(dag), tasks: vec![task] },
//!     DomainEvent::BeadReady { workflow: workflow.clone(), bead: bead.clone() },
//!     DomainEvent::BeadScheduled { workflow: workflow.clone(), bead: bead.clone(), worker: worker.clone() },
//!     DomainEvent::BeadStarted { workflow: workflow.clone(), bead: bead.clone(), worker, attempt: 1 },
//! ];
//! let mut state = StateManager::empty();
//! for (seq, event) in (1..).zip(events) {
//!     state.apply(EventMeta { seq, at_ms: 1_700_000_000_000 + seq }, event)?;
//! }
//! assert_eq!(state.bead(&workflow, &bead).map(|b| b.state), Some(BeadState::Running));
//!
//! // A completion for another attempt is refused, and changes nothing.
//! let before = state.state_hash();
//! let stale = DomainEvent::BeadCompleted { workflow, bead, attempt: 2, output: "ok".into() };
//! assert!(state.apply(EventMeta { seq: 5, at_ms: 1_700_000_000_005 }, stale).is_err());
//! assert_eq!(state.state_hash(), before);
//!
//! // Checkpoint and restore: the same state, the same hash.
//! let restored = StateManager::restore(&state.snapshot()?)?;
//! assert_eq!(restored.state_hash(), before);
//! println!("state hash after {} events: {before}", state.events_applied());
//! # Ok(())
//! # }
//! ```

pub mod codec;
mod definition;
mod error;
mod event;
mod hash;
mod ids;
mod kind;
mod lifecycle;
mod output;
mod projection;
mod state;
pub mod synthetic;

pub use definition::DefinitionHash;
pub use error::{ProjectionError, SnapshotDefect, SubmissionDefect};
pub use event::{
    BackoffSpec, BreakerState, DomainEvent, RunSettings, TaskAction, TaskSpec, run_stream,
};
pub use hash::{ParseStateHashError, StateHash};
pub use ids::{RunId, WorkerId};
pub use kind::EventKind;
pub use lifecycle::{BeadState, RunStatus};
pub use output::{APPLICATION_JSON, Output, TEXT_PLAIN};
pub use projection::{EventMeta, Projection, apply_after, fold_in_memory};
pub use state::{
    BeadCounts, BeadRecord, CheckpointRecord, ChildSupervision, EMPTY_INPUT, EscalationRecord,
    FinishedRun, InputDigest, RateLimitCount, Retention, RetentionPolicy, RunEntry, RunRecord,
    RunSummary, RunningBead, SUMMARY_REASON_BYTES, StateManager, SupervisionRecord,
    SupervisorEscalations, WorkerBead, WorkerRecord, WorkerView,
};
/// Re-exported so callers need not depend on `strand-dag` for ids.
pub use strand_dag::{BeadId, DagError, DependencyType, WorkflowDag};
