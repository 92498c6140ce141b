//! Cycle detection and enumeration.

use std::collections::VecDeque;

use crate::dense::Dense;
use crate::{BeadId, DagError, WorkflowDag};

/// The most cycles [`WorkflowDag::find_cycles`] reports. A graph can hold
/// exponentially many elementary cycles; past this bound the list is cut.
pub const MAX_REPORTED_CYCLES: usize = 1024;

impl WorkflowDag {
    /// Whether the graph has a cycle over edges of either type.
    pub fn has_cycle(&self) -> bool {
        petgraph::algo::toposort(&self.graph, None).is_err()
    }

    /// Every elementary cycle over edges of either type, each reported once,
    /// as its nodes in edge order starting at the cycle's smallest id (the
    /// last node has an edge back to the first). Sorted, and cut at
    /// [`MAX_REPORTED_CYCLES`]. Empty exactly when [`has_cycle`](Self::has_cycle)
    /// is false.
    ///
    /// Johnson's algorithm, run inside each strongly connected component, so
    /// an acyclic graph costs O(V + E).
    pub fn find_cycles(&self) -> Vec<Vec<BeadId>> {
        let dense = Dense::new(self);
        let n = dense.len();
        let everything = vec![true; n];
        let all: Vec<usize> = (0..n).collect();
        let components = strongly_connected(&dense, &all, &everything);
        let mut cycles = Vec::new();
        let mut search = Johnson::new(n);
        let mut mask = vec![false; n];
        for mut remaining in components.cyclic_components(&dense) {
            // Johnson: the next start is the smallest node on a cycle of the
            // subgraph induced by the nodes not yet used as a start; its
            // cycles are searched inside its strongly connected component there.
            while cycles.len() < MAX_REPORTED_CYCLES {
                mark(&mut mask, &remaining, true);
                let sub = strongly_connected(&dense, &remaining, &mask);
                mark(&mut mask, &remaining, false);
                let Some(start) = remaining
                    .iter()
                    .copied()
                    .find(|&node| sub.is_cyclic(&dense, node))
                else {
                    break;
                };
                let members: Vec<usize> = remaining
                    .iter()
                    .copied()
                    .filter(|&node| sub.of(node) == sub.of(start))
                    .collect();
                mark(&mut mask, &members, true);
                search.circuits_from(&dense, start, &mask, &mut cycles);
                mark(&mut mask, &members, false);
                search.reset(&members);
                remaining.retain(|&node| node > start);
            }
        }
        let mut named: Vec<Vec<BeadId>> = cycles.into_iter().map(|c| dense.ids_of(c)).collect();
        named.sort_unstable();
        named
    }

    /// The error for a graph known to have a cycle: one cycle, through the
    /// smallest id that lies on any cycle, as short as possible.
    pub(crate) fn cycle_error(&self) -> DagError {
        let dense = Dense::new(self);
        match one_cycle(&dense) {
            Some(cycle) => DagError::CycleDetected(dense.ids_of(cycle)),
            None => DagError::InvalidOperation(
                "the graph was reported cyclic but no cycle was found".to_owned(),
            ),
        }
    }
}

/// One shortest cycle through the smallest node that lies on a cycle.
pub(crate) fn one_cycle(dense: &Dense<'_>) -> Option<Vec<usize>> {
    let everything = vec![true; dense.len()];
    let all: Vec<usize> = (0..dense.len()).collect();
    let components = strongly_connected(dense, &all, &everything);
    let start = (0..dense.len()).find(|&i| components.is_cyclic(dense, i))?;
    let component = components.of(start);
    // Breadth-first search from `start` inside its component until an edge
    // leads back to `start`; `parent` rebuilds the path.
    let mut parent: Vec<Option<usize>> = vec![None; dense.len()];
    let mut seen = vec![false; dense.len()];
    set(&mut seen, start, true);
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(next, _) in dense.successors(node) {
            if next == start {
                let mut cycle = vec![node];
                let mut at = node;
                while let Some(p) = parent.get(at).copied().flatten() {
                    cycle.push(p);
                    at = p;
                }
                cycle.reverse();
                return Some(cycle);
            }
            if components.of(next) == component && !get(&seen, next) {
                set(&mut seen, next, true);
                set(&mut parent, next, Some(node));
                queue.push_back(next);
            }
        }
    }
    None
}

/// Strongly connected components of an induced subgraph: a component number
/// for every node of it.
pub(crate) struct Components {
    /// Node -> component number (`usize::MAX` outside the subgraph).
    component: Vec<usize>,
    /// Component number -> number of nodes.
    size: Vec<usize>,
}

impl Components {
    /// The component of a node (`None` outside the subgraph).
    fn of(&self, node: usize) -> Option<usize> {
        self.component
            .get(node)
            .copied()
            .filter(|&c| c != usize::MAX)
    }

    /// Whether the node lies on a cycle of the subgraph: its component has
    /// several nodes, or it has an edge to itself.
    fn is_cyclic(&self, dense: &Dense<'_>, node: usize) -> bool {
        let Some(component) = self.of(node) else {
            return false;
        };
        self.size.get(component).is_some_and(|&size| size > 1)
            || dense.successors(node).iter().any(|&(next, _)| next == node)
    }

    /// The members of every component that holds a cycle, each sorted.
    fn cyclic_components(&self, dense: &Dense<'_>) -> Vec<Vec<usize>> {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); self.size.len()];
        for node in 0..dense.len() {
            if self.is_cyclic(dense, node)
                && let Some(list) = self.of(node).and_then(|c| members.get_mut(c))
            {
                list.push(node);
            }
        }
        members.retain(|list| !list.is_empty());
        members
    }
}

/// Tarjan's algorithm over the subgraph induced by `allowed`, starting from
/// `roots`. Iterative: a long chain must not overflow the stack.
fn strongly_connected(dense: &Dense<'_>, roots: &[usize], allowed: &[bool]) -> Components {
    const UNSEEN: usize = usize::MAX;
    let n = dense.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let mut size = Vec::new();
    let mut counter = 0;
    // Frames of the simulated recursion: (node, next successor position).
    let mut frames: Vec<(usize, usize)> = Vec::new();
    for &root in roots {
        if get(&order, root) != UNSEEN || !get(allowed, root) {
            continue;
        }
        set(&mut order, root, counter);
        set(&mut low, root, counter);
        counter += 1;
        stack.push(root);
        set(&mut on_stack, root, true);
        frames.push((root, 0));
        while let Some(frame) = frames.last_mut() {
            let (node, position) = *frame;
            if let Some(&(next, _)) = dense.successors(node).get(position) {
                frame.1 += 1;
                if !get(allowed, next) {
                    continue;
                }
                if get(&order, next) == UNSEEN {
                    set(&mut order, next, counter);
                    set(&mut low, next, counter);
                    counter += 1;
                    stack.push(next);
                    set(&mut on_stack, next, true);
                    frames.push((next, 0));
                } else if get(&on_stack, next) {
                    let lowest = get(&low, node).min(get(&order, next));
                    set(&mut low, node, lowest);
                }
                continue;
            }
            frames.pop();
            if get(&low, node) == get(&order, node) {
                let id = size.len();
                let mut members = 0;
                while let Some(member) = stack.pop() {
                    set(&mut on_stack, member, false);
                    set(&mut component, member, id);
                    members += 1;
                    if member == node {
                        break;
                    }
                }
                size.push(members);
            }
            if let Some(&(parent, _)) = frames.last() {
                let lowest = get(&low, parent).min(get(&low, node));
                set(&mut low, parent, lowest);
            }
        }
    }
    Components { component, size }
}

/// Sets `mask[node] = value` for every listed node.
fn mark(mask: &mut [bool], nodes: &[usize], value: bool) {
    for &node in nodes {
        set(mask, node, value);
    }
}

/// The reusable state of Johnson's elementary-circuit search.
struct Johnson {
    blocked: Vec<bool>,
    /// `blocked_by[w]`: nodes to unblock when `w` is unblocked.
    blocked_by: Vec<Vec<usize>>,
}

impl Johnson {
    fn new(n: usize) -> Self {
        Self {
            blocked: vec![false; n],
            blocked_by: vec![Vec::new(); n],
        }
    }

    /// Appends every elementary cycle whose smallest node is `start` (inside
    /// `members`) to `out`, stopping at [`MAX_REPORTED_CYCLES`]. Iterative.
    fn circuits_from(
        &mut self,
        dense: &Dense<'_>,
        start: usize,
        members: &[bool],
        out: &mut Vec<Vec<usize>>,
    ) {
        let member = |node: usize| members.get(node).copied().unwrap_or(false);
        let mut path = vec![start];
        set(&mut self.blocked, start, true);
        // Frames: (node, next successor position, found a cycle below).
        let mut frames: Vec<(usize, usize, bool)> = vec![(start, 0, false)];
        while let Some(frame) = frames.last_mut() {
            let (node, position, found) = *frame;
            if let Some(&(next, _)) = dense.successors(node).get(position) {
                frame.1 += 1;
                if !member(next) {
                    continue;
                }
                if next == start {
                    frame.2 = true;
                    out.push(path.clone());
                    if out.len() >= MAX_REPORTED_CYCLES {
                        break;
                    }
                } else if !get(&self.blocked, next) {
                    set(&mut self.blocked, next, true);
                    path.push(next);
                    frames.push((next, 0, false));
                }
                continue;
            }
            frames.pop();
            path.pop();
            if found {
                self.unblock(node);
            } else {
                for &(next, _) in dense.successors(node) {
                    if member(next)
                        && let Some(list) = self.blocked_by.get_mut(next)
                        && !list.contains(&node)
                    {
                        list.push(node);
                    }
                }
            }
            if let Some(parent) = frames.last_mut() {
                parent.2 |= found;
            }
        }
    }

    /// Clears the search state of the given nodes before the next start.
    fn reset(&mut self, nodes: &[usize]) {
        for &node in nodes {
            set(&mut self.blocked, node, false);
            if let Some(list) = self.blocked_by.get_mut(node) {
                list.clear();
            }
        }
    }

    fn unblock(&mut self, node: usize) {
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            if get(&self.blocked, node) {
                set(&mut self.blocked, node, false);
                if let Some(list) = self.blocked_by.get_mut(node) {
                    pending.append(list);
                }
            }
        }
    }
}

/// `values[index]`, or the default for an out-of-range index (which the
/// callers never produce: every index comes from the same dense graph).
fn get<T: Copy + Default>(values: &[T], index: usize) -> T {
    values.get(index).copied().unwrap_or_default()
}

/// `values[index] = value`, ignoring an out-of-range index.
fn set<T>(values: &mut [T], index: usize, value: T) {
    if let Some(slot) = values.get_mut(index) {
        *slot = value;
    }
}
