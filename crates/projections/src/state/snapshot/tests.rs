//! Snapshots that decode but describe an impossible state are refused with
//! the defect named.

use crate::codec;
use crate::error::{ProjectionError, SnapshotDefect};
use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::projection::{EventMeta, Projection, fold_in_memory};
use crate::state::StateManager;
use crate::state::live::Keep;
use crate::synthetic::{HistoryParams, history};

/// A state with several workflows and workers.
fn state() -> StateManager {
    folded(StateManager::empty())
}

/// `state` after the history of [`state`]: the first three quarters of the
/// events of eight runs, some finished (completed, failed, cancelled), some
/// running.
fn folded(state: StateManager) -> StateManager {
    let params = HistoryParams {
        workflows: 8,
        beads_per_workflow: 5,
        workers: 3,
        doom_per_mille: 400,
        concurrent_workflows: 4,
        ..HistoryParams::default()
    };
    let events: Vec<_> = history(3, &params).collect();
    let cut = events.len() * 3 / 4;
    let events = (1..)
        .zip(events.into_iter().take(cut))
        .map(|(seq, (event, at_ms))| (EventMeta { seq, at_ms }, event));
    fold_in_memory(state, events).unwrap()
}

#[test]
fn given_a_version_4_snapshot_with_finished_runs_whole_when_restored_then_they_are_summaries() {
    let whole = folded(StateManager {
        keep: Keep::All,
        ..StateManager::default()
    });
    let canonical = whole.canonical();
    let has = |wanted: &[RunStatus]| {
        canonical
            .workflows
            .iter()
            .any(|run| wanted.contains(&run.status))
    };
    assert!(
        has(&[RunStatus::Failed, RunStatus::Cancelled]),
        "a doomed run"
    );
    assert!(has(&[RunStatus::Running]), "a running run");
    let bytes = codec::encode_snapshot(4, &canonical).unwrap();
    let restored = StateManager::restore(&bytes).unwrap();
    assert_eq!(restored.state_hash(), state().state_hash());
    assert!(restored.runs().all(|run| !run.status().is_finished()));
}

#[test]
fn given_a_version_5_snapshot_with_a_finished_run_whole_when_restored_then_workflow_shape_defect() {
    let whole = folded(StateManager {
        keep: Keep::All,
        ..StateManager::default()
    });
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &whole.canonical()).unwrap();
    assert!(matches!(
        defect(&bytes),
        SnapshotDefect::WorkflowShape {
            detail: "a finished run is kept whole",
            ..
        }
    ));
}

fn defect(bytes: &[u8]) -> SnapshotDefect {
    match StateManager::restore(bytes) {
        Err(ProjectionError::SnapshotInconsistent { defect }) => defect,
        other => panic!("expected an inconsistent snapshot, got {other:?}"),
    }
}

#[test]
fn given_canonical_form_when_encoded_by_hand_then_restores() {
    let state = state();
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &state.canonical()).unwrap();
    assert_eq!(
        StateManager::restore(&bytes).unwrap().state_hash(),
        state.state_hash()
    );
}

#[test]
fn given_completed_runs_out_of_order_when_restored_then_workflow_order_defect() {
    let state = state();
    let mut canonical = state.canonical();
    assert!(canonical.completed.len() >= 2, "the history completes runs");
    canonical.completed.reverse();
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(defect(&bytes), SnapshotDefect::WorkflowOrder(_)));
}

#[test]
fn given_a_run_both_whole_and_completed_when_restored_then_workflow_shape_defect() {
    let state = state();
    let mut canonical = state.canonical();
    let whole = RunId::clone(canonical.workflows.first().unwrap().id);
    let mut twin = canonical.completed.first().copied().unwrap().clone();
    twin.summary.id = whole;
    canonical.completed = vec![&twin];
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(
        defect(&bytes),
        SnapshotDefect::WorkflowShape { .. }
    ));
}

#[test]
fn given_whole_runs_out_of_order_when_restored_then_workflow_order_defect() {
    let mut state = StateManager::empty();
    let params = HistoryParams {
        workflows: 3,
        beads_per_workflow: 5,
        ..HistoryParams::default()
    };
    // Only the submissions: every run stays whole.
    let submissions = history(3, &params).filter(|(event, _)| {
        matches!(
            event.kind(),
            crate::EventKind::RunSubmitted | crate::EventKind::WorkflowSubmitted
        )
    });
    for (seq, (event, at_ms)) in (1..).zip(submissions) {
        state.apply(EventMeta { seq, at_ms }, event).unwrap();
    }
    let mut canonical = state.canonical();
    assert!(canonical.workflows.len() >= 2);
    canonical.workflows.reverse();
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(defect(&bytes), SnapshotDefect::WorkflowOrder(_)));
}

#[test]
fn given_bead_records_missing_when_restored_then_workflow_shape_defect() {
    let state = state();
    let mut canonical = state.canonical();
    let first = canonical.workflows.first_mut().unwrap();
    first.beads = &first.beads[1..];
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(
        defect(&bytes),
        SnapshotDefect::WorkflowShape { .. }
    ));
}

#[test]
fn given_tasks_out_of_order_when_restored_then_workflow_shape_defect() {
    let state = state();
    let mut canonical = state.canonical();
    let mut tasks = canonical.workflows[0].tasks.to_vec();
    tasks.reverse();
    canonical.workflows[0].tasks = &tasks;
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(
        defect(&bytes),
        SnapshotDefect::WorkflowShape { .. }
    ));
}

#[test]
fn given_workers_out_of_order_when_restored_then_key_order_defect() {
    let state = state();
    let mut canonical = state.canonical();
    assert!(canonical.workers.len() > 1);
    canonical.workers.reverse();
    let bytes = codec::encode_snapshot(StateManager::SNAPSHOT_VERSION, &canonical).unwrap();
    assert!(matches!(
        defect(&bytes),
        SnapshotDefect::KeyOrder {
            list: "workers",
            ..
        }
    ));
}
