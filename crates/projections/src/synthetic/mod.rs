//! Synthetic histories: deterministic, seeded streams of valid events.
//!
//! [`history`] walks workflows with random DAGs (blocking and `after`
//! edges) through the whole bead lifecycle: workers are spawned, workflows
//! submitted, beads made ready, scheduled, started and completed, with some
//! failures and timeouts followed by a planned retry, some requeues and
//! timeouts before start, beads of several workflows interleaved, and
//! occasional supervision, worker-churn, checkpoint and rate-limit events.
//! Some workflows are cancelled or failed part-way (their released beads are
//! cancelled first); the rest complete.
//!
//! Every history applies to [`StateManager`](crate::StateManager) without an
//! error when its events are numbered 1, 2, 3, ... in order. The same seed and
//! parameters give the same events and timestamps on every machine: the only
//! randomness is a hand-written `SplitMix64`, and timestamps advance from a
//! fixed base. The iterator streams: it holds the workflows in flight, never
//! the events already produced, so it can produce millions.
//!
//! ```
//! use strand_projections::synthetic::{history, HistoryParams};
//! use strand_projections::{EventMeta, Projection, StateManager};
//!
//! # fn main() -> Result<(), strand_projections::ProjectionError> {
//! let mut state = StateManager::empty();
//! for (seq, (event, at_ms)) in (1..).zip(history(42, &HistoryParams::default())) {
//!     state.apply(EventMeta { seq, at_ms }, event)?;
//! }
//! // Every run is in the state, but those the history expired again.
//! let held = state.workflows().len() as u64 + state.expired_run_count();
//! assert_eq!(held, HistoryParams::default().workflows as u64);
//! # Ok(())
//! # }
//! ```

mod live;
mod rng;

use std::collections::VecDeque;

use crate::event::{BreakerState, DomainEvent};
use crate::ids::WorkerId;
use live::{Context, Live, Outcome};
use rng::SplitMix64;

/// The `at_ms` of the first event: 2023-11-14T22:13:20Z.
pub const BASE_AT_MS: u64 = 1_700_000_000_000;

/// The shape of a synthetic history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryParams {
    /// Workflows submitted over the history.
    pub workflows: usize,
    /// Beads in each workflow.
    pub beads_per_workflow: usize,
    /// Most dependencies a bead draws (duplicates are dropped).
    pub max_deps: usize,
    /// Workers spawned at the start (at least one is).
    pub workers: usize,
    /// Chance that a running attempt fails (retried until the fourth attempt,
    /// which always succeeds).
    pub failure_per_mille: u32,
    /// Chance that a running attempt times out; half of it is also the
    /// chance of a detour before start (a requeue or a timeout while scheduled).
    pub timeout_per_mille: u32,
    /// Share of dependency edges that are `after` (preferred order) edges.
    pub after_per_mille: u32,
    /// Chance, per step, of a supervision, worker-churn, checkpoint or
    /// rate-limit event.
    pub misc_per_mille: u32,
    /// Chance that a workflow is cancelled or failed part-way.
    pub doom_per_mille: u32,
    /// Workflows in flight at once, their beads interleaved.
    pub concurrent_workflows: usize,
}

impl Default for HistoryParams {
    /// A small history (a few hundred events) that exercises every event kind.
    fn default() -> Self {
        Self {
            workflows: 4,
            beads_per_workflow: 30,
            max_deps: 3,
            workers: 4,
            failure_per_mille: 60,
            timeout_per_mille: 30,
            after_per_mille: 150,
            misc_per_mille: 30,
            doom_per_mille: 250,
            concurrent_workflows: 3,
        }
    }
}

impl HistoryParams {
    /// A replay benchmark's shape: 10,000-bead workflows, 16 workers, a few
    /// percent failures and timeouts, enough workflows for about `events`
    /// events.
    pub fn with_target_events(events: usize) -> Self {
        let mut params = Self {
            workflows: 1,
            beads_per_workflow: 10_000,
            max_deps: 3,
            workers: 16,
            failure_per_mille: 20,
            timeout_per_mille: 10,
            after_per_mille: 100,
            misc_per_mille: 2,
            doom_per_mille: 0,
            concurrent_workflows: 4,
        };
        let per_workflow = history_len_hint(&params).max(1);
        params.workflows = events.div_ceil(per_workflow).max(1);
        params
    }
}

/// The expected number of events of a history with these parameters (a
/// hint for progress bars and capacity, not an exact count).
pub fn history_len_hint(params: &HistoryParams) -> usize {
    // Per bead: ready, scheduled, started, completed; each failure or timeout
    // adds failed/timed out, retry scheduled, ready, scheduled, started.
    let extra = u64::from(params.failure_per_mille + params.timeout_per_mille).min(1000);
    let per_bead_milli = 4_000 + 5 * extra;
    let beads = u64::try_from(params.beads_per_workflow).unwrap_or(u64::MAX);
    let per_workflow = 2 + beads.saturating_mul(per_bead_milli) / 1000;
    let workflows = u64::try_from(params.workflows).unwrap_or(u64::MAX);
    let workers = u64::try_from(params.workers.max(1)).unwrap_or(u64::MAX);
    let core = workers.saturating_add(workflows.saturating_mul(per_workflow));
    let misc = u64::from(params.misc_per_mille.min(999));
    let total = core.saturating_mul(1000) / (1000 - misc);
    usize::try_from(total).unwrap_or(usize::MAX)
}

/// A seeded synthetic history: `(event, at_ms)` pairs, `at_ms` strictly
/// increasing from [`BASE_AT_MS`]. See the [module docs](self).
pub fn history(seed: u64, params: &HistoryParams) -> History {
    let workers: Vec<WorkerId> = (0..params.workers.max(1))
        .map(|index| WorkerId::from(format!("worker-{index}")))
        .collect();
    let queue = workers
        .iter()
        .enumerate()
        .map(|(index, worker)| DomainEvent::WorkerSpawned {
            worker: worker.clone(),
            labels: worker_labels(index),
        })
        .collect();
    History {
        rng: SplitMix64::new(seed),
        params: params.clone(),
        at_ms: BASE_AT_MS,
        emitted: 0,
        queue,
        workers,
        submitted: 0,
        active: Vec::new(),
    }
}

/// The labels of worker `index`.
fn worker_labels(index: usize) -> Vec<String> {
    let kind = if index.is_multiple_of(2) { "cpu" } else { "io" };
    vec!["pool".to_owned(), kind.to_owned()]
}

/// Supervisors and children that supervision events name.
const SUPERVISORS: [(&str, &str); 6] = [
    ("storage", "event_store"),
    ("storage", "state_manager"),
    ("workflow", "scheduler"),
    ("workflow", "worker_pool"),
    ("queue", "rate_limiter"),
    ("reconciler", "reconciler"),
];

/// The iterator returned by [`history`].
pub struct History {
    rng: SplitMix64,
    params: HistoryParams,
    /// The `at_ms` of the last event produced.
    at_ms: u64,
    /// Events produced so far.
    emitted: u64,
    /// Events generated and not produced yet.
    queue: VecDeque<DomainEvent>,
    workers: Vec<WorkerId>,
    /// Workflows submitted so far.
    submitted: usize,
    /// Workflows in flight.
    active: Vec<Live>,
}

impl Iterator for History {
    type Item = (DomainEvent, u64);

    fn next(&mut self) -> Option<(DomainEvent, u64)> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                self.at_ms += 1 + self.rng.below(3);
                self.emitted += 1;
                return Some((event, self.at_ms));
            }
            if !self.step() {
                return None;
            }
        }
    }
}

impl History {
    /// Generates the next event(s) into the queue; false when the history is over.
    fn step(&mut self) -> bool {
        let Self {
            rng,
            params,
            at_ms,
            queue,
            workers,
            active,
            ..
        } = self;
        let mut cx = Context {
            rng,
            out: queue,
            params,
            workers,
            now_ms: *at_ms,
        };
        if active.len() < params.concurrent_workflows.max(1) && self.submitted < params.workflows {
            if let Some(live) = Live::submit(self.submitted, &mut cx) {
                active.push(live);
            }
            self.submitted += 1;
            return true;
        }
        if active.is_empty() {
            return false;
        }
        if cx.rng.chance(params.misc_per_mille) {
            let checkpoint_seq = self.emitted;
            misc(&mut cx, checkpoint_seq);
            return true;
        }
        let at = cx.rng.index(active.len());
        if let Some(live) = active.get_mut(at)
            && live.advance(&mut cx) == Outcome::Finished
        {
            active.swap_remove(at);
        }
        true
    }
}

/// One supervision, worker-churn, checkpoint or rate-limit event (two for
/// churn: a death and the respawn).
fn misc(cx: &mut Context<'_>, checkpoint_seq: u64) {
    let at = cx.rng.index(SUPERVISORS.len());
    let (supervisor, child) = SUPERVISORS.get(at).copied().unwrap_or(("root", "child"));
    let (supervisor, child) = (supervisor.to_owned(), child.to_owned());
    let event = match cx.rng.below(11) {
        0 => DomainEvent::ActorStarted { supervisor, child },
        1 => DomainEvent::ActorFailed {
            supervisor,
            child,
            reason: "panicked".to_owned(),
        },
        2 => DomainEvent::ActorRestarted {
            supervisor,
            child,
            restarts: 1 + u32::try_from(cx.rng.below(5)).unwrap_or(0),
        },
        3 => DomainEvent::ActorStopped {
            supervisor,
            child,
            reason: "shutdown".to_owned(),
        },
        4 => DomainEvent::RestartBackoffScheduled {
            supervisor,
            child,
            delay_ms: 100 << cx.rng.below(6),
        },
        5 => DomainEvent::BreakerChanged {
            supervisor,
            child,
            state: match cx.rng.below(3) {
                0 => BreakerState::Closed,
                1 => BreakerState::Open,
                _ => BreakerState::HalfOpen,
            },
        },
        6 => DomainEvent::SupervisorEscalated {
            supervisor,
            reason: "restart intensity exceeded".to_owned(),
        },
        7 => DomainEvent::CheckpointTaken {
            name: "state_manager".to_owned(),
            seq: checkpoint_seq,
        },
        8 => DomainEvent::RateLimited {
            key: format!("handler-{}", cx.rng.below(3)),
        },
        9 => DomainEvent::EventQuarantined {
            stream: format!("{supervisor}/{child}"),
            supervisor,
            child,
            seq: checkpoint_seq,
            reason: "panicked".to_owned(),
        },
        _ => {
            let index = cx.rng.index(cx.workers.len());
            let worker = cx
                .workers
                .get(index)
                .cloned()
                .unwrap_or_else(|| WorkerId::from("worker-0"));
            cx.out.push_back(DomainEvent::WorkerDied {
                worker: worker.clone(),
                reason: "crashed".to_owned(),
            });
            DomainEvent::WorkerSpawned {
                worker,
                labels: worker_labels(index),
            }
        }
    };
    cx.out.push_back(event);
}
