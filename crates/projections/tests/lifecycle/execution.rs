//! `BeadScheduled` (from ready), `BeadStarted` (from scheduled, next
//! attempt), `BeadCompleted` and `BeadFailed` (from running, current attempt).

use strand_projections::{BeadState, DomainEvent, EventKind, ProjectionError, WorkerId};

use crate::{Harness, completed, failed, id, ready, scheduled, started, w1, wf};

#[test]
fn given_ready_bead_when_scheduled_then_scheduled_on_worker() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    assert_eq!(harness.state_of("a"), BeadState::Scheduled);
    assert_eq!(harness.bead("a").worker_id(), Some(&w1()));
}

#[test]
fn given_pending_bead_when_scheduled_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    let error = harness.refused(scheduled("a"));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                seq: 2,
                from: BeadState::Pending,
                event: EventKind::BeadScheduled,
                ref bead,
                ..
            } if *bead == id("a")
        ),
        "{error:?}"
    );
}

#[test]
fn given_scheduled_bead_when_started_with_first_attempt_then_running() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    harness.ok(DomainEvent::BeadStarted {
        workflow: wf(),
        bead: id("a"),
        worker: WorkerId::from("w2"),
        attempt: 1,
    });
    let bead = harness.bead("a");
    assert_eq!(bead.state, BeadState::Running);
    assert_eq!(bead.attempts, 1);
    assert_eq!(bead.worker_id(), Some(&WorkerId::from("w2")));
}

#[test]
fn given_scheduled_bead_when_started_with_wrong_attempt_then_attempt_mismatch() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    for attempt in [0, 2, u32::MAX] {
        let error = harness.refused(started("a", attempt));
        assert!(
            matches!(error, ProjectionError::AttemptMismatch { expected: 1, found, .. } if found == attempt),
            "{error:?}"
        );
    }
}

#[test]
fn given_ready_bead_when_started_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    let error = harness.refused(started("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Ready,
                event: EventKind::BeadStarted,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_running_bead_when_completed_then_output_recorded_and_dependents_unblocked() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    assert!(harness.state.unblocked_pending(&wf()).is_empty());
    harness.ok(completed("a", 1));
    let bead = harness.bead("a");
    assert_eq!(bead.state, BeadState::Completed);
    assert_eq!(
        bead.output
            .as_deref()
            .and_then(strand_projections::Output::as_text),
        Some("a done")
    );
    assert_eq!(bead.attempts, 1);
    assert_eq!(harness.state.unblocked_pending(&wf()), [id("b"), id("c")]);
}

#[test]
fn given_running_bead_when_completed_with_other_attempt_then_attempt_mismatch() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    let error = harness.refused(completed("a", 2));
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
fn given_scheduled_bead_when_completed_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    let error = harness.refused(completed("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Scheduled,
                event: EventKind::BeadCompleted,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_completed_bead_when_completed_again_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    let error = harness.refused(completed("a", 1));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Completed,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_running_bead_when_failed_then_error_recorded() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.ok(DomainEvent::BeadFailed {
        workflow: wf(),
        bead: id("a"),
        attempt: 1,
        error: "boom".into(),
        retryable: false,
    });
    let bead = harness.bead("a");
    assert_eq!(bead.state, BeadState::Failed);
    assert_eq!(bead.last_error.as_deref(), Some("boom"));
    assert!(!bead.retryable);
    // A failed dependency does not unblock its dependents.
    assert!(harness.state.unblocked_pending(&wf()).is_empty());
}

#[test]
fn given_running_bead_when_failed_with_other_attempt_then_attempt_mismatch() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    let error = harness.refused(failed("a", 3));
    assert!(
        matches!(
            error,
            ProjectionError::AttemptMismatch {
                expected: 1,
                found: 3,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_ready_bead_when_failed_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    let error = harness.refused(failed("a", 0));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Ready,
                event: EventKind::BeadFailed,
                ..
            }
        ),
        "{error:?}"
    );
}
