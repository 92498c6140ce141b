//! The critical path: the heaviest chain of blocking dependencies.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use crate::dense::Dense;
use crate::order::{Kahn, kahn};
use crate::{BeadId, DagError, WorkflowDag};

/// Per-bead weights (for example estimated durations in milliseconds) read by
/// [`WorkflowDag::critical_path`]. A bead without a weight weighs zero.
///
/// Implemented for `HashMap<BeadId, u64>` (any hasher) and
/// `BTreeMap<BeadId, u64>`.
pub trait BeadWeights {
    /// The weight of a bead; zero when it has none.
    fn weight_of(&self, id: &BeadId) -> u64;
}

impl<S: BuildHasher> BeadWeights for HashMap<BeadId, u64, S> {
    fn weight_of(&self, id: &BeadId) -> u64 {
        self.get(id).copied().unwrap_or(0)
    }
}

impl BeadWeights for BTreeMap<BeadId, u64> {
    fn weight_of(&self, id: &BeadId) -> u64 {
        self.get(id).copied().unwrap_or(0)
    }
}

/// A chain of beads, each a blocking dependency of the next, and its weight.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticalPath {
    /// The beads in dependency order (empty for an empty graph).
    pub path: Vec<BeadId>,
    /// The sum of the beads' weights (saturating at `u64::MAX`).
    pub total_weight: u64,
}

impl CriticalPath {
    /// Whether the bead is on the path.
    pub fn contains(&self, id: &BeadId) -> bool {
        self.path.contains(id)
    }

    /// Whether `from -> to` is one of the path's edges (consecutive beads).
    pub fn contains_edge(&self, from: &BeadId, to: &BeadId) -> bool {
        self.path
            .windows(2)
            .any(|pair| pair.first() == Some(from) && pair.get(1) == Some(to))
    }
}

impl WorkflowDag {
    /// The maximum-weight chain over blocking edges, a missing weight counting
    /// as zero. Among chains of equal weight the one with more beads wins (so
    /// with no weights at all this is the longest chain), then the one that is
    /// found first in [`topological_order_kahn`](Self::topological_order_kahn)
    /// order with the smallest ids. O(V + E) after the ordering.
    ///
    /// # Errors
    ///
    /// [`DagError::CycleDetected`] if the graph has a cycle (of either edge type).
    pub fn critical_path(&self, weights: &impl BeadWeights) -> Result<CriticalPath, DagError> {
        let dense = Dense::new(self);
        let order = match kahn(&dense, |_| true) {
            Kahn::Complete(order) => order,
            Kahn::Stuck(_) => return Err(self.cycle_error()),
        };
        // best[v] = (weight, beads) of the heaviest chain ending at v;
        // previous[v] = the chain's bead before v.
        let n = dense.len();
        let mut best: Vec<(u64, usize)> = vec![(0, 0); n];
        let mut previous: Vec<Option<usize>> = vec![None; n];
        for &node in &order {
            let own = dense.id(node).map_or(0, |id| weights.weight_of(&id));
            let mut chosen: Option<(usize, (u64, usize))> = None;
            for &(dependency, kind) in dense.predecessors(node) {
                if !kind.is_blocking() {
                    continue;
                }
                let candidate = best.get(dependency).copied().unwrap_or_default();
                // Strictly greater: among equals the smallest id (listed first) stays.
                if chosen.is_none_or(|(_, current)| candidate > current) {
                    chosen = Some((dependency, candidate));
                }
            }
            let (weight, beads) = chosen.map_or((0, 0), |(_, chain)| chain);
            if let Some(slot) = best.get_mut(node) {
                *slot = (weight.saturating_add(own), beads + 1);
            }
            if let Some(slot) = previous.get_mut(node) {
                *slot = chosen.map(|(dependency, _)| dependency);
            }
        }
        let mut end: Option<(usize, (u64, usize))> = None;
        for &node in &order {
            let chain = best.get(node).copied().unwrap_or_default();
            if end.is_none_or(|(at, current)| chain > current || (chain == current && node < at)) {
                end = Some((node, chain));
            }
        }
        let Some((end, (total_weight, _))) = end else {
            return Ok(CriticalPath::default());
        };
        let mut path = vec![end];
        let mut at = end;
        while let Some(dependency) = previous.get(at).copied().flatten() {
            path.push(dependency);
            at = dependency;
        }
        path.reverse();
        Ok(CriticalPath {
            path: dense.ids_of(path),
            total_weight,
        })
    }
}
