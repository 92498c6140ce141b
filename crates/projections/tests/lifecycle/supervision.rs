//! Supervision, checkpoint and rate-limit events: counters, never refused
//! (except a checkpoint claiming a watermark after its own seq).

use strand_projections::{BreakerState, DomainEvent, ProjectionError};

use crate::{Harness, T0};

fn child_events() -> Vec<DomainEvent> {
    let (supervisor, child) = ("workflow".to_owned(), "scheduler".to_owned());
    vec![
        DomainEvent::ActorStarted {
            supervisor: supervisor.clone(),
            child: child.clone(),
        },
        DomainEvent::ActorFailed {
            supervisor: supervisor.clone(),
            child: child.clone(),
            reason: "panicked at scheduler.rs:10".into(),
        },
        DomainEvent::RestartBackoffScheduled {
            supervisor: supervisor.clone(),
            child: child.clone(),
            delay_ms: 200,
        },
        DomainEvent::ActorRestarted {
            supervisor: supervisor.clone(),
            child: child.clone(),
            restarts: 1,
        },
        DomainEvent::ActorRestarted {
            supervisor: supervisor.clone(),
            child: child.clone(),
            restarts: 2,
        },
        DomainEvent::BreakerChanged {
            supervisor: supervisor.clone(),
            child: child.clone(),
            state: BreakerState::Open,
        },
        DomainEvent::ActorStopped {
            supervisor,
            child,
            reason: "shutdown".into(),
        },
    ]
}

#[test]
fn given_child_events_when_applied_then_counters_follow() {
    let mut harness = Harness::new();
    harness.all(child_events());
    let record = harness
        .state
        .child_supervision("workflow", "scheduler")
        .unwrap();
    assert_eq!(
        (
            record.starts,
            record.failures,
            record.restarts,
            record.stops,
            record.backoffs
        ),
        (1, 1, 2, 1, 1)
    );
    assert_eq!(record.window_restarts, 2);
    assert_eq!(record.backoff_delay_ms, Some(200));
    assert_eq!(record.breaker, BreakerState::Open);
    assert_eq!(record.last_reason.as_deref(), Some("shutdown"));
    assert_eq!(record.updated_at_ms, harness.last_at_ms());
    let listed = harness.state.supervision();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].supervisor.as_str(), listed[0].child.as_str()),
        ("workflow", "scheduler")
    );
    assert!(
        harness
            .state
            .child_supervision("workflow", "other")
            .is_none()
    );
}

#[test]
fn given_escalations_when_applied_then_counted_per_supervisor() {
    let mut harness = Harness::new();
    for reason in ["too many restarts", "again"] {
        harness.ok(DomainEvent::SupervisorEscalated {
            supervisor: "queue".into(),
            reason: reason.into(),
        });
    }
    let escalations = harness.state.escalations();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].supervisor, "queue");
    assert_eq!(escalations[0].record.escalations, 2);
    assert_eq!(escalations[0].record.last_reason, "again");
}

#[test]
fn given_checkpoint_event_when_applied_then_last_checkpoint_recorded() {
    let mut harness = Harness::new();
    harness.ok(DomainEvent::RateLimited { key: "k".into() });
    harness.ok(DomainEvent::CheckpointTaken {
        name: "state_manager".into(),
        seq: 1,
    });
    harness.ok(DomainEvent::CheckpointTaken {
        name: "state_manager".into(),
        seq: 3,
    });
    let checkpoint = harness.state.last_checkpoint().unwrap();
    assert_eq!(
        (checkpoint.name.as_str(), checkpoint.seq),
        ("state_manager", 3)
    );
    assert_eq!(checkpoint.at_ms, T0 + 3);
}

#[test]
fn given_checkpoint_claiming_later_watermark_when_applied_then_refused() {
    let mut harness = Harness::new();
    let error = harness.refused(DomainEvent::CheckpointTaken {
        name: "x".into(),
        seq: 2,
    });
    assert!(
        matches!(
            error,
            ProjectionError::CheckpointAhead {
                seq: 1,
                checkpoint_seq: 2,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_rate_limited_events_when_applied_then_counted_per_key() {
    let mut harness = Harness::new();
    for key in ["b", "a", "b"] {
        harness.ok(DomainEvent::RateLimited { key: key.into() });
    }
    assert_eq!(harness.state.rate_limited("a"), 1);
    assert_eq!(harness.state.rate_limited("b"), 2);
    assert_eq!(harness.state.rate_limited("c"), 0);
    let keys: Vec<_> = harness
        .state
        .rate_limits()
        .into_iter()
        .map(|count| (count.key, count.count))
        .collect();
    assert_eq!(keys, [("a".to_owned(), 1), ("b".to_owned(), 2)]);
}
