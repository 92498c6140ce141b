//! Failures and timeouts, then `BeadRetryScheduled` and a new attempt.

use strand_projections::{BeadState, EventKind, ProjectionError};

use crate::{Harness, completed, failed, ready, retry_scheduled, scheduled, started, timed_out};

#[test]
fn given_failed_bead_when_retry_scheduled_then_retry_time_recorded_and_state_kept() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.ok(failed("a", 1));
    harness.ok(retry_scheduled("a", 42_000));
    let bead = harness.bead("a");
    assert_eq!(bead.state, BeadState::Failed);
    assert_eq!(bead.retry_at_ms(), Some(42_000));
    assert_eq!(bead.updated_at_ms, harness.last_at_ms());
}

#[test]
fn given_failed_bead_when_retried_then_second_attempt_runs_and_completes() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.all([failed("a", 1), retry_scheduled("a", 42_000), ready("a")]);
    assert_eq!(harness.state_of("a"), BeadState::Ready);
    assert_eq!(harness.bead("a").retry_at_ms(), None);
    harness.ok(scheduled("a"));
    let error = harness.refused(started("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::AttemptMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{error:?}"
    );
    harness.all([started("a", 2), completed("a", 2)]);
    let bead = harness.bead("a");
    assert_eq!((bead.state, bead.attempts), (BeadState::Completed, 2));
    assert_eq!(bead.last_error.as_deref(), Some("exit status 1"));
}

#[test]
fn given_failed_bead_when_ready_without_planned_retry_then_ready() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.all([failed("a", 1), ready("a")]);
    assert_eq!(harness.state_of("a"), BeadState::Ready);
}

#[test]
fn given_running_or_ready_bead_when_retry_scheduled_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    let error = harness.refused(retry_scheduled("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Ready,
                event: EventKind::BeadRetryScheduled,
                ..
            }
        ),
        "{error:?}"
    );
    harness.all([scheduled("a"), started("a", 1)]);
    let error = harness.refused(retry_scheduled("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Running,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_running_bead_when_timed_out_for_current_attempt_then_timed_out_and_retryable() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.ok(timed_out("a", 1));
    let bead = harness.bead("a");
    assert_eq!((bead.state, bead.attempts), (BeadState::TimedOut, 1));
    assert_eq!(bead.last_error.as_deref(), Some("30s elapsed"));
    assert!(bead.retryable);
}

#[test]
fn given_running_bead_when_timed_out_for_other_attempt_then_attempt_mismatch() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    let error = harness.refused(timed_out("a", 2));
    assert!(
        matches!(
            error,
            ProjectionError::AttemptMismatch {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_scheduled_bead_when_timed_out_for_the_attempt_it_was_scheduled_for_then_timed_out() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    let error = harness.refused(timed_out("a", 0));
    assert!(
        matches!(
            error,
            ProjectionError::AttemptMismatch {
                expected: 1,
                found: 0,
                ..
            }
        ),
        "{error:?}"
    );
    harness.ok(timed_out("a", 1));
    // The attempt never started: the next start is attempt 1 again.
    assert_eq!(harness.bead("a").attempts, 0);
    harness.all([
        retry_scheduled("a", 9),
        ready("a"),
        scheduled("a"),
        started("a", 1),
    ]);
    assert_eq!(harness.state_of("a"), BeadState::Running);
}

#[test]
fn given_ready_bead_when_timed_out_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    let error = harness.refused(timed_out("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Ready,
                event: EventKind::BeadTimedOut,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_timed_out_bead_when_retry_scheduled_and_ready_then_retried() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.all([timed_out("a", 1), retry_scheduled("a", 7), ready("a")]);
    assert_eq!(harness.state_of("a"), BeadState::Ready);
}
