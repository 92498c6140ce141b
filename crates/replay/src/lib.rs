//! Strand's replay engine: every projection is a fold of the log.
//!
//! [`ReplayEngine`] rebuilds a [`Projection`](strand_projections::Projection)
//! from its newest valid checkpoint plus every later event, falling back to
//! an older checkpoint generation, then to a full replay, when a checkpoint
//! fails its checksum, has an unknown version or is refused by the
//! projection; the [`ReplayReport`] says which, how many events were
//! replayed, how fast, and the resulting state hash. [`ReplayEngine::verify`]
//! also replays from seq 1 and compares the hashes (invariant 5:
//! checkpoint(n) + events after n == full replay).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand_eventlog::{EventLog, LogOptions, NewEvent};
//! use strand_projections::{DomainEvent, StateManager, WorkerId, codec};
//! use strand_replay::ReplayEngine;
//!
//! let dir = tempfile::tempdir()?;
//! let log = EventLog::open(dir.path(), LogOptions::default())?;
//! let event = DomainEvent::WorkerSpawned { worker: WorkerId::from("w1"), labels: vec![] };
//! log.append_blocking(vec![NewEvent::new(event.stream(), event.kind().as_u16(), codec::encode(&event)?)])?;
//!
//! let engine = ReplayEngine::new(log);
//! let first = engine.rebuild::<StateManager>(&mut |_| {})?;
//! engine.checkpoint(&first.projection)?;
//! let verified = engine.verify::<StateManager>(&mut |_| {})?;
//! assert_eq!(verified.report.checkpoint.map(|c| c.seq), Some(1));
//! assert_eq!(verified.report.state_hash, first.report.state_hash);
//! # Ok(())
//! # }
//! ```

mod engine;
mod error;
mod report;
mod trim;

pub use engine::{ReplayEngine, Replayed};
pub use error::ReplayError;
pub use report::{Progress, ReplayReport, SkipReason, SkippedGeneration, Start, UsedCheckpoint};
pub use trim::{StateHold, TrimBounds, TrimLimit, TrimPlan};
