//! Beads: [`BeadRecord`], [`BeadCounts`], and the bead lifecycle edges that
//! `apply` enforces.

use serde::{Deserialize, Serialize};

use crate::ids::WorkerId;
use crate::kind::EventKind;
use crate::lifecycle::BeadState;
use crate::state::workflow::Readiness;

/// What the projection knows about one bead.
///
/// The field order is part of snapshot format version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BeadRecord {
    /// Where the bead is in its lifecycle.
    pub state: BeadState,
    /// Attempts started so far (the current attempt while running).
    pub attempts: u32,
    /// The worker it was last scheduled on; cleared when it becomes ready again.
    pub worker: Option<WorkerId>,
    /// The output of the attempt that completed it.
    pub output: Option<String>,
    /// The error of the last failed attempt, or the reason of the last timeout.
    pub last_error: Option<String>,
    /// Whether the last failure may be retried (always true after a timeout).
    pub retryable: bool,
    /// When a planned retry is due, in ms since the epoch; cleared when ready.
    pub retry_at_ms: Option<u64>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The `at_ms` of the last event that changed this record.
    pub updated_at_ms: u64,
}

impl BeadRecord {
    /// A bead just submitted: pending, never attempted.
    pub(crate) fn pending(at_ms: u64) -> Self {
        Self {
            state: BeadState::Pending,
            attempts: 0,
            worker: None,
            output: None,
            last_error: None,
            retryable: false,
            retry_at_ms: None,
            cancel_reason: None,
            updated_at_ms: at_ms,
        }
    }
}

/// How many beads of a workflow are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
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

/// One bead of a running workflow, borrowed for a transition: its record,
/// the workflow's counts and its readiness bookkeeping.
pub(crate) struct BeadSlot<'a> {
    /// The bead's position (index in id order).
    pub(crate) position: usize,
    /// The bead's record.
    pub(crate) record: &'a mut BeadRecord,
    /// The workflow's per-state counts.
    pub(crate) counts: &'a mut BeadCounts,
    /// The workflow's blocking-dependency bookkeeping.
    pub(crate) readiness: &'a mut Readiness,
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
    fn enter(&mut self, to: BeadState, at_ms: u64) {
        self.counts.moved(self.record.state, to);
        self.record.state = to;
        self.record.updated_at_ms = at_ms;
    }

    /// `BeadReady`: from pending once every blocking dependency completed
    /// (O(1): a count is kept), from failed or timed out (a retry), from
    /// scheduled (a requeue).
    pub(crate) fn ready(&mut self, at_ms: u64) -> Result<(), Refusal> {
        match self.record.state {
            BeadState::Pending => {
                if self.readiness.waiting_on(self.position) != 0 {
                    return Err(Refusal::Blocked);
                }
            }
            BeadState::Failed | BeadState::TimedOut | BeadState::Scheduled => {}
            _ => return Err(self.refuse(EventKind::BeadReady)),
        }
        self.record.worker = None;
        self.record.retry_at_ms = None;
        self.enter(BeadState::Ready, at_ms);
        Ok(())
    }

    /// `BeadScheduled`: from ready.
    pub(crate) fn scheduled(&mut self, at_ms: u64, worker: WorkerId) -> Result<(), Refusal> {
        if self.record.state != BeadState::Ready {
            return Err(self.refuse(EventKind::BeadScheduled));
        }
        self.record.worker = Some(worker);
        self.enter(BeadState::Scheduled, at_ms);
        Ok(())
    }

    /// `BeadStarted`: from scheduled, with the next attempt number.
    pub(crate) fn started(
        &mut self,
        at_ms: u64,
        worker: WorkerId,
        attempt: u32,
    ) -> Result<(), Refusal> {
        if self.record.state != BeadState::Scheduled {
            return Err(self.refuse(EventKind::BeadStarted));
        }
        check_attempt(self.record.attempts.saturating_add(1), attempt)?;
        self.record.attempts = attempt;
        self.record.worker = Some(worker);
        self.enter(BeadState::Running, at_ms);
        Ok(())
    }

    /// `BeadCompleted`: from running, for the current attempt. Releases the
    /// bead's blocking dependents.
    pub(crate) fn completed(
        &mut self,
        at_ms: u64,
        attempt: u32,
        output: String,
    ) -> Result<(), Refusal> {
        self.check_running(EventKind::BeadCompleted, attempt)?;
        self.record.output = Some(output);
        self.enter(BeadState::Completed, at_ms);
        self.readiness.release(self.position);
        Ok(())
    }

    /// `BeadFailed`: from running, for the current attempt.
    pub(crate) fn failed(
        &mut self,
        at_ms: u64,
        attempt: u32,
        error: String,
        retryable: bool,
    ) -> Result<(), Refusal> {
        self.check_running(EventKind::BeadFailed, attempt)?;
        self.record.last_error = Some(error);
        self.record.retryable = retryable;
        self.enter(BeadState::Failed, at_ms);
        Ok(())
    }

    /// `BeadRetryScheduled`: from failed or timed out; the state stays.
    pub(crate) fn retry_scheduled(&mut self, at_ms: u64, due_ms: u64) -> Result<(), Refusal> {
        if !matches!(self.record.state, BeadState::Failed | BeadState::TimedOut) {
            return Err(self.refuse(EventKind::BeadRetryScheduled));
        }
        self.record.retry_at_ms = Some(due_ms);
        self.record.updated_at_ms = at_ms;
        Ok(())
    }

    /// `BeadTimedOut`: from running (the current attempt) or scheduled (the
    /// attempt it was scheduled for, which never started).
    pub(crate) fn timed_out(
        &mut self,
        at_ms: u64,
        attempt: u32,
        reason: String,
    ) -> Result<(), Refusal> {
        let expected = match self.record.state {
            BeadState::Running => self.record.attempts,
            BeadState::Scheduled => self.record.attempts.saturating_add(1),
            _ => return Err(self.refuse(EventKind::BeadTimedOut)),
        };
        check_attempt(expected, attempt)?;
        self.record.last_error = Some(reason);
        self.record.retryable = true;
        self.enter(BeadState::TimedOut, at_ms);
        Ok(())
    }

    /// `BeadCancelled`: from any state but completed and cancelled.
    pub(crate) fn cancelled(&mut self, at_ms: u64, reason: String) -> Result<(), Refusal> {
        if self.record.state.is_final() {
            return Err(self.refuse(EventKind::BeadCancelled));
        }
        self.record.cancel_reason = Some(reason);
        self.enter(BeadState::Cancelled, at_ms);
        Ok(())
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
