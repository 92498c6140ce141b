//! Workers: [`WorkerRecord`] and the `WorkerSpawned` / `WorkerDied` events.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use strand_dag::BeadId;

use crate::error::ProjectionError;
use crate::ids::{RunId, WorkerId};
use crate::lifecycle::BeadState;

/// What the projection knows about one worker.
///
/// The field order is part of snapshot format version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkerRecord {
    /// Its labels, from its last spawn.
    pub labels: Vec<String>,
    /// Whether it is up: spawned and not died since.
    pub alive: bool,
    /// How many times it was spawned.
    pub spawns: u64,
    /// How many times it died.
    pub deaths: u64,
    /// Why it last died.
    pub last_reason: Option<String>,
    /// The `at_ms` of its last spawn or death.
    pub updated_at_ms: u64,
}

/// Worker ids shared by the bead records that name them, so that a bead
/// event stores a pointer instead of a string. Derived: rebuilt on restore.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner(FxHashSet<Arc<WorkerId>>);

impl Interner {
    /// The shared copy of `id`.
    #[inline]
    pub(crate) fn intern(&mut self, id: WorkerId) -> Arc<WorkerId> {
        if let Some(shared) = self.0.get(&id) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(id);
        self.0.insert(Arc::clone(&shared));
        shared
    }
}

/// The workers, by id.
pub(crate) type Workers = FxHashMap<WorkerId, WorkerRecord>;

/// `WorkerSpawned`: a new worker, or a known one up again (after a death, or
/// after a restart of the process that never recorded its death).
pub(crate) fn spawned(workers: &mut Workers, worker: WorkerId, labels: Vec<String>, at_ms: u64) {
    let record = workers.entry(worker).or_insert_with(|| WorkerRecord {
        labels: Vec::new(),
        alive: false,
        spawns: 0,
        deaths: 0,
        last_reason: None,
        updated_at_ms: at_ms,
    });
    record.labels = labels;
    record.alive = true;
    record.spawns += 1;
    record.updated_at_ms = at_ms;
}

/// `WorkerDied`: a live worker went away.
///
/// # Errors
///
/// [`ProjectionError::UnknownWorker`] for a worker never spawned and
/// [`ProjectionError::WorkerNotAlive`] for one already dead.
pub(crate) fn died(
    workers: &mut Workers,
    seq: u64,
    worker: WorkerId,
    reason: String,
    at_ms: u64,
) -> Result<(), ProjectionError> {
    let Some(record) = workers.get_mut(&worker) else {
        return Err(ProjectionError::UnknownWorker { seq, worker });
    };
    if !record.alive {
        return Err(ProjectionError::WorkerNotAlive { seq, worker });
    }
    record.alive = false;
    record.deaths += 1;
    record.last_reason = Some(reason);
    record.updated_at_ms = at_ms;
    Ok(())
}

/// A worker as `strand status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkerView {
    /// The worker's id.
    pub id: WorkerId,
    /// What the projection records about it.
    #[serde(flatten)]
    pub record: WorkerRecord,
    /// The bead it holds, if any: a running bead first, else a scheduled one
    /// (the smallest `(workflow, bead)` when several), in running workflows only.
    pub current_bead: Option<WorkerBead>,
}

/// A bead held by a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkerBead {
    /// The workflow.
    pub workflow: RunId,
    /// The bead.
    pub bead: BeadId,
    /// Scheduled or running.
    pub state: BeadState,
}
