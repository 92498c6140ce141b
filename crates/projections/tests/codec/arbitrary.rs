//! Arbitrary events round trip; arbitrary or mutated bytes never panic.

use proptest::prelude::*;
use strand_projections::codec;
use strand_projections::{
    BeadId, BreakerState, DefinitionHash, DependencyType, DomainEvent, Output, RunId, RunSettings,
    TaskAction, TaskSpec, WorkerId, WorkflowDag,
};

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

#[expect(clippy::too_many_lines, reason = "one strategy per event kind")]
fn event_strategy() -> impl Strategy<Value = DomainEvent> {
    let wf = || text().prop_map(RunId::new);
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
                    dag: Box::new(dag),
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
        (text(), text(), text(), any::<u64>(), text()).prop_map(
            |(supervisor, child, stream, seq, reason)| DomainEvent::EventQuarantined {
                supervisor,
                child,
                stream,
                seq,
                reason,
            }
        ),
        (
            wf(),
            text(),
            dag_strategy(),
            proptest::collection::vec(task_strategy(), 0..4),
            text(),
        )
            .prop_map(|(run, name, dag, tasks, input)| {
                let settings = RunSettings {
                    timeout_ms: (input.len() % 2 == 0).then_some(1_000),
                    backoff: Vec::new(),
                };
                DomainEvent::RunSubmitted {
                    definition: DefinitionHash::of_run(&name, &dag, &tasks, &settings),
                    run,
                    name,
                    dag: Box::new(dag),
                    tasks,
                    input,
                    settings: Box::new(settings),
                }
            }),
        (
            wf(),
            bead(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..16),
            proptest::option::of(text()),
            text(),
        )
            .prop_map(|(run, bead, attempt, bytes, content_type, log_tail)| {
                DomainEvent::BeadCompletedWithOutput {
                    run,
                    bead,
                    attempt,
                    output: Output {
                        bytes,
                        content_type,
                    },
                    log_tail,
                }
            }),
        (wf(), text()).prop_map(|(run, reason)| DomainEvent::RunPaused { run, reason }),
        wf().prop_map(|run| DomainEvent::RunResumed { run }),
        (wf(), proptest::collection::vec(bead(), 0..4))
            .prop_map(|(run, beads)| DomainEvent::RunRetried { run, beads }),
        wf().prop_map(|run| DomainEvent::RunExpired { run }),
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
        kind in prop_oneof![1 => any::<u16>(), 4 => 0_u16..32],
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
