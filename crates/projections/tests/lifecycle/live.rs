//! Only unfinished runs whole, in the state manager and in the scheduler's
//! live view: a failed run is read back from its stream to be retried.

use strand_projections::{
    BeadId, DomainEvent, Projection as _, ProjectionError, RunEntry, RunId, RunStatus,
    StateManager, run_stream,
};

use crate::retention::four_runs;

/// The events of `run`: its stream of the log.
fn stream(
    harness: &crate::Harness,
    run: &RunId,
) -> Vec<(strand_projections::EventMeta, DomainEvent)> {
    harness
        .history
        .iter()
        .filter(|(_, event)| event.workflow() == Some(run))
        .cloned()
        .collect()
}

fn whole(state: &StateManager, run: &str) -> bool {
    matches!(state.run(&RunId::from(run)), Some(RunEntry::Whole(_)))
}

#[test]
fn given_a_state_with_failed_and_completed_runs_then_only_the_running_run_is_whole() {
    let harness = four_runs();
    let live = harness.state.clone().into_live_view();
    assert!(live.is_live_view());
    assert!(!harness.state.is_live_view());
    for state in [&harness.state, &live] {
        assert!(whole(state, "r3"));
        for run in ["r1", "r2", "r4"] {
            assert!(!whole(state, run), "{run} is a summary");
        }
    }
    assert_eq!(live.state_hash(), harness.state.state_hash());
}

#[test]
fn given_a_failed_run_held_as_its_summary_when_retried_without_its_stream_then_the_stream_is_asked_for()
 {
    let mut harness = four_runs();
    let r2 = RunId::from("r2");
    let retried = DomainEvent::RunRetried {
        run: r2.clone(),
        beads: vec![BeadId::from("a")],
    };
    assert_eq!(harness.state.stream_needed(&retried), Some(run_stream(&r2)));
    assert!(matches!(
        harness.state.clone().apply(harness.next_meta(), retried.clone()),
        Err(ProjectionError::StreamNeeded { workflow, .. }) if workflow == r2
    ));
    let other = stream(&harness, &RunId::from("r1"));
    let before = harness.state.state_hash();
    assert!(
        harness
            .state
            .apply_with_stream(harness.next_meta(), retried.clone(), other)
            .is_err(),
        "another run's stream is not this run's history"
    );
    assert_eq!(harness.state.state_hash(), before, "nothing changed");

    harness.ok(retried);
    assert!(whole(&harness.state, "r2"), "running again: whole");
    assert_eq!(
        harness.state.run(&r2).map(|entry| entry.status()),
        Some(RunStatus::Running)
    );
}

#[test]
fn given_a_live_view_when_a_failed_run_is_restored_from_its_history_then_it_can_be_retried() {
    let harness = four_runs();
    let mut live = harness.state.clone().into_live_view();
    let r2 = RunId::from("r2");
    let retried = DomainEvent::RunRetried {
        run: r2.clone(),
        beads: vec![BeadId::from("a")],
    };
    let meta = |seq| strand_projections::EventMeta { seq, at_ms: 0 };
    let next = live.applied_seq() + 1;
    assert!(
        live.clone().apply(meta(next), retried.clone()).is_err(),
        "a summary cannot be retried without its run"
    );

    let record = StateManager::fold_run(&r2, stream(&harness, &r2))
        .unwrap()
        .unwrap();
    let mut state_manager = harness.state.clone();
    assert!(
        !state_manager.restore_whole(record.clone()),
        "only a live view takes a record back"
    );
    assert!(live.restore_whole(record.clone()));
    assert!(whole(&live, "r2"));
    live.release_whole(&r2);
    assert!(!whole(&live, "r2"), "released back to its summary");
    assert!(live.restore_whole(record));
    live.apply(meta(next), retried).unwrap();
    assert!(whole(&live, "r2"), "running again: whole");
}
