//! How fast `StateManager::apply` folds a synthetic history, in ns/event.
//!
//! ```text
//! cargo run --release -p strand-projections --example apply_throughput [EVENTS] [SEED]
//! ```
//!
//! Generates about `EVENTS` (default 1,000,000) events of 10,000-bead
//! workflows, then times, separately: generation, encoding, decoding, apply
//! of already decoded events, and decode + apply (what replay does after
//! reading a record).

use std::error::Error;
use std::time::{Duration, Instant};

use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{DomainEvent, EventMeta, Projection, StateManager, codec};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let target: usize = args.next().map_or(Ok(1_000_000), |arg| arg.parse())?;
    let seed: u64 = args.next().map_or(Ok(7), |arg| arg.parse())?;
    let params = HistoryParams::with_target_events(target);

    let start = Instant::now();
    let events: Vec<(DomainEvent, u64)> = history(seed, &params).collect();
    let generate = start.elapsed();
    let count = events.len();

    let start = Instant::now();
    let mut bodies = Vec::with_capacity(count);
    for (event, at_ms) in &events {
        bodies.push((event.kind().as_u16(), *at_ms, codec::encode(event)?));
    }
    let encode = start.elapsed();

    let start = Instant::now();
    let mut decoded = Vec::with_capacity(count);
    for (kind, at_ms, body) in &bodies {
        decoded.push((codec::decode(*kind, body)?, *at_ms));
    }
    let decode = start.elapsed();
    drop(decoded);

    let start = Instant::now();
    let mut state = StateManager::empty();
    for (seq, (event, at_ms)) in (1..).zip(events) {
        state.apply(EventMeta { seq, at_ms }, event)?;
    }
    let apply = start.elapsed();
    let hash = state.state_hash();

    let start = Instant::now();
    let mut again = StateManager::empty();
    for (seq, (kind, at_ms, body)) in (1..).zip(&bodies) {
        again.apply(
            EventMeta { seq, at_ms: *at_ms },
            codec::decode(*kind, body)?,
        )?;
    }
    let decode_apply = start.elapsed();
    if again.state_hash() != hash {
        return Err("decode + apply gave another state".into());
    }

    let start = Instant::now();
    let snapshot = state.snapshot()?;
    let snapshot_time = start.elapsed();
    let start = Instant::now();
    let restored = StateManager::restore(&snapshot)?;
    let restore_time = start.elapsed();
    if restored.state_hash() != hash {
        return Err("restore gave another state".into());
    }

    println!(
        "{count} events, {} workflows of {} beads, state hash {hash}",
        params.workflows, params.beads_per_workflow
    );
    for (what, took) in [
        ("generate", generate),
        ("encode", encode),
        ("decode", decode),
        ("apply", apply),
        ("decode + apply", decode_apply),
    ] {
        println!(
            "{what:>16}: {:>7.1} ns/event ({took:.2?})",
            per_event_ns(took, count)
        );
    }
    println!(
        "{:>16}: {} bytes in {snapshot_time:.2?}, restored in {restore_time:.2?}",
        "snapshot",
        snapshot.len()
    );
    Ok(())
}

/// Nanoseconds per event.
fn per_event_ns(took: Duration, events: usize) -> f64 {
    took.as_secs_f64() * 1e9 / f64::from(u32::try_from(events.max(1)).unwrap_or(u32::MAX))
}
