//! The event codec: frozen bytes of log format version 1, kind tags and
//! streams, decoding of hostile bytes (typed errors, never a panic), and
//! round trips of arbitrary events.

#![cfg(test)]

mod arbitrary;
mod golden;
mod hostile;
mod kinds;

use strand_projections::{
    BackoffSpec, BeadId, BreakerState, DefinitionHash, DependencyType, DomainEvent, Output, RunId,
    RunSettings, WorkerId, WorkflowDag,
};

/// The graph `a -> b` (blocking).
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

/// One event of every kind, in kind order.
#[expect(clippy::too_many_lines, reason = "one event per kind")]
fn one_of_each() -> Vec<DomainEvent> {
    let (workflow, bead, worker) = (RunId::from("wf"), BeadId::from("b"), WorkerId::from("w"));
    let (supervisor, child) = (String::from("sup"), String::from("kid"));
    vec![
        DomainEvent::WorkflowSubmitted {
            workflow: workflow.clone(),
            name: "n".into(),
            dag: Box::new(small_dag()),
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
            workflow: workflow.clone(),
            bead: bead.clone(),
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
        DomainEvent::EventQuarantined {
            supervisor: "s".into(),
            child: "c".into(),
            stream: "worker/w".into(),
            seq: 9,
            reason: "r".into(),
        },
        DomainEvent::RunSubmitted {
            run: workflow.clone(),
            name: "n".into(),
            definition: DefinitionHash::of("n", &small_dag(), &[]),
            dag: Box::new(small_dag()),
            tasks: vec![],
            input: r#"{"region":"eu"}"#.into(),
            settings: Box::new(RunSettings {
                timeout_ms: Some(60_000),
                backoff: vec![(
                    bead.clone(),
                    BackoffSpec {
                        initial_ms: 10,
                        max_ms: 1_000,
                        multiplier: 2,
                    },
                )],
            }),
        },
        DomainEvent::BeadCompletedWithOutput {
            run: workflow.clone(),
            bead: bead.clone(),
            attempt: 1,
            output: Output::bytes(vec![0, 1, 2]),
            log_tail: "warn".into(),
        },
        DomainEvent::RunPaused {
            run: workflow.clone(),
            reason: "p".into(),
        },
        DomainEvent::RunResumed {
            run: workflow.clone(),
        },
        DomainEvent::RunRetried {
            run: workflow.clone(),
            beads: vec![bead.clone()],
        },
        DomainEvent::RunExpired {
            run: workflow.clone(),
        },
    ]
}
