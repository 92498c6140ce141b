//! The read-only queries the scheduler, the reconciler and `strand status` use.

use strand_projections::{BeadState, DomainEvent, RunId, RunStatus};

use crate::{Harness, id, ready, scheduled, submit_fixture, w1, wf};

#[test]
fn given_two_workflows_when_listed_then_summaries_sorted_by_id_with_counts() {
    let mut harness = Harness::new();
    harness.ok(submit_fixture(&RunId::from("zeta")));
    harness.ok(submit_fixture(&wf()));
    harness.complete("a");
    harness.ok(ready("b"));
    let summaries = harness.state.workflows();
    let ids: Vec<_> = summaries
        .iter()
        .map(|summary| summary.id.as_str())
        .collect();
    assert_eq!(ids, ["wf", "zeta"]);
    let counts = summaries[0].counts;
    assert_eq!(
        (counts.completed, counts.ready, counts.pending, counts.total),
        (1, 1, 2, 4)
    );
    assert_eq!(counts.get(BeadState::Completed), 1);
    assert_eq!(summaries[1].counts.pending, 4);
    assert_eq!(summaries[0].status, RunStatus::Running);
}

#[test]
fn given_beads_in_several_states_when_filtered_by_state_then_sorted_ids() {
    let mut harness = Harness::with_workflow();
    harness.complete("a");
    harness.all([ready("c"), ready("b")]);
    assert_eq!(
        harness.state.beads_in_state(&wf(), BeadState::Ready),
        [id("b"), id("c")]
    );
    assert_eq!(
        harness.state.beads_in_state(&wf(), BeadState::Pending),
        [id("d")]
    );
    assert!(
        harness
            .state
            .beads_in_state(&RunId::from("x"), BeadState::Ready)
            .is_empty()
    );
}

#[test]
fn given_running_beads_when_listed_then_worker_attempt_and_start_time() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    let started_at = harness.last_at_ms();
    let running = harness.state.running_beads();
    assert_eq!(running.len(), 1);
    assert_eq!((&running[0].workflow, &running[0].bead), (&wf(), &id("a")));
    assert_eq!(running[0].worker, Some(w1()));
    assert_eq!((running[0].attempt, running[0].since_ms), (1, started_at));
}

#[test]
fn given_finished_workflow_with_running_bead_when_listed_then_not_running() {
    let mut harness = Harness::with_workflow();
    harness.all([ready("a"), scheduled("a")]);
    harness.ok(crate::started("a", 1));
    harness.ok(DomainEvent::WorkflowFailed {
        workflow: wf(),
        reason: "given up".into(),
    });
    assert!(harness.state.running_beads().is_empty());
    assert_eq!(
        harness
            .state
            .bead_counts(&wf())
            .map(|counts| counts.running),
        Some(1)
    );
}

#[test]
fn given_workflow_when_tasks_queried_then_task_of_each_bead() {
    let harness = Harness::with_workflow();
    let task = harness.state.task(&wf(), &id("c")).unwrap();
    assert_eq!(task.id, id("c"));
    assert_eq!(task.retries, 3);
    assert!(harness.state.task(&wf(), &id("zz")).is_none());
    assert_eq!(harness.state.unblocked_pending(&wf()), [id("a")]);
}

#[test]
fn given_workflow_when_listed_like_strand_status_then_records_read_as_plain_fields() {
    let mut harness = Harness::with_workflow();
    harness.run("a");
    harness.ok(crate::failed("a", 1));
    let record = harness.state.workflow(&wf()).unwrap();
    let lines: Vec<String> = record
        .beads()
        .map(|(bead, record)| {
            format!(
                "{} {} {} {} {}",
                bead.as_str(),
                record.state.as_str(),
                record.attempts,
                record.worker.as_ref().map_or("-", |w| w.as_str()),
                record.last_error.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "a failed 1 w1 exit status 1",
            "b pending 0 - ",
            "c pending 0 - ",
            "d pending 0 - "
        ]
    );
}
