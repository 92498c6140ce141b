//! What an operator sees of runs: typed documents built from the
//! StateManager projection, the same whether a command replayed the log
//! itself or asked a running engine through its socket (which answers
//! with these documents as JSON). No HTTP and no terminal here: the
//! server serves them, the CLI prints them.

mod engine;
mod shown;

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use strand_projections::{
    BeadCounts, BeadState, Projection as _, RunEntry, RunId, RunRecord, RunStatus, RunSummary,
    StateManager,
};

pub use engine::{EngineView, LogView, SupervisorView, WorkersView};
pub use shown::{Encoding, SHOWN_BYTES, ShownOutput, final_outputs};

/// Which runs a listing holds (`strand runs`, `GET /api/v1/runs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFilter {
    /// Only runs in this state.
    pub state: Option<RunStatus>,
    /// Only runs of this definition name.
    pub definition: Option<String>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
    /// Only runs started at or after this time (ms since the epoch).
    pub since_ms: Option<u64>,
    /// Only runs after this cursor in the listing's order (the `next` of
    /// the page before).
    pub before: Option<String>,
}

/// A listing cursor that is not one a listing gave out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{cursor:?} is not a cursor of a run listing")]
pub struct BadCursor {
    /// The cursor.
    pub cursor: String,
}

/// A run's place in a listing: its start time then its id, newest first.
fn cursor_of(run: &RunSummary) -> String {
    format!("{}.{}", run.submitted_at_ms, run.id.as_str())
}

impl RunFilter {
    /// The filter as a URL query string (`?state=failed&limit=3`), empty
    /// when it lets every run through.
    pub fn query_string(&self) -> String {
        let mut pairs: Vec<String> = Vec::new();
        if let Some(state) = self.state {
            pairs.push(format!("state={}", state.as_str()));
        }
        if let Some(definition) = &self.definition {
            pairs.push(format!("definition={}", escape(definition)));
        }
        if let Some(limit) = self.limit {
            pairs.push(format!("limit={limit}"));
        }
        if let Some(since) = self.since_ms {
            pairs.push(format!("since_ms={since}"));
        }
        if let Some(before) = &self.before {
            pairs.push(format!("before={}", escape(before)));
        }
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    /// The cursor, parsed: the start time and id the page begins after.
    ///
    /// # Errors
    /// [`BadCursor`] when it is not `MS.ID`.
    pub fn cursor(&self) -> Result<Option<(u64, RunId)>, BadCursor> {
        let Some(before) = &self.before else {
            return Ok(None);
        };
        let bad = || BadCursor {
            cursor: before.clone(),
        };
        let (ms, id) = before.split_once('.').ok_or_else(bad)?;
        let ms = ms.parse::<u64>().map_err(|_| bad())?;
        Ok(Some((ms, RunId::from(id))))
    }

    fn admits(&self, run: &RunEntry<'_>) -> bool {
        self.state.is_none_or(|s| run.status() == s)
            && self.definition.as_deref().is_none_or(|d| run.name() == d)
            && self
                .since_ms
                .is_none_or(|since| run.submitted_at_ms() >= since)
    }
}

/// A run as one line of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    /// The run.
    pub id: RunId,
    /// Its definition's name.
    pub definition: String,
    /// Its definition's content hash (hex).
    pub definition_hash: String,
    /// Running, or how it finished.
    pub state: RunStatus,
    /// An operator paused it.
    pub paused: bool,
    /// Beads per state.
    pub beads: BeadCounts,
    /// When it was submitted (RFC 3339, seconds).
    pub started_at: String,
    /// The same in ms since the epoch.
    pub started_at_ms: u64,
    /// When it finished, if it has.
    pub finished_at: Option<String>,
    /// The same in ms since the epoch.
    pub finished_at_ms: Option<u64>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}

impl RunLine {
    fn of(run: &RunSummary) -> Self {
        Self {
            id: run.id.clone(),
            definition: run.name.clone(),
            definition_hash: run.definition.to_string(),
            state: run.status,
            paused: run.paused,
            beads: run.counts,
            started_at: time(run.submitted_at_ms),
            started_at_ms: run.submitted_at_ms,
            finished_at: run.finished_at_ms.map(time),
            finished_at_ms: run.finished_at_ms,
            reason: run.reason.clone(),
        }
    }
}

/// Runs, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunList {
    /// The runs the filter admits, newest first, at most its limit.
    pub runs: Vec<RunLine>,
    /// The cursor of the next page (`before`), when the limit cut this one.
    #[serde(default)]
    pub next: Option<String>,
}

impl RunList {
    /// The runs of `state` that `filter` admits (a cursor that does not
    /// parse admits every run: check [`RunFilter::cursor`] first).
    ///
    /// O(n) in the runs held plus O(k log k) in the page's k: the page is
    /// selected, not the whole list sorted, and only its runs are copied.
    pub fn of(state: &StateManager, filter: &RunFilter) -> Self {
        let after = filter.cursor().ok().flatten();
        let mut runs: Vec<RunEntry<'_>> = state
            .entries()
            .filter(|r| {
                after
                    .as_ref()
                    .is_none_or(|(ms, id)| (r.submitted_at_ms(), r.id()) < (*ms, id))
            })
            .filter(|r| filter.admits(r))
            .collect();
        let newest_first = |a: &RunEntry<'_>, b: &RunEntry<'_>| {
            (b.submitted_at_ms(), b.id()).cmp(&(a.submitted_at_ms(), a.id()))
        };
        let limit = filter.limit.unwrap_or(usize::MAX);
        if runs.len() > limit {
            // The page, and the one run after it that says there is more.
            runs.select_nth_unstable_by(limit, newest_first);
            runs.truncate(limit.saturating_add(1));
        }
        runs.sort_unstable_by(newest_first);
        let next = (limit > 0 && runs.len() > limit)
            .then(|| {
                runs.get(limit.saturating_sub(1))
                    .map(|r| cursor_of(&r.summary()))
            })
            .flatten();
        runs.truncate(limit);
        Self {
            runs: runs.iter().map(|r| RunLine::of(&r.summary())).collect(),
            next,
        }
    }
}

/// One bead of a run: its record, with its output cut for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeadView {
    /// The bead.
    pub id: String,
    /// Where it is in its lifecycle.
    pub state: BeadState,
    /// Attempts started so far.
    pub attempts: u32,
    /// The worker it last ran (or was scheduled) on.
    pub worker: Option<String>,
    /// Its output, cut (`strand output` has it whole).
    pub output: Option<ShownOutput>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// Whether that failure may be retried.
    pub retryable: bool,
    /// When a planned retry is due (ms since the epoch).
    pub retry_at_ms: Option<u64>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The last attempt's stderr (shell tasks), its end.
    pub log_tail: Option<String>,
    /// When its record last changed (ms since the epoch).
    pub updated_at_ms: u64,
}

/// One run: its summary, input, beads and final outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// Every event up to this seq is in the document.
    pub seq: u64,
    /// The run's summary.
    pub workflow: RunSummary,
    /// Its input (the JSON object; the text when it is not JSON).
    pub input: serde_json::Value,
    /// Its beads, in definition order.
    pub beads: Vec<BeadView>,
    /// The leaf beads' outputs, by bead id.
    pub outputs: BTreeMap<String, ShownOutput>,
}

impl RunDetail {
    /// The document of `run`, as of `seq`.
    pub fn of(run: &RunRecord, seq: u64) -> Self {
        let beads = run
            .beads()
            .map(|(bead, record)| BeadView {
                id: bead.as_str().to_owned(),
                state: record.state,
                attempts: record.attempts,
                worker: record.worker_id().map(|w| w.as_str().to_owned()),
                output: record.output.as_deref().map(ShownOutput::of),
                last_error: record.last_error.as_deref().map(str::to_owned),
                retryable: record.retryable,
                retry_at_ms: record.retry_at_ms(),
                cancel_reason: record.cancel_reason().map(str::to_owned),
                log_tail: record.log_tail().map(str::to_owned),
                updated_at_ms: record.updated_at_ms,
            })
            .collect();
        let input = serde_json::from_str(run.input())
            .unwrap_or_else(|_| serde_json::Value::String(run.input().to_string()));
        Self {
            seq,
            workflow: run.summary(),
            input,
            beads,
            outputs: final_outputs(run),
        }
    }
}

/// The workers, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerCounts {
    /// Workers ever registered.
    pub total: usize,
    /// Those alive.
    pub alive: usize,
}

/// Every run and the workers (`strand status` without a run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Every event up to this seq is in the document.
    pub seq: u64,
    /// The projection's state hash at that seq.
    pub state_hash: String,
    /// Every run, sorted by id.
    pub workflows: Vec<RunSummary>,
    /// The workers.
    pub workers: WorkerCounts,
}

impl Overview {
    /// The overview of `state`, as of `seq`.
    pub fn of(state: &StateManager, seq: u64) -> Self {
        let workers = state.workers();
        Self {
            seq,
            state_hash: state.state_hash().to_string(),
            workflows: state.workflows(),
            workers: WorkerCounts {
                total: workers.len(),
                alive: workers.iter().filter(|w| w.record.alive).count(),
            },
        }
    }
}

/// A URL query value, percent-encoded.
fn escape(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An `at_ms` as RFC 3339 (seconds).
pub fn time(at_ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(at_ms)).to_string()
}

#[cfg(test)]
mod tests;
