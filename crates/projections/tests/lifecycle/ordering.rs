//! Seq order and the bookkeeping of every successful apply.

use strand_projections::{DomainEvent, EventMeta, Projection, ProjectionError, StateManager};

use crate::{Harness, T0, ready, wf};

#[test]
fn given_empty_state_when_queried_then_nothing_applied() {
    let state = StateManager::empty();
    assert_eq!(state.applied_seq(), 0);
    assert_eq!(state.events_applied(), 0);
    assert!(state.workflows().is_empty());
    assert!(state.workers().is_empty());
    assert!(state.last_checkpoint().is_none());
}

#[test]
fn given_applied_seq_when_same_or_lower_seq_applied_then_out_of_order() {
    let mut state = StateManager::empty();
    let event = || DomainEvent::RateLimited { key: "k".into() };
    state
        .apply(EventMeta { seq: 5, at_ms: T0 }, event())
        .unwrap();
    let before = state.state_hash();
    for seq in [0, 1, 5] {
        let error = state
            .apply(EventMeta { seq, at_ms: T0 }, event())
            .unwrap_err();
        assert!(
            matches!(error, ProjectionError::OutOfOrder { seq: s, applied: 5 } if s == seq),
            "{error:?}"
        );
    }
    assert_eq!(state.state_hash(), before);
    assert_eq!(state.rate_limited("k"), 1);
}

#[test]
fn given_gap_in_seqs_when_applied_then_accepted_and_applied_seq_jumps() {
    let mut state = StateManager::empty();
    state
        .apply(
            EventMeta { seq: 3, at_ms: T0 },
            DomainEvent::RateLimited { key: "k".into() },
        )
        .unwrap();
    state
        .apply(
            EventMeta { seq: 10, at_ms: T0 },
            DomainEvent::RateLimited { key: "k".into() },
        )
        .unwrap();
    assert_eq!(state.applied_seq(), 10);
    assert_eq!(state.events_applied(), 2);
}

#[test]
fn given_bead_event_when_applied_then_record_stamped_with_event_time() {
    let mut harness = Harness::with_workflow();
    let meta = EventMeta {
        seq: 7,
        at_ms: 123_456,
    };
    harness.state.apply(meta, ready("a")).unwrap();
    assert_eq!(harness.bead("a").updated_at_ms, 123_456);
    assert_eq!(harness.state.applied_seq(), 7);
    assert_eq!(harness.state.events_applied(), 2);
    assert_eq!(
        harness.state.workflow(&wf()).unwrap().submitted_at_ms(),
        T0 + 1
    );
}
