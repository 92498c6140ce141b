//! The soak of `strand bench soak`, short: an engine that keeps starting
//! runs (each a 10-bead chain with 1 KiB outputs). A finished run leaves
//! only its summary in memory (a few hundred bytes, in the state manager
//! and the scheduler), not its beads, attempts and outputs (about 12 KiB
//! here): what the engine holds grows by a summary per finished run.
//! With retention the summaries leave too (`strand bench soak --retention`).

use strand::bench::soak::{SoakArgs, soak};

/// The most the engine may grow per finished run: a summary in two copies
/// with their map entries, with room for the allocator's noise; a run kept
/// whole (10 beads, 10 KiB of outputs) is several times this.
const MAX_BYTES_PER_FINISHED_RUN: f64 = 4096.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_runs_started_steadily_when_many_have_finished_then_the_engine_grows_by_a_summary_per_run_at_most()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let args = SoakArgs {
        rate: 50,
        beads: 10,
        output_bytes: 1024,
        seconds: 40,
        warmup_seconds: 10,
        workers: 16,
        tmp: None,
        retention: None,
    };
    let report = soak(&args, dir.path().join("soak")).await?;
    assert_eq!(
        report.completed, report.started,
        "every run completes: {report:?}"
    );
    let finished = |at: u64| {
        report
            .samples
            .iter()
            .find(|s| s.at_s >= at)
            .map_or(0, |s| s.finished_runs)
    };
    let runs = report
        .completed
        .saturating_sub(finished(args.warmup_seconds));
    assert!(runs >= 1000, "{runs} runs finished in the judged window");
    let per_run = report
        .bytes_per_finished_run()
        .ok_or("no memory sample after the warm-up")?;
    assert!(
        per_run <= MAX_BYTES_PER_FINISHED_RUN,
        "the engine grew {per_run:.0} bytes per finished run; samples: {:?}",
        report.samples
    );
    Ok(())
}
