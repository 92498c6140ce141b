//! [`BeadIndex`]: the static part of a workflow's derived data: bead id ->
//! position, and each bead's blocking dependents.
//!
//! Built once, at submission or restore, and read on every bead event, so it
//! is laid out for the cache: the ids live in one arena indexed by position,
//! and the id -> position table is a `hashbrown::HashTable` of 4-byte
//! positions hashed with an unseeded Fx hash, so a lookup reads a control
//! group, a slot and an arena slice instead of chasing a heap pointer per key.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;
use strand_dag::{BeadId, WorkflowDag};

/// Bead id -> position (its rank in id order) and blocking dependents.
#[derive(Clone, Debug, Default)]
pub(crate) struct BeadIndex {
    /// Positions, found by the hash of the id at that position.
    table: HashTable<u32>,
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
    /// Blocking dependencies of position `i`:
    /// `dependencies[dependency_offsets[i]..dependency_offsets[i + 1]]`,
    /// in position (so id) order.
    dependency_offsets: Vec<u32>,
    /// Concatenated blocking-dependency lists (positions).
    dependencies: Vec<u32>,
}

/// The hash of a bead id: deterministic (unseeded) and fast.
fn hash(id: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(id.as_bytes());
    hasher.finish()
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

/// The id at `position` in the arena `names`, delimited by `starts`.
fn name_at<'a>(names: &'a str, starts: &[u32], position: u32) -> Option<&'a str> {
    let at = usize::try_from(position).ok()?;
    let start = usize::try_from(*starts.get(at)?).ok()?;
    let end = usize::try_from(*starts.get(at + 1)?).ok()?;
    names.get(start..end)
}

impl BeadIndex {
    /// Indexes the nodes and blocking edges of `dag`, and checks that its
    /// edges (of both kinds) form no cycle ([`WorkflowDag::has_cycle`]).
    /// O(V + E), plus the graph's own sorted edge listing.
    ///
    /// # Errors
    ///
    /// [`IndexError::Cycle`] for a cycle or a self-loop, and
    /// [`IndexError::TooLarge`] when positions or offsets overflow 32 bits.
    pub(crate) fn build(dag: &WorkflowDag) -> Result<Self, IndexError> {
        let count = dag.node_count();
        let mut index = Self {
            table: HashTable::with_capacity(count),
            names: String::new(),
            starts: Vec::with_capacity(count + 1),
            len: count,
            offsets: Vec::with_capacity(count + 1),
            dependents: Vec::new(),
            dependency_offsets: Vec::new(),
            dependencies: Vec::new(),
        };
        index.starts.push(0);
        for (position, id) in dag.nodes().enumerate() {
            index.names.push_str(id.as_str());
            index.starts.push(to_u32(index.names.len())?);
            let position = to_u32(position)?;
            // Ids are unique in a DAG, so each goes in as new.
            let names = &index.names;
            let starts = &index.starts;
            index
                .table
                .insert_unique(hash(id.as_str()), position, |&at| {
                    hash(name_at(names, starts, at).unwrap_or_default())
                });
        }
        // `edges()` is sorted by (from, to) and positions follow id order, so
        // sources come in non-decreasing position order: the dependents come
        // out grouped by source.
        let edges = dag.edges();
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
        index.invert();
        // A graph built in memory may hold a cycle (the log's decoder refuses
        // one, so this only costs on submission).
        if dag.has_cycle() {
            return Err(IndexError::Cycle);
        }
        Ok(index)
    }

    /// The position of bead `id`.
    #[inline]
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.table
            .find(hash(id), |&at| {
                name_at(&self.names, &self.starts, at) == Some(id)
            })
            .and_then(|&at| usize::try_from(at).ok())
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

    /// The blocking dependencies of the bead at `position`, in id order.
    pub(crate) fn dependencies(&self, position: usize) -> &[u32] {
        let start = self.dependency_offsets.get(position).copied().unwrap_or(0);
        let end = self
            .dependency_offsets
            .get(position + 1)
            .copied()
            .unwrap_or(start);
        let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
            return &[];
        };
        self.dependencies.get(start..end).unwrap_or(&[])
    }

    /// The dependency lists from the dependent lists (a counting sort by
    /// dependent): sources are visited in position order, so each list
    /// comes out sorted. Offsets fit in 32 bits as the dependents' did.
    fn invert(&mut self) {
        let mut offsets = vec![0_u32; self.len + 1];
        for &to in &self.dependents {
            if let Some(count) = usize::try_from(to)
                .ok()
                .and_then(|to| offsets.get_mut(to + 1))
            {
                *count += 1;
            }
        }
        for at in 1..offsets.len() {
            let before = offsets.get(at - 1).copied().unwrap_or(0);
            if let Some(offset) = offsets.get_mut(at) {
                *offset += before;
            }
        }
        let mut next = offsets.clone();
        let mut dependencies = vec![0_u32; self.dependents.len()];
        for from in 0..self.len {
            let Ok(source) = u32::try_from(from) else {
                break;
            };
            for &to in self.dependents(from) {
                let Some(slot) = usize::try_from(to).ok().and_then(|to| next.get_mut(to)) else {
                    continue;
                };
                if let Some(entry) = usize::try_from(*slot)
                    .ok()
                    .and_then(|at| dependencies.get_mut(at))
                {
                    *entry = source;
                }
                *slot += 1;
            }
        }
        self.dependency_offsets = offsets;
        self.dependencies = dependencies;
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

    #[test]
    fn given_a_layered_graph_when_indexed_then_each_beads_dependencies_are_its_blocking_sources_in_id_order()
     {
        let mut dag = WorkflowDag::new();
        let ids: Vec<BeadId> = (0..300).map(|i| BeadId::from(format!("b{i}"))).collect();
        for id in &ids {
            dag.add_node(id.clone()).unwrap();
        }
        let mut state = 11_u64;
        for (i, to) in ids.iter().enumerate().skip(30) {
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let from = &ids[(i / 30 - 1) * 30 + usize::try_from(state % 30).unwrap()];
                let kind = if state.is_multiple_of(4) {
                    DependencyType::PreferredOrder
                } else {
                    DependencyType::Blocking
                };
                let _ = dag.add_edge(from, to, kind);
            }
        }
        let index = BeadIndex::build(&dag).unwrap();
        let nodes: Vec<&BeadId> = dag.nodes().collect();
        for (position, id) in nodes.iter().enumerate() {
            let expected: Vec<&BeadId> = dag
                .dependencies(id)
                .unwrap()
                .iter()
                .filter_map(|from| {
                    let blocking = dag.edge(from, id)?.is_blocking();
                    blocking.then(|| nodes[index.position(from.as_str()).unwrap()])
                })
                .collect();
            let found: Vec<&BeadId> = index
                .dependencies(position)
                .iter()
                .map(|&at| nodes[usize::try_from(at).unwrap()])
                .collect();
            assert_eq!(found, expected, "{id}");
        }
        assert!(index.dependencies(5000).is_empty());
    }
}
