//! [`BeadIndex`]: the static part of a workflow's derived data: bead id ->
//! position, and each bead's blocking dependents.
//!
//! Built once, at submission or restore, and read on every bead event, so it
//! is laid out for the cache. The id -> position table is an open-addressing
//! table of 8-byte slots (a hash tag and the position), and the ids live in
//! one arena indexed by position, so a lookup reads a slot and an arena slice
//! instead of chasing a heap pointer per key. With 10,000 beads the index is
//! about 300 KiB.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use strand_dag::{BeadId, WorkflowDag};

/// Bead id -> position (its rank in id order) and blocking dependents.
#[derive(Clone, Debug, Default)]
pub(crate) struct BeadIndex {
    /// Linear-probing table, never more than 2/3 full: 0 is empty, else
    /// `(tag << 32) | (position + 1)`, where `tag` is the high half of the id's hash.
    slots: Vec<u64>,
    /// Every id, concatenated in position order (read for long ids only).
    names: String,
    /// `starts[i]..starts[i + 1]`: the id at position `i` in `names`.
    starts: Vec<u32>,
    /// Number of beads.
    len: usize,
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

/// The slot index a hash starts probing at, and its tag.
fn home(hash: u64, mask: usize) -> (usize, u32) {
    let tag = u32::try_from(hash >> 32).unwrap_or(0);
    (usize::try_from(hash & 0xFFFF_FFFF).unwrap_or(0) & mask, tag)
}

/// Why a graph could not be indexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IndexError {
    /// The edges have a cycle (or a self-loop).
    Cycle,
    /// More beads or id bytes than 32-bit positions and offsets address.
    TooLarge,
}

/// `value` as a u32, or [`IndexError::TooLarge`].
fn to_u32(value: usize) -> Result<u32, IndexError> {
    u32::try_from(value).map_err(|_| IndexError::TooLarge)
}

/// Whether the edges `(from, to)` over positions `0..count`, grouped by
/// `from` in non-decreasing order, form no cycle: Kahn's algorithm. O(V + E).
fn is_acyclic(count: usize, edges: &[(usize, usize)]) -> bool {
    let mut indegree = vec![0_usize; count];
    let mut starts = vec![0_usize; count + 1];
    for &(from, to) in edges {
        match (indegree.get_mut(to), starts.get_mut(from + 1)) {
            (Some(degree), Some(start)) => {
                *degree += 1;
                *start += 1;
            }
            _ => return false,
        }
    }
    for at in 1..starts.len() {
        let previous = starts.get(at - 1).copied().unwrap_or(0);
        if let Some(start) = starts.get_mut(at) {
            *start += previous;
        }
    }
    let mut free: Vec<usize> = (0..count)
        .filter(|&node| indegree.get(node) == Some(&0))
        .collect();
    let mut removed = 0;
    while let Some(node) = free.pop() {
        removed += 1;
        let start = starts.get(node).copied().unwrap_or(0);
        let end = starts.get(node + 1).copied().unwrap_or(start);
        for &(_, to) in edges.get(start..end).unwrap_or(&[]) {
            if let Some(degree) = indegree.get_mut(to) {
                *degree -= 1;
                if *degree == 0 {
                    free.push(to);
                }
            }
        }
    }
    removed == count
}

impl BeadIndex {
    /// Indexes the nodes and blocking edges of `dag`, and checks that its
    /// edges (of both kinds) form no cycle. O(V + E), plus the graph's own
    /// sorted edge listing: this replaces [`WorkflowDag::validate`] on the
    /// replay path, which would walk the graph a second time.
    ///
    /// # Errors
    ///
    /// [`IndexError::Cycle`] for a cycle or a self-loop, and
    /// [`IndexError::TooLarge`] when positions or offsets overflow 32 bits.
    pub(crate) fn build(dag: &WorkflowDag) -> Result<Self, IndexError> {
        let count = dag.node_count();
        let mut index = Self {
            slots: vec![0; (count * 3 / 2 + 1).next_power_of_two().max(8)],
            names: String::new(),
            starts: Vec::with_capacity(count + 1),
            len: count,
            offsets: Vec::with_capacity(count + 1),
            dependents: Vec::new(),
        };
        index.starts.push(0);
        for (position, id) in dag.nodes().enumerate() {
            index.names.push_str(id.as_str());
            index.starts.push(to_u32(index.names.len())?);
            index.insert(id.as_str(), to_u32(position + 1)?);
        }
        // Every edge as positions, for the cycle check. `edges()` is sorted by
        // (from, to) and positions follow id order, so sources come in
        // non-decreasing position order: the list is already grouped by source.
        let edges = dag.edges();
        let mut all = Vec::with_capacity(edges.len());
        index.offsets.push(0);
        // Consecutive edges mostly share their source: look it up once.
        let mut source: Option<(&BeadId, usize)> = None;
        for (from, to, kind) in edges {
            let from = match source {
                Some((id, position)) if std::ptr::eq(id, from) => position,
                _ => {
                    let Some(position) = index.position(from.as_str()) else {
                        continue;
                    };
                    source = Some((from, position));
                    position
                }
            };
            let Some(to) = index.position(to.as_str()) else {
                continue;
            };
            all.push((from, to));
            if kind.is_blocking() {
                while index.offsets.len() <= from {
                    index.offsets.push(to_u32(index.dependents.len())?);
                }
                index.dependents.push(to_u32(to)?);
            }
        }
        while index.offsets.len() <= count {
            index.offsets.push(to_u32(index.dependents.len())?);
        }
        if !is_acyclic(count, &all) {
            return Err(IndexError::Cycle);
        }
        Ok(index)
    }

    /// Puts `id` -> `entry` (position + 1) in the first free slot of its probe run.
    fn insert(&mut self, id: &str, entry: u32) {
        let mask = self.slots.len() - 1;
        let (mut at, tag) = home(hash(id), mask);
        while let Some(free) = self.slots.get_mut(at) {
            if *free == 0 {
                *free = (u64::from(tag) << 32) | u64::from(entry);
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// The position of bead `id`: reads a slot, then the id in the arena. The
    /// slot alone gives the position, so the caller's read of the bead's record
    /// overlaps the check of the id.
    #[inline]
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        let mask = self.slots.len().wrapping_sub(1);
        let (mut at, tag) = home(hash(id), mask);
        loop {
            let slot = *self.slots.get(at)?;
            if slot == 0 {
                return None;
            }
            let entry = u32::try_from(slot & 0xFFFF_FFFF).unwrap_or(0);
            if slot >> 32 == u64::from(tag) && self.name(entry) == Some(id) {
                return usize::try_from(entry - 1).ok();
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of the bead whose entry (position + 1) is `entry`.
    fn name(&self, entry: u32) -> Option<&str> {
        let end = usize::try_from(entry).ok()?;
        let start = usize::try_from(*self.starts.get(end.checked_sub(1)?)?).ok()?;
        let end = usize::try_from(*self.starts.get(end)?).ok()?;
        self.names.get(start..end)
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
        self.len
    }
}

#[cfg(test)]
mod tests {
    use strand_dag::{BeadId, DependencyType, WorkflowDag};

    use super::BeadIndex;

    #[test]
    fn given_graph_when_indexed_then_every_id_maps_to_its_rank_and_others_to_none() {
        let mut dag = WorkflowDag::new();
        // Short ids live in their slots, long ones in the arena.
        let ids: Vec<String> = (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("bead-with-a-long-name-{i:08}")
                } else {
                    format!("bead-{i}")
                }
            })
            .collect();
        for id in &ids {
            dag.add_node(id.as_str()).unwrap();
        }
        let (a, b, c) = (
            BeadId::from("bead-1"),
            BeadId::from("bead-10"),
            BeadId::from("bead-2"),
        );
        dag.add_edge(&a, &b, DependencyType::Blocking).unwrap();
        dag.add_edge(&a, &c, DependencyType::PreferredOrder)
            .unwrap();
        dag.add_edge(&c, &b, DependencyType::Blocking).unwrap();
        let index = BeadIndex::build(&dag).unwrap();
        assert_eq!(index.len(), 1000);
        for (rank, id) in dag.nodes().enumerate() {
            assert_eq!(index.position(id.as_str()), Some(rank));
        }
        for missing in [
            "",
            "bead-",
            "bead-1000",
            "bead-01",
            "x",
            "bead-with-a-long-name-00000001",
        ] {
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
    fn given_cycle_over_either_kind_of_edge_when_indexed_then_refused() {
        for kind in [DependencyType::Blocking, DependencyType::PreferredOrder] {
            let mut dag = WorkflowDag::new();
            for id in ["a", "b", "c"] {
                dag.add_node(id).unwrap();
            }
            let id = BeadId::from;
            dag.add_edge(&id("a"), &id("b"), DependencyType::Blocking)
                .unwrap();
            dag.add_edge(&id("b"), &id("c"), DependencyType::Blocking)
                .unwrap();
            assert!(BeadIndex::build(&dag).is_ok());
            dag.add_edge(&id("c"), &id("a"), kind).unwrap();
            assert_eq!(BeadIndex::build(&dag).err(), Some(super::IndexError::Cycle));
        }
    }

    #[test]
    fn given_empty_graph_when_indexed_then_nothing_found() {
        let index = BeadIndex::build(&WorkflowDag::new()).unwrap();
        assert_eq!(index.len(), 0);
        assert_eq!(index.position("a"), None);
    }
}
