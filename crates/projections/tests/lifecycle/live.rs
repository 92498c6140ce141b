//! The scheduler's live view: only unfinished runs whole, a failed run
//! read back from its history to be retried.

use strand_projections::{BeadId, DomainEvent, Projection as _, RunEntry, RunId, StateManager};

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
fn given_a_state_with_a_failed_run_when_made_a_live_view_then_only_the_running_run_stays_whole() {
    let harness = four_runs();
    assert!(whole(&harness.state, "r2"), "the state manager keeps it");
    let live = harness.state.clone().into_live_view();
    assert!(live.is_live_view());
    assert!(whole(&live, "r3"));
    for run in ["r1", "r2", "r4"] {
        assert!(!whole(&live, run), "{run} is a summary");
    }
    assert_eq!(
        live.entries().count(),
        harness.state.entries().count(),
        "no run left"
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
        "a summary cannot be retried"
    );

    let record = StateManager::fold_run(&r2, stream(&harness, &r2))
        .unwrap()
        .unwrap();
    let mut state_manager = harness.state.clone();
    assert!(
        !state_manager.restore_whole(record.clone()),
        "only a live view takes a record back"
    );
    let r1 = StateManager::fold_run(&RunId::from("r1"), stream(&harness, &RunId::from("r1")))
        .unwrap()
        .unwrap();
    assert!(
        !state_manager.restore_whole(r1),
        "the state manager's summaries stay summaries"
    );
    assert!(live.restore_whole(record.clone()));
    assert!(whole(&live, "r2"));
    live.release_whole(&r2);
    assert!(!whole(&live, "r2"), "released back to its summary");
    assert!(live.restore_whole(record));
    live.apply(meta(next), retried).unwrap();
    assert!(whole(&live, "r2"), "running again: whole");
}
