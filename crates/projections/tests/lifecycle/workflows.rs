//! `WorkflowCompleted` (every bead completed), `WorkflowFailed`,
//! `WorkflowCancelled` (from running), and no event after the end.

use strand_projections::{
    BeadState, DomainEvent, ProjectionError, RunEntry, RunId, RunStatus, StateManager,
};

use crate::{Harness, cancelled, id, ready, submit_fixture, wf};

fn complete_workflow() -> DomainEvent {
    DomainEvent::WorkflowCompleted { workflow: wf() }
}

fn fail_workflow() -> DomainEvent {
    DomainEvent::WorkflowFailed {
        workflow: wf(),
        reason: "bead b failed".into(),
    }
}

fn cancel_workflow() -> DomainEvent {
    DomainEvent::WorkflowCancelled {
        workflow: wf(),
        reason: "operator".into(),
    }
}

#[test]
fn given_every_bead_completed_when_workflow_completed_then_completed_at_event_time() {
    let mut harness = Harness::with_workflow();
    for bead in ["a", "b", "c", "d"] {
        harness.complete(bead);
    }
    harness.ok(complete_workflow());
    let summary = harness.state.run(&wf()).unwrap().summary();
    assert_eq!(summary.status, RunStatus::Completed);
    assert_eq!(summary.finished_at_ms, Some(harness.last_at_ms()));
    assert_eq!(summary.reason, None);
    assert_eq!(summary.counts.completed, 4);
}

#[test]
fn given_a_completed_run_when_the_state_is_asked_then_it_keeps_the_summary_and_its_history_folds_whole()
 {
    let mut harness = Harness::with_workflow();
    for bead in ["a", "b", "c", "d"] {
        harness.complete(bead);
    }
    harness.ok(complete_workflow());
    assert!(
        harness.state.workflow(&wf()).is_none(),
        "a completed run is not kept whole"
    );
    assert!(matches!(
        harness.state.run(&wf()),
        Some(RunEntry::Summary(_))
    ));
    assert_eq!(harness.state.finished_totals().completed, 1);
    assert_eq!(harness.state.finished_totals().beads.completed, 4);

    let record = StateManager::fold_run(&wf(), harness.history.clone())
        .unwrap()
        .unwrap();
    assert_eq!(record.status(), RunStatus::Completed);
    assert_eq!(record.finished_at_ms(), Some(harness.last_at_ms()));
    assert!(record.beads().all(|(_, b)| b.state == BeadState::Completed));
}

#[test]
fn given_a_completed_run_when_a_bead_event_or_a_control_arrives_then_refused_as_finished() {
    let mut harness = Harness::with_workflow();
    for bead in ["a", "b", "c", "d"] {
        harness.complete(bead);
    }
    harness.ok(complete_workflow());
    let error = harness.refused(ready("a"));
    assert!(
        matches!(
            error,
            ProjectionError::WorkflowFinished {
                status: RunStatus::Completed,
                ..
            }
        ),
        "{error:?}"
    );
    let error = harness.refused(DomainEvent::RunPaused {
        run: wf(),
        reason: "no".into(),
    });
    assert!(
        matches!(error, ProjectionError::ControlNotApplicable { .. }),
        "{error:?}"
    );
    let error = harness.refused(submit_fixture(&wf()));
    assert!(
        matches!(error, ProjectionError::DuplicateWorkflow { .. }),
        "{error:?}"
    );
}

#[test]
fn given_bead_not_completed_when_workflow_completed_then_incomplete_names_first_one() {
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    harness.complete("b");
    harness.ok(ready("c"));
    let error = harness.refused(complete_workflow());
    assert!(
        matches!(
            error,
            ProjectionError::WorkflowIncomplete { ref bead, state: BeadState::Ready, .. } if *bead == id("c")
        ),
        "{error:?}"
    );
}

#[test]
fn given_cancelled_bead_when_workflow_completed_then_incomplete() {
    let mut harness = Harness::with_workflow();
    harness.ok(cancelled("a"));
    let error = harness.refused(complete_workflow());
    assert!(
        matches!(
            error,
            ProjectionError::WorkflowIncomplete {
                state: BeadState::Cancelled,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_running_workflow_when_failed_or_cancelled_then_finished_with_reason() {
    for (event, status, reason) in [
        (fail_workflow(), RunStatus::Failed, "bead b failed"),
        (cancel_workflow(), RunStatus::Cancelled, "operator"),
    ] {
        let mut harness = Harness::with_workflow();
        harness.ok(ready("a"));
        harness.ok(event);
        let entry = harness.state.run(&wf()).unwrap();
        assert!(entry.record().is_none(), "kept as its summary");
        assert_eq!(entry.status(), status);
        assert_eq!(entry.reason(), Some(reason));
        assert_eq!(entry.finished_at_ms(), Some(harness.last_at_ms()));
        // The beads keep the states they had, in the run's stream.
        let record = StateManager::fold_run(&wf(), harness.history.clone())
            .unwrap()
            .unwrap();
        assert_eq!(record.status(), status);
        assert_eq!(record.bead(&id("a")).unwrap().state, BeadState::Ready);
    }
}

#[test]
fn given_finished_workflow_when_any_workflow_or_bead_event_then_workflow_finished() {
    let mut harness = Harness::with_workflow();
    harness.ok(cancel_workflow());
    for event in [
        ready("a"),
        cancelled("b"),
        complete_workflow(),
        fail_workflow(),
        cancel_workflow(),
    ] {
        let error = harness.refused(event);
        assert!(
            matches!(
                error,
                ProjectionError::WorkflowFinished { status: RunStatus::Cancelled, ref workflow, .. } if *workflow == wf()
            ),
            "{error:?}"
        );
    }
}

#[test]
fn given_unknown_workflow_when_workflow_or_bead_event_then_unknown_workflow() {
    let mut harness = Harness::with_workflow();
    let other = RunId::from("nope");
    for event in [
        DomainEvent::BeadReady {
            workflow: other.clone(),
            bead: id("a"),
        },
        DomainEvent::WorkflowCompleted {
            workflow: other.clone(),
        },
        DomainEvent::WorkflowFailed {
            workflow: other.clone(),
            reason: String::new(),
        },
    ] {
        let error = harness.refused(event);
        assert!(
            matches!(error, ProjectionError::UnknownWorkflow { ref workflow, .. } if *workflow == other),
            "{error:?}"
        );
    }
}

#[test]
fn given_unknown_bead_when_bead_event_then_unknown_bead() {
    let mut harness = Harness::with_workflow();
    let error = harness.refused(ready("zz"));
    assert!(
        matches!(error, ProjectionError::UnknownBead { ref bead, .. } if *bead == id("zz")),
        "{error:?}"
    );
}
