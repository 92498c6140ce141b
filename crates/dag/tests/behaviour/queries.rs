use std::collections::BTreeSet;

use strand_dag::{BeadId, DagError, WorkflowDag};

use crate::{dag, diamond, id, ids, mixed};

#[test]
fn given_diamond_when_asking_dependencies_then_direct_predecessors_sorted() -> Result<(), DagError>
{
    let dag = diamond();
    assert_eq!(dag.dependencies(&id("d"))?, ids(&["b", "c"]));
    assert_eq!(dag.dependencies(&id("a"))?, Vec::<BeadId>::new());
    Ok(())
}

#[test]
fn given_diamond_when_asking_dependents_then_direct_successors_sorted() -> Result<(), DagError> {
    let dag = diamond();
    assert_eq!(dag.dependents(&id("a"))?, ids(&["b", "c"]));
    assert_eq!(dag.dependents(&id("d"))?, Vec::<BeadId>::new());
    Ok(())
}

#[test]
fn given_preferred_edge_when_asking_dependencies_then_it_is_included() -> Result<(), DagError> {
    let dag = mixed(&["a", "b"], &[], &[("a", "b")]);
    assert_eq!(dag.dependencies(&id("b"))?, ids(&["a"]));
    assert_eq!(dag.dependents(&id("a"))?, ids(&["b"]));
    Ok(())
}

#[test]
fn given_unknown_node_when_asking_neighbours_then_node_not_found() {
    let dag = diamond();
    assert_eq!(
        dag.dependencies(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
    assert_eq!(
        dag.dependents(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
}

#[test]
fn given_chain_when_asking_ancestors_then_transitive_set_without_the_node() -> Result<(), DagError>
{
    let dag = dag(&["a", "b", "c", "x"], &[("a", "b"), ("b", "c"), ("x", "b")]);
    assert_eq!(
        dag.ancestors(&id("c"))?,
        BTreeSet::from([id("a"), id("b"), id("x")])
    );
    assert_eq!(dag.ancestors(&id("a"))?, BTreeSet::new());
    Ok(())
}

#[test]
fn given_chain_when_asking_descendants_then_transitive_set_without_the_node() -> Result<(), DagError>
{
    let dag = dag(&["a", "b", "c", "x"], &[("a", "b"), ("b", "c"), ("x", "b")]);
    assert_eq!(
        dag.descendants(&id("x"))?,
        BTreeSet::from([id("b"), id("c")])
    );
    assert_eq!(dag.descendants(&id("c"))?, BTreeSet::new());
    Ok(())
}

#[test]
fn given_unknown_node_when_asking_ancestors_or_descendants_then_node_not_found() {
    let dag = diamond();
    assert_eq!(
        dag.ancestors(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
    assert_eq!(
        dag.descendants(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
}

#[test]
fn given_diamond_and_isolated_node_when_asking_roots_and_leaves_then_sorted_sets() {
    let mut dag = diamond();
    dag.add_node("z").unwrap();
    assert_eq!(dag.roots(), ids(&["a", "z"]));
    assert_eq!(dag.leaves(), ids(&["d", "z"]));
}

#[test]
fn given_preferred_edge_when_asking_roots_then_its_target_is_not_a_root() {
    let dag = mixed(&["a", "b"], &[], &[("a", "b")]);
    assert_eq!(dag.roots(), ids(&["a"]));
    assert_eq!(dag.leaves(), ids(&["b"]));
}

#[test]
fn given_empty_dag_when_querying_then_everything_is_empty() {
    let dag = WorkflowDag::new();
    assert!(dag.is_empty());
    assert_eq!(dag.node_count(), 0);
    assert_eq!(dag.edge_count(), 0);
    assert!(dag.roots().is_empty());
    assert!(dag.leaves().is_empty());
    assert!(!dag.contains(&id("a")));
}

#[test]
fn given_graph_when_listing_nodes_and_edges_then_sorted() {
    let dag = mixed(&["c", "a", "b"], &[("b", "c")], &[("a", "c")]);
    let nodes: Vec<&BeadId> = dag.nodes().collect();
    assert_eq!(nodes, vec![&id("a"), &id("b"), &id("c")]);
    let edges: Vec<(String, String)> = dag
        .edges()
        .into_iter()
        .map(|(f, t, _)| (f.to_string(), t.to_string()))
        .collect();
    assert_eq!(
        edges,
        vec![("a".into(), "c".into()), ("b".into(), "c".into())]
    );
}

#[test]
fn given_two_components_when_checking_connectivity_then_not_connected() {
    assert!(!dag(&["a", "b", "c"], &[("a", "b")]).is_connected());
}

#[test]
fn given_edges_against_direction_when_checking_connectivity_then_weakly_connected() {
    assert!(dag(&["a", "b", "c"], &[("a", "b"), ("c", "b")]).is_connected());
    assert!(mixed(&["a", "b"], &[], &[("b", "a")]).is_connected());
}

#[test]
fn given_empty_or_single_node_when_checking_connectivity_then_connected() {
    assert!(WorkflowDag::new().is_connected());
    assert!(dag(&["only"], &[]).is_connected());
}
