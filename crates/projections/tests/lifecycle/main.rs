//! Behaviour tests for `StateManager::apply`: every lifecycle rule, accepted
//! and refused. A refusal must leave the state exactly as it was, so every
//! refused event is checked against the state hash taken before it.

#![cfg(test)]

mod cancellation;
mod execution;
mod live;
mod ordering;
mod queries;
mod readiness;
mod retention;
mod retries;
mod submission;
mod supervision;
mod workers;
mod workflows;

use strand_projections::{
    BeadId, BeadRecord, BeadState, DependencyType, DomainEvent, EventMeta, Projection,
    ProjectionError, RunId, StateManager, TaskAction, TaskSpec, WorkerId, WorkflowDag, apply_after,
};

/// The `at_ms` of the first event applied by a [`Harness`].
const T0: u64 = 1_700_000_000_000;

/// A state manager plus the next seq and time: each accepted event gets
/// the next seq, and `at_ms = T0 + seq`.
struct Harness {
    state: StateManager,
    /// Every accepted event, in order (the log a run's history is read from).
    history: Vec<(EventMeta, DomainEvent)>,
}

impl Harness {
    fn new() -> Self {
        Self {
            state: StateManager::empty(),
            history: Vec::new(),
        }
    }

    /// A harness with workflow `wf` (see [`fixture_dag`]) submitted.
    fn with_workflow() -> Self {
        let mut harness = Self::new();
        harness.ok(submit_fixture(&wf()));
        harness
    }

    /// The meta of the next event.
    fn next_meta(&self) -> EventMeta {
        let seq = self.state.applied_seq() + 1;
        EventMeta {
            seq,
            at_ms: T0 + seq,
        }
    }

    /// Applies an event that must be accepted.
    fn ok(&mut self, event: DomainEvent) {
        let meta = self.next_meta();
        let kind = event.kind();
        if let Err(error) = apply_after(&mut self.state, &self.history, meta, event.clone()) {
            panic!("{kind} at seq {} refused: {error}", meta.seq);
        }
        self.history.push((meta, event));
        assert_eq!(self.state.applied_seq(), meta.seq);
    }

    /// Applies events that must all be accepted.
    fn all(&mut self, events: impl IntoIterator<Item = DomainEvent>) {
        for event in events {
            self.ok(event);
        }
    }

    /// Applies an event that must be refused, checks that nothing changed,
    /// and returns the error.
    fn refused(&mut self, event: DomainEvent) -> ProjectionError {
        let before = self.state.state_hash();
        let (applied, events) = (self.state.applied_seq(), self.state.events_applied());
        let meta = self.next_meta();
        let kind = event.kind();
        let Err(error) = apply_after(&mut self.state, &self.history, meta, event) else {
            panic!("{kind} at seq {} was accepted", meta.seq);
        };
        assert_eq!(
            self.state.state_hash(),
            before,
            "a refused {kind} changed the state"
        );
        assert_eq!(self.state.applied_seq(), applied);
        assert_eq!(self.state.events_applied(), events);
        error
    }

    /// The record of bead `bead` of workflow `wf`.
    fn bead(&self, bead: &str) -> &BeadRecord {
        self.state
            .bead(&wf(), &id(bead))
            .unwrap_or_else(|| panic!("no bead {bead}"))
    }

    /// The state of bead `bead` of workflow `wf`.
    fn state_of(&self, bead: &str) -> BeadState {
        self.bead(bead).state
    }

    /// The `at_ms` of the last applied event.
    fn last_at_ms(&self) -> u64 {
        T0 + self.state.applied_seq()
    }

    /// Walks `bead` of `wf` from pending to running (attempt 1) on `w1`.
    fn run(&mut self, bead: &str) {
        self.all([ready(bead), scheduled(bead), started(bead, 1)]);
    }

    /// Walks `bead` of `wf` from pending to completed (attempt 1).
    fn complete(&mut self, bead: &str) {
        self.run(bead);
        self.ok(completed(bead, 1));
    }
}

fn id(bead: &str) -> BeadId {
    BeadId::from(bead)
}

/// The fixture workflow's id.
fn wf() -> RunId {
    RunId::from("wf")
}

/// The fixture worker.
fn w1() -> WorkerId {
    WorkerId::from("w1")
}

/// `a -> b`, `a -> c` and `b -> d` blocking; `c -> d` after (preferred
/// order only): `d` waits for `b`, not for `c`.
fn fixture_dag() -> WorkflowDag {
    dag(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d")],
        &[("c", "d")],
    )
}

/// A graph with the given nodes, blocking edges and `after` edges.
fn dag(nodes: &[&str], blocking: &[(&str, &str)], after: &[(&str, &str)]) -> WorkflowDag {
    let mut dag = WorkflowDag::new();
    for node in nodes {
        dag.add_node(*node).unwrap();
    }
    for (from, to) in blocking {
        dag.add_edge(&id(from), &id(to), DependencyType::Blocking)
            .unwrap();
    }
    for (from, to) in after {
        dag.add_edge(&id(from), &id(to), DependencyType::PreferredOrder)
            .unwrap();
    }
    dag
}

/// A task for `bead`.
fn task(bead: &str) -> TaskSpec {
    TaskSpec {
        id: id(bead),
        action: TaskAction::Run(format!("echo {bead}")),
        priority: 0,
        retries: 3,
        timeout_ms: Some(30_000),
        affinity: None,
    }
}

/// Submission of the fixture workflow under `workflow`.
fn submit_fixture(workflow: &RunId) -> DomainEvent {
    DomainEvent::WorkflowSubmitted {
        workflow: workflow.clone(),
        name: "fixture".into(),
        dag: Box::new(fixture_dag()),
        tasks: ["d", "c", "b", "a"].into_iter().map(task).collect(),
    }
}

fn ready(bead: &str) -> DomainEvent {
    DomainEvent::BeadReady {
        workflow: wf(),
        bead: id(bead),
    }
}

fn scheduled(bead: &str) -> DomainEvent {
    DomainEvent::BeadScheduled {
        workflow: wf(),
        bead: id(bead),
        worker: w1(),
    }
}

fn started(bead: &str, attempt: u32) -> DomainEvent {
    DomainEvent::BeadStarted {
        workflow: wf(),
        bead: id(bead),
        worker: w1(),
        attempt,
    }
}

fn completed(bead: &str, attempt: u32) -> DomainEvent {
    DomainEvent::BeadCompleted {
        workflow: wf(),
        bead: id(bead),
        attempt,
        output: format!("{bead} done"),
    }
}

fn failed(bead: &str, attempt: u32) -> DomainEvent {
    DomainEvent::BeadFailed {
        workflow: wf(),
        bead: id(bead),
        attempt,
        error: "exit status 1".into(),
        retryable: true,
    }
}

fn retry_scheduled(bead: &str, at_ms: u64) -> DomainEvent {
    DomainEvent::BeadRetryScheduled {
        workflow: wf(),
        bead: id(bead),
        at_ms,
    }
}

fn timed_out(bead: &str, attempt: u32) -> DomainEvent {
    DomainEvent::BeadTimedOut {
        workflow: wf(),
        bead: id(bead),
        attempt,
        reason: "30s elapsed".into(),
    }
}

fn cancelled(bead: &str) -> DomainEvent {
    DomainEvent::BeadCancelled {
        workflow: wf(),
        bead: id(bead),
        reason: "operator".into(),
    }
}
