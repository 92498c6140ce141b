//! [`DagError`], the one error type of this crate.

use crate::BeadId;

/// Everything that can go wrong when building or querying a [`WorkflowDag`](crate::WorkflowDag).
///
/// Variants carry the ids involved so callers can branch on them and report
/// them without parsing a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DagError {
    /// The bead is not a node of the graph.
    #[error("bead `{0}` is not in the workflow graph")]
    NodeNotFound(BeadId),
    /// A node with this id already exists.
    #[error("bead `{0}` is already in the workflow graph")]
    NodeAlreadyExists(BeadId),
    /// An edge between these two beads (in this direction) already exists.
    #[error("an edge `{0}` -> `{1}` already exists")]
    EdgeAlreadyExists(BeadId, BeadId),
    /// There is no edge between these two beads (in this direction).
    #[error("there is no edge `{0}` -> `{1}`")]
    EdgeNotFound(BeadId, BeadId),
    /// An edge from a bead to itself was requested or found.
    #[error("bead `{0}` depends on itself")]
    SelfLoopDetected(BeadId),
    /// The graph has a cycle; the ids are the nodes of one cycle in edge
    /// order, starting at the smallest id (the last one has an edge back to the
    /// first).
    #[error("dependency cycle: {}", format_cycle(.0))]
    CycleDetected(Vec<BeadId>),
    /// The operation does not make sense in the current state (for example,
    /// completing a bead twice in a [`ReadyTracker`](crate::ReadyTracker)).
    #[error("invalid operation: {0}")]
    InvalidOperation(String),
}

/// `a -> b -> c -> a`: the cycle written out with its closing edge.
fn format_cycle(cycle: &[BeadId]) -> String {
    let mut out = String::new();
    for id in cycle {
        out.push_str(id.as_str());
        out.push_str(" -> ");
    }
    match cycle.first() {
        Some(first) => out.push_str(first.as_str()),
        None => out.push_str("(empty)"),
    }
    out
}
