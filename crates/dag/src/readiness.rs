//! Readiness: which beads may run, given the set of completed ones.

use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasher;

use petgraph::Direction;
use petgraph::visit::EdgeRef;

use crate::{BeadId, DagError, WorkflowDag};

/// A set of completed beads, as the readiness queries read it.
///
/// Implemented for `HashSet<BeadId>` (any hasher) and `BTreeSet<BeadId>`.
/// Ids that are not in the graph are ignored.
pub trait CompletedSet {
    /// Whether the bead has completed.
    fn is_completed(&self, id: &BeadId) -> bool;
}

impl<S: BuildHasher> CompletedSet for HashSet<BeadId, S> {
    fn is_completed(&self, id: &BeadId) -> bool {
        self.contains(id)
    }
}

impl CompletedSet for BTreeSet<BeadId> {
    fn is_completed(&self, id: &BeadId) -> bool {
        self.contains(id)
    }
}

impl WorkflowDag {
    /// Beads that are not completed and whose every blocking dependency is
    /// completed. Preferred-order edges do not gate readiness. O(V + E): a
    /// scheduler that completes beads one by one should use a
    /// [`ReadyTracker`](crate::ReadyTracker) instead of calling this each time.
    pub fn ready_nodes(&self, completed: &impl CompletedSet) -> BTreeSet<BeadId> {
        self.index
            .iter()
            .filter(|(id, node)| !completed.is_completed(id) && self.unblocked(**node, completed))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Beads that are neither completed nor ready: at least one blocking
    /// dependency has not completed.
    pub fn blocked_nodes(&self, completed: &impl CompletedSet) -> BTreeSet<BeadId> {
        self.index
            .iter()
            .filter(|(id, node)| !completed.is_completed(id) && !self.unblocked(**node, completed))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Whether one bead is ready: not completed, every blocking dependency
    /// completed.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn is_ready(&self, id: &BeadId, completed: &impl CompletedSet) -> Result<bool, DagError> {
        let node = self.node(id)?;
        Ok(!completed.is_completed(id) && self.unblocked(node, completed))
    }

    /// Whether every blocking dependency of `node` is completed.
    fn unblocked(
        &self,
        node: petgraph::stable_graph::NodeIndex,
        completed: &impl CompletedSet,
    ) -> bool {
        self.graph
            .edges_directed(node, Direction::Incoming)
            .filter(|edge| edge.weight().is_blocking())
            .all(|edge| {
                self.id_at(edge.source())
                    .is_some_and(|dependency| completed.is_completed(dependency))
            })
    }
}
