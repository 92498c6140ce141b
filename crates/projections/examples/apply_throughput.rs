//! How fast `StateManager::apply` folds a synthetic history, in ns/event.
//!
//! ```text
//! cargo run --release -p strand-projections --example apply_throughput [EVENTS] [ROUNDS] [SEED]
//! ```
//!
//! Generates about `EVENTS` (default 1,000,000) events of 10,000-bead
//! workflows and encodes them. Then, for `ROUNDS` rounds (default 5), times
//! decoding alone (streaming, each event dropped at once, as a raw reader
//! does), decode + apply into a fresh `StateManager` (what replay does after
//! reading a record), and apply alone over already decoded events. Each
//! figure is the best round; "apply in replay" is the difference of the first
//! two.

use std::error::Error;
use std::time::{Duration, Instant};

use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{DomainEvent, EventMeta, Projection, StateManager, apply_after, codec};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let target: usize = args.next().map_or(Ok(1_000_000), |arg| arg.parse())?;
    let rounds: u32 = args.next().map_or(Ok(5), |arg| arg.parse())?;
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
    drop(events);

    let (mut decode, mut decode_apply, mut apply) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut hash = None;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        for (kind, _, body) in &bodies {
            std::hint::black_box(codec::decode(*kind, body)?);
        }
        decode = decode.min(start.elapsed());

        // Every event with its meta, for the few folds that read a run's
        // earlier events (a retry of a failed run).
        let history = (1..)
            .zip(&bodies)
            .map(|(seq, (kind, at_ms, body))| {
                Ok((
                    EventMeta { seq, at_ms: *at_ms },
                    codec::decode(*kind, body)?,
                ))
            })
            .collect::<Result<Vec<_>, strand_projections::ProjectionError>>()?;
        let start = Instant::now();
        let mut state = StateManager::empty();
        for (at, (seq, (kind, at_ms, body))) in (1..).zip(&bodies).enumerate() {
            apply_after(
                &mut state,
                history.get(..at).unwrap_or_default(),
                EventMeta { seq, at_ms: *at_ms },
                codec::decode(*kind, body)?,
            )?;
        }
        decode_apply = decode_apply.min(start.elapsed());
        let round_hash = state.state_hash();
        if hash.is_some_and(|hash| hash != round_hash) {
            return Err("two rounds gave different states".into());
        }
        hash = Some(round_hash);
        drop(state);

        let decoded = bodies
            .iter()
            .map(|(kind, at_ms, body)| Ok((codec::decode(*kind, body)?, *at_ms)))
            .collect::<Result<Vec<_>, strand_projections::ProjectionError>>()?;
        let start = Instant::now();
        let mut state = StateManager::empty();
        for (at, (seq, (event, at_ms))) in (1..).zip(decoded).enumerate() {
            let earlier = history.get(..at).unwrap_or_default();
            apply_after(&mut state, earlier, EventMeta { seq, at_ms }, event)?;
        }
        apply = apply.min(start.elapsed());
    }

    let bytes: usize = bodies.iter().map(|(_, _, body)| body.len()).sum();
    println!(
        "{count} events ({bytes} bytes encoded), {} workflows of {} beads, best of {rounds} rounds",
        params.workflows, params.beads_per_workflow
    );
    for (what, took) in [
        ("generate", generate),
        ("encode", encode),
        ("decode", decode),
        ("decode + apply", decode_apply),
        ("apply alone", apply),
    ] {
        println!(
            "{what:>16}: {:>7.1} ns/event ({took:.2?})",
            per_event_ns(took, count)
        );
    }
    println!(
        "{:>16}: {:>7.1} ns/event (decode + apply, minus decode)",
        "apply in replay",
        per_event_ns(decode_apply.saturating_sub(decode), count)
    );
    if let Some(hash) = hash {
        println!("{:>16}: {hash}", "state hash");
    }
    Ok(())
}

/// Nanoseconds per event.
fn per_event_ns(took: Duration, events: usize) -> f64 {
    took.as_secs_f64() * 1e9 / f64::from(u32::try_from(events.max(1)).unwrap_or(u32::MAX))
}
