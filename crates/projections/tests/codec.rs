//! The event codec: frozen bytes of format version 1, round trips, and
//! decoding of hostile bytes (typed errors, never a panic).

#![cfg(test)]

use proptest::prelude::*;
use strand_projections::codec::{self, MAX_EVENT_LEN};
use strand_projections::{
    BeadId, BreakerState, DependencyType, DomainEvent, EventKind, ProjectionError, TaskAction,
    TaskSpec, WorkerId, WorkflowDag, WorkflowId,
};

fn small_dag() -> WorkflowDag {
    let mut dag = WorkflowDag::new();
    dag.add_node("a").unwrap();
    dag.add_node("b").unwrap();
    dag.add_edge(
        &BeadId::from("a"),
        &BeadId::from("b"),
        DependencyType::Blocking,
    )
    .unwrap();
    dag
}

#[test]
fn given_bead_completed_when_encoded_then_bytes_are_frozen() {
    // Golden bytes of log format version 1. If this fails, the format
    // changed: that needs a new format version, not a new golden.
    let event = DomainEvent::BeadCompleted {
        workflow: WorkflowId::from("wf"),
        bead: BeadId::from("b"),
        attempt: 2,
        output: "ok".into(),
    };
    #[rustfmt::skip]
    let golden: &[u8] = &[
        7, 0, 0, 0,                                   // variant index u32 LE (kind 8 - 1)
        2, 0, 0, 0, 0, 0, 0, 0, b'w', b'f',           // workflow: len u64 LE + utf8
        1, 0, 0, 0, 0, 0, 0, 0, b'b',                 // bead
        2, 0, 0, 0,                                   // attempt u32 LE
        2, 0, 0, 0, 0, 0, 0, 0, b'o', b'k',           // output
    ];
    assert_eq!(codec::encode(&event).unwrap(), golden);
    assert_eq!(codec::decode(8, golden).unwrap(), event);
}

#[test]
fn given_workflow_submitted_when_encoded_then_bytes_are_frozen() {
    let event = DomainEvent::WorkflowSubmitted {
        workflow: WorkflowId::from("w"),
        name: "n".into(),
        dag: small_dag(),
        tasks: vec![TaskSpec {
            id: BeadId::from("a"),
            action: TaskAction::Run("x".into()),
            priority: -1,
            retries: 3,
            timeout_ms: Some(5),
            affinity: None,
        }],
    };
    #[rustfmt::skip]
    let golden: &[u8] = &[
        0, 0, 0, 0,                                   // variant index (kind 1 - 1)
        1, 0, 0, 0, 0, 0, 0, 0, b'w',                 // workflow
        1, 0, 0, 0, 0, 0, 0, 0, b'n',                 // name
        2, 0, 0, 0, 0, 0, 0, 0,                       // dag.nodes: 2, sorted by id
        1, 0, 0, 0, 0, 0, 0, 0, b'a',
        1, 0, 0, 0, 0, 0, 0, 0, b'b',
        1, 0, 0, 0, 0, 0, 0, 0,                       // dag.edges: 1, sorted by (from, to)
        1, 0, 0, 0, 0, 0, 0, 0, b'a',                 //   from
        1, 0, 0, 0, 0, 0, 0, 0, b'b',                 //   to
        0, 0, 0, 0,                                   //   kind: Blocking
        1, 0, 0, 0, 0, 0, 0, 0,                       // tasks: 1
        1, 0, 0, 0, 0, 0, 0, 0, b'a',                 //   id
        0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, b'x',     //   action: Run("x")
        0xFF, 0xFF, 0xFF, 0xFF,                       //   priority i32 LE (-1)
        3, 0, 0, 0,                                   //   retries u32 LE
        1, 5, 0, 0, 0, 0, 0, 0, 0,                    //   timeout_ms: Some(5)
        0,                                            //   affinity: None
    ];
    assert_eq!(codec::encode(&event).unwrap(), golden);
    assert_eq!(codec::decode(1, golden).unwrap(), event);
}

/// One event of every kind, in kind order.
fn one_of_each() -> Vec<DomainEvent> {
    let (workflow, bead, worker) = (
        WorkflowId::from("wf"),
        BeadId::from("b"),
        WorkerId::from("w"),
    );
    let (supervisor, child) = (String::from("sup"), String::from("kid"));
    vec![
        DomainEvent::WorkflowSubmitted {
            workflow: workflow.clone(),
            name: "n".into(),
            dag: small_dag(),
            tasks: vec![],
        },
        DomainEvent::WorkflowCompleted {
            workflow: workflow.clone(),
        },
        DomainEvent::WorkflowFailed {
            workflow: workflow.clone(),
            reason: "r".into(),
        },
        DomainEvent::WorkflowCancelled {
            workflow: workflow.clone(),
            reason: "r".into(),
        },
        DomainEvent::BeadReady {
            workflow: workflow.clone(),
            bead: bead.clone(),
        },
        DomainEvent::BeadScheduled {
            workflow: workflow.clone(),
            bead: bead.clone(),
            worker: worker.clone(),
        },
        DomainEvent::BeadStarted {
            workflow: workflow.clone(),
            bead: bead.clone(),
            worker: worker.clone(),
            attempt: 1,
        },
        DomainEvent::BeadCompleted {
            workflow: workflow.clone(),
            bead: bead.clone(),
            attempt: 1,
            output: "o".into(),
        },
        DomainEvent::BeadFailed {
            workflow: workflow.clone(),
            bead: bead.clone(),
            attempt: 1,
            error: "e".into(),
            retryable: true,
        },
        DomainEvent::BeadRetryScheduled {
            workflow: workflow.clone(),
            bead: bead.clone(),
            at_ms: 9,
        },
        DomainEvent::BeadTimedOut {
            workflow: workflow.clone(),
            bead: bead.clone(),
            attempt: 1,
            reason: "t".into(),
        },
        DomainEvent::BeadCancelled {
            workflow,
            bead,
            reason: "c".into(),
        },
        DomainEvent::WorkerSpawned {
            worker: worker.clone(),
            labels: vec!["io".into()],
        },
        DomainEvent::WorkerDied {
            worker,
            reason: "d".into(),
        },
        DomainEvent::ActorStarted {
            supervisor: supervisor.clone(),
            child: child.clone(),
        },
        DomainEvent::ActorFailed {
            supervisor: supervisor.clone(),
            child: child.clone(),
            reason: "f".into(),
        },
        DomainEvent::ActorRestarted {
            supervisor: supervisor.clone(),
            child: child.clone(),
            restarts: 2,
        },
        DomainEvent::ActorStopped {
            supervisor: supervisor.clone(),
            child: child.clone(),
            reason: "s".into(),
        },
        DomainEvent::RestartBackoffScheduled {
            supervisor: supervisor.clone(),
            child: child.clone(),
            delay_ms: 100,
        },
        DomainEvent::SupervisorEscalated {
            supervisor: supervisor.clone(),
            reason: "x".into(),
        },
        DomainEvent::BreakerChanged {
            supervisor,
            child,
            state: BreakerState::HalfOpen,
        },
        DomainEvent::CheckpointTaken {
            name: "state_manager".into(),
            seq: 7,
        },
        DomainEvent::RateLimited { key: "k".into() },
    ]
}

#[test]
fn given_every_kind_when_encoded_then_variant_index_is_tag_minus_one() {
    let events = one_of_each();
    let kinds: Vec<EventKind> = events.iter().map(DomainEvent::kind).collect();
    assert_eq!(kinds, EventKind::ALL, "one sample per kind, in kind order");
    for event in &events {
        let tag = event.kind().as_u16();
        let body = codec::encode(event).unwrap();
        assert_eq!(
            body[..4],
            u32::from(tag - 1).to_le_bytes(),
            "{}",
            event.kind()
        );
        assert_eq!(&codec::decode(tag, &body).unwrap(), event);
    }
}

#[test]
fn given_kind_tags_when_listed_then_numbered_from_one_with_unique_snake_case_names() {
    for (expected, kind) in (1..).zip(EventKind::ALL) {
        assert_eq!(kind.as_u16(), expected);
        assert_eq!(EventKind::from_u16(expected), Some(*kind));
        assert!(
            kind.name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
        );
    }
    let mut names: Vec<_> = EventKind::ALL.iter().map(|kind| kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), EventKind::ALL.len());
    assert_eq!(EventKind::from_u16(0), None);
    assert_eq!(EventKind::from_u16(24), None);
    assert_eq!(EventKind::BeadCompleted.name(), "bead_completed");
    assert_eq!(EventKind::BeadTimedOut.to_string(), "bead_timed_out");
}

#[test]
fn given_events_when_asked_for_stream_then_stream_of_their_subject() {
    let streams: Vec<String> = one_of_each().iter().map(DomainEvent::stream).collect();
    let expected = [
        &["workflow/wf"; 12][..],
        &["worker/w"; 2][..],
        &["supervisor/sup"; 7][..],
        &["checkpoint", "ratelimit/k"][..],
    ]
    .concat();
    assert_eq!(streams, expected);
}

#[test]
fn given_body_of_one_kind_when_decoded_as_another_then_kind_mismatch() {
    let body = codec::encode(&DomainEvent::RateLimited { key: "k".into() }).unwrap();
    let error = codec::decode(EventKind::CheckpointTaken.as_u16(), &body).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::KindMismatch {
                kind: EventKind::CheckpointTaken,
                decoded: EventKind::RateLimited
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_unknown_kind_when_decoded_then_unknown_kind() {
    for kind in [0, 24, u16::MAX] {
        let error = codec::decode(kind, &[]).unwrap_err();
        assert!(
            matches!(error, ProjectionError::UnknownKind { kind: k } if k == kind),
            "{error:?}"
        );
    }
}

#[test]
fn given_trailing_bytes_when_decoded_then_refused() {
    let mut body = codec::encode(&DomainEvent::RateLimited { key: "k".into() }).unwrap();
    body.extend_from_slice(&[0, 0]);
    let error = codec::decode(EventKind::RateLimited.as_u16(), &body).unwrap_err();
    assert!(
        matches!(error, ProjectionError::TrailingBytes { len: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn given_truncated_body_when_decoded_then_decode_error() {
    let body = codec::encode(&one_of_each()[0]).unwrap();
    for len in 0..body.len() {
        let error = codec::decode(1, &body[..len]).unwrap_err();
        assert!(
            matches!(error, ProjectionError::Decode { .. }),
            "len {len}: {error:?}"
        );
    }
}

#[test]
fn given_length_prefix_beyond_bound_when_decoded_then_error_without_allocating() {
    // RateLimited { key } whose key claims u64::MAX, then MAX_EVENT_LEN + 1, bytes.
    for claimed in [u64::MAX, MAX_EVENT_LEN as u64 + 1] {
        let mut body = 22_u32.to_le_bytes().to_vec();
        body.extend_from_slice(&claimed.to_le_bytes());
        let error = codec::decode(23, &body).unwrap_err();
        assert!(matches!(error, ProjectionError::Decode { .. }), "{error:?}");
    }
}

#[test]
fn given_cyclic_graph_in_submission_when_decoded_then_decode_error() {
    let mut dag = small_dag();
    dag.add_edge(
        &BeadId::from("b"),
        &BeadId::from("a"),
        DependencyType::Blocking,
    )
    .unwrap();
    let event = DomainEvent::WorkflowSubmitted {
        workflow: WorkflowId::from("w"),
        name: "n".into(),
        dag,
        tasks: vec![],
    };
    let body = codec::encode(&event).unwrap();
    let error = codec::decode(1, &body).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::Decode {
                kind: EventKind::WorkflowSubmitted,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_output_over_bound_when_encoded_then_too_large_and_buffer_untouched() {
    let event = DomainEvent::BeadCompleted {
        workflow: WorkflowId::from("w"),
        bead: BeadId::from("b"),
        attempt: 1,
        output: "x".repeat(MAX_EVENT_LEN),
    };
    let mut out = vec![1, 2, 3];
    let error = codec::encode_into(&event, &mut out).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::EventTooLarge {
                max: MAX_EVENT_LEN,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(out, [1, 2, 3]);
}

// ---- arbitrary events -------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z0-9_/-]{0,10}", 1 => ".{0,6}"]
}

fn dag_strategy() -> impl Strategy<Value = WorkflowDag> {
    (0_usize..6).prop_flat_map(|n| {
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|to| (0..to).map(move |from| (from, to)))
            .collect();
        let len = pairs.len();
        proptest::collection::vec(0_u8..3, len).prop_map(move |choices| {
            let mut dag = WorkflowDag::new();
            for node in 0..n {
                dag.add_node(format!("n{node}")).unwrap();
            }
            for (&(from, to), choice) in pairs.iter().zip(choices) {
                let kind = match choice {
                    0 => continue,
                    1 => DependencyType::Blocking,
                    _ => DependencyType::PreferredOrder,
                };
                dag.add_edge(
                    &BeadId::new(format!("n{from}")),
                    &BeadId::new(format!("n{to}")),
                    kind,
                )
                .unwrap();
            }
            dag
        })
    })
}

fn task_strategy() -> impl Strategy<Value = TaskSpec> {
    (
        text(),
        prop_oneof![
            text().prop_map(TaskAction::Run),
            text().prop_map(TaskAction::Handler)
        ],
        any::<i32>(),
        any::<u32>(),
        any::<Option<u64>>(),
        proptest::option::of(text()),
    )
        .prop_map(
            |(id, action, priority, retries, timeout_ms, affinity)| TaskSpec {
                id: BeadId::new(id),
                action,
                priority,
                retries,
                timeout_ms,
                affinity,
            },
        )
}

fn event_strategy() -> impl Strategy<Value = DomainEvent> {
    let wf = || text().prop_map(WorkflowId::new);
    let bead = || text().prop_map(BeadId::new);
    let worker = || text().prop_map(WorkerId::new);
    let breaker = prop_oneof![
        Just(BreakerState::Closed),
        Just(BreakerState::Open),
        Just(BreakerState::HalfOpen)
    ];
    prop_oneof![
        (
            wf(),
            text(),
            dag_strategy(),
            proptest::collection::vec(task_strategy(), 0..4)
        )
            .prop_map(
                |(workflow, name, dag, tasks)| DomainEvent::WorkflowSubmitted {
                    workflow,
                    name,
                    dag,
                    tasks
                }
            ),
        wf().prop_map(|workflow| DomainEvent::WorkflowCompleted { workflow }),
        (wf(), text())
            .prop_map(|(workflow, reason)| DomainEvent::WorkflowFailed { workflow, reason }),
        (wf(), text())
            .prop_map(|(workflow, reason)| DomainEvent::WorkflowCancelled { workflow, reason }),
        (wf(), bead()).prop_map(|(workflow, bead)| DomainEvent::BeadReady { workflow, bead }),
        (wf(), bead(), worker()).prop_map(|(workflow, bead, worker)| DomainEvent::BeadScheduled {
            workflow,
            bead,
            worker
        }),
        (wf(), bead(), worker(), any::<u32>()).prop_map(|(workflow, bead, worker, attempt)| {
            DomainEvent::BeadStarted {
                workflow,
                bead,
                worker,
                attempt,
            }
        }),
        (wf(), bead(), any::<u32>(), text()).prop_map(|(workflow, bead, attempt, output)| {
            DomainEvent::BeadCompleted {
                workflow,
                bead,
                attempt,
                output,
            }
        }),
        (wf(), bead(), any::<u32>(), text(), any::<bool>()).prop_map(
            |(workflow, bead, attempt, error, retryable)| DomainEvent::BeadFailed {
                workflow,
                bead,
                attempt,
                error,
                retryable
            }
        ),
        (wf(), bead(), any::<u64>()).prop_map(|(workflow, bead, at_ms)| {
            DomainEvent::BeadRetryScheduled {
                workflow,
                bead,
                at_ms,
            }
        }),
        (wf(), bead(), any::<u32>(), text()).prop_map(|(workflow, bead, attempt, reason)| {
            DomainEvent::BeadTimedOut {
                workflow,
                bead,
                attempt,
                reason,
            }
        }),
        (wf(), bead(), text()).prop_map(|(workflow, bead, reason)| DomainEvent::BeadCancelled {
            workflow,
            bead,
            reason
        }),
        (worker(), proptest::collection::vec(text(), 0..3))
            .prop_map(|(worker, labels)| DomainEvent::WorkerSpawned { worker, labels }),
        (worker(), text()).prop_map(|(worker, reason)| DomainEvent::WorkerDied { worker, reason }),
        (text(), text())
            .prop_map(|(supervisor, child)| DomainEvent::ActorStarted { supervisor, child }),
        (text(), text(), text()).prop_map(|(supervisor, child, reason)| DomainEvent::ActorFailed {
            supervisor,
            child,
            reason
        }),
        (text(), text(), any::<u32>()).prop_map(|(supervisor, child, restarts)| {
            DomainEvent::ActorRestarted {
                supervisor,
                child,
                restarts,
            }
        }),
        (text(), text(), text()).prop_map(|(supervisor, child, reason)| {
            DomainEvent::ActorStopped {
                supervisor,
                child,
                reason,
            }
        }),
        (text(), text(), any::<u64>()).prop_map(|(supervisor, child, delay_ms)| {
            DomainEvent::RestartBackoffScheduled {
                supervisor,
                child,
                delay_ms,
            }
        }),
        (text(), text()).prop_map(|(supervisor, reason)| DomainEvent::SupervisorEscalated {
            supervisor,
            reason
        }),
        (text(), text(), breaker).prop_map(|(supervisor, child, state)| {
            DomainEvent::BreakerChanged {
                supervisor,
                child,
                state,
            }
        }),
        (text(), any::<u64>()).prop_map(|(name, seq)| DomainEvent::CheckpointTaken { name, seq }),
        text().prop_map(|key| DomainEvent::RateLimited { key }),
    ]
}

proptest! {
    #[test]
    fn prop_any_event_round_trips_through_its_kind(event in event_strategy()) {
        let body = codec::encode(&event).unwrap();
        let mut appended = vec![9];
        codec::encode_into(&event, &mut appended).unwrap();
        prop_assert_eq!(&appended[1..], &body[..]);
        let decoded = codec::decode(event.kind().as_u16(), &body).unwrap();
        prop_assert_eq!(decoded, event);
    }

    #[test]
    fn prop_arbitrary_bytes_with_arbitrary_kind_never_panic(
        kind in prop_oneof![1 => any::<u16>(), 4 => 0_u16..26],
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        if let Ok(event) = codec::decode(kind, &body) {
            // Whatever decodes is exactly that event, of that kind.
            prop_assert_eq!(event.kind().as_u16(), kind);
            let again = codec::encode(&event).unwrap();
            prop_assert_eq!(codec::decode(kind, &again).unwrap(), event);
        }
    }

    #[test]
    fn prop_mutated_event_bodies_never_panic(
        event in event_strategy(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut body = codec::encode(&event).unwrap();
        for (at, value) in flips {
            let at = at.index(body.len());
            body[at] = value;
        }
        let _ = codec::decode(event.kind().as_u16(), &body);
    }
}
