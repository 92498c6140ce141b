//! `strand bench dag`: the workflow DAG at scale. A seeded random DAG of
//! `--nodes` beads with about `--edges-per-node` blocking dependencies each
//! is built, ordered both ways, and run to completion through a
//! `ReadyTracker` (pop a ready bead, complete it, queue what became ready).
//!
//! Baselines measured in the same run:
//! - `raw_kahn_ms`: the same completion run as bare Kahn over `Vec<Vec<u32>>`
//!   adjacency with integer ids, the least work that answers "what became
//!   ready"; `ratio_tracker_run_vs_raw_kahn` is the tracker's overhead
//!   (string ids, lookups, returned vectors);
//! - `ready_nodes_rescan_ms`: one full `ready_nodes` rescan; times `nodes`
//!   it is what recomputing readiness after every completion would cost
//!   (`rescan_run_estimate_ms`), the reason the tracker exists.
//!
//! The generator is a splitmix64 stream, so a seed always yields the same graph.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use strand_dag::{BeadId, DependencyType, ReadyTracker, WorkflowDag};

use crate::cli::{CliError, Context, Status};

/// `strand bench dag` arguments.
#[derive(Debug, Args)]
pub struct DagBenchArgs {
    /// Beads in the random DAG.
    #[arg(long, default_value_t = 100_000)]
    pub nodes: usize,
    /// Dependencies drawn per bead (duplicates are dropped, and the first
    /// beads have fewer candidates, so the mean is slightly lower).
    #[arg(long, default_value_t = 4)]
    pub edges_per_node: usize,
    /// Seed of the graph generator.
    #[arg(long, default_value_t = 0x5EED_DA6)]
    pub seed: u64,
}

/// splitmix64: tiny, fast, and good enough to draw a test graph.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        let bound = u64::try_from(bound).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next() % bound).unwrap_or(0)
    }
}

/// The random graph as plain data: names, and edges as (dependency, dependent)
/// positions in creation order (always forward, so acyclic).
struct Generated {
    names: Vec<BeadId>,
    edges: Vec<(usize, usize)>,
}

fn generate(args: &DagBenchArgs) -> Generated {
    let mut rng = SplitMix(args.seed);
    // Names are a shuffle of the creation order, so id order (which Kahn
    // and the tracker's lookups use) and dependency order disagree.
    let mut labels: Vec<usize> = (0..args.nodes).collect();
    for i in (1..labels.len()).rev() {
        let j = rng.below(i + 1);
        labels.swap(i, j);
    }
    let names = labels
        .iter()
        .map(|l| BeadId::from(format!("bead-{l:07}")))
        .collect();
    let mut edges = Vec::with_capacity(args.nodes * args.edges_per_node);
    let mut picked = BTreeSet::new();
    for node in 1..args.nodes {
        picked.clear();
        for _ in 0..args.edges_per_node.min(node) {
            let dependency = rng.below(node);
            if picked.insert(dependency) {
                edges.push((dependency, node));
            }
        }
    }
    Generated { names, edges }
}

fn build(generated: &Generated) -> Result<WorkflowDag, CliError> {
    let mut dag = WorkflowDag::new();
    let graph_error = |e: strand_dag::DagError| CliError::Usage {
        name: "--seed",
        reason: format!("generated graph refused: {e}"),
    };
    for name in &generated.names {
        dag.add_node(name.clone()).map_err(graph_error)?;
    }
    for &(from, to) in &generated.edges {
        if let (Some(from), Some(to)) = (generated.names.get(from), generated.names.get(to)) {
            dag.add_edge(from, to, DependencyType::Blocking)
                .map_err(graph_error)?;
        }
    }
    Ok(dag)
}

/// A full tracker run; returns the number of completions.
fn tracker_run(tracker: &mut ReadyTracker) -> Result<usize, CliError> {
    let mut ready = tracker.ready();
    let mut completions = 0;
    while let Some(bead) = ready.pop() {
        let newly_ready = tracker.complete(&bead).map_err(|e| CliError::Usage {
            name: "--seed",
            reason: format!("tracker refused a completion: {e}"),
        })?;
        ready.extend(newly_ready);
        completions += 1;
    }
    Ok(completions)
}

/// The baseline: the same run as bare Kahn over integer adjacency lists.
fn raw_kahn_run(nodes: usize, edges: &[(usize, usize)]) -> usize {
    let mut successors: Vec<Vec<u32>> = vec![Vec::new(); nodes];
    let mut waiting: Vec<u32> = vec![0; nodes];
    for &(from, to) in edges {
        if let (Some(list), Ok(to32)) = (successors.get_mut(from), u32::try_from(to)) {
            list.push(to32);
        }
        if let Some(w) = waiting.get_mut(to) {
            *w += 1;
        }
    }
    let mut ready: Vec<u32> = (0..nodes)
        .filter(|&i| waiting.get(i) == Some(&0))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let mut completions = 0;
    while let Some(node) = ready.pop() {
        completions += 1;
        for &next in successors.get(node as usize).map_or(&[][..], Vec::as_slice) {
            if let Some(w) = waiting.get_mut(next as usize) {
                *w -= 1;
                if *w == 0 {
                    ready.push(next);
                }
            }
        }
    }
    completions
}

/// Milliseconds with microsecond resolution.
fn ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Times one call.
fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = work();
    (out, ms(start.elapsed()))
}

/// Run the bench.
///
/// # Errors
/// [`CliError::Usage`] for a zero `--nodes`; output errors.
pub fn run(args: &DagBenchArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.nodes == 0 || args.nodes > u32::MAX as usize {
        return Err(CliError::Usage {
            name: "--nodes",
            reason: format!("must be between 1 and {}", u32::MAX),
        });
    }
    let (generated, generate_ms) = timed(|| generate(args));
    let (dag, build_ms) = timed(|| build(&generated));
    let dag = dag?;
    let (petgraph_order, topological_order_ms) = timed(|| dag.topological_order());
    let (kahn_order, topological_order_kahn_ms) = timed(|| dag.topological_order_kahn());
    let orders_ok = petgraph_order.is_ok_and(|o| o.len() == args.nodes)
        && kahn_order.is_ok_and(|o| o.len() == args.nodes);
    let none_completed = BTreeSet::new();
    let (mut tracker, tracker_build_ms) = timed(|| ReadyTracker::new(&dag, &none_completed));
    let (completions, tracker_run_ms) = timed(|| tracker_run(&mut tracker));
    let completions = completions?;
    let (raw_completions, raw_kahn_ms) = timed(|| raw_kahn_run(args.nodes, &generated.edges));
    let (rescan, ready_nodes_rescan_ms) = timed(|| dag.ready_nodes(&none_completed));
    #[expect(clippy::cast_precision_loss, reason = "an estimate for reporting")]
    let rescan_run_estimate_ms = (ready_nodes_rescan_ms * args.nodes as f64).round();
    let ratio = if raw_kahn_ms > 0.0 {
        (tracker_run_ms / raw_kahn_ms * 100.0).round() / 100.0
    } else {
        0.0
    };
    let finished =
        tracker.is_finished() && completions == args.nodes && raw_completions == args.nodes;
    let doc = json!({
        "bench": "dag",
        "nodes": dag.node_count(),
        "edges": dag.edge_count(),
        "seed": args.seed,
        "generate_ms": generate_ms,
        "build_ms": build_ms,
        "topological_order_ms": topological_order_ms,
        "topological_order_kahn_ms": topological_order_kahn_ms,
        "tracker_build_ms": tracker_build_ms,
        "tracker_run_ms": tracker_run_ms,
        "tracker_completions": completions,
        "initially_ready": rescan.len(),
        "raw_kahn_ms": raw_kahn_ms,
        "ratio_tracker_run_vs_raw_kahn": ratio,
        "ready_nodes_rescan_ms": ready_nodes_rescan_ms,
        "rescan_run_estimate_ms": rescan_run_estimate_ms,
        "ok": finished && orders_ok,
    });
    let text = format!(
        "random DAG: {} beads, {} blocking edges (seed {:#x})\n\
         build                       {build_ms:>10.3} ms\n\
         topological order (petgraph){topological_order_ms:>10.3} ms\n\
         topological order (Kahn)    {topological_order_kahn_ms:>10.3} ms\n\
         ReadyTracker build          {tracker_build_ms:>10.3} ms\n\
         ReadyTracker run            {tracker_run_ms:>10.3} ms  ({completions} completions)\n\
         raw Kahn run (baseline)     {raw_kahn_ms:>10.3} ms  (tracker/raw: {ratio:.2})\n\
         one ready_nodes rescan      {ready_nodes_rescan_ms:>10.3} ms  (x {} completions ~ {rescan_run_estimate_ms:.0} ms)",
        dag.node_count(),
        dag.edge_count(),
        args.seed,
        args.nodes,
    );
    ctx.emit(&doc, &text)?;
    Ok(if finished && orders_ok {
        Status::Ok
    } else {
        Status::Problem
    })
}
