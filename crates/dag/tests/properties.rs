//! Property tests on random graphs: every answer of `WorkflowDag` is checked
//! against a brute-force reference computed from the plain edge list.

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use strand_dag::{BeadId, DependencyType, ReadyTracker, WorkflowDag};

/// A graph as plain lists, the reference every property compares against.
#[derive(Clone, Debug)]
struct Model {
    nodes: Vec<BeadId>,
    edges: Vec<(BeadId, BeadId, DependencyType)>,
}

impl Model {
    fn build(&self) -> WorkflowDag {
        build(&self.nodes, &self.edges)
    }

    fn blocking_preds(&self, node: &BeadId) -> Vec<&BeadId> {
        self.edges
            .iter()
            .filter(|(_, to, kind)| to == node && *kind == DependencyType::Blocking)
            .map(|(from, _, _)| from)
            .collect()
    }

    fn has_edge(&self, from: &BeadId, to: &BeadId) -> bool {
        self.edges.iter().any(|(f, t, _)| f == from && t == to)
    }

    /// Breadth-first reachability over the edge list.
    fn reach(&self, start: &BeadId, forward: bool) -> BTreeSet<BeadId> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start.clone()]);
        while let Some(node) = queue.pop_front() {
            for (from, to, _) in &self.edges {
                let (here, there) = if forward { (from, to) } else { (to, from) };
                if *here == node && *there != *start && seen.insert(there.clone()) {
                    queue.push_back(there.clone());
                }
            }
        }
        seen
    }
}

fn build(nodes: &[BeadId], edges: &[(BeadId, BeadId, DependencyType)]) -> WorkflowDag {
    let mut dag = WorkflowDag::new();
    for node in nodes {
        dag.add_node(node.clone()).unwrap();
    }
    for (from, to, kind) in edges {
        dag.add_edge(from, to, *kind).unwrap();
    }
    dag
}

fn kind(blocking: bool) -> DependencyType {
    if blocking {
        DependencyType::Blocking
    } else {
        DependencyType::PreferredOrder
    }
}

/// Random DAGs: nodes are created in a hidden order, edges only go forward in
/// it, and ids are a shuffle so id order and dependency order disagree.
fn arb_dag(max_nodes: usize) -> impl Strategy<Value = Model> {
    (0..=max_nodes)
        .prop_flat_map(|n| {
            let names = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            let edges = proptest::collection::vec(
                (0..n.max(1), 0..n.max(1), prop::bool::weighted(0.8)),
                0..=n * 2,
            );
            (names, edges)
        })
        .prop_map(|(names, raw)| {
            let nodes: Vec<BeadId> = names
                .iter()
                .map(|i| BeadId::from(format!("b{i:02}")))
                .collect();
            let mut seen = BTreeSet::new();
            let mut edges = Vec::new();
            for (a, b, blocking) in raw {
                let (lo, hi) = (a.min(b), a.max(b));
                if lo != hi && seen.insert((lo, hi)) {
                    edges.push((nodes[lo].clone(), nodes[hi].clone(), kind(blocking)));
                }
            }
            Model { nodes, edges }
        })
}

/// Random directed graphs, cycles allowed (no self-loops, no duplicate edges).
fn arb_graph(max_nodes: usize) -> impl Strategy<Value = Model> {
    (1..=max_nodes)
        .prop_flat_map(|n| {
            proptest::collection::vec((0..n, 0..n, any::<bool>()), 0..=n * 3)
                .prop_map(move |e| (n, e))
        })
        .prop_map(|(n, raw)| {
            let nodes: Vec<BeadId> = (0..n).map(|i| BeadId::from(format!("c{i}"))).collect();
            let mut seen = BTreeSet::new();
            let mut edges = Vec::new();
            for (a, b, blocking) in raw {
                if a != b && seen.insert((a, b)) {
                    edges.push((nodes[a].clone(), nodes[b].clone(), kind(blocking)));
                }
            }
            Model { nodes, edges }
        })
}

/// A DAG with a random subset of its nodes marked completed.
fn arb_dag_and_completed() -> impl Strategy<Value = (Model, BTreeSet<BeadId>)> {
    arb_dag(14)
        .prop_flat_map(|model| {
            let n = model.nodes.len();
            (Just(model), proptest::collection::vec(any::<bool>(), n))
        })
        .prop_map(|(model, mask)| {
            let completed = model
                .nodes
                .iter()
                .zip(mask)
                .filter(|(_, m)| *m)
                .map(|(id, _)| id.clone())
                .collect();
            (model, completed)
        })
}

fn respects_every_edge(model: &Model, order: &[BeadId]) -> bool {
    let position: BTreeMap<&BeadId, usize> =
        order.iter().enumerate().map(|(i, id)| (id, i)).collect();
    order.len() == model.nodes.len()
        && position.len() == model.nodes.len()
        && model
            .edges
            .iter()
            .all(|(from, to, _)| position[from] < position[to])
}

fn brute_ready(model: &Model, completed: &BTreeSet<BeadId>) -> BTreeSet<BeadId> {
    model
        .nodes
        .iter()
        .filter(|node| !completed.contains(*node))
        .filter(|node| {
            model
                .blocking_preds(node)
                .iter()
                .all(|p| completed.contains(*p))
        })
        .cloned()
        .collect()
}

/// Every chain over blocking edges, scored (weight, beads); the best score.
fn brute_critical(model: &Model, weights: &BTreeMap<BeadId, u64>) -> (u64, usize) {
    fn walk(
        model: &Model,
        weights: &BTreeMap<BeadId, u64>,
        node: &BeadId,
        score: (u64, usize),
        best: &mut (u64, usize),
    ) {
        let score = (
            score.0 + weights.get(node).copied().unwrap_or(0),
            score.1 + 1,
        );
        *best = (*best).max(score);
        for (from, to, kind) in &model.edges {
            if from == node && *kind == DependencyType::Blocking {
                walk(model, weights, to, score, best);
            }
        }
    }
    let mut best = (0, 0);
    for node in &model.nodes {
        walk(model, weights, node, (0, 0), &mut best);
    }
    best
}

/// Number of elementary cycles, by depth-first search from each start over
/// larger ids only (so each cycle is counted once, from its smallest node).
fn brute_cycle_count(model: &Model) -> usize {
    fn walk(model: &Model, start: &BeadId, node: &BeadId, path: &mut Vec<BeadId>) -> usize {
        let mut count = 0;
        for (from, to, _) in &model.edges {
            if from != node {
                continue;
            }
            if to == start {
                count += 1;
            } else if to > start && !path.contains(to) {
                path.push(to.clone());
                count += walk(model, start, to, path);
                path.pop();
            }
        }
        count
    }
    model
        .nodes
        .iter()
        .map(|s| walk(model, s, s, &mut vec![s.clone()]))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn given_random_dag_when_ordering_then_both_orders_respect_every_edge(model in arb_dag(16)) {
        let dag = model.build();
        prop_assert!(dag.validate().is_ok());
        prop_assert!(respects_every_edge(&model, &dag.topological_order().unwrap()));
        prop_assert!(respects_every_edge(&model, &dag.topological_order_kahn().unwrap()));
    }

    #[test]
    fn given_random_graph_when_listing_edges_then_sorted_as_the_model(model in arb_graph(10)) {
        let dag = model.build();
        let mut expected: Vec<(&BeadId, &BeadId, DependencyType)> =
            model.edges.iter().map(|(f, t, k)| (f, t, *k)).collect();
        expected.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        prop_assert_eq!(dag.edges(), expected);
    }

    #[test]
    fn given_random_dag_when_built_in_reverse_then_kahn_order_is_the_same(model in arb_dag(16)) {
        let forward = model.build();
        let mut nodes = model.nodes.clone();
        nodes.reverse();
        let mut edges = model.edges.clone();
        edges.reverse();
        let backward = build(&nodes, &edges);
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(forward.topological_order_kahn().unwrap(), backward.topological_order_kahn().unwrap());
    }

    #[test]
    fn given_random_dag_and_completed_set_when_asking_readiness_then_exactly_brute_force(
        (model, completed) in arb_dag_and_completed()
    ) {
        let dag = model.build();
        let expected = brute_ready(&model, &completed);
        prop_assert_eq!(dag.ready_nodes(&completed), expected.clone());
        let blocked: BTreeSet<BeadId> = model.nodes.iter()
            .filter(|n| !completed.contains(*n) && !expected.contains(*n)).cloned().collect();
        prop_assert_eq!(dag.blocked_nodes(&completed), blocked);
        for node in &model.nodes {
            prop_assert_eq!(dag.is_ready(node, &completed).unwrap(), expected.contains(node));
        }
    }

    #[test]
    fn given_random_graph_when_asking_ancestors_and_descendants_then_equal_to_bfs(model in arb_graph(10)) {
        let dag = model.build();
        for node in &model.nodes {
            prop_assert_eq!(dag.ancestors(node).unwrap(), model.reach(node, false));
            prop_assert_eq!(dag.descendants(node).unwrap(), model.reach(node, true));
        }
    }

    #[test]
    fn given_random_dag_when_completing_in_any_order_then_tracker_agrees_with_ready_nodes(
        ((model, initially), order) in arb_dag_and_completed().prop_flat_map(|(model, done)| {
            let nodes = model.nodes.clone();
            (Just((model, done)), Just(nodes).prop_shuffle())
        })
    ) {
        let dag = model.build();
        let mut tracker = ReadyTracker::new(&dag, &initially);
        let mut completed = initially.clone();
        prop_assert_eq!(tracker.ready().into_iter().collect::<BTreeSet<_>>(), dag.ready_nodes(&completed));
        for node in order.iter().filter(|n| !initially.contains(*n)) {
            let before = dag.ready_nodes(&completed);
            let newly = tracker.complete(node).unwrap();
            completed.insert(node.clone());
            let after = dag.ready_nodes(&completed);
            let expected_new: Vec<BeadId> = after.difference(&before).cloned().collect();
            prop_assert_eq!(newly, expected_new);
            prop_assert_eq!(tracker.ready().into_iter().collect::<BTreeSet<_>>(), after);
        }
        prop_assert!(tracker.is_finished());
    }

    #[test]
    fn given_small_random_dag_and_weights_when_computing_critical_path_then_equal_to_brute_force(
        (model, weights) in arb_dag(9).prop_flat_map(|model| {
            let n = model.nodes.len();
            (Just(model), proptest::collection::vec(proptest::option::weighted(0.8, 0u64..20), n))
        })
    ) {
        let weights: BTreeMap<BeadId, u64> = model.nodes.iter().zip(weights)
            .filter_map(|(id, w)| w.map(|w| (id.clone(), w))).collect();
        let path = model.build().critical_path(&weights).unwrap();
        let (best_weight, best_len) = brute_critical(&model, &weights);
        prop_assert_eq!(path.total_weight, best_weight);
        prop_assert_eq!(path.path.len(), best_len);
        let sum: u64 = path.path.iter().map(|id| weights.get(id).copied().unwrap_or(0)).sum();
        prop_assert_eq!(sum, path.total_weight);
        for pair in path.path.windows(2) {
            prop_assert!(model.edges.contains(&(pair[0].clone(), pair[1].clone(), DependencyType::Blocking)));
        }
    }

    #[test]
    fn given_random_graph_when_finding_cycles_then_only_real_cycles_each_once(model in arb_graph(7)) {
        let dag = model.build();
        let cycles = dag.find_cycles();
        prop_assert_eq!(!cycles.is_empty(), dag.has_cycle());
        prop_assert_eq!(cycles.len(), brute_cycle_count(&model));
        let distinct: BTreeSet<&Vec<BeadId>> = cycles.iter().collect();
        prop_assert_eq!(distinct.len(), cycles.len());
        for cycle in &cycles {
            let members: BTreeSet<&BeadId> = cycle.iter().collect();
            prop_assert_eq!(members.len(), cycle.len(), "a node repeats in {:?}", cycle);
            prop_assert_eq!(cycle.iter().min(), cycle.first());
            for (i, from) in cycle.iter().enumerate() {
                let to = &cycle[(i + 1) % cycle.len()];
                prop_assert!(model.has_edge(from, to), "{:?} -> {:?} is not an edge", from, to);
            }
        }
        match dag.validate() {
            Ok(()) => prop_assert!(cycles.is_empty()),
            Err(strand_dag::DagError::CycleDetected(cycle)) => prop_assert!(cycles.contains(&cycle)),
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn given_random_dag_when_round_tripping_through_serde_then_equal(model in arb_dag(16)) {
        let dag = model.build();
        let json: WorkflowDag = serde_json::from_str(&serde_json::to_string(&dag).unwrap()).unwrap();
        prop_assert_eq!(&json, &dag);
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&dag, config).unwrap();
        let (back, _): (WorkflowDag, usize) = bincode::serde::decode_from_slice(&bytes, config).unwrap();
        prop_assert_eq!(&back, &dag);
    }

    #[test]
    fn given_random_dag_when_laying_out_then_blocking_edges_go_down_and_positions_are_dense(model in arb_dag(16)) {
        let layout = model.build().layout();
        prop_assert_eq!(layout.len(), model.nodes.len());
        let at: BTreeMap<&BeadId, (usize, usize)> = layout.iter().map(|n| (&n.id, (n.layer, n.position))).collect();
        for (from, to, kind) in &model.edges {
            if *kind == DependencyType::Blocking {
                prop_assert!(at[from].0 < at[to].0);
            }
        }
        let mut per_layer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for node in &layout {
            per_layer.entry(node.layer).or_default().push(node.position);
        }
        for positions in per_layer.values() {
            prop_assert_eq!(positions.clone(), (0..positions.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn given_random_graph_when_adding_any_pair_then_refused_exactly_when_the_edge_exists(
        model in arb_graph(8)
    ) {
        for from in &model.nodes {
            for to in &model.nodes {
                let mut dag = model.build();
                let result = dag.add_edge(from, to, DependencyType::PreferredOrder);
                if from == to {
                    prop_assert_eq!(result, Err(strand_dag::DagError::SelfLoopDetected(from.clone())));
                } else if model.has_edge(from, to) {
                    prop_assert_eq!(result, Err(strand_dag::DagError::EdgeAlreadyExists(from.clone(), to.clone())));
                } else {
                    prop_assert_eq!(result, Ok(()));
                    prop_assert_eq!(dag.edge_count(), model.edges.len() + 1);
                }
            }
        }
    }

    #[test]
    fn given_random_graph_when_taking_upstream_then_node_plus_ancestors_with_their_edges(model in arb_graph(8)) {
        let dag = model.build();
        for node in &model.nodes {
            let up = dag.upstream(node).unwrap();
            let mut expected = model.reach(node, false);
            expected.insert(node.clone());
            prop_assert_eq!(up.nodes().cloned().collect::<BTreeSet<_>>(), expected.clone());
            let edges = model.edges.iter().filter(|(f, t, _)| expected.contains(f) && expected.contains(t)).count();
            prop_assert_eq!(up.edge_count(), edges);
        }
    }
}
