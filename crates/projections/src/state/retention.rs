//! Retention: how long finished runs stay in the state, which runs have
//! passed it, and what of the log the state still needs.
//!
//! The policy is the engine's, not the log's: a run leaves the state only
//! through its `RunExpired` event, which the engine appends once the policy
//! says so. The fold never reads a clock or a policy, so replay gives the
//! same state whatever policy the replaying process has.

use std::collections::BTreeMap;

use crate::error::ProjectionError;
use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::state::StateManager;

/// How long finished runs (completed, failed or cancelled) are kept, by
/// age since they finished and by number. Both bounds apply when both are
/// set; neither means forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// A run that finished this many milliseconds ago or more leaves.
    pub max_age_ms: Option<u64>,
    /// At most this many finished runs stay (the most recently finished).
    pub max_runs: Option<u64>,
}

impl Retention {
    /// Keep every finished run.
    pub const FOREVER: Self = Self {
        max_age_ms: None,
        max_runs: None,
    };

    /// True when it never lets a run go.
    pub fn is_forever(&self) -> bool {
        self.max_age_ms.is_none() && self.max_runs.is_none()
    }
}

/// The retention of an engine: a default, and overrides by definition
/// name. The finished runs of a definition with an override are counted
/// against its own `max_runs`; every other finished run against the
/// default's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// For definitions without an override.
    pub default: Retention,
    /// By definition name.
    pub per_definition: BTreeMap<String, Retention>,
}

impl RetentionPolicy {
    /// The retention of runs of definition `name`.
    pub fn of(&self, name: &str) -> Retention {
        self.per_definition
            .get(name)
            .copied()
            .unwrap_or(self.default)
    }

    /// True when no run ever leaves.
    pub fn is_forever(&self) -> bool {
        self.default.is_forever() && self.per_definition.values().all(Retention::is_forever)
    }
}

/// A finished run as retention weighs it.
struct Finished<'a> {
    id: &'a RunId,
    finished_at_ms: u64,
}

impl StateManager {
    /// The finished runs that `policy` lets go at `now_ms`, oldest finish
    /// first, at most `limit` of them: what the engine expires next.
    /// O(f log f) in the finished runs the state holds.
    pub fn expired(&self, policy: &RetentionPolicy, now_ms: u64, limit: usize) -> Vec<RunId> {
        if policy.is_forever() || limit == 0 {
            return Vec::new();
        }
        // Finished runs grouped by the policy that governs them: `None`
        // for the default.
        let mut groups: BTreeMap<Option<&str>, Vec<Finished<'_>>> = BTreeMap::new();
        for entry in self.entries() {
            let (id, name) = (entry.id(), entry.name());
            if entry.status() == RunStatus::Running {
                continue;
            }
            let finished_at_ms = entry.finished_at_ms().unwrap_or(0);
            let key = policy.per_definition.contains_key(name).then_some(name);
            groups
                .entry(key)
                .or_default()
                .push(Finished { id, finished_at_ms });
        }
        let mut out: Vec<(u64, &RunId)> = Vec::new();
        for (key, mut runs) in groups {
            let retention = key.map_or(policy.default, |name| policy.of(name));
            runs.sort_unstable_by(|a, b| (a.finished_at_ms, a.id).cmp(&(b.finished_at_ms, b.id)));
            let over = retention.max_runs.map_or(0, |max| {
                usize::try_from(max).map_or(0, |max| runs.len().saturating_sub(max))
            });
            for (at, run) in runs.iter().enumerate() {
                let too_old = retention
                    .max_age_ms
                    .is_some_and(|age| now_ms.saturating_sub(run.finished_at_ms) >= age);
                if at >= over && !too_old {
                    // Sorted by finish: every later run is younger.
                    break;
                }
                out.push((run.finished_at_ms, run.id));
            }
        }
        out.sort_unstable();
        out.into_iter()
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The lowest seq an event the state still needs may have: the
    /// submission of the oldest run it holds (whole or as a summary), or
    /// the next seq when it holds none. Records before it can be trimmed
    /// as far as runs are concerned.
    pub fn oldest_run_seq(&self) -> u64 {
        self.entries()
            .map(|entry| entry.submitted_seq())
            .min()
            .unwrap_or(self.applied_seq.saturating_add(1))
    }

    /// How many runs have expired since seq 1.
    pub fn expired_run_count(&self) -> u64 {
        self.expired_runs
    }

    /// `RunExpired`: a finished run leaves the state.
    pub(super) fn expire(&mut self, seq: u64, run: RunId) -> Result<(), ProjectionError> {
        if let Some(finished) = self.finished.remove(&run) {
            self.finished_totals.sub(&finished);
            self.expired_runs += 1;
            return Ok(());
        }
        match self.workflows.get(&run) {
            Some(record) if record.status.is_finished() => {
                self.workflows.remove(&run);
                self.expired_runs += 1;
                Ok(())
            }
            Some(record) => Err(ProjectionError::ControlNotApplicable {
                seq,
                workflow: run,
                event: crate::EventKind::RunExpired,
                status: record.status,
                paused: record.paused,
            }),
            None => Err(ProjectionError::UnknownWorkflow { seq, workflow: run }),
        }
    }
}
