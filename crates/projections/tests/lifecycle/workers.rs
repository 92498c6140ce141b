//! `WorkerSpawned` and `WorkerDied`, and the workers listing.

use strand_projections::{BeadState, DomainEvent, ProjectionError, WorkerId};

use crate::{Harness, id, ready, scheduled, started, w1, wf};

fn spawn(worker: &str, labels: &[&str]) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(worker),
        labels: labels.iter().map(|label| (*label).to_owned()).collect(),
    }
}

fn die(worker: &str) -> DomainEvent {
    DomainEvent::WorkerDied {
        worker: WorkerId::from(worker),
        reason: "oom".into(),
    }
}

#[test]
fn given_no_worker_when_spawned_then_alive_with_labels() {
    let mut harness = Harness::new();
    harness.ok(spawn("w1", &["io"]));
    let record = harness.state.worker(&w1()).unwrap();
    assert!(record.alive);
    assert_eq!(record.labels, ["io"]);
    assert_eq!((record.spawns, record.deaths), (1, 0));
}

#[test]
fn given_unknown_worker_when_died_then_unknown_worker() {
    let mut harness = Harness::new();
    let error = harness.refused(die("w9"));
    assert!(
        matches!(error, ProjectionError::UnknownWorker { seq: 1, ref worker } if worker.as_str() == "w9"),
        "{error:?}"
    );
}

#[test]
fn given_dead_worker_when_died_again_then_not_alive() {
    let mut harness = Harness::new();
    harness.all([spawn("w1", &[]), die("w1")]);
    let error = harness.refused(die("w1"));
    assert!(
        matches!(error, ProjectionError::WorkerNotAlive { .. }),
        "{error:?}"
    );
}

#[test]
fn given_dead_worker_when_spawned_again_then_alive_and_counted() {
    let mut harness = Harness::new();
    harness.all([spawn("w1", &["cpu"]), die("w1"), spawn("w1", &["io"])]);
    let record = harness.state.worker(&w1()).unwrap();
    assert!(record.alive);
    assert_eq!(record.labels, ["io"]);
    assert_eq!((record.spawns, record.deaths), (2, 1));
    assert_eq!(record.last_reason.as_deref(), Some("oom"));
}

#[test]
fn given_live_worker_when_spawned_again_after_a_restart_then_accepted() {
    // A process that crashed never recorded its workers' deaths.
    let mut harness = Harness::new();
    harness.all([spawn("w1", &[]), spawn("w1", &[])]);
    assert_eq!(
        harness.state.worker(&w1()).map(|record| record.spawns),
        Some(2)
    );
}

#[test]
fn given_beads_on_worker_when_workers_listed_then_running_bead_is_current() {
    let mut harness = Harness::with_workflow();
    harness.all([spawn("w1", &[]), spawn("w2", &[])]);
    harness.complete("a");
    harness.all([ready("b"), scheduled("b"), ready("c"), scheduled("c")]);
    let workers = harness.state.workers();
    let ids: Vec<_> = workers.iter().map(|view| view.id.as_str()).collect();
    assert_eq!(ids, ["w1", "w2"]);
    let current = workers[0].current_bead.as_ref().unwrap();
    assert_eq!(
        (current.bead.as_str(), current.state),
        ("b", BeadState::Scheduled)
    );
    assert_eq!(workers[1].current_bead, None);
    harness.ok(started("c", 1));
    let workers = harness.state.workers();
    let current = workers[0].current_bead.as_ref().unwrap();
    assert_eq!((&current.workflow, &current.bead), (&wf(), &id("c")));
    assert_eq!(current.state, BeadState::Running);
}
