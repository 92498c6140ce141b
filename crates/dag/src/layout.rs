//! Layout hints for drawing a graph without a layout engine: a layer per
//! bead (its depth) and a position within the layer.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::dense::Dense;
use crate::order::{Kahn, kahn};
use crate::{BeadId, DependencyType, WorkflowDag};

/// Where to draw one bead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLayout {
    /// The bead.
    pub id: BeadId,
    /// The length of the longest chain of blocking edges from a root to this
    /// bead: roots are on layer 0, and every blocking edge goes to a higher layer.
    pub layer: usize,
    /// The bead's rank within its layer, from 0.
    pub position: usize,
}

impl WorkflowDag {
    /// A layered layout, sorted by `(layer, position)`.
    ///
    /// Layers follow blocking edges only (preferred-order edges may join two
    /// beads of the same layer). Within a layer, beads are ordered by the mean
    /// position of their predecessors on lower layers (the barycenter
    /// heuristic, which keeps edges short and crossings few), then by id.
    /// If blocking edges form a cycle, the beads that cannot be layered are
    /// put on one extra layer after the last.
    pub fn layout(&self) -> Vec<NodeLayout> {
        let dense = Dense::new(self);
        let n = dense.len();
        let (order, stuck) = match kahn(&dense, DependencyType::is_blocking) {
            Kahn::Complete(order) => (order, false),
            Kahn::Stuck(order) => (order, true),
        };
        let mut layer: Vec<Option<usize>> = vec![None; n];
        for &node in &order {
            let depth = dense
                .predecessors(node)
                .iter()
                .filter(|(_, kind)| kind.is_blocking())
                .filter_map(|&(dependency, _)| layer.get(dependency).copied().flatten())
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            if let Some(slot) = layer.get_mut(node) {
                *slot = Some(depth);
            }
        }
        let deepest = layer.iter().flatten().copied().max();
        let last = if stuck {
            deepest.map_or(0, |d| d + 1)
        } else {
            deepest.unwrap_or(0)
        };
        let layer: Vec<usize> = layer.into_iter().map(|l| l.unwrap_or(last)).collect();

        let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); if n == 0 { 0 } else { last + 1 }];
        for (node, &l) in layer.iter().enumerate() {
            if let Some(list) = by_layer.get_mut(l) {
                list.push(node);
            }
        }
        let mut position: Vec<Option<usize>> = vec![None; n];
        let mut out = Vec::with_capacity(n);
        for (l, members) in by_layer.iter_mut().enumerate() {
            // (sum of predecessor positions, number of them) per member.
            let keys: Vec<(usize, (u128, u128))> = members
                .iter()
                .map(|&node| {
                    let placed = dense
                        .predecessors(node)
                        .iter()
                        .filter(|&&(p, _)| layer.get(p).is_some_and(|&pl| pl < l))
                        .filter_map(|&(p, _)| position.get(p).copied().flatten());
                    let (sum, count) =
                        placed.fold((0u128, 0u128), |(s, c), pos| (s + pos as u128, c + 1));
                    (node, (sum, count))
                })
                .collect();
            let mut keyed = keys;
            keyed.sort_by(|a, b| compare_barycenters(a.1, b.1).then(a.0.cmp(&b.0)));
            for (rank, &(node, _)) in keyed.iter().enumerate() {
                if let Some(slot) = position.get_mut(node) {
                    *slot = Some(rank);
                }
                if let Some(id) = dense.id(node) {
                    out.push(NodeLayout {
                        id,
                        layer: l,
                        position: rank,
                    });
                }
            }
            members.clear();
        }
        out
    }
}

/// Orders mean positions `sum / count` without floating point; a bead with no
/// placed predecessor (count 0) goes after every bead that has one.
fn compare_barycenters(a: (u128, u128), b: (u128, u128)) -> Ordering {
    match (a.1, b.1) {
        (0, 0) => Ordering::Equal,
        (0, _) => Ordering::Greater,
        (_, 0) => Ordering::Less,
        _ => (a.0 * b.1).cmp(&(b.0 * a.1)),
    }
}
