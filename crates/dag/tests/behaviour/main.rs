//! Behaviour tests for `strand_dag`, one module per concept.

#![cfg(test)]

mod critical_path;
mod cycles;
mod export;
mod mutation;
mod order;
mod queries;
mod readiness;
mod serde;
mod subgraphs;
mod tracker;

use strand_dag::{BeadId, DependencyType, WorkflowDag};

/// A bead id.
fn id(s: &str) -> BeadId {
    BeadId::from(s)
}

/// Bead ids.
fn ids(list: &[&str]) -> Vec<BeadId> {
    list.iter().map(|s| id(s)).collect()
}

/// A graph with the given beads and blocking edges.
fn dag(nodes: &[&str], edges: &[(&str, &str)]) -> WorkflowDag {
    mixed(nodes, edges, &[])
}

/// A graph with the given beads, blocking edges and preferred-order edges.
fn mixed(nodes: &[&str], blocking: &[(&str, &str)], preferred: &[(&str, &str)]) -> WorkflowDag {
    let mut dag = WorkflowDag::new();
    for node in nodes {
        dag.add_node(*node).unwrap();
    }
    for (from, to) in blocking {
        dag.add_edge(&id(from), &id(to), DependencyType::Blocking)
            .unwrap();
    }
    for (from, to) in preferred {
        dag.add_edge(&id(from), &id(to), DependencyType::PreferredOrder)
            .unwrap();
    }
    dag
}

/// The diamond `a -> b, a -> c, b -> d, c -> d`.
fn diamond() -> WorkflowDag {
    dag(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    )
}
