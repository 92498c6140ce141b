use std::collections::BTreeSet;

use strand_dag::{BeadId, DagError, ReadyTracker};

use crate::{dag, diamond, id, ids, mixed};

#[test]
fn given_fresh_tracker_when_asking_ready_then_roots() {
    let tracker = ReadyTracker::new(&diamond(), &BTreeSet::new());
    assert_eq!(tracker.ready(), ids(&["a"]));
    assert_eq!(tracker.len(), 4);
    assert_eq!(tracker.completed_count(), 0);
    assert!(!tracker.is_finished());
}

#[test]
fn given_diamond_when_completing_in_order_then_each_step_reports_newly_ready()
-> Result<(), DagError> {
    let mut tracker = ReadyTracker::new(&diamond(), &BTreeSet::new());
    assert_eq!(tracker.complete(&id("a"))?, ids(&["b", "c"]));
    assert_eq!(tracker.complete(&id("b"))?, Vec::<BeadId>::new());
    assert_eq!(tracker.complete(&id("c"))?, ids(&["d"]));
    assert_eq!(tracker.complete(&id("d"))?, Vec::<BeadId>::new());
    assert!(tracker.is_finished());
    assert!(tracker.ready().is_empty());
    Ok(())
}

#[test]
fn given_initially_completed_beads_when_building_then_readiness_accounts_for_them()
-> Result<(), DagError> {
    let done: BTreeSet<BeadId> = [id("a"), id("b")].into();
    let mut tracker = ReadyTracker::new(&diamond(), &done);
    assert_eq!(tracker.ready(), ids(&["c"]));
    assert_eq!(tracker.completed_count(), 2);
    assert!(tracker.is_completed(&id("a"))?);
    assert_eq!(tracker.complete(&id("c"))?, ids(&["d"]));
    Ok(())
}

#[test]
fn given_preferred_edge_when_tracking_then_it_does_not_gate() -> Result<(), DagError> {
    let mut tracker = ReadyTracker::new(&mixed(&["a", "b"], &[], &[("a", "b")]), &BTreeSet::new());
    assert_eq!(tracker.ready(), ids(&["a", "b"]));
    assert_eq!(tracker.complete(&id("a"))?, Vec::<BeadId>::new());
    Ok(())
}

#[test]
fn given_bead_completed_out_of_order_when_its_deps_complete_then_it_is_not_reported()
-> Result<(), DagError> {
    let mut tracker = ReadyTracker::new(&dag(&["a", "b"], &[("a", "b")]), &BTreeSet::new());
    assert!(!tracker.is_ready(&id("b"))?);
    assert_eq!(tracker.complete(&id("b"))?, Vec::<BeadId>::new());
    assert_eq!(tracker.complete(&id("a"))?, Vec::<BeadId>::new());
    assert!(tracker.is_finished());
    Ok(())
}

#[test]
fn given_completed_bead_when_completing_again_then_invalid_operation() -> Result<(), DagError> {
    let mut tracker = ReadyTracker::new(&diamond(), &BTreeSet::new());
    tracker.complete(&id("a"))?;
    assert!(matches!(
        tracker.complete(&id("a")),
        Err(DagError::InvalidOperation(_))
    ));
    assert_eq!(tracker.completed_count(), 1);
    Ok(())
}

#[test]
fn given_unknown_bead_when_completing_then_node_not_found() {
    let mut tracker = ReadyTracker::new(&diamond(), &BTreeSet::new());
    assert_eq!(
        tracker.complete(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
    assert_eq!(
        tracker.is_ready(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
    assert_eq!(
        tracker.is_completed(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
}

#[test]
fn given_empty_dag_when_tracking_then_finished_at_once() {
    let tracker = ReadyTracker::new(&strand_dag::WorkflowDag::new(), &BTreeSet::new());
    assert!(tracker.is_empty());
    assert!(tracker.is_finished());
}
