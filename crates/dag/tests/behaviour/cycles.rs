use strand_dag::{BeadId, DagError, DependencyType, MAX_REPORTED_CYCLES, WorkflowDag};

use crate::{dag, diamond, id, ids, mixed};

#[test]
fn given_dag_when_checking_cycles_then_none() {
    let dag = diamond();
    assert!(!dag.has_cycle());
    assert!(dag.find_cycles().is_empty());
    assert_eq!(dag.validate(), Ok(()));
}

#[test]
fn given_triangle_when_finding_cycles_then_one_cycle_from_smallest_id() {
    let dag = dag(&["a", "b", "c"], &[("b", "c"), ("c", "a"), ("a", "b")]);
    assert!(dag.has_cycle());
    assert_eq!(dag.find_cycles(), vec![ids(&["a", "b", "c"])]);
}

#[test]
fn given_two_cycles_sharing_a_node_when_finding_cycles_then_each_once() {
    let dag = dag(
        &["a", "b", "c"],
        &[("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")],
    );
    assert_eq!(dag.find_cycles(), vec![ids(&["a", "b"]), ids(&["b", "c"])]);
}

#[test]
fn given_complete_graph_when_finding_cycles_then_every_elementary_cycle() {
    // K4 with both directions has 20 elementary cycles: 6 of length 2,
    // 8 of length 3 and 6 of length 4.
    let names = ["a", "b", "c", "d"];
    let mut edges = Vec::new();
    for from in names {
        for to in names {
            if from != to {
                edges.push((from, to));
            }
        }
    }
    let cycles = dag(&names, &edges).find_cycles();
    assert_eq!(cycles.len(), 20);
    assert_eq!(cycles.iter().filter(|c| c.len() == 4).count(), 6);
}

#[test]
fn given_preferred_edge_closing_a_loop_when_validating_then_cycle_detected() {
    let dag = mixed(&["a", "b"], &[("a", "b")], &[("b", "a")]);
    assert_eq!(
        dag.validate(),
        Err(DagError::CycleDetected(ids(&["a", "b"])))
    );
}

#[test]
fn given_cycle_downstream_when_validating_then_only_cycle_nodes_are_named() {
    let dag = dag(
        &["a", "m", "x", "y", "z"],
        &[("a", "x"), ("x", "y"), ("y", "z"), ("z", "x"), ("z", "m")],
    );
    assert_eq!(
        dag.validate(),
        Err(DagError::CycleDetected(ids(&["x", "y", "z"])))
    );
}

#[test]
fn given_many_cycles_when_finding_cycles_then_report_is_capped() {
    // Complete digraph on 8 nodes: far more than the cap of elementary cycles.
    let names: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
    let mut dag = WorkflowDag::new();
    for name in &names {
        dag.add_node(name.as_str()).unwrap();
    }
    for from in &names {
        for to in &names {
            if from != to {
                let (from, to) = (BeadId::from(from), BeadId::from(to));
                dag.add_edge(&from, &to, DependencyType::Blocking).unwrap();
            }
        }
    }
    let cycles = dag.find_cycles();
    assert_eq!(cycles.len(), MAX_REPORTED_CYCLES);
}

#[test]
fn given_large_ring_when_finding_cycles_then_the_one_cycle_is_found() {
    let mut dag = WorkflowDag::new();
    let names: Vec<BeadId> = (0..20_000).map(|i| id(&format!("r{i:05}"))).collect();
    for name in &names {
        dag.add_node(name.clone()).unwrap();
    }
    for pair in names.windows(2) {
        dag.add_edge(&pair[0], &pair[1], DependencyType::Blocking)
            .unwrap();
    }
    dag.add_edge(names.last().unwrap(), &names[0], DependencyType::Blocking)
        .unwrap();
    let cycles = dag.find_cycles();
    assert_eq!(cycles, vec![names.clone()]);
    assert_eq!(dag.validate(), Err(DagError::CycleDetected(names)));
}
