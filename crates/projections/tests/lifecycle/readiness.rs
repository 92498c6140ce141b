//! `BeadReady`: from pending once blocking dependencies completed (`after`
//! edges do not block), from failed or timed out (retry), from scheduled
//! (requeue).

use strand_projections::{BeadState, EventKind, ProjectionError};

use crate::{Harness, id, ready, scheduled, started, w1, wf};

#[test]
fn given_root_bead_when_ready_then_ready() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    assert_eq!(harness.state_of("a"), BeadState::Ready);
    assert_eq!(harness.bead("a").updated_at_ms, harness.last_at_ms());
}

#[test]
fn given_blocking_dependency_not_completed_when_ready_then_refused_naming_it() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    let error = harness.refused(ready("b"));
    assert!(
        matches!(
            error,
            ProjectionError::DependenciesNotCompleted { seq: 5, ref workflow, ref bead, ref missing }
                if *workflow == wf() && *bead == id("b") && *missing == id("a")
        ),
        "{error:?}"
    );
}

#[test]
fn given_blocking_dependency_completed_when_ready_then_ready() {
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    harness.ok(ready("b"));
    harness.ok(ready("c"));
    assert_eq!(harness.state_of("b"), BeadState::Ready);
    assert_eq!(harness.state_of("c"), BeadState::Ready);
}

#[test]
fn given_only_after_dependency_pending_when_ready_then_ready() {
    // d waits for b (blocking) and comes after c (preferred order only).
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    harness.complete("b");
    assert_eq!(harness.state_of("c"), BeadState::Pending);
    harness.ok(ready("d"));
    assert_eq!(harness.state_of("d"), BeadState::Ready);
}

#[test]
fn given_blocking_dependency_of_diamond_pending_when_ready_then_refused() {
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    let error = harness.refused(ready("d"));
    assert!(
        matches!(error, ProjectionError::DependenciesNotCompleted { ref missing, .. } if *missing == id("b")),
        "{error:?}"
    );
}

#[test]
fn given_scheduled_bead_when_ready_then_requeued_and_worker_cleared() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    assert_eq!(harness.bead("a").worker_id(), Some(&w1()));
    harness.ok(ready("a"));
    assert_eq!(harness.state_of("a"), BeadState::Ready);
    assert_eq!(harness.bead("a").worker_id(), None);
    assert_eq!(harness.bead("a").attempts, 0);
}

#[test]
fn given_ready_bead_when_ready_again_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.ok(ready("a"));
    let error = harness.refused(ready("a"));
    assert!(
        matches!(
            error,
            ProjectionError::InvalidTransition {
                from: BeadState::Ready,
                event: EventKind::BeadReady,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_running_or_completed_bead_when_ready_then_invalid_transition() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a"), started("a", 1)]);
    let error = harness.refused(ready("a"));
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
    harness.ok(crate::completed("a", 1));
    let error = harness.refused(ready("a"));
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
