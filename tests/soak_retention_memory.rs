//! The soak of `strand bench soak --retention`, short: an engine that
//! keeps starting runs (each a 10-bead chain with 1 KiB outputs), with a
//! 3-second retention and the log trimmed as often. After the warm-up the
//! engine's heap, less RocksDB's memtables and block cache, does not grow
//! with the runs that finish: finished runs leave both copies of the state,
//! and nothing else keeps a trace of them.
//!
//! The figure judged is the heap the allocator has handed out, not the
//! resident memory the bench also reports. In a soak this short, resident
//! memory cannot tell a leak from noise: RocksDB counts a memtable's arena
//! blocks when they are allocated, before their pages are resident, so
//! resident memory less the memtables swings by a block at a time, and the
//! soak *without* retention, which keeps a summary of every finished run
//! (some 1.3 KB of heap each), stays within ±10 % of its median for a
//! minute. The heap's growth per finished run, the slope of a line through
//! every sample, tells them apart: about 1,300 bytes without retention,
//! noise around a few hundred with it (`docs/retention.md`).
//!
//! Its own test binary: the figures are the whole process's.

use std::time::Duration;

use strand::bench::soak::{SoakArgs, soak};

/// The most the heap may grow per finished run after the warm-up: half
/// what a summary kept per run costs.
const MAX_HEAP_BYTES_PER_RUN: f64 = 640.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_retention_when_runs_keep_finishing_then_the_engine_heap_does_not_grow_with_them()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let args = SoakArgs {
        rate: 50,
        beads: 10,
        output_bytes: 1024,
        seconds: 100,
        // The first trims, expiries and compactions are behind it.
        warmup_seconds: 40,
        workers: 16,
        tmp: None,
        retention: Some(Duration::from_secs(3)),
    };
    let report = soak(&args, dir.path().join("soak")).await?;
    assert_eq!(
        report.completed, report.started,
        "every run completes: {report:?}"
    );
    let judged: Vec<_> = report
        .samples
        .iter()
        .filter(|s| s.at_s >= args.warmup_seconds)
        .collect();
    let runs = judged
        .last()
        .zip(judged.first())
        .map_or(0, |(last, first)| last.finished_runs - first.finished_runs);
    assert!(runs >= 2000, "{runs} runs finished in the judged window");
    let per_run = report
        .heap_bytes_per_finished_run()
        .ok_or("too few samples after the warm-up")?;
    assert!(
        per_run <= MAX_HEAP_BYTES_PER_RUN,
        "the heap grew {per_run:.0} bytes per finished run; samples: {:?}",
        report.samples
    );
    Ok(())
}
