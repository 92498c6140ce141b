use std::collections::{BTreeMap, HashMap};

use strand_dag::{BeadId, CriticalPath, DagError, WorkflowDag};

use crate::{dag, diamond, id, ids, mixed};

fn weights(list: &[(&str, u64)]) -> BTreeMap<BeadId, u64> {
    list.iter().map(|(k, v)| (id(k), *v)).collect()
}

#[test]
fn given_weighted_diamond_when_computing_critical_path_then_heaviest_branch() -> Result<(), DagError>
{
    let path = diamond().critical_path(&weights(&[("a", 1), ("b", 10), ("c", 3), ("d", 1)]))?;
    assert_eq!(
        path,
        CriticalPath {
            path: ids(&["a", "b", "d"]),
            total_weight: 12
        }
    );
    Ok(())
}

#[test]
fn given_missing_weights_when_computing_critical_path_then_they_count_as_zero()
-> Result<(), DagError> {
    let path = diamond().critical_path(&weights(&[("c", 5)]))?;
    assert_eq!(path.path, ids(&["a", "c", "d"]));
    assert_eq!(path.total_weight, 5);
    Ok(())
}

#[test]
fn given_no_weights_when_computing_critical_path_then_longest_chain() -> Result<(), DagError> {
    let dag = dag(&["a", "b", "c", "x"], &[("a", "b"), ("b", "c"), ("x", "c")]);
    let path = dag.critical_path(&HashMap::<BeadId, u64>::new())?;
    assert_eq!(path.path, ids(&["a", "b", "c"]));
    assert_eq!(path.total_weight, 0);
    Ok(())
}

#[test]
fn given_heavy_isolated_bead_when_computing_critical_path_then_it_alone_is_the_path()
-> Result<(), DagError> {
    let dag = dag(&["a", "b", "solo"], &[("a", "b")]);
    let path = dag.critical_path(&weights(&[("a", 2), ("b", 2), ("solo", 9)]))?;
    assert_eq!(path.path, ids(&["solo"]));
    assert_eq!(path.total_weight, 9);
    Ok(())
}

#[test]
fn given_preferred_edge_when_computing_critical_path_then_it_is_not_followed()
-> Result<(), DagError> {
    let dag = mixed(&["a", "b"], &[], &[("a", "b")]);
    let path = dag.critical_path(&weights(&[("a", 4), ("b", 5)]))?;
    assert_eq!(path.path, ids(&["b"]));
    assert_eq!(path.total_weight, 5);
    Ok(())
}

#[test]
fn given_cycle_when_computing_critical_path_then_cycle_detected() {
    let dag = dag(&["a", "b"], &[("a", "b"), ("b", "a")]);
    assert_eq!(
        dag.critical_path(&weights(&[])),
        Err(DagError::CycleDetected(ids(&["a", "b"])))
    );
}

#[test]
fn given_empty_dag_when_computing_critical_path_then_empty_path() -> Result<(), DagError> {
    assert_eq!(
        WorkflowDag::new().critical_path(&weights(&[]))?,
        CriticalPath::default()
    );
    Ok(())
}

#[test]
fn given_huge_weights_when_computing_critical_path_then_total_saturates() -> Result<(), DagError> {
    let path =
        dag(&["a", "b"], &[("a", "b")]).critical_path(&weights(&[("a", u64::MAX), ("b", 1)]))?;
    assert_eq!(path.total_weight, u64::MAX);
    Ok(())
}

#[test]
fn given_a_path_when_asking_membership_then_beads_and_consecutive_edges_only() {
    let path = CriticalPath {
        path: ids(&["a", "b", "c"]),
        total_weight: 0,
    };
    assert!(path.contains(&id("b")));
    assert!(!path.contains(&id("z")));
    assert!(path.contains_edge(&id("a"), &id("b")));
    assert!(!path.contains_edge(&id("a"), &id("c")));
    assert!(!path.contains_edge(&id("b"), &id("a")));
}
