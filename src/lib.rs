//! Strand: an embeddable, event-sourced durable orchestration engine.
//!
//! This facade re-exports the workspace crates and hosts the `strand` CLI's
//! commands: the durable event log ([`eventlog`]), workflow DAGs ([`dag`]),
//! domain events and projections ([`projections`]), the replay engine
//! ([`replay`]) and the durable supervision tree ([`actors`]). The
//! orchestration engine follows (see ARCHITECTURE.md).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand::eventlog::{EventLog, LogOptions, NewEvent};
//!
//! let dir = tempfile::tempdir()?;
//! let log = EventLog::open(dir.path(), LogOptions::default())?;
//! let range = log.append_blocking(vec![NewEvent::new("wf-1", 1, b"hello".to_vec())])?;
//! assert_eq!(range.first.get(), 1);
//! # Ok(())
//! # }
//! ```

pub use strand_actors as actors;
pub use strand_dag as dag;
/// The engine: [`engine::Engine`] and its builder, runs and inputs.
pub use strand_engine as engine;
pub use strand_engine::{controls, detached, views, workflow};
pub use strand_eventlog as eventlog;
pub use strand_projections as projections;
pub use strand_replay as replay;
/// The web layer: the HTTP API over TCP and the control socket.
pub use strand_server as server;
pub use strand_server::socket;

pub mod bench;
pub mod cli;
