use strand_dag::{BeadId, DagError, WorkflowDag};

use crate::{dag, diamond, id, ids, mixed};

fn position(order: &[BeadId], of: &str) -> usize {
    order.iter().position(|x| x.as_str() == of).unwrap()
}

#[test]
fn given_diamond_when_ordering_with_petgraph_then_every_edge_goes_forward() -> Result<(), DagError>
{
    let dag = diamond();
    let order = dag.topological_order()?;
    assert_eq!(order.len(), 4);
    for (from, to, _) in dag.edges() {
        assert!(position(&order, from.as_str()) < position(&order, to.as_str()));
    }
    Ok(())
}

#[test]
fn given_diamond_when_ordering_with_kahn_then_smallest_id_first() -> Result<(), DagError> {
    assert_eq!(
        diamond().topological_order_kahn()?,
        ids(&["a", "b", "c", "d"])
    );
    Ok(())
}

#[test]
fn given_independent_beads_when_ordering_with_kahn_then_sorted_by_id() -> Result<(), DagError> {
    let dag = dag(&["zeta", "alpha", "mid"], &[]);
    assert_eq!(
        dag.topological_order_kahn()?,
        ids(&["alpha", "mid", "zeta"])
    );
    Ok(())
}

#[test]
fn given_edges_against_id_order_when_ordering_with_kahn_then_edges_win() -> Result<(), DagError> {
    let dag = dag(&["a", "b", "c"], &[("c", "a"), ("b", "a")]);
    assert_eq!(dag.topological_order_kahn()?, ids(&["b", "c", "a"]));
    Ok(())
}

#[test]
fn given_preferred_edge_when_ordering_then_it_is_respected() -> Result<(), DagError> {
    let dag = mixed(&["a", "b"], &[], &[("b", "a")]);
    assert_eq!(dag.topological_order_kahn()?, ids(&["b", "a"]));
    assert_eq!(dag.topological_order()?, ids(&["b", "a"]));
    Ok(())
}

#[test]
fn given_cycle_when_ordering_then_both_orders_name_the_cycle() {
    let dag = dag(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("b", "c"), ("c", "b"), ("c", "d")],
    );
    let expected = Err(DagError::CycleDetected(ids(&["b", "c"])));
    assert_eq!(dag.topological_order(), expected);
    assert_eq!(dag.topological_order_kahn(), expected);
}

#[test]
fn given_empty_dag_when_ordering_then_empty_order() -> Result<(), DagError> {
    let dag = WorkflowDag::new();
    assert!(dag.topological_order()?.is_empty());
    assert!(dag.topological_order_kahn()?.is_empty());
    Ok(())
}

#[test]
fn given_long_chain_when_ordering_then_no_stack_overflow() -> Result<(), DagError> {
    let mut dag = WorkflowDag::new();
    let names: Vec<BeadId> = (0..50_000).map(|i| id(&format!("b{i:06}"))).collect();
    for name in &names {
        dag.add_node(name.clone())?;
    }
    for pair in names.windows(2) {
        dag.add_edge(&pair[0], &pair[1], strand_dag::DependencyType::Blocking)?;
    }
    assert_eq!(dag.topological_order_kahn()?, names);
    assert_eq!(dag.topological_order()?, names);
    assert!(!dag.has_cycle());
    assert!(dag.find_cycles().is_empty());
    assert_eq!(
        dag.critical_path(&std::collections::BTreeMap::new())?
            .path
            .len(),
        50_000
    );
    Ok(())
}
