//! [`BeadIndex`]: the static part of a workflow's derived data: bead id ->
//! position, and each bead's blocking dependents.
//!
//! Built once, at submission or restore, and read on every bead event, so it
//! is laid out for the cache: the ids live in one arena, and the id -> position
//! table is an open-addressing table of 8-byte slots (a hash tag and the
//! position), so a lookup reads one slot and one arena slice instead of
//! chasing a heap pointer per key. With 10,000 beads the whole index is
//! about 250 KiB.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use strand_dag::WorkflowDag;

/// Bead id -> position (its rank in id order) and blocking dependents.
#[derive(Clone, Debug, Default)]
pub(crate) struct BeadIndex {
    /// Every bead id, concatenated in position order.
    arena: String,
    /// `ends[i]`: the end offset in `arena` of the id at position `i`.
    ends: Vec<usize>,
    /// Linear-probing table: 0 is empty, else `(tag << 32) | (position + 1)`,
    /// where `tag` is the high half of the id's hash. Never more than 2/3 full.
    slots: Vec<u64>,
    /// Blocking dependents of position `i`: `dependents[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<u32>,
    /// Concatenated blocking-dependent lists (positions).
    dependents: Vec<u32>,
}

/// The hash of a bead id: deterministic (unseeded) and fast.
fn hash(id: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(id.as_bytes());
    hasher.finish()
}

impl BeadIndex {
    /// The most beads one workflow may have (positions are stored in 32 bits).
    pub(crate) const MAX_BEADS: usize = (u32::MAX - 1) as usize;

    /// Indexes the nodes and blocking edges of `dag`. O(V + E), plus the
    /// graph's own sorted edge listing. `None` when the graph has more than
    /// [`MAX_BEADS`](Self::MAX_BEADS) beads.
    pub(crate) fn build(dag: &WorkflowDag) -> Option<Self> {
        let count = dag.node_count();
        if count > Self::MAX_BEADS {
            return None;
        }
        let mut index = Self {
            arena: String::new(),
            ends: Vec::with_capacity(count),
            slots: vec![0; (count * 3 / 2 + 1).next_power_of_two().max(8)],
            offsets: Vec::with_capacity(count + 1),
            dependents: Vec::new(),
        };
        for (position, id) in dag.nodes().enumerate() {
            index.arena.push_str(id.as_str());
            index.ends.push(index.arena.len());
            index.insert(id.as_str(), u64::try_from(position).ok()? + 1);
        }
        // `edges()` is sorted by (from, to) and positions follow id order, so
        // sources come in non-decreasing position order.
        index.offsets.push(0);
        for (from, to, kind) in dag.edges() {
            if !kind.is_blocking() {
                continue;
            }
            let (Some(from), Some(to)) = (index.position(from.as_str()), index.position(to.as_str()))
            else {
                continue;
            };
            while index.offsets.len() <= from {
                index.offsets.push(u32::try_from(index.dependents.len()).ok()?);
            }
            index.dependents.push(u32::try_from(to).ok()?);
        }
        while index.offsets.len() <= count {
            index.offsets.push(u32::try_from(index.dependents.len()).ok()?);
        }
        Some(index)
    }

    /// Puts `id` -> `entry` (position + 1) in the first free slot of its probe run.
    fn insert(&mut self, id: &str, entry: u64) {
        let hash = hash(id);
        let mask = self.slots.len() - 1;
        let mut at = usize::try_from(hash).unwrap_or(0) & mask;
        while let Some(slot) = self.slots.get_mut(at) {
            if *slot == 0 {
                *slot = (hash & 0xFFFF_FFFF_0000_0000) | entry;
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// The position of bead `id`. Reads one or two slots and one arena slice.
    #[inline]
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        let hash = hash(id);
        let tag = hash & 0xFFFF_FFFF_0000_0000;
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = usize::try_from(hash).unwrap_or(0) & mask;
        loop {
            let slot = *self.slots.get(at)?;
            if slot == 0 {
                return None;
            }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let position = usize::try_from((slot & 0xFFFF_FFFF) - 1).ok()?;
                if self.id(position) == Some(id) {
                    return Some(position);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// The id at `position`.
    fn id(&self, position: usize) -> Option<&str> {
        let start = match position.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.arena.get(start..*self.ends.get(position)?)
    }

    /// The blocking dependents of the bead at `position`.
    pub(crate) fn dependents(&self, position: usize) -> &[u32] {
        let start = self.offsets.get(position).copied().unwrap_or(0);
        let end = self.offsets.get(position + 1).copied().unwrap_or(start);
        let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
            return &[];
        };
        self.dependents.get(start..end).unwrap_or(&[])
    }

    /// Number of beads.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }
}

#[cfg(test)]
mod tests {
    use strand_dag::{BeadId, DependencyType, WorkflowDag};

    use super::BeadIndex;

    #[test]
    fn given_graph_when_indexed_then_every_id_maps_to_its_rank_and_others_to_none() {
        let mut dag = WorkflowDag::new();
        let ids: Vec<String> = (0..1000).map(|i| format!("bead-{i}")).collect();
        for id in &ids {
            dag.add_node(id.as_str()).unwrap();
        }
        let (a, b, c) = (BeadId::from("bead-1"), BeadId::from("bead-10"), BeadId::from("bead-2"));
        dag.add_edge(&a, &b, DependencyType::Blocking).unwrap();
        dag.add_edge(&a, &c, DependencyType::PreferredOrder).unwrap();
        dag.add_edge(&c, &b, DependencyType::Blocking).unwrap();
        let index = BeadIndex::build(&dag).unwrap();
        assert_eq!(index.len(), 1000);
        for (rank, id) in dag.nodes().enumerate() {
            assert_eq!(index.position(id.as_str()), Some(rank));
            assert_eq!(index.id(rank), Some(id.as_str()));
        }
        for missing in ["", "bead-", "bead-1000", "bead-01", "x"] {
            assert_eq!(index.position(missing), None);
        }
        let position = |id: &BeadId| index.position(id.as_str()).unwrap();
        let b_rank = u32::try_from(position(&b)).unwrap();
        assert_eq!(index.dependents(position(&a)), [b_rank]);
        assert_eq!(index.dependents(position(&c)), [b_rank]);
        assert!(index.dependents(position(&b)).is_empty());
        assert!(index.dependents(5000).is_empty());
    }

    #[test]
    fn given_empty_graph_when_indexed_then_nothing_found() {
        let index = BeadIndex::build(&WorkflowDag::new()).unwrap();
        assert_eq!(index.len(), 0);
        assert_eq!(index.position("a"), None);
    }
}
