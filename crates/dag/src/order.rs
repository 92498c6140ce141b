//! Topological orders: petgraph's, and a deterministic Kahn order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::dense::Dense;
use crate::{BeadId, DagError, DependencyType, WorkflowDag};

impl WorkflowDag {
    /// A topological order over edges of both types, computed by petgraph
    /// (`petgraph::algo::toposort`, a depth-first order). Every edge `a -> b`
    /// has `a` before `b`. Which valid order is returned is petgraph's choice;
    /// use [`topological_order_kahn`](Self::topological_order_kahn) when the
    /// order itself matters.
    ///
    /// # Errors
    ///
    /// [`DagError::CycleDetected`] naming the nodes of one cycle.
    pub fn topological_order(&self) -> Result<Vec<BeadId>, DagError> {
        match petgraph::algo::toposort(&self.graph, None) {
            Ok(order) => Ok(order
                .into_iter()
                .filter_map(|node| self.id_at(node).cloned())
                .collect()),
            Err(_) => Err(self.cycle_error()),
        }
    }

    /// The deterministic topological order (Kahn's algorithm over edges of
    /// both types): whenever several beads are available, the smallest id
    /// goes first. The same graph always yields the same order, whatever order
    /// it was built in. O((V + E) log V).
    ///
    /// # Errors
    ///
    /// [`DagError::CycleDetected`] naming the nodes of one cycle.
    pub fn topological_order_kahn(&self) -> Result<Vec<BeadId>, DagError> {
        let dense = Dense::new(self);
        match kahn(&dense, |_| true) {
            Kahn::Complete(order) => Ok(dense.ids_of(order)),
            Kahn::Stuck(_) => Err(self.cycle_error()),
        }
    }
}

/// The outcome of Kahn's algorithm.
pub(crate) enum Kahn {
    /// Every node, in a topological order.
    Complete(Vec<usize>),
    /// The order of the nodes that could be placed; the rest lie on or behind
    /// a cycle of the considered edges.
    Stuck(Vec<usize>),
}

/// Kahn's algorithm over the edges whose type `consider` accepts, smallest
/// dense index (= smallest id) first among the available nodes.
pub(crate) fn kahn(dense: &Dense<'_>, consider: impl Fn(DependencyType) -> bool) -> Kahn {
    let n = dense.len();
    let mut in_degree: Vec<usize> = (0..n)
        .map(|i| {
            dense
                .predecessors(i)
                .iter()
                .filter(|(_, kind)| consider(*kind))
                .count()
        })
        .collect();
    let mut available: BinaryHeap<Reverse<usize>> = in_degree
        .iter()
        .enumerate()
        .filter(|(_, degree)| **degree == 0)
        .map(|(i, _)| Reverse(i))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(node)) = available.pop() {
        order.push(node);
        for &(next, kind) in dense.successors(node) {
            if !consider(kind) {
                continue;
            }
            if let Some(degree) = in_degree.get_mut(next) {
                *degree = degree.saturating_sub(1);
                if *degree == 0 {
                    available.push(Reverse(next));
                }
            }
        }
    }
    if order.len() == n {
        Kahn::Complete(order)
    } else {
        Kahn::Stuck(order)
    }
}
