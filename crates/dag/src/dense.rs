//! A dense, index-based snapshot of a [`WorkflowDag`] for the whole-graph
//! algorithms (Kahn, cycles, critical path, layout, readiness tracking).
//!
//! Node `i` is the bead with the `i`-th smallest id, so "smallest index" and
//! "smallest id" coincide and sorted output needs no extra sort.

use petgraph::visit::NodeIndexable;

use crate::{BeadId, DependencyType, WorkflowDag};

/// Adjacency lists over dense indices; both directions, edge types kept.
pub(crate) struct Dense<'a> {
    /// Dense index -> bead id, sorted ascending.
    pub(crate) ids: Vec<&'a BeadId>,
    /// Successors of each node with the edge type, sorted by index.
    pub(crate) succ: Vec<Vec<(usize, DependencyType)>>,
    /// Predecessors of each node with the edge type, sorted by index.
    pub(crate) pred: Vec<Vec<(usize, DependencyType)>>,
}

impl<'a> Dense<'a> {
    /// Snapshots the graph. O(V + E log d).
    pub(crate) fn new(dag: &'a WorkflowDag) -> Self {
        let n = dag.index.len();
        // Petgraph node index -> dense index; holes (removed nodes) stay None.
        let mut rank: Vec<Option<usize>> = vec![None; dag.graph.node_bound()];
        let mut ids = Vec::with_capacity(n);
        for (position, (id, node)) in dag.index.iter().enumerate() {
            if let Some(slot) = rank.get_mut(node.index()) {
                *slot = Some(position);
            }
            ids.push(id);
        }
        let mut succ = vec![Vec::new(); n];
        let mut pred = vec![Vec::new(); n];
        for edge in dag.graph.edge_indices() {
            let Some((source, target)) = dag.graph.edge_endpoints(edge) else {
                continue;
            };
            let Some(&kind) = dag.graph.edge_weight(edge) else {
                continue;
            };
            let from = rank.get(source.index()).copied().flatten();
            let to = rank.get(target.index()).copied().flatten();
            if let (Some(from), Some(to)) = (from, to) {
                if let Some(list) = succ.get_mut(from) {
                    list.push((to, kind));
                }
                if let Some(list) = pred.get_mut(to) {
                    list.push((from, kind));
                }
            }
        }
        for list in succ.iter_mut().chain(pred.iter_mut()) {
            list.sort_unstable();
        }
        Self { ids, succ, pred }
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The bead at a dense index, cloned.
    pub(crate) fn id(&self, index: usize) -> Option<BeadId> {
        self.ids.get(index).map(|id| (*id).clone())
    }

    /// Successors of `index` (empty for an out-of-range index).
    pub(crate) fn successors(&self, index: usize) -> &[(usize, DependencyType)] {
        self.succ.get(index).map_or(&[], Vec::as_slice)
    }

    /// Predecessors of `index` (empty for an out-of-range index).
    pub(crate) fn predecessors(&self, index: usize) -> &[(usize, DependencyType)] {
        self.pred.get(index).map_or(&[], Vec::as_slice)
    }

    /// Dense indices -> owned bead ids, skipping any out-of-range index.
    pub(crate) fn ids_of(&self, indices: impl IntoIterator<Item = usize>) -> Vec<BeadId> {
        indices.into_iter().filter_map(|i| self.id(i)).collect()
    }
}
