use strand_dag::{DagError, DependencyType};

use crate::{diamond, id, ids, mixed};

#[test]
fn given_diamond_when_taking_a_subgraph_then_nodes_and_edges_among_them() -> Result<(), DagError> {
    let sub = diamond().subgraph(&ids(&["a", "b", "d"]))?;
    assert_eq!(sub.node_count(), 3);
    assert_eq!(sub.edge_count(), 2);
    assert_eq!(sub.edge(&id("a"), &id("b")), Some(DependencyType::Blocking));
    assert_eq!(sub.edge(&id("b"), &id("d")), Some(DependencyType::Blocking));
    assert!(!sub.contains(&id("c")));
    Ok(())
}

#[test]
fn given_repeated_ids_when_taking_a_subgraph_then_each_counts_once() -> Result<(), DagError> {
    let sub = diamond().subgraph(&ids(&["a", "a", "c"]))?;
    assert_eq!(sub.node_count(), 2);
    assert_eq!(sub.edge_count(), 1);
    Ok(())
}

#[test]
fn given_unknown_id_when_taking_a_subgraph_then_node_not_found() {
    assert_eq!(
        diamond().subgraph(&ids(&["a", "nope"])),
        Err(DagError::NodeNotFound(id("nope")))
    );
}

#[test]
fn given_mixed_edges_when_taking_a_subgraph_then_edge_types_are_kept() -> Result<(), DagError> {
    let dag = mixed(&["a", "b", "c"], &[("a", "b")], &[("b", "c")]);
    let sub = dag.subgraph(&ids(&["b", "c"]))?;
    assert_eq!(
        sub.edge(&id("b"), &id("c")),
        Some(DependencyType::PreferredOrder)
    );
    Ok(())
}

#[test]
fn given_diamond_when_taking_upstream_of_a_branch_then_node_and_its_ancestors()
-> Result<(), DagError> {
    let up = diamond().upstream(&id("b"))?;
    assert_eq!(up.nodes().cloned().collect::<Vec<_>>(), ids(&["a", "b"]));
    assert_eq!(up.edge_count(), 1);
    Ok(())
}

#[test]
fn given_diamond_when_taking_upstream_of_the_join_then_whole_graph() -> Result<(), DagError> {
    let dag = diamond();
    assert_eq!(dag.upstream(&id("d"))?, dag);
    Ok(())
}

#[test]
fn given_unknown_id_when_taking_upstream_then_node_not_found() {
    assert_eq!(
        diamond().upstream(&id("q")),
        Err(DagError::NodeNotFound(id("q")))
    );
}
