//! Retention: which finished runs a policy lets go, and `RunExpired`.

use strand_projections::{
    DomainEvent, ProjectionError, Retention, RetentionPolicy, RunId, RunStatus, StateManager,
};

use crate::{Harness, T0, dag, id, task, w1};

/// A one-bead run `run` of definition `name`, submitted and, unless
/// `finish` is `None`, finished that way.
pub(crate) fn one_bead_run(
    harness: &mut Harness,
    run: &str,
    name: &str,
    finish: Option<RunStatus>,
) {
    let run = RunId::from(run);
    harness.ok(DomainEvent::WorkflowSubmitted {
        workflow: run.clone(),
        name: name.into(),
        dag: Box::new(dag(&["a"], &[], &[])),
        tasks: vec![task("a")],
    });
    let Some(status) = finish else {
        return;
    };
    let bead = id("a");
    harness.ok(DomainEvent::BeadReady {
        workflow: run.clone(),
        bead: bead.clone(),
    });
    harness.ok(DomainEvent::BeadScheduled {
        workflow: run.clone(),
        bead: bead.clone(),
        worker: w1(),
    });
    harness.ok(DomainEvent::BeadStarted {
        workflow: run.clone(),
        bead: bead.clone(),
        worker: w1(),
        attempt: 1,
    });
    if status == RunStatus::Completed {
        harness.ok(DomainEvent::BeadCompleted {
            workflow: run.clone(),
            bead,
            attempt: 1,
            output: "done".into(),
        });
        harness.ok(DomainEvent::WorkflowCompleted { workflow: run });
    } else {
        harness.ok(DomainEvent::BeadFailed {
            workflow: run.clone(),
            bead,
            attempt: 1,
            error: "exit status 1".into(),
            retryable: false,
        });
        harness.ok(DomainEvent::WorkflowFailed {
            workflow: run,
            reason: "a failed".into(),
        });
    }
}

fn ids(runs: &[&str]) -> Vec<RunId> {
    runs.iter().map(|r| RunId::from(*r)).collect()
}

/// Runs r1..r4: r1, r2 and r4 finish (r2 failed), r3 still runs. Each
/// finishes at `T0` plus its last seq.
pub(crate) fn four_runs() -> Harness {
    let mut harness = Harness::new();
    one_bead_run(&mut harness, "r1", "nightly", Some(RunStatus::Completed));
    one_bead_run(&mut harness, "r2", "nightly", Some(RunStatus::Failed));
    one_bead_run(&mut harness, "r3", "nightly", None);
    one_bead_run(&mut harness, "r4", "etl", Some(RunStatus::Completed));
    harness
}

#[test]
fn given_an_age_bound_when_asked_then_only_runs_finished_that_long_ago_expire_oldest_first() {
    let harness = four_runs();
    let finished_r2 = harness
        .state
        .run(&RunId::from("r2"))
        .unwrap()
        .finished_at_ms()
        .unwrap();
    let policy = RetentionPolicy {
        default: Retention {
            max_age_ms: Some(100),
            max_runs: None,
        },
        ..RetentionPolicy::default()
    };
    assert_eq!(
        harness.state.expired(&policy, finished_r2 + 99, 10),
        ids(&["r1"])
    );
    assert_eq!(
        harness.state.expired(&policy, finished_r2 + 100, 10),
        ids(&["r1", "r2"]),
        "a failed run expires like a completed one; the running r3 never does"
    );
    assert_eq!(
        harness.state.expired(&policy, u64::MAX, 10),
        ids(&["r1", "r2", "r4"])
    );
    assert_eq!(
        harness.state.expired(&policy, u64::MAX, 2),
        ids(&["r1", "r2"])
    );
    assert!(
        harness
            .state
            .expired(&RetentionPolicy::default(), u64::MAX, 10)
            .is_empty()
    );
}

#[test]
fn given_a_count_bound_and_an_override_when_asked_then_each_definition_is_counted_apart() {
    let harness = four_runs();
    let mut policy = RetentionPolicy {
        default: Retention {
            max_age_ms: None,
            max_runs: Some(1),
        },
        ..RetentionPolicy::default()
    };
    assert_eq!(
        harness.state.expired(&policy, T0, 10),
        ids(&["r1", "r2"]),
        "the newest finished run (r4) stays"
    );
    policy.per_definition.insert(
        "nightly".into(),
        Retention {
            max_age_ms: None,
            max_runs: Some(1),
        },
    );
    assert_eq!(
        harness.state.expired(&policy, T0, 10),
        ids(&["r1"]),
        "nightly keeps its newest (r2), the rest keep theirs (r4)"
    );
}

#[test]
fn given_finished_runs_when_expired_then_they_leave_the_state_and_their_id_can_be_used_again() {
    let mut harness = four_runs();
    assert_eq!(harness.state.oldest_run_seq(), 1);
    assert_eq!(
        (
            harness.state.finished_totals().completed,
            harness.state.finished_totals().failed
        ),
        (2, 1)
    );
    harness.ok(DomainEvent::RunExpired {
        run: RunId::from("r1"),
    });
    harness.ok(DomainEvent::RunExpired {
        run: RunId::from("r2"),
    });
    assert!(harness.state.run(&RunId::from("r1")).is_none());
    assert!(harness.state.run(&RunId::from("r2")).is_none());
    assert_eq!(harness.state.expired_run_count(), 2);
    assert_eq!(harness.state.finished_totals().completed, 1);
    assert_eq!(harness.state.finished_totals().failed, 0);
    assert_eq!(harness.state.finished_totals().beads.completed, 1);
    let r3 = harness
        .state
        .run(&RunId::from("r3"))
        .unwrap()
        .submitted_seq();
    assert_eq!(
        harness.state.oldest_run_seq(),
        r3,
        "r3 is now the oldest run held"
    );

    one_bead_run(&mut harness, "r1", "nightly", Some(RunStatus::Completed));
    let record = StateManager::fold_run(&RunId::from("r1"), harness.history.clone())
        .unwrap()
        .unwrap();
    assert_eq!(
        record.submitted_seq(),
        harness
            .state
            .run(&RunId::from("r1"))
            .unwrap()
            .submitted_seq(),
        "the history of a reused id is that of its last run"
    );
    let gone = StateManager::fold_run(&RunId::from("r2"), harness.history.clone()).unwrap();
    assert!(gone.is_none(), "an expired run's history folds to nothing");
}

#[test]
fn given_a_running_or_unknown_run_when_expired_then_refused_and_nothing_changes() {
    let mut harness = four_runs();
    let error = harness.refused(DomainEvent::RunExpired {
        run: RunId::from("r3"),
    });
    assert!(
        matches!(
            error,
            ProjectionError::ControlNotApplicable {
                status: RunStatus::Running,
                ..
            }
        ),
        "{error:?}"
    );
    let error = harness.refused(DomainEvent::RunExpired {
        run: RunId::from("nope"),
    });
    assert!(
        matches!(error, ProjectionError::UnknownWorkflow { .. }),
        "{error:?}"
    );
}
