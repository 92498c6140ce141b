//! The engine as an operator sees it: its supervision tree (children by
//! supervisor with their restarts, failures, last error and breaker), its
//! workers (alive or not, busy or idle), its log (counters and queue) and
//! its last checkpoint. Built from the StateManager projection and the
//! log's counters, so restarts and failures survive the process.

use serde::Serialize;
use strand_eventlog::WriterStats;
use strand_projections::{
    CheckpointRecord, ChildSupervision, StateManager, SupervisorEscalations, WorkerView,
};

/// One supervisor and its children.
#[derive(Clone, Debug, Serialize)]
pub struct SupervisorView {
    /// The supervisor's name.
    pub supervisor: String,
    /// Its children, by name.
    pub children: Vec<ChildSupervision>,
    /// How often it escalated, if ever.
    pub escalations: Option<SupervisorEscalations>,
}

/// The log's counters since the engine opened it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LogView {
    /// The last durable seq.
    pub last_seq: u64,
    /// Append requests the writer took.
    pub appends: u64,
    /// Events made durable.
    pub events: u64,
    /// Bytes of records made durable.
    pub bytes: u64,
    /// Fsyncs that made them durable.
    pub fsyncs: u64,
    /// Events per fsync, on average.
    pub events_per_fsync: f64,
    /// Requests waiting in the writer's queue.
    pub queue_depth: usize,
}

impl LogView {
    /// The view of `stats`, with the log's end and queue.
    pub fn of(stats: WriterStats, last_seq: u64, queue_depth: usize) -> Self {
        Self {
            last_seq,
            appends: stats.appends,
            events: stats.events,
            bytes: stats.bytes,
            fsyncs: stats.fsyncs,
            events_per_fsync: (stats.mean_events_per_fsync() * 10.0).round() / 10.0,
            queue_depth,
        }
    }
}

/// The workers, counted, and each one.
#[derive(Clone, Debug, Serialize)]
pub struct WorkersView {
    /// Workers alive.
    pub alive: usize,
    /// Alive workers holding a bead.
    pub busy: usize,
    /// Alive workers holding none.
    pub idle: usize,
    /// Each worker: labels, spawns, deaths, the bead it holds.
    pub workers: Vec<WorkerView>,
}

/// The engine: tree, workers, log and checkpoint.
#[derive(Clone, Debug, Serialize)]
pub struct EngineView {
    /// Every event up to this seq is in the document.
    pub seq: u64,
    /// Milliseconds since the engine opened.
    pub uptime_ms: u64,
    /// The supervision tree, by supervisor.
    pub supervisors: Vec<SupervisorView>,
    /// The worker pool.
    pub workers: WorkersView,
    /// The log's counters.
    pub log: LogView,
    /// The last checkpoint of the state, if any.
    pub last_checkpoint: Option<CheckpointRecord>,
}

impl EngineView {
    /// The view of `state` as of `seq`, with the log's counters.
    pub fn of(state: &StateManager, seq: u64, uptime_ms: u64, log: LogView) -> Self {
        let mut supervisors: Vec<SupervisorView> = Vec::new();
        for child in state.supervision() {
            match supervisors.last_mut() {
                Some(last) if last.supervisor == child.supervisor => last.children.push(child),
                _ => supervisors.push(SupervisorView {
                    supervisor: child.supervisor.clone(),
                    children: vec![child],
                    escalations: None,
                }),
            }
        }
        for escalated in state.escalations() {
            match supervisors
                .iter_mut()
                .find(|s| s.supervisor == escalated.supervisor)
            {
                Some(found) => found.escalations = Some(escalated),
                None => supervisors.push(SupervisorView {
                    supervisor: escalated.supervisor.clone(),
                    children: Vec::new(),
                    escalations: Some(escalated),
                }),
            }
        }
        let workers = state.workers();
        let alive = workers.iter().filter(|w| w.record.alive).count();
        let busy = workers
            .iter()
            .filter(|w| w.record.alive && w.current_bead.is_some())
            .count();
        Self {
            seq,
            uptime_ms,
            supervisors,
            workers: WorkersView {
                alive,
                busy,
                idle: alive - busy,
                workers,
            },
            log,
            last_checkpoint: state.last_checkpoint().cloned(),
        }
    }
}
