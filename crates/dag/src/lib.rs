//! Strand's workflow DAG: beads (tasks) and the dependencies between them.
//!
//! A [`WorkflowDag`] is the scheduler's source of truth for what may run
//! next. An edge `a -> b` means `a` must finish before `b`; it is either
//! [`DependencyType::Blocking`] (gates readiness) or
//! [`DependencyType::PreferredOrder`] (only shapes the order).
//!
//! The crate is pure: no I/O, no clock, no randomness, and every listing it
//! returns is in a deterministic order. It offers
//!
//! - building and editing: [`WorkflowDag::add_node`], [`WorkflowDag::add_edge`], ...;
//! - structure: dependencies, dependents, ancestors, descendants, roots, leaves,
//!   [`subgraph`](WorkflowDag::subgraph), [`upstream`](WorkflowDag::upstream);
//! - readiness: [`WorkflowDag::ready_nodes`] for one question, and
//!   [`ReadyTracker`] for a scheduler completing beads one by one;
//! - ordering: petgraph's topological order and a deterministic Kahn order;
//! - validation: self-loops, cycles ([`WorkflowDag::find_cycles`]), connectivity;
//! - the [`critical path`](WorkflowDag::critical_path) under per-bead weights;
//! - export to Graphviz DOT, Mermaid and JSON with layout hints;
//! - serde, as a plain node list and edge list that is re-validated on the way in.
//!
//! # Example
//!
//! ```
//! use std::collections::{BTreeMap, BTreeSet};
//! use strand_dag::{BeadId, DependencyType, ReadyTracker, WorkflowDag};
//!
//! # fn main() -> Result<(), strand_dag::DagError> {
//! let (extract, transform, load) = (BeadId::from("extract"), BeadId::from("transform"), BeadId::from("load"));
//! let mut dag = WorkflowDag::new();
//! for id in [&extract, &transform, &load] {
//!     dag.add_node(id.clone())?;
//! }
//! dag.add_edge(&extract, &transform, DependencyType::Blocking)?;
//! dag.add_edge(&transform, &load, DependencyType::Blocking)?;
//! dag.validate()?;
//!
//! // Only `extract` can run at first.
//! let completed = BTreeSet::new();
//! assert_eq!(dag.ready_nodes(&completed), BTreeSet::from([extract.clone()]));
//!
//! // A scheduler follows completions incrementally.
//! let mut tracker = ReadyTracker::new(&dag, &completed);
//! assert_eq!(tracker.complete(&extract)?, vec![transform.clone()]);
//!
//! // The heaviest chain, weights in milliseconds.
//! let weights = BTreeMap::from([(extract.clone(), 100), (transform.clone(), 250), (load, 50)]);
//! let path = dag.critical_path(&weights)?;
//! assert_eq!(path.total_weight, 400);
//! assert_eq!(path.path.first(), Some(&extract));
//! # Ok(())
//! # }
//! ```

mod critical_path;
mod cycles;
mod dag;
mod dense;
mod error;
mod export;
mod id;
mod layout;
mod order;
mod readiness;
mod serde_impl;
mod tracker;
mod traversal;
mod validate;

pub use critical_path::{BeadWeights, CriticalPath};
pub use cycles::MAX_REPORTED_CYCLES;
pub use dag::WorkflowDag;
pub use error::DagError;
pub use id::{BeadId, DependencyType};
pub use layout::NodeLayout;
pub use readiness::CompletedSet;
pub use tracker::ReadyTracker;
