//! [`WorkflowDag`]: the graph itself, its mutations and its direct queries.

use std::collections::BTreeMap;

use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use crate::{BeadId, DagError, DependencyType};

/// A workflow: beads (nodes) and dependencies (edges).
///
/// An edge `a -> b` means `a` must finish before `b`. Edges are either
/// [`Blocking`](DependencyType::Blocking) (they gate readiness) or
/// [`PreferredOrder`](DependencyType::PreferredOrder) (they only shape the
/// order). Structural queries (dependencies, ancestors, topological orders,
/// cycles, subgraphs) consider both kinds; readiness and the critical path
/// consider only blocking edges.
///
/// The graph may hold a cycle while it is being built (`add_edge` does not
/// search for one); [`validate`](Self::validate), [`has_cycle`](Self::has_cycle)
/// and the orderings report it. Every listing this type returns is in a
/// deterministic order (by [`BeadId`], unless documented otherwise): the crate
/// reads no clock and draws no randomness.
#[derive(Clone, Debug, Default)]
pub struct WorkflowDag {
    /// The petgraph graph. Stable indices, so removing a node does not
    /// renumber the others and `index` stays valid.
    pub(crate) graph: StableDiGraph<BeadId, DependencyType>,
    /// Bead id -> node index, sorted by id (the source of every sorted listing).
    pub(crate) index: BTreeMap<BeadId, NodeIndex>,
}

impl WorkflowDag {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bead with no edges.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeAlreadyExists`] if a bead with this id is already present.
    pub fn add_node(&mut self, id: impl Into<BeadId>) -> Result<(), DagError> {
        let id = id.into();
        if self.index.contains_key(&id) {
            return Err(DagError::NodeAlreadyExists(id));
        }
        let node = self.graph.add_node(id.clone());
        self.index.insert(id, node);
        Ok(())
    }

    /// Adds the edge `from -> to`: `from` must finish before `to`.
    ///
    /// Does not look for cycles (that would make building a graph quadratic);
    /// use [`validate`](Self::validate) once the graph is complete.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if either bead is unknown,
    /// [`DagError::SelfLoopDetected`] if `from == to`, and
    /// [`DagError::EdgeAlreadyExists`] if an edge `from -> to` of any type exists.
    pub fn add_edge(
        &mut self,
        from: &BeadId,
        to: &BeadId,
        kind: DependencyType,
    ) -> Result<(), DagError> {
        let source = self.node(from)?;
        let target = self.node(to)?;
        if source == target {
            return Err(DagError::SelfLoopDetected(from.clone()));
        }
        if self.connected(source, target) {
            return Err(DagError::EdgeAlreadyExists(from.clone(), to.clone()));
        }
        self.graph.add_edge(source, target, kind);
        Ok(())
    }

    /// Whether an edge `source -> target` exists, in O(min(out-degree of
    /// source, in-degree of target)): the two adjacency lists are walked in
    /// lockstep and the shorter one settles it. (`find_edge` walks the whole
    /// out-list, which makes building a graph with a fan-out hub quadratic.)
    fn connected(&self, source: NodeIndex, target: NodeIndex) -> bool {
        let mut outgoing = self.graph.neighbors_directed(source, Direction::Outgoing);
        let mut incoming = self.graph.neighbors_directed(target, Direction::Incoming);
        loop {
            match outgoing.next() {
                None => return false,
                Some(next) if next == target => return true,
                Some(_) => {}
            }
            match incoming.next() {
                None => return false,
                Some(previous) if previous == source => return true,
                Some(_) => {}
            }
        }
    }

    /// Removes a bead and every edge into or out of it.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn remove_node(&mut self, id: &BeadId) -> Result<(), DagError> {
        let node = self
            .index
            .remove(id)
            .ok_or_else(|| DagError::NodeNotFound(id.clone()))?;
        self.graph.remove_node(node);
        Ok(())
    }

    /// Removes the edge `from -> to`.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if either bead is unknown and
    /// [`DagError::EdgeNotFound`] if there is no such edge.
    pub fn remove_edge(&mut self, from: &BeadId, to: &BeadId) -> Result<(), DagError> {
        let source = self.node(from)?;
        let target = self.node(to)?;
        let edge = self
            .graph
            .find_edge(source, target)
            .ok_or_else(|| DagError::EdgeNotFound(from.clone(), to.clone()))?;
        self.graph.remove_edge(edge);
        Ok(())
    }

    /// Number of beads.
    pub fn node_count(&self) -> usize {
        self.index.len()
    }

    /// Number of edges, of both types.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Whether there are no beads.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether the bead is a node of the graph.
    pub fn contains(&self, id: &BeadId) -> bool {
        self.index.contains_key(id)
    }

    /// The type of the edge `from -> to`, if there is one.
    pub fn edge(&self, from: &BeadId, to: &BeadId) -> Option<DependencyType> {
        let source = *self.index.get(from)?;
        let target = *self.index.get(to)?;
        let edge = self.graph.find_edge(source, target)?;
        self.graph.edge_weight(edge).copied()
    }

    /// Every bead, sorted by id.
    pub fn nodes(&self) -> impl Iterator<Item = &BeadId> + '_ {
        self.index.keys()
    }

    /// Every edge as `(from, to, type)`, sorted by `(from, to)`.
    pub fn edges(&self) -> Vec<(&BeadId, &BeadId, DependencyType)> {
        // Sources in id order (the index is sorted), each one's targets
        // sorted among themselves: no sort of the whole edge list, which
        // a definition hash and every submission's encoding pay for.
        let mut edges = Vec::with_capacity(self.graph.edge_count());
        for (from, &node) in &self.index {
            let start = edges.len();
            edges.extend(
                self.graph
                    .edges_directed(node, Direction::Outgoing)
                    .filter_map(|edge| Some((from, self.id_at(edge.target())?, *edge.weight()))),
            );
            if let Some(targets) = edges.get_mut(start..) {
                targets.sort_unstable_by(|a, b| a.1.cmp(b.1));
            }
        }
        edges
    }

    /// The direct predecessors of a bead (the beads it depends on, over edges
    /// of both types), sorted by id.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn dependencies(&self, id: &BeadId) -> Result<Vec<BeadId>, DagError> {
        self.neighbours(id, Direction::Incoming)
    }

    /// The direct successors of a bead (the beads that depend on it, over
    /// edges of both types), sorted by id.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn dependents(&self, id: &BeadId) -> Result<Vec<BeadId>, DagError> {
        self.neighbours(id, Direction::Outgoing)
    }

    /// Beads with no incoming edge of any type, sorted by id.
    pub fn roots(&self) -> Vec<BeadId> {
        self.without_edges(Direction::Incoming)
    }

    /// Beads with no outgoing edge of any type, sorted by id.
    pub fn leaves(&self) -> Vec<BeadId> {
        self.without_edges(Direction::Outgoing)
    }

    /// The node index of a bead, or `NodeNotFound`.
    pub(crate) fn node(&self, id: &BeadId) -> Result<NodeIndex, DagError> {
        self.index
            .get(id)
            .copied()
            .ok_or_else(|| DagError::NodeNotFound(id.clone()))
    }

    /// The id stored at a node index (present for every index the graph hands out).
    pub(crate) fn id_at(&self, node: NodeIndex) -> Option<&BeadId> {
        self.graph.node_weight(node)
    }

    fn neighbours(&self, id: &BeadId, direction: Direction) -> Result<Vec<BeadId>, DagError> {
        let node = self.node(id)?;
        let mut out: Vec<BeadId> = self
            .graph
            .neighbors_directed(node, direction)
            .filter_map(|n| self.id_at(n).cloned())
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    fn without_edges(&self, direction: Direction) -> Vec<BeadId> {
        self.index
            .iter()
            .filter(|(_, node)| {
                self.graph
                    .neighbors_directed(**node, direction)
                    .next()
                    .is_none()
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Two graphs are equal when they have the same beads and the same edges with
/// the same types, whatever order they were built in.
impl PartialEq for WorkflowDag {
    fn eq(&self, other: &Self) -> bool {
        self.node_count() == other.node_count()
            && self.edge_count() == other.edge_count()
            && self.index.keys().eq(other.index.keys())
            && self.edges() == other.edges()
    }
}

impl Eq for WorkflowDag {}
