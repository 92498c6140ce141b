//! [`ReadyTracker`]: incremental readiness for the scheduler.

use crate::dense::Dense;
use crate::{BeadId, CompletedSet, DagError, WorkflowDag};

/// Tracks which beads are ready as beads complete, without rescanning the
/// graph: [`complete`](Self::complete) costs O(out-degree) plus an
/// O(log V) id lookup.
///
/// It keeps, for every bead, the number of its blocking dependencies that
/// have not completed; a bead is ready when that count is zero and it has not
/// completed itself. Beads may be completed in any order (a bead completed
/// before its dependencies is simply never ready), and after any sequence of
/// completions [`ready`](Self::ready) equals
/// [`WorkflowDag::ready_nodes`] for the same completed set.
///
/// The tracker is a snapshot: later changes to the graph do not reach it.
#[derive(Clone, Debug)]
pub struct ReadyTracker {
    /// Dense index -> bead id, sorted (lookups are binary searches).
    ids: Vec<BeadId>,
    /// Blocking successors of bead `i`: `targets[offsets[i]..offsets[i + 1]]`,
    /// sorted, so newly ready beads come out in id order.
    offsets: Vec<usize>,
    /// Concatenated blocking-successor lists.
    targets: Vec<usize>,
    /// Number of blocking dependencies of each bead not yet completed.
    waiting_on: Vec<usize>,
    /// Whether each bead has completed.
    completed: Vec<bool>,
    /// Number of `true` entries in `completed`.
    completed_count: usize,
}

impl ReadyTracker {
    /// A tracker for `dag` in which the beads of `completed` have already
    /// completed (ids not in the graph are ignored). O(V + E log d).
    pub fn new(dag: &WorkflowDag, completed: &impl CompletedSet) -> Self {
        let dense = Dense::new(dag);
        let n = dense.len();
        let ids: Vec<BeadId> = dense.ids.iter().map(|id| (*id).clone()).collect();
        let done: Vec<bool> = ids.iter().map(|id| completed.is_completed(id)).collect();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(dag.edge_count());
        offsets.push(0);
        for node in 0..n {
            targets.extend(
                dense
                    .successors(node)
                    .iter()
                    .filter(|(_, kind)| kind.is_blocking())
                    .map(|&(next, _)| next),
            );
            offsets.push(targets.len());
        }
        let waiting_on = (0..n)
            .map(|node| {
                dense
                    .predecessors(node)
                    .iter()
                    .filter(|&&(dependency, kind)| {
                        kind.is_blocking() && !done.get(dependency).copied().unwrap_or(false)
                    })
                    .count()
            })
            .collect();
        let completed_count = done.iter().filter(|&&d| d).count();
        Self {
            ids,
            offsets,
            targets,
            waiting_on,
            completed: done,
            completed_count,
        }
    }

    /// Marks a bead completed and returns the beads that became ready because
    /// of it, sorted by id. O(out-degree) plus an O(log V) lookup.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown, and
    /// [`DagError::InvalidOperation`] if it has already completed (a durable
    /// completion is recorded once; a second one is a caller bug).
    pub fn complete(&mut self, id: &BeadId) -> Result<Vec<BeadId>, DagError> {
        let node = self.position(id)?;
        match self.completed.get_mut(node) {
            Some(done) if !*done => *done = true,
            _ => {
                return Err(DagError::InvalidOperation(format!(
                    "bead `{id}` has already completed"
                )));
            }
        }
        self.completed_count += 1;
        let start = self.offsets.get(node).copied().unwrap_or(0);
        let end = self.offsets.get(node + 1).copied().unwrap_or(start);
        let mut newly_ready = Vec::new();
        for position in start..end {
            let Some(&next) = self.targets.get(position) else {
                continue;
            };
            if let Some(waiting) = self.waiting_on.get_mut(next) {
                *waiting = waiting.saturating_sub(1);
                let done = self.completed.get(next).copied().unwrap_or(true);
                if *waiting == 0
                    && !done
                    && let Some(ready) = self.ids.get(next)
                {
                    newly_ready.push(ready.clone());
                }
            }
        }
        Ok(newly_ready)
    }

    /// Every bead that is ready now, sorted by id. O(V): call it once at the
    /// start, then follow [`complete`](Self::complete)'s answers.
    pub fn ready(&self) -> Vec<BeadId> {
        self.ids
            .iter()
            .zip(self.waiting_on.iter().zip(&self.completed))
            .filter(|(_, (waiting, done))| **waiting == 0 && !**done)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Whether the bead is ready: not completed, every blocking dependency
    /// completed.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn is_ready(&self, id: &BeadId) -> Result<bool, DagError> {
        let node = self.position(id)?;
        let waiting = self.waiting_on.get(node).copied().unwrap_or(1);
        Ok(waiting == 0 && !self.completed.get(node).copied().unwrap_or(true))
    }

    /// Whether the bead has completed.
    ///
    /// # Errors
    ///
    /// [`DagError::NodeNotFound`] if the bead is unknown.
    pub fn is_completed(&self, id: &BeadId) -> Result<bool, DagError> {
        let node = self.position(id)?;
        Ok(self.completed.get(node).copied().unwrap_or(false))
    }

    /// Number of completed beads.
    pub fn completed_count(&self) -> usize {
        self.completed_count
    }

    /// Number of beads tracked.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the tracker has no beads.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether every bead has completed.
    pub fn is_finished(&self) -> bool {
        self.completed_count == self.ids.len()
    }

    fn position(&self, id: &BeadId) -> Result<usize, DagError> {
        self.ids
            .binary_search(id)
            .map_err(|_| DagError::NodeNotFound(id.clone()))
    }
}
