use std::collections::{BTreeSet, HashSet};

use strand_dag::{BeadId, DagError};

use crate::{diamond, id, mixed};

fn set(list: &[&str]) -> BTreeSet<BeadId> {
    list.iter().map(|s| id(s)).collect()
}

#[test]
fn given_nothing_completed_when_asking_ready_then_only_roots() {
    assert_eq!(diamond().ready_nodes(&set(&[])), set(&["a"]));
}

#[test]
fn given_one_branch_done_when_asking_ready_then_join_still_waits() {
    let dag = diamond();
    assert_eq!(dag.ready_nodes(&set(&["a", "b"])), set(&["c"]));
    assert_eq!(dag.blocked_nodes(&set(&["a", "b"])), set(&["d"]));
}

#[test]
fn given_both_branches_done_when_asking_ready_then_join_is_ready() {
    let dag = diamond();
    assert_eq!(dag.ready_nodes(&set(&["a", "b", "c"])), set(&["d"]));
    assert!(dag.blocked_nodes(&set(&["a", "b", "c"])).is_empty());
}

#[test]
fn given_everything_done_when_asking_ready_then_nothing() {
    let dag = diamond();
    let all = set(&["a", "b", "c", "d"]);
    assert!(dag.ready_nodes(&all).is_empty());
    assert!(dag.blocked_nodes(&all).is_empty());
}

#[test]
fn given_nothing_completed_when_asking_blocked_then_every_non_root() {
    assert_eq!(diamond().blocked_nodes(&set(&[])), set(&["b", "c", "d"]));
}

#[test]
fn given_preferred_edge_only_when_asking_ready_then_it_does_not_block() {
    let dag = mixed(&["a", "b", "c"], &[("b", "c")], &[("a", "b")]);
    assert_eq!(dag.ready_nodes(&set(&[])), set(&["a", "b"]));
    assert_eq!(dag.blocked_nodes(&set(&[])), set(&["c"]));
}

#[test]
fn given_hash_set_of_completed_when_asking_ready_then_same_answer() {
    let completed: HashSet<BeadId> = [id("a")].into_iter().collect();
    assert_eq!(diamond().ready_nodes(&completed), set(&["b", "c"]));
}

#[test]
fn given_a_node_when_asking_is_ready_then_true_only_when_deps_done_and_not_itself()
-> Result<(), DagError> {
    let dag = diamond();
    assert!(dag.is_ready(&id("a"), &set(&[]))?);
    assert!(!dag.is_ready(&id("a"), &set(&["a"]))?);
    assert!(!dag.is_ready(&id("d"), &set(&["a", "b"]))?);
    assert!(dag.is_ready(&id("d"), &set(&["a", "b", "c"]))?);
    Ok(())
}

#[test]
fn given_unknown_node_when_asking_is_ready_then_node_not_found() {
    assert_eq!(
        diamond().is_ready(&id("x"), &set(&[])),
        Err(DagError::NodeNotFound(id("x")))
    );
}

#[test]
fn given_unknown_ids_in_completed_when_asking_ready_then_they_are_ignored() {
    assert_eq!(diamond().ready_nodes(&set(&["zzz"])), set(&["a"]));
}
