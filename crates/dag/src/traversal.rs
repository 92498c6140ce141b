//! Transitive queries and subgraphs: ancestors, descendants, upstream.

use std::collections::{BTreeSet, VecDeque};

use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences, VisitMap, Visitable};

use crate::{BeadId, DagError, WorkflowDag};

impl WorkflowDag {
    /// Every bead from which `id` can be reached over edges of either type
    /// (its transitive dependencies), excluding `id` itself.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn ancestors(&self, id: &BeadId) -> Result<BTreeSet<BeadId>, DagError> {
        self.reachable(id, Direction::Incoming)
    }

    /// Every bead reachable from `id` over edges of either type (its
    /// transitive dependents), excluding `id` itself.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn descendants(&self, id: &BeadId) -> Result<BTreeSet<BeadId>, DagError> {
        self.reachable(id, Direction::Outgoing)
    }

    /// The graph restricted to the given beads and the edges among them
    /// (a repeated id counts once).
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] for the first id that is not in the graph.
    pub fn subgraph(&self, ids: &[BeadId]) -> Result<WorkflowDag, DagError> {
        let mut keep = BTreeSet::new();
        for id in ids {
            self.node(id)?;
            keep.insert(id);
        }
        Ok(self.induced(&keep))
    }

    /// `id`, its ancestors and the edges among them: everything that has to
    /// happen, or is ordered, before `id`.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn upstream(&self, id: &BeadId) -> Result<WorkflowDag, DagError> {
        let ancestors = self.ancestors(id)?;
        let mut keep: BTreeSet<&BeadId> = ancestors.iter().collect();
        keep.insert(id);
        Ok(self.induced(&keep))
    }

    /// Breadth-first search from `id` in one direction.
    fn reachable(&self, id: &BeadId, direction: Direction) -> Result<BTreeSet<BeadId>, DagError> {
        let start = self.node(id)?;
        let mut seen = self.graph.visit_map();
        seen.visit(start);
        let mut queue: VecDeque<NodeIndex> = VecDeque::from([start]);
        let mut found = BTreeSet::new();
        while let Some(node) = queue.pop_front() {
            for next in self.graph.neighbors_directed(node, direction) {
                if seen.visit(next) {
                    if let Some(next_id) = self.id_at(next) {
                        found.insert(next_id.clone());
                    }
                    queue.push_back(next);
                }
            }
        }
        Ok(found)
    }

    /// The subgraph induced by `keep` (all ids known to be present).
    fn induced(&self, keep: &BTreeSet<&BeadId>) -> WorkflowDag {
        let mut out = WorkflowDag::new();
        for &id in keep {
            let node = out.graph.add_node(id.clone());
            out.index.insert(id.clone(), node);
        }
        for edge in (&self.graph).edge_references() {
            let (Some(from), Some(to)) = (self.id_at(edge.source()), self.id_at(edge.target()))
            else {
                continue;
            };
            if let (Some(&source), Some(&target)) = (out.index.get(from), out.index.get(to)) {
                out.graph.add_edge(source, target, *edge.weight());
            }
        }
        out
    }
}
