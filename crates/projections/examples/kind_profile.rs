//! Temporary: apply time per event kind.
use std::collections::BTreeMap;
use std::error::Error;
use std::time::Instant;

use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{DomainEvent, EventMeta, Projection, StateManager, codec};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let beads: usize = args.next().map_or(10_000, |a| a.parse().unwrap());
    let conc: usize = args.next().map_or(4, |a| a.parse().unwrap());
    let mut params = HistoryParams::with_target_events(1_000_000);
    params.beads_per_workflow = beads;
    params.concurrent_workflows = conc;
    params.workflows = 1_000_000 / (beads * 4 + 2);
    let events: Vec<(DomainEvent, u64)> = history(7, &params).collect();
    let bodies: Vec<_> = events.iter().map(|(e, _)| (e.kind().as_u16(), codec::encode(e).unwrap())).collect();
    let mut per: BTreeMap<&str, (u64, u128, u128)> = BTreeMap::new();
    for (kind, body) in &bodies {
        let t = Instant::now();
        let e = codec::decode(*kind, body)?;
        let d = t.elapsed().as_nanos();
        drop(e);
        let entry = per.entry(strand_projections::EventKind::from_u16(*kind).unwrap().name()).or_default();
        entry.0 += 1;
        entry.2 += d;
    }
    let mut state = StateManager::empty();
    for (seq, (event, at_ms)) in (1..).zip(events) {
        let name = event.kind().name();
        let t = Instant::now();
        state.apply(EventMeta { seq, at_ms }, event)?;
        let d = t.elapsed().as_nanos();
        per.entry(name).or_default().1 += d;
    }
    for (name, (n, apply, decode)) in per {
        println!("{name:>28} n={n:>8} apply={:>10.1}ns decode={:>10.1}ns total_apply={:.1}ms total_decode={:.1}ms", apply as f64 / n as f64, decode as f64 / n as f64, apply as f64/1e6, decode as f64/1e6);
    }
    Ok(())
}
