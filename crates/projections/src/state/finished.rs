//! Finished runs as the hot state keeps them: [`FinishedRun`], a summary
//! bounded in bytes plus the digest of the run's input; [`FinishedTotals`],
//! what the summaries count, summed; and the fold of one run's history that
//! gives back the rest.
//!
//! A finished run's graph, tasks, beads, attempts and outputs stay in the
//! log (its `workflow/<id>` stream), not in memory: whoever wants them
//! folds that stream again
//! ([`StateManager::fold_run`](crate::StateManager::fold_run)), and so does
//! the retry of a failed or cancelled run (`live.rs`).

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::ProjectionError;
use crate::event::DomainEvent;
use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::projection::{EventMeta, Projection as _};
use crate::state::StateManager;
use crate::state::bead::BeadCounts;
use crate::state::live::Keep;
use crate::state::workflow::{RunRecord, RunSummary};

/// The longest failure or cancel reason a summary keeps, in bytes; the
/// whole reason is in the run's finishing event.
pub const SUMMARY_REASON_BYTES: usize = 1024;

/// SHA-256 of a run's input in canonical form (the JSON document with its
/// object keys sorted, written without spaces; the text itself when it is
/// not JSON): two inputs that are the same document have the same digest,
/// however they were spaced or their keys ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputDigest(pub [u8; 32]);

impl InputDigest {
    /// The digest of `input`.
    pub fn of(input: &str) -> Self {
        let mut hasher = Sha256::new();
        match serde_json::from_str::<serde_json::Value>(input) {
            Ok(document) => {
                let mut canonical = String::with_capacity(input.len());
                write_canonical(&document, &mut canonical);
                hasher.update(canonical.as_bytes());
            }
            Err(_) => hasher.update(input.as_bytes()),
        }
        Self(hasher.finalize().into())
    }
}

/// `value` as JSON with every object's keys in byte order: not relying on
/// how `serde_json` orders a map (a feature of any crate in the build may
/// make it keep insertion order).
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(field) = map.get(key) {
                    write_canonical(field, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A finished run, as the hot state keeps it when not whole.
///
/// The field order is part of snapshot format version 3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedRun {
    /// Its summary, the reason cut to [`SUMMARY_REASON_BYTES`].
    pub(crate) summary: RunSummary,
    /// Its input's digest: a submission naming this run is the same run
    /// only with the same input.
    pub(crate) input: InputDigest,
}

impl FinishedRun {
    /// What is kept of `record` once it finished.
    pub(crate) fn of(record: &RunRecord) -> Self {
        let mut summary = record.summary();
        if let Some(reason) = &mut summary.reason {
            cut(reason, SUMMARY_REASON_BYTES);
        }
        Self {
            summary,
            input: InputDigest::of(record.input()),
        }
    }

    /// Its summary.
    pub fn summary(&self) -> &RunSummary {
        &self.summary
    }

    /// Its input's digest.
    pub fn input(&self) -> InputDigest {
        self.input
    }

    /// Whether its reason is the run's whole reason (true when it has
    /// none): a reason that may have been cut is read from the run's
    /// finishing event.
    pub fn reason_is_whole(&self) -> bool {
        // A cut reason is at least `SUMMARY_REASON_BYTES - MARK.len()`
        // long (the cut backs up at most three bytes to a character, and
        // the mark adds them back).
        self.summary
            .reason
            .as_ref()
            .is_none_or(|reason| reason.len() + CUT_MARK.len() < SUMMARY_REASON_BYTES)
    }
}

/// The finished runs a state holds as summaries, counted by outcome, and
/// their beads by state: what `/metrics` and `status` report of them in
/// O(1). Derived (not in the snapshot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FinishedTotals {
    /// Runs that completed.
    pub completed: u64,
    /// Runs that failed.
    pub failed: u64,
    /// Runs that were cancelled.
    pub cancelled: u64,
    /// Their beads, by state, summed.
    pub beads: BeadCounts,
}

impl FinishedTotals {
    /// The count of runs that ended `status` (0 for a running one).
    fn slot(&mut self, status: RunStatus) -> Option<&mut u64> {
        match status {
            RunStatus::Completed => Some(&mut self.completed),
            RunStatus::Failed => Some(&mut self.failed),
            RunStatus::Cancelled => Some(&mut self.cancelled),
            RunStatus::Running => None,
        }
    }

    /// Counts `run` in.
    pub(crate) fn add(&mut self, run: &FinishedRun) {
        if let Some(count) = self.slot(run.summary.status) {
            *count = count.saturating_add(1);
        }
        self.beads.add(&run.summary.counts);
    }

    /// Counts `run`, counted in before, out.
    pub(crate) fn sub(&mut self, run: &FinishedRun) {
        if let Some(count) = self.slot(run.summary.status) {
            *count = count.saturating_sub(1);
        }
        self.beads.sub(&run.summary.counts);
    }
}

/// What ends a cut reason.
const CUT_MARK: &str = "…";

/// Cuts `text` to at most `max` bytes, at a character boundary, marking the
/// cut with an ellipsis (counted in `max`).
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(CUT_MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARK);
}

impl StateManager {
    /// Run `run` again from its events (its stream of the log, in seq
    /// order, from its submission on), kept whole however it ended: what a completed run's beads,
    /// attempts and outputs are read from once the state holds only its
    /// summary. `None` when the events never submit it.
    ///
    /// # Errors
    /// The first event the fold refuses (a stream that is not this run's
    /// history).
    pub fn fold_run(
        run: &RunId,
        events: impl IntoIterator<Item = (EventMeta, DomainEvent)>,
    ) -> Result<Option<RunRecord>, ProjectionError> {
        let mut state = Self {
            keep: Keep::All,
            ..Self::default()
        };
        // The history begins at the stream's last submission: what came
        // before is a run of the same id that expired (and may have been
        // trimmed away in part).
        let events: Vec<(EventMeta, DomainEvent)> = events.into_iter().collect();
        let start = events
            .iter()
            .rposition(|(_, event)| {
                matches!(
                    event,
                    DomainEvent::RunSubmitted { .. } | DomainEvent::WorkflowSubmitted { .. }
                )
            })
            .unwrap_or(0);
        for (meta, event) in events.into_iter().skip(start) {
            state.apply(meta, event)?;
        }
        Ok(state.workflows.remove(run))
    }

    /// The refusal of an event for `workflow` that only a run kept whole
    /// may take: `WorkflowFinished` for a completed run, else
    /// `UnknownWorkflow`.
    pub(super) fn not_whole(&self, seq: u64, workflow: RunId) -> ProjectionError {
        match self.finished.get(&workflow) {
            Some(finished) => ProjectionError::WorkflowFinished {
                seq,
                status: finished.summary.status,
                workflow,
            },
            None => ProjectionError::UnknownWorkflow { seq, workflow },
        }
    }

    /// The refusal of a control event for `workflow`, not kept whole: not
    /// applicable to a completed run, else `UnknownWorkflow`.
    pub(super) fn completed_refuses(
        &self,
        seq: u64,
        workflow: RunId,
        event: crate::EventKind,
    ) -> ProjectionError {
        match self.finished.get(&workflow) {
            Some(finished) => ProjectionError::ControlNotApplicable {
                seq,
                status: finished.summary.status,
                workflow,
                event,
                paused: false,
            },
            None => ProjectionError::UnknownWorkflow { seq, workflow },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_the_same_document_spaced_and_ordered_differently_when_digested_then_the_digests_match()
    {
        let a = InputDigest::of(r#"{"region":"eu","n":[1,2,{"b":1,"a":2}]}"#);
        let b = InputDigest::of("{ \"n\": [1, 2, {\"a\": 2, \"b\": 1}],\n \"region\": \"eu\" }");
        assert_eq!(a, b);
        assert_ne!(
            a,
            InputDigest::of(r#"{"region":"us","n":[1,2,{"b":1,"a":2}]}"#)
        );
    }

    #[test]
    fn given_a_long_multibyte_reason_when_cut_then_it_fits_and_ends_on_a_character() {
        let mut reason = "é".repeat(2000);
        cut(&mut reason, SUMMARY_REASON_BYTES);
        assert!(reason.len() <= SUMMARY_REASON_BYTES);
        assert!(reason.ends_with('…'));
        let mut short = "fine".to_owned();
        cut(&mut short, SUMMARY_REASON_BYTES);
        assert_eq!(short, "fine");
    }
}
