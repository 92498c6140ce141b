//! Properties of `StateManager` over synthetic histories: every history
//! applies; checkpoint + tail == full replay at every cut (DESIGN.md
//! invariant 5); hashes are deterministic; snapshots are canonical; corrupt
//! snapshots are typed errors, never panics; refused events change nothing.

#![cfg(test)]

use proptest::prelude::*;
use strand_projections::synthetic::{HistoryParams, history, history_len_hint};
use strand_projections::{
    BeadId, BeadState, DependencyType, DomainEvent, EventMeta, Projection, ProjectionError,
    RunStatus, StateHash, StateManager, apply_after,
};

/// Small random history shapes: every field from 0 (or 1) to a little.
fn params_strategy() -> impl Strategy<Value = HistoryParams> {
    (
        (0_usize..5, 0_usize..40, 0_usize..5, 0_usize..4, 1_usize..4),
        (0_u32..400, 0_u32..300, 0_u32..600, 0_u32..200, 0_u32..600),
    )
        .prop_map(
            |(
                (workflows, beads_per_workflow, max_deps, workers, concurrent_workflows),
                (
                    failure_per_mille,
                    timeout_per_mille,
                    after_per_mille,
                    misc_per_mille,
                    doom_per_mille,
                ),
            )| HistoryParams {
                workflows,
                beads_per_workflow,
                max_deps,
                workers,
                failure_per_mille,
                timeout_per_mille,
                after_per_mille,
                misc_per_mille,
                doom_per_mille,
                concurrent_workflows,
            },
        )
}

/// The events of a history with their metas, numbered from seq 1.
fn events(seed: u64, params: &HistoryParams) -> Vec<(EventMeta, DomainEvent)> {
    (1..)
        .zip(history(seed, params))
        .map(|(seq, (event, at_ms))| (EventMeta { seq, at_ms }, event))
        .collect()
}

/// `state` after applying `events`, which must all be accepted.
fn fold(
    state: StateManager,
    events: &[(EventMeta, DomainEvent)],
) -> Result<StateManager, TestCaseError> {
    fold_from(state, events, 0)
}

/// `state` after applying `events[from..]`, which must all be accepted
/// (the events before `from` are the history a retry reads its run from).
fn fold_from(
    mut state: StateManager,
    events: &[(EventMeta, DomainEvent)],
    from: usize,
) -> Result<StateManager, TestCaseError> {
    for at in from..events.len() {
        let (meta, event) = &events[at];
        let kind = event.kind();
        apply_after(&mut state, &events[..at], *meta, event.clone())
            .map_err(|error| TestCaseError::fail(format!("{kind} at {}: {error}", meta.seq)))?;
    }
    Ok(state)
}

/// Asserts that two states answer every query alike.
fn same_answers(a: &StateManager, b: &StateManager) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.state_hash(), b.state_hash());
    prop_assert_eq!(a.applied_seq(), b.applied_seq());
    prop_assert_eq!(a.events_applied(), b.events_applied());
    prop_assert_eq!(a.workflows(), b.workflows());
    prop_assert_eq!(a.workers(), b.workers());
    prop_assert_eq!(a.running_beads(), b.running_beads());
    prop_assert_eq!(a.supervision(), b.supervision());
    prop_assert_eq!(a.escalations(), b.escalations());
    prop_assert_eq!(a.rate_limits(), b.rate_limits());
    prop_assert_eq!(a.last_checkpoint(), b.last_checkpoint());
    prop_assert_eq!(a.finished_totals(), b.finished_totals());
    for summary in a.workflows() {
        let (x, y) = match (a.workflow(&summary.id), b.workflow(&summary.id)) {
            (Some(x), Some(y)) => (x, y),
            // Completed in both: summaries only, compared above.
            (None, None) => continue,
            (x, y) => {
                return Err(TestCaseError::fail(format!(
                    "run {} whole in one state only ({} / {})",
                    summary.id,
                    x.is_some(),
                    y.is_some()
                )));
            }
        };
        prop_assert!(x.beads().eq(y.beads()));
        prop_assert_eq!(x.tasks(), y.tasks());
        prop_assert_eq!(x.dag(), y.dag());
        prop_assert_eq!(x.unblocked_pending(), y.unblocked_pending());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// What a scheduler advancing incrementally relies on: the beads
    /// unblocked by the completed beads are exactly the unblocked pending
    /// beads that have a blocking dependency (those without one were ready
    /// from the start).
    #[test]
    fn prop_unblocked_by_completions_equals_unblocked_pending_with_blocking_deps(
        seed: u64,
        params in params_strategy(),
        cut_per_mille in 0_usize..=1000,
    ) {
        let events = events(seed, &params);
        let cut = events.len() * cut_per_mille / 1000;
        let state = fold(StateManager::empty(), &events[..cut])?;
        for record in state.runs() {
            let dag = record.dag();
            let mut by_completions: Vec<BeadId> = record
                .beads_in_state(BeadState::Completed)
                .iter()
                .flat_map(|bead| record.unblocked_by(bead))
                .collect();
            by_completions.sort();
            by_completions.dedup();
            let expected: Vec<BeadId> = record
                .unblocked_pending()
                .into_iter()
                .filter(|bead| {
                    dag.dependencies(bead).unwrap().iter().any(|dep| {
                        dag.edge(dep, bead) == Some(DependencyType::Blocking)
                    })
                })
                .collect();
            prop_assert_eq!(by_completions, expected);
        }
    }

    #[test]
    fn prop_synthetic_history_applies_entirely_and_finishes_every_workflow(
        seed: u64,
        params in params_strategy(),
    ) {
        let events = events(seed, &params);
        let state = fold(StateManager::empty(), &events)?;
        prop_assert_eq!(state.events_applied(), events.len() as u64);
        let workflows = state.workflows();
        // Some completed runs expire (leave the state) as they finish.
        prop_assert_eq!(
            workflows.len() as u64 + state.expired_run_count(),
            params.workflows as u64
        );
        for summary in &workflows {
            prop_assert!(summary.status != RunStatus::Running, "{} still running", summary.id);
            if summary.status == RunStatus::Completed {
                prop_assert_eq!(summary.counts.completed, summary.counts.total);
            }
        }
        // Timestamps strictly increase.
        prop_assert!(events.windows(2).all(|pair| pair[0].0.at_ms < pair[1].0.at_ms));
        // The hint is in the right ballpark for non-trivial histories.
        let hint = history_len_hint(&params);
        prop_assert!(hint > 0);
    }

    #[test]
    fn prop_checkpoint_at_any_cut_plus_tail_equals_full_replay(
        seed: u64,
        params in params_strategy(),
        cut: prop::sample::Index,
    ) {
        let events = events(seed, &params);
        let full = fold(StateManager::empty(), &events)?;
        let k = cut.index(events.len() + 1);
        let head = fold(StateManager::empty(), &events[..k])?;
        let restored = StateManager::restore(&head.snapshot().unwrap()).unwrap();
        same_answers(&head, &restored)?;
        let resumed = fold_from(restored, &events, k)?;
        same_answers(&full, &resumed)?;
    }

    #[test]
    fn prop_independent_applications_give_equal_hashes_of_the_snapshot_bytes(
        seed: u64,
        params in params_strategy(),
    ) {
        let once = fold(StateManager::empty(), &events(seed, &params))?;
        let twice = fold(StateManager::empty(), &events(seed, &params))?;
        prop_assert_eq!(once.state_hash(), twice.state_hash());
        prop_assert_eq!(once.state_hash(), StateHash::of_bytes(&once.snapshot().unwrap()));
    }

    #[test]
    fn prop_snapshot_restore_snapshot_is_byte_identical(
        seed: u64,
        params in params_strategy(),
        cut: prop::sample::Index,
    ) {
        let events = events(seed, &params);
        let k = cut.index(events.len() + 1);
        let state = fold(StateManager::empty(), &events[..k])?;
        let bytes = state.snapshot().unwrap();
        let again = StateManager::restore(&bytes).unwrap().snapshot().unwrap();
        prop_assert_eq!(bytes, again);
    }

    #[test]
    fn prop_reapplied_old_event_is_refused_without_change_or_accepted(
        seed: u64,
        params in params_strategy(),
        cut: prop::sample::Index,
        old: prop::sample::Index,
    ) {
        let events = events(seed, &params);
        prop_assume!(!events.is_empty());
        let k = cut.index(events.len()) + 1;
        let mut state = fold(StateManager::empty(), &events[..k])?;
        let before = state.state_hash();
        let (meta, event) = &events[old.index(k)];
        let meta = EventMeta { seq: state.applied_seq() + 1, at_ms: meta.at_ms + 1_000_000 };
        if state.apply(meta, event.clone()).is_err() {
            prop_assert_eq!(state.state_hash(), before);
            prop_assert_eq!(state.applied_seq(), events[k - 1].0.seq);
        }
    }

    #[test]
    fn prop_corrupt_snapshot_is_a_typed_error_never_a_panic(
        seed: u64,
        params in params_strategy(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut: prop::sample::Index,
    ) {
        let state = fold(StateManager::empty(), &events(seed, &params))?;
        let bytes = state.snapshot().unwrap();
        // Any truncation is refused.
        let short = cut.index(bytes.len());
        prop_assert!(StateManager::restore(&bytes[..short]).is_err());
        // Flipped bytes either decode to some valid state or are refused.
        let mut corrupt = bytes.clone();
        for (at, value) in flips {
            let at = at.index(corrupt.len());
            corrupt[at] = value;
        }
        if let Ok(restored) = StateManager::restore(&corrupt) {
            prop_assert!(restored.snapshot().is_ok());
        }
    }

    #[test]
    fn prop_garbage_is_never_a_snapshot_that_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = StateManager::restore(&bytes);
        let mut versioned = 1_u32.to_le_bytes().to_vec();
        versioned.extend_from_slice(&bytes);
        let _ = StateManager::restore(&versioned);
    }
}

#[test]
fn given_small_history_when_cut_at_every_position_then_checkpoint_plus_tail_equals_full_replay() {
    let events = events(11, &HistoryParams::default());
    let full = fold(StateManager::empty(), &events).unwrap();
    let mut head = StateManager::empty();
    for k in 0..=events.len() {
        if k > 0 {
            let (meta, event) = &events[k - 1];
            apply_after(&mut head, &events[..k - 1], *meta, event.clone()).unwrap();
        }
        let restored = StateManager::restore(&head.snapshot().unwrap()).unwrap();
        let resumed = fold_from(restored, &events, k).unwrap();
        assert_eq!(
            resumed.state_hash(),
            full.state_hash(),
            "cut after {k} events"
        );
    }
}

#[test]
fn given_snapshot_of_another_version_when_restored_then_version_error() {
    let mut bytes = StateManager::empty().snapshot().unwrap();
    // A checkpoint written before runs existed (version 1) is refused, so
    // the log is replayed instead.
    bytes[..4].copy_from_slice(&1_u32.to_le_bytes());
    let error = StateManager::restore(&bytes).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::SnapshotVersion {
                found: 1,
                expected: 5
            }
        ),
        "{error:?}"
    );
    let error = StateManager::restore(&[1, 0]).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::SnapshotVersion {
                found: 0,
                expected: 5
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_snapshot_with_trailing_bytes_when_restored_then_refused() {
    let mut bytes = StateManager::empty().snapshot().unwrap();
    bytes.push(0);
    let error = StateManager::restore(&bytes).unwrap_err();
    assert!(
        matches!(error, ProjectionError::SnapshotTrailingBytes { len: 1 }),
        "{error:?}"
    );
}

#[test]
fn given_snapshot_with_counters_that_disagree_when_restored_then_inconsistent() {
    // applied_seq 0 with one event applied.
    let mut bytes = StateManager::empty().snapshot().unwrap();
    bytes[12..20].copy_from_slice(&1_u64.to_le_bytes());
    let error = StateManager::restore(&bytes).unwrap_err();
    assert!(
        matches!(error, ProjectionError::SnapshotInconsistent { .. }),
        "{error:?}"
    );
}

#[test]
fn given_large_history_when_applied_then_every_workflow_finishes() {
    let params = HistoryParams {
        workflows: 3,
        beads_per_workflow: 2_000,
        ..HistoryParams::default()
    };
    let events = events(99, &params);
    let state = fold(StateManager::empty(), &events).unwrap();
    assert_eq!(state.workflows().len(), 3);
    // The hint is within 25% of the real length.
    let (hint, actual) = (history_len_hint(&params), events.len());
    assert!(
        actual * 4 > hint * 3 && actual * 4 < hint * 5,
        "hint {hint} vs {actual}"
    );
}
