//! Beads: [`BeadRecord`], [`BeadCounts`], and the bead lifecycle edges that
//! `apply` enforces.

use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::ids::WorkerId;
use crate::kind::EventKind;
use crate::lifecycle::BeadState;
use crate::output::Output;
use crate::state::worker::Interner;

/// What the projection knows about one bead.
///
/// Laid out for replay: one 64-byte cache line, with the rarely set fields
/// (planned retry, cancel reason, log tail) boxed out of line and worker ids shared
/// rather than copied. Serializes (snapshot and JSON) as `state, attempts,
/// worker, output, last_error, retryable, retry_at_ms, cancel_reason,
/// updated_at_ms, log_tail, budget_base`, in that order: part of snapshot
/// format version 2.
#[derive(Clone, Debug)]
#[repr(align(64))]
pub struct BeadRecord {
    /// Where the bead is in its lifecycle.
    pub state: BeadState,
    /// Whether the last failure may be retried (always true after a timeout).
    pub retryable: bool,
    /// Attempts started so far (the current attempt while running).
    pub attempts: u32,
    /// The `at_ms` of the last event that changed this record.
    pub updated_at_ms: u64,
    /// The worker it was last scheduled on or started by; cleared when it
    /// becomes ready again. Shared by every record that names it.
    pub worker: Option<Arc<WorkerId>>,
    /// The output of the attempt that completed it; shared with the
    /// dependents it is handed to.
    pub output: Option<Arc<Output>>,
    /// The error of the last failed attempt, or the reason of the last timeout.
    pub last_error: Option<Box<str>>,
    /// The rarely set fields; see [`retry_at_ms`](Self::retry_at_ms) and
    /// [`cancel_reason`](Self::cancel_reason).
    detail: Option<Box<BeadDetail>>,
}

/// The rarely set fields of a [`BeadRecord`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct BeadDetail {
    retry_at_ms: Option<u64>,
    cancel_reason: Option<String>,
    log_tail: Option<String>,
    /// Attempts made before an operator's retry gave the bead a fresh
    /// retry budget.
    budget_base: u32,
}

impl BeadRecord {
    /// A bead just submitted: pending, never attempted.
    pub(crate) fn pending(at_ms: u64) -> Self {
        Self {
            state: BeadState::Pending,
            retryable: false,
            attempts: 0,
            updated_at_ms: at_ms,
            worker: None,
            output: None,
            last_error: None,
            detail: None,
        }
    }

    /// A record read back from a snapshot.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per snapshot field, in format order"
    )]
    pub(crate) fn restored(
        state: BeadState,
        attempts: u32,
        worker: Option<Arc<WorkerId>>,
        output: Option<Output>,
        last_error: Option<String>,
        retryable: bool,
        retry_at_ms: Option<u64>,
        cancel_reason: Option<String>,
        updated_at_ms: u64,
        log_tail: Option<String>,
        budget_base: u32,
    ) -> Self {
        let detail = BeadDetail {
            retry_at_ms,
            cancel_reason,
            log_tail,
            budget_base,
        };
        Self {
            state,
            retryable,
            attempts,
            updated_at_ms,
            worker,
            output: output.map(Arc::new),
            last_error: last_error.map(String::into_boxed_str),
            detail: (detail != BeadDetail::default()).then(|| Box::new(detail)),
        }
    }

    /// The worker's id, borrowed.
    pub fn worker_id(&self) -> Option<&WorkerId> {
        self.worker.as_deref()
    }

    /// When a planned retry is due, in ms since the epoch; cleared when ready.
    pub fn retry_at_ms(&self) -> Option<u64> {
        self.detail.as_ref()?.retry_at_ms
    }

    /// Why it was cancelled.
    pub fn cancel_reason(&self) -> Option<&str> {
        self.detail.as_ref()?.cancel_reason.as_deref()
    }

    /// The end of what the completing attempt logged (a shell task's stderr).
    pub fn log_tail(&self) -> Option<&str> {
        self.detail.as_ref()?.log_tail.as_deref()
    }

    /// Attempts counted against the retry budget: those since an
    /// operator's last retry of the run.
    pub fn budgeted_attempts(&self) -> u32 {
        let base = self.detail.as_ref().map_or(0, |d| d.budget_base);
        self.attempts.saturating_sub(base)
    }

    /// The bead made pending again by an operator's retry: a fresh retry
    /// budget, no planned retry, no cancel reason; attempts and the last
    /// error are kept as history.
    pub(crate) fn reopen(&mut self, at_ms: u64) {
        self.state = BeadState::Pending;
        self.worker = None;
        self.retryable = false;
        self.updated_at_ms = at_ms;
        let attempts = self.attempts;
        let detail = self.detail_mut();
        detail.retry_at_ms = None;
        detail.cancel_reason = None;
        detail.budget_base = attempts;
    }

    fn budget_base(&self) -> u32 {
        self.detail.as_ref().map_or(0, |d| d.budget_base)
    }

    fn detail_mut(&mut self) -> &mut BeadDetail {
        self.detail.get_or_insert_with(Box::default)
    }
}

/// Records are equal when every field is equal, however the rare fields
/// are stored.
impl PartialEq for BeadRecord {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
            && self.attempts == other.attempts
            && self.worker_id() == other.worker_id()
            && self.output == other.output
            && self.last_error == other.last_error
            && self.retryable == other.retryable
            && self.retry_at_ms() == other.retry_at_ms()
            && self.cancel_reason() == other.cancel_reason()
            && self.log_tail() == other.log_tail()
            && self.budget_base() == other.budget_base()
            && self.updated_at_ms == other.updated_at_ms
    }
}

impl Eq for BeadRecord {}

impl Serialize for BeadRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("BeadRecord", 11)?;
        out.serialize_field("state", &self.state)?;
        out.serialize_field("attempts", &self.attempts)?;
        out.serialize_field("worker", &self.worker_id())?;
        out.serialize_field("output", &self.output.as_deref())?;
        out.serialize_field("last_error", &self.last_error)?;
        out.serialize_field("retryable", &self.retryable)?;
        out.serialize_field("retry_at_ms", &self.retry_at_ms())?;
        out.serialize_field("cancel_reason", &self.cancel_reason())?;
        out.serialize_field("updated_at_ms", &self.updated_at_ms)?;
        out.serialize_field("log_tail", &self.log_tail())?;
        out.serialize_field("budget_base", &self.budget_base())?;
        out.end()
    }
}

/// How many beads of a workflow are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeadCounts {
    /// Beads pending.
    pub pending: u64,
    /// Beads ready.
    pub ready: u64,
    /// Beads scheduled.
    pub scheduled: u64,
    /// Beads running.
    pub running: u64,
    /// Beads completed.
    pub completed: u64,
    /// Beads failed.
    pub failed: u64,
    /// Beads timed out.
    pub timed_out: u64,
    /// Beads cancelled.
    pub cancelled: u64,
    /// Every bead of the workflow.
    pub total: u64,
}

impl BeadCounts {
    /// The count of beads in `state`.
    pub fn get(&self, state: BeadState) -> u64 {
        match state {
            BeadState::Pending => self.pending,
            BeadState::Ready => self.ready,
            BeadState::Scheduled => self.scheduled,
            BeadState::Running => self.running,
            BeadState::Completed => self.completed,
            BeadState::Failed => self.failed,
            BeadState::TimedOut => self.timed_out,
            BeadState::Cancelled => self.cancelled,
        }
    }

    /// The counts of the given records.
    pub(crate) fn of<'a>(records: impl IntoIterator<Item = &'a BeadRecord>) -> Self {
        let mut counts = Self::default();
        for record in records {
            *counts.slot(record.state) += 1;
            counts.total += 1;
        }
        counts
    }

    /// Adds `other`'s counts to these (saturating).
    pub fn add(&mut self, other: &Self) {
        self.pending = self.pending.saturating_add(other.pending);
        self.ready = self.ready.saturating_add(other.ready);
        self.scheduled = self.scheduled.saturating_add(other.scheduled);
        self.running = self.running.saturating_add(other.running);
        self.completed = self.completed.saturating_add(other.completed);
        self.failed = self.failed.saturating_add(other.failed);
        self.timed_out = self.timed_out.saturating_add(other.timed_out);
        self.cancelled = self.cancelled.saturating_add(other.cancelled);
        self.total = self.total.saturating_add(other.total);
    }

    /// Takes away `other` (counts added before).
    pub(crate) fn sub(&mut self, other: &Self) {
        self.pending = self.pending.saturating_sub(other.pending);
        self.ready = self.ready.saturating_sub(other.ready);
        self.scheduled = self.scheduled.saturating_sub(other.scheduled);
        self.running = self.running.saturating_sub(other.running);
        self.completed = self.completed.saturating_sub(other.completed);
        self.failed = self.failed.saturating_sub(other.failed);
        self.timed_out = self.timed_out.saturating_sub(other.timed_out);
        self.cancelled = self.cancelled.saturating_sub(other.cancelled);
        self.total = self.total.saturating_sub(other.total);
    }

    /// One bead moved from `from` to `to`.
    fn moved(&mut self, from: BeadState, to: BeadState) {
        let slot = self.slot(from);
        *slot = slot.saturating_sub(1);
        *self.slot(to) += 1;
    }

    fn slot(&mut self, state: BeadState) -> &mut u64 {
        match state {
            BeadState::Pending => &mut self.pending,
            BeadState::Ready => &mut self.ready,
            BeadState::Scheduled => &mut self.scheduled,
            BeadState::Running => &mut self.running,
            BeadState::Completed => &mut self.completed,
            BeadState::Failed => &mut self.failed,
            BeadState::TimedOut => &mut self.timed_out,
            BeadState::Cancelled => &mut self.cancelled,
        }
    }
}

/// Why a bead event was refused, before the ids are attached (the caller
/// owns them and moves them into the [`ProjectionError`](crate::ProjectionError)).
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The bead's state does not allow the event.
    Transition { from: BeadState, event: EventKind },
    /// The event's attempt is not the expected one.
    Attempt { expected: u32, found: u32 },
    /// A pending bead has a blocking dependency that has not completed (the
    /// caller, who can see the other beads, names it).
    Blocked,
}

/// What an accepted transition asks of the workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing more.
    None,
    /// The bead completed: release its blocking dependents.
    Completed,
}

/// One bead of a running workflow, borrowed for a transition: its record,
/// the workflow's counts, and the worker-id interner.
pub(crate) struct BeadSlot<'a> {
    /// The bead's position (index in id order).
    pub(crate) position: usize,
    /// The bead's record.
    pub(crate) record: &'a mut BeadRecord,
    /// Per bead of the workflow, how many blocking dependencies have not
    /// completed (read only by `BeadReady`, to keep other events off its cache line).
    pub(crate) waiting: &'a [u32],
    /// The workflow's per-state counts.
    pub(crate) counts: &'a mut BeadCounts,
    /// Shared worker ids.
    pub(crate) workers: &'a mut Interner,
}

impl BeadSlot<'_> {
    /// The refusal of `event` in the bead's current state.
    fn refuse(&self, event: EventKind) -> Refusal {
        Refusal::Transition {
            from: self.record.state,
            event,
        }
    }

    /// Moves the bead to `to` at `at_ms`, keeping the counts right.
    #[inline]
    fn enter(&mut self, to: BeadState, at_ms: u64) {
        self.counts.moved(self.record.state, to);
        self.record.state = to;
        self.record.updated_at_ms = at_ms;
    }

    /// `BeadReady`: from pending once every blocking dependency completed
    /// (O(1): a count is kept), from failed or timed out (a retry), from
    /// scheduled (a requeue).
    pub(crate) fn ready(&mut self, at_ms: u64) -> Result<Effect, Refusal> {
        match self.record.state {
            BeadState::Pending if self.waiting.get(self.position) != Some(&0) => {
                return Err(Refusal::Blocked);
            }
            BeadState::Pending | BeadState::Failed | BeadState::TimedOut | BeadState::Scheduled => {
            }
            _ => return Err(self.refuse(EventKind::BeadReady)),
        }
        self.record.worker = None;
        if let Some(detail) = self.record.detail.as_mut() {
            detail.retry_at_ms = None;
        }
        self.enter(BeadState::Ready, at_ms);
        Ok(Effect::None)
    }

    /// `BeadScheduled`: from ready.
    pub(crate) fn scheduled(&mut self, at_ms: u64, worker: WorkerId) -> Result<Effect, Refusal> {
        if self.record.state != BeadState::Ready {
            return Err(self.refuse(EventKind::BeadScheduled));
        }
        self.record.worker = Some(self.workers.intern(worker));
        self.enter(BeadState::Scheduled, at_ms);
        Ok(Effect::None)
    }

    /// `BeadStarted`: from scheduled, with the next attempt number.
    pub(crate) fn started(
        &mut self,
        at_ms: u64,
        worker: WorkerId,
        attempt: u32,
    ) -> Result<Effect, Refusal> {
        if self.record.state != BeadState::Scheduled {
            return Err(self.refuse(EventKind::BeadStarted));
        }
        check_attempt(self.record.attempts.saturating_add(1), attempt)?;
        self.record.attempts = attempt;
        if self.record.worker_id() != Some(&worker) {
            self.record.worker = Some(self.workers.intern(worker));
        }
        self.enter(BeadState::Running, at_ms);
        Ok(Effect::None)
    }

    /// `BeadCompleted`, `BeadCompletedWithOutput`: from running, for the
    /// current attempt. The caller releases the bead's blocking dependents.
    pub(crate) fn completed(
        &mut self,
        at_ms: u64,
        attempt: u32,
        output: Output,
        log_tail: String,
    ) -> Result<Effect, Refusal> {
        self.check_running(EventKind::BeadCompleted, attempt)?;
        self.record.output = Some(Arc::new(output));
        if !log_tail.is_empty() {
            self.record.detail_mut().log_tail = Some(log_tail);
        }
        self.enter(BeadState::Completed, at_ms);
        Ok(Effect::Completed)
    }

    /// `BeadFailed`: from running, for the current attempt.
    pub(crate) fn failed(
        &mut self,
        at_ms: u64,
        attempt: u32,
        error: String,
        retryable: bool,
    ) -> Result<Effect, Refusal> {
        self.check_running(EventKind::BeadFailed, attempt)?;
        self.record.last_error = Some(error.into_boxed_str());
        self.record.retryable = retryable;
        self.enter(BeadState::Failed, at_ms);
        Ok(Effect::None)
    }

    /// `BeadRetryScheduled`: from failed or timed out; the state stays.
    pub(crate) fn retry_scheduled(&mut self, at_ms: u64, due_ms: u64) -> Result<Effect, Refusal> {
        if !matches!(self.record.state, BeadState::Failed | BeadState::TimedOut) {
            return Err(self.refuse(EventKind::BeadRetryScheduled));
        }
        self.record.detail_mut().retry_at_ms = Some(due_ms);
        self.record.updated_at_ms = at_ms;
        Ok(Effect::None)
    }

    /// `BeadTimedOut`: from running (the current attempt) or scheduled (the
    /// attempt it was scheduled for, which never started).
    pub(crate) fn timed_out(
        &mut self,
        at_ms: u64,
        attempt: u32,
        reason: String,
    ) -> Result<Effect, Refusal> {
        let expected = match self.record.state {
            BeadState::Running => self.record.attempts,
            BeadState::Scheduled => self.record.attempts.saturating_add(1),
            _ => return Err(self.refuse(EventKind::BeadTimedOut)),
        };
        check_attempt(expected, attempt)?;
        self.record.last_error = Some(reason.into_boxed_str());
        self.record.retryable = true;
        self.enter(BeadState::TimedOut, at_ms);
        Ok(Effect::None)
    }

    /// `BeadCancelled`: from any state but completed and cancelled.
    pub(crate) fn cancelled(&mut self, at_ms: u64, reason: String) -> Result<Effect, Refusal> {
        if self.record.state.is_final() {
            return Err(self.refuse(EventKind::BeadCancelled));
        }
        self.record.detail_mut().cancel_reason = Some(reason);
        self.enter(BeadState::Cancelled, at_ms);
        Ok(Effect::None)
    }

    /// Refuses `event` unless the bead is running `attempt`.
    fn check_running(&self, event: EventKind, attempt: u32) -> Result<(), Refusal> {
        if self.record.state != BeadState::Running {
            return Err(self.refuse(event));
        }
        check_attempt(self.record.attempts, attempt)
    }
}

/// Refuses an event whose attempt is not `expected`.
fn check_attempt(expected: u32, found: u32) -> Result<(), Refusal> {
    if expected == found {
        Ok(())
    } else {
        Err(Refusal::Attempt { expected, found })
    }
}

#[cfg(test)]
mod tests {
    use super::BeadRecord;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn given_bead_record_when_measured_then_one_cache_line() {
        assert_eq!(std::mem::size_of::<BeadRecord>(), 64);
        assert_eq!(std::mem::align_of::<BeadRecord>(), 64);
    }
}
