//! `WorkflowSubmitted`: a new workflow, its tasks exactly its graph's nodes.

use strand_projections::{
    BeadState, DagError, DomainEvent, ProjectionError, RunStatus, SubmissionDefect,
};

use crate::{Harness, T0, dag, fixture_dag, id, submit_fixture, task, wf};

#[test]
fn given_empty_state_when_workflow_submitted_then_every_bead_pending_never_attempted() {
    let harness = Harness::with_workflow();
    let record = harness.state.workflow(&wf()).unwrap();
    assert_eq!(record.status(), RunStatus::Running);
    assert_eq!(record.name(), "fixture");
    assert_eq!(record.submitted_at_ms(), T0 + 1);
    assert_eq!(record.finished_at_ms(), None);
    assert_eq!(record.dag(), &fixture_dag());
    // Tasks are kept in bead id order, whatever the submission's order.
    let task_ids: Vec<_> = record.tasks().iter().map(|task| task.id.as_str()).collect();
    assert_eq!(task_ids, ["a", "b", "c", "d"]);
    for (_, bead) in record.beads() {
        assert_eq!(bead.state, BeadState::Pending);
        assert_eq!(bead.attempts, 0);
        assert_eq!(bead.updated_at_ms, T0 + 1);
    }
    let counts = harness.state.bead_counts(&wf()).unwrap();
    assert_eq!((counts.pending, counts.total), (4, 4));
}

#[test]
fn given_submitted_workflow_when_same_id_submitted_again_then_duplicate_refused() {
    let mut harness = Harness::with_workflow();
    let error = harness.refused(submit_fixture(&wf()));
    assert!(
        matches!(error, ProjectionError::DuplicateWorkflow { seq: 2, ref workflow } if *workflow == wf()),
        "{error:?}"
    );
}

/// A submission of `wf` with the fixture graph and these tasks.
fn submission(tasks: &[&str]) -> DomainEvent {
    DomainEvent::WorkflowSubmitted {
        workflow: wf(),
        name: "bad".into(),
        dag: Box::new(fixture_dag()),
        tasks: tasks.iter().map(|bead| task(bead)).collect(),
    }
}

#[test]
fn given_task_not_in_graph_when_submitted_then_bad_submission_names_it() {
    let error = Harness::new().refused(submission(&["a", "b", "c", "d", "zz"]));
    assert!(
        matches!(error, ProjectionError::BadSubmission { defect: SubmissionDefect::TaskNotInDag(ref bead), .. } if *bead == id("zz")),
        "{error:?}"
    );
}

#[test]
fn given_graph_node_without_task_when_submitted_then_bad_submission_names_it() {
    let error = Harness::new().refused(submission(&["a", "b", "d"]));
    assert!(
        matches!(error, ProjectionError::BadSubmission { defect: SubmissionDefect::MissingTask(ref bead), .. } if *bead == id("c")),
        "{error:?}"
    );
}

#[test]
fn given_two_tasks_with_one_id_when_submitted_then_bad_submission_names_it() {
    let error = Harness::new().refused(submission(&["a", "b", "b", "c", "d"]));
    assert!(
        matches!(error, ProjectionError::BadSubmission { defect: SubmissionDefect::DuplicateTask(ref bead), .. } if *bead == id("b")),
        "{error:?}"
    );
}

#[test]
fn given_cyclic_graph_when_submitted_then_bad_submission_invalid_graph() {
    let event = DomainEvent::WorkflowSubmitted {
        workflow: wf(),
        name: "cycle".into(),
        dag: Box::new(dag(&["a", "b"], &[("a", "b"), ("b", "a")], &[])),
        tasks: vec![task("a"), task("b")],
    };
    let error = Harness::new().refused(event);
    assert!(
        matches!(
            error,
            ProjectionError::BadSubmission {
                defect: SubmissionDefect::InvalidDag(DagError::CycleDetected(_)),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(Harness::new().state.workflow_count(), 0);
}

#[test]
fn given_empty_graph_when_submitted_then_workflow_can_complete_at_once() {
    let mut harness = Harness::new();
    harness.ok(DomainEvent::WorkflowSubmitted {
        workflow: wf(),
        name: "empty".into(),
        dag: Box::new(dag(&[], &[], &[])),
        tasks: Vec::new(),
    });
    harness.ok(DomainEvent::WorkflowCompleted { workflow: wf() });
    assert_eq!(
        harness.state.run(&wf()).map(|r| r.status()),
        Some(RunStatus::Completed)
    );
}

/// What `StateManager::check_submission` says of `tasks` over `graph`
/// (with their true hash), beside what applying the submission says.
fn checked_and_applied(
    graph: &strand_dag::WorkflowDag,
    tasks: &[&str],
) -> (Result<(), ProjectionError>, ProjectionError) {
    let tasks: Vec<_> = tasks.iter().map(|bead| task(bead)).collect();
    let hash = strand_projections::DefinitionHash::of("bad", graph, &tasks);
    let checked = strand_projections::StateManager::check_submission(
        &wf(),
        "bad",
        hash,
        graph,
        &tasks,
        &strand_projections::RunSettings::default(),
    );
    let applied = Harness::new().refused(DomainEvent::WorkflowSubmitted {
        workflow: wf(),
        name: "bad".into(),
        dag: Box::new(graph.clone()),
        tasks,
    });
    (checked, applied)
}

#[test]
fn given_bad_submissions_when_checked_before_writing_then_the_check_refuses_what_apply_refuses() {
    let cyclic = dag(&["a", "b"], &[("a", "b"), ("b", "a")], &[]);
    for (graph, tasks) in [
        (fixture_dag(), &["a", "b", "c", "d", "zz"][..]),
        (fixture_dag(), &["a", "b", "d"][..]),
        (fixture_dag(), &["a", "b", "b", "c", "d"][..]),
        (cyclic, &["a", "b"][..]),
    ] {
        let (checked, applied) = checked_and_applied(&graph, tasks);
        let (
            Err(ProjectionError::BadSubmission {
                defect: checked, ..
            }),
            ProjectionError::BadSubmission {
                defect: applied, ..
            },
        ) = (checked, applied)
        else {
            panic!("{tasks:?}: both refuse the submission");
        };
        assert_eq!(checked.to_string(), applied.to_string(), "{tasks:?}");
    }
    let (checked, _) = checked_and_applied(&fixture_dag(), &["d", "c", "b"]);
    assert!(checked.is_err(), "a node without a task");
}

#[test]
fn given_a_wrong_definition_hash_when_checked_then_it_is_refused_and_a_good_one_passes() {
    let tasks: Vec<_> = ["a", "b", "c", "d"].iter().map(|b| task(b)).collect();
    let settings = strand_projections::RunSettings::default();
    let check = |hash| {
        strand_projections::StateManager::check_submission(
            &wf(),
            "good",
            hash,
            &fixture_dag(),
            &tasks,
            &settings,
        )
    };
    let right = strand_projections::DefinitionHash::of("good", &fixture_dag(), &tasks);
    assert!(check(right).is_ok());
    let wrong = strand_projections::DefinitionHash([7; 32]);
    assert!(matches!(
        check(wrong),
        Err(ProjectionError::BadSubmission {
            seq: 0,
            defect: SubmissionDefect::DefinitionHash { .. },
            ..
        })
    ));
}
