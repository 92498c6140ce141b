use strand_dag::{BeadId, DagError, DependencyType, WorkflowDag};

use crate::{dag, id};

#[test]
fn given_empty_dag_when_adding_a_node_then_it_is_contained() -> Result<(), DagError> {
    let mut dag = WorkflowDag::new();
    dag.add_node("a")?;
    assert!(dag.contains(&id("a")));
    assert_eq!(dag.node_count(), 1);
    assert_eq!(dag.edge_count(), 0);
    Ok(())
}

#[test]
fn given_existing_node_when_adding_it_again_then_node_already_exists() {
    let mut dag = dag(&["a"], &[]);
    assert_eq!(dag.add_node("a"), Err(DagError::NodeAlreadyExists(id("a"))));
    assert_eq!(dag.node_count(), 1);
}

#[test]
fn given_two_nodes_when_adding_an_edge_then_it_is_counted_with_its_type() -> Result<(), DagError> {
    let mut dag = dag(&["a", "b"], &[]);
    dag.add_edge(&id("a"), &id("b"), DependencyType::PreferredOrder)?;
    assert_eq!(dag.edge_count(), 1);
    assert_eq!(
        dag.edge(&id("a"), &id("b")),
        Some(DependencyType::PreferredOrder)
    );
    assert_eq!(dag.edge(&id("b"), &id("a")), None);
    Ok(())
}

#[test]
fn given_unknown_source_when_adding_an_edge_then_node_not_found() {
    let mut dag = dag(&["b"], &[]);
    let result = dag.add_edge(&id("a"), &id("b"), DependencyType::Blocking);
    assert_eq!(result, Err(DagError::NodeNotFound(id("a"))));
}

#[test]
fn given_unknown_target_when_adding_an_edge_then_node_not_found() {
    let mut dag = dag(&["a"], &[]);
    let result = dag.add_edge(&id("a"), &id("z"), DependencyType::Blocking);
    assert_eq!(result, Err(DagError::NodeNotFound(id("z"))));
    assert_eq!(dag.edge_count(), 0);
}

#[test]
fn given_a_node_when_adding_an_edge_to_itself_then_self_loop_detected() {
    let mut dag = dag(&["a"], &[]);
    let result = dag.add_edge(&id("a"), &id("a"), DependencyType::Blocking);
    assert_eq!(result, Err(DagError::SelfLoopDetected(id("a"))));
    assert_eq!(dag.edge_count(), 0);
}

#[test]
fn given_an_edge_when_adding_it_again_with_any_type_then_edge_already_exists() {
    let mut dag = dag(&["a", "b"], &[("a", "b")]);
    let result = dag.add_edge(&id("a"), &id("b"), DependencyType::PreferredOrder);
    assert_eq!(result, Err(DagError::EdgeAlreadyExists(id("a"), id("b"))));
    assert_eq!(dag.edge_count(), 1);
}

#[test]
fn given_an_edge_when_adding_the_reverse_edge_then_the_cycle_is_built_and_reported() {
    let mut dag = dag(&["a", "b"], &[("a", "b")]);
    assert_eq!(
        dag.add_edge(&id("b"), &id("a"), DependencyType::Blocking),
        Ok(())
    );
    assert!(dag.has_cycle());
    assert_eq!(
        dag.validate(),
        Err(DagError::CycleDetected(vec![id("a"), id("b")]))
    );
}

#[test]
fn given_a_node_with_edges_when_removing_it_then_its_edges_go_too() -> Result<(), DagError> {
    let mut dag = dag(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]);
    dag.remove_node(&id("b"))?;
    assert!(!dag.contains(&id("b")));
    assert_eq!(dag.node_count(), 2);
    assert_eq!(dag.edge_count(), 1);
    assert_eq!(dag.dependents(&id("a"))?, vec![id("c")]);
    Ok(())
}

#[test]
fn given_a_removed_node_when_adding_it_back_then_it_starts_without_edges() -> Result<(), DagError> {
    let mut dag = dag(&["a", "b"], &[("a", "b")]);
    dag.remove_node(&id("b"))?;
    dag.add_node("b")?;
    assert_eq!(dag.dependencies(&id("b"))?, Vec::<BeadId>::new());
    assert_eq!(dag.edge_count(), 0);
    Ok(())
}

#[test]
fn given_unknown_node_when_removing_it_then_node_not_found() {
    let mut dag = dag(&["a"], &[]);
    assert_eq!(
        dag.remove_node(&id("x")),
        Err(DagError::NodeNotFound(id("x")))
    );
    assert_eq!(dag.node_count(), 1);
}

#[test]
fn given_an_edge_when_removing_it_then_only_that_edge_goes() -> Result<(), DagError> {
    let mut dag = dag(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
    dag.remove_edge(&id("a"), &id("b"))?;
    assert_eq!(dag.edge_count(), 1);
    assert_eq!(dag.edge(&id("a"), &id("b")), None);
    assert_eq!(dag.edge(&id("b"), &id("c")), Some(DependencyType::Blocking));
    Ok(())
}

#[test]
fn given_no_such_edge_when_removing_it_then_edge_not_found() {
    let mut dag = dag(&["a", "b"], &[("a", "b")]);
    assert_eq!(
        dag.remove_edge(&id("b"), &id("a")),
        Err(DagError::EdgeNotFound(id("b"), id("a")))
    );
    assert_eq!(dag.edge_count(), 1);
}

#[test]
fn given_unknown_node_when_removing_an_edge_then_node_not_found() {
    let mut dag = dag(&["a"], &[]);
    assert_eq!(
        dag.remove_edge(&id("a"), &id("q")),
        Err(DagError::NodeNotFound(id("q")))
    );
}

#[test]
fn given_same_graph_built_in_two_orders_when_compared_then_equal() {
    let one = dag(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
    let two = dag(&["c", "b", "a"], &[("b", "c"), ("a", "b")]);
    assert_eq!(one, two);
    let three = dag(&["c", "b", "a"], &[("b", "c")]);
    assert_ne!(one, three);
}

#[test]
fn given_bead_ids_when_converted_and_displayed_then_they_keep_their_text() {
    let from_str = BeadId::from("load");
    let from_string = BeadId::from(String::from("load"));
    assert_eq!(from_str, from_string);
    assert_eq!(from_str.to_string(), "load");
    assert_eq!(from_str.as_str(), "load");
    assert!(BeadId::from("a") < BeadId::from("b"));
}

#[test]
fn given_errors_when_displayed_then_they_name_the_beads() {
    let cycle = DagError::CycleDetected(vec![id("a"), id("b")]);
    assert_eq!(cycle.to_string(), "dependency cycle: a -> b -> a");
    assert!(DagError::NodeNotFound(id("x")).to_string().contains("`x`"));
    let edge = DagError::EdgeAlreadyExists(id("a"), id("b")).to_string();
    assert!(edge.contains("`a` -> `b`"), "{edge}");
}

#[test]
fn given_hub_and_join_when_adding_duplicate_edges_then_each_is_refused() {
    // "hub" fans out to five beads and "join" collects from five, so the
    // duplicate check meets both a long out-list and a long in-list.
    let names = ["hub", "join", "m1", "m2", "m3", "m4", "m5"];
    let mut edges = Vec::new();
    for middle in &names[2..] {
        edges.push(("hub", *middle));
        edges.push((*middle, "join"));
    }
    let mut dag = dag(&names, &edges);
    for (from, to) in &edges {
        let again = dag.add_edge(&id(from), &id(to), DependencyType::PreferredOrder);
        assert_eq!(again, Err(DagError::EdgeAlreadyExists(id(from), id(to))));
    }
    assert_eq!(
        dag.add_edge(&id("hub"), &id("join"), DependencyType::Blocking),
        Ok(())
    );
    assert_eq!(dag.edge_count(), edges.len() + 1);
}
