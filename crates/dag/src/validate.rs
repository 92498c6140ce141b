//! Whole-graph validation: self-loops, cycles, connectivity.

use std::collections::VecDeque;

use petgraph::visit::{EdgeRef, IntoEdgeReferences, VisitMap, Visitable};

use crate::{DagError, WorkflowDag};

impl WorkflowDag {
    /// Checks that the graph is a DAG: no edge from a bead to itself and no
    /// cycle over edges of either type.
    ///
    /// # Errors
    ///
    /// [`DagError::SelfLoopDetected`] for the smallest bead with an edge to
    /// itself, otherwise [`DagError::CycleDetected`] naming one cycle.
    pub fn validate(&self) -> Result<(), DagError> {
        let self_loop = (&self.graph)
            .edge_references()
            .filter(|edge| edge.source() == edge.target())
            .filter_map(|edge| self.id_at(edge.source()))
            .min();
        if let Some(id) = self_loop {
            return Err(DagError::SelfLoopDetected(id.clone()));
        }
        if self.has_cycle() {
            return Err(self.cycle_error());
        }
        Ok(())
    }

    /// Whether the graph is weakly connected: every bead reaches every other
    /// when edge directions are ignored. An empty graph and a single bead are
    /// connected.
    pub fn is_connected(&self) -> bool {
        let Some(&start) = self.index.values().next() else {
            return true;
        };
        let mut seen = self.graph.visit_map();
        seen.visit(start);
        let mut reached = 1;
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for next in self.graph.neighbors_undirected(node) {
                if seen.visit(next) {
                    reached += 1;
                    queue.push_back(next);
                }
            }
        }
        reached == self.node_count()
    }
}
