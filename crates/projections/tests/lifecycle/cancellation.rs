//! `BeadCancelled`: from every state but completed and cancelled.

use strand_projections::{BeadState, EventKind, ProjectionError};

use crate::{Harness, cancelled, failed, ready, scheduled, started, timed_out};

/// A harness whose bead `a` has been brought to `state`.
fn bead_a_in(state: BeadState) -> Harness {
    let mut harness = Harness::with_workflow();
    let steps = match state {
        BeadState::Pending => vec![],
        BeadState::Ready => vec![ready("a")],
        BeadState::Scheduled => vec![ready("a"), scheduled("a")],
        BeadState::Running => vec![ready("a"), scheduled("a"), started("a", 1)],
        BeadState::Completed => {
            vec![
                ready("a"),
                scheduled("a"),
                started("a", 1),
                crate::completed("a", 1),
            ]
        }
        BeadState::Failed => vec![ready("a"), scheduled("a"), started("a", 1), failed("a", 1)],
        BeadState::TimedOut => {
            vec![
                ready("a"),
                scheduled("a"),
                started("a", 1),
                timed_out("a", 1),
            ]
        }
        BeadState::Cancelled => vec![cancelled("a")],
    };
    harness.all(steps);
    assert_eq!(harness.state_of("a"), state);
    harness
}

#[test]
fn given_bead_in_any_unfinished_state_when_cancelled_then_cancelled_with_reason() {
    for state in [
        BeadState::Pending,
        BeadState::Ready,
        BeadState::Scheduled,
        BeadState::Running,
        BeadState::Failed,
        BeadState::TimedOut,
    ] {
        let mut harness = bead_a_in(state);
        harness.ok(cancelled("a"));
        let bead = harness.bead("a");
        assert_eq!(bead.state, BeadState::Cancelled, "from {state}");
        assert_eq!(bead.cancel_reason(), Some("operator"));
    }
}

#[test]
fn given_completed_or_cancelled_bead_when_cancelled_then_invalid_transition() {
    for state in [BeadState::Completed, BeadState::Cancelled] {
        let error = bead_a_in(state).refused(cancelled("a"));
        assert!(
            matches!(
                error,
                ProjectionError::InvalidTransition { from, event: EventKind::BeadCancelled, .. } if from == state
            ),
            "{error:?}"
        );
    }
}

#[test]
fn given_cancelled_bead_when_any_bead_event_then_invalid_transition() {
    let mut harness = bead_a_in(BeadState::Cancelled);
    for event in [
        ready("a"),
        scheduled("a"),
        started("a", 1),
        timed_out("a", 1),
    ] {
        let error = harness.refused(event);
        assert!(
            matches!(
                error,
                ProjectionError::InvalidTransition {
                    from: BeadState::Cancelled,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
