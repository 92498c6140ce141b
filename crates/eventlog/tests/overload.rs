//! Overload: ten times as many producers as it takes to keep the log's
//! queue full (one per queue slot), each appending as fast as it is
//! acknowledged. Producers see backpressure — they wait to enqueue, the
//! queue stays at its bound — memory stays bounded, and nothing
//! acknowledged is lost.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "test harness: a failure is the test failing; figures are approximate"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use strand_eventlog::{EventLog, LogOptions, NewEvent, Seq};

/// A small queue, so that a test's worth of threads overloads it.
const QUEUE: usize = 16;

fn body(producer: usize, n: u64) -> Vec<u8> {
    format!("p{producer}-n{n}-{}", "x".repeat(64)).into_bytes()
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 4096
}

struct Run {
    acked: Vec<(u64, usize, u64)>,
    events_per_sec: f64,
    p99_ack: Duration,
    max_queued: usize,
}

/// `producers` threads append `each` events, one at a time, each waiting
/// for its acknowledgement. Around every append a producer notes the
/// queue's depth: the samples come with the load, not from a clock.
fn run(log: &EventLog, producers: usize, each: u64) -> Run {
    let max_queued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..producers)
        .map(|p| {
            let (log, max_queued) = (log.clone(), max_queued.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut latencies = Vec::new();
                for n in 0..each {
                    max_queued.fetch_max(log.queued(), Ordering::Relaxed);
                    let sent = Instant::now();
                    let range = log
                        .append_blocking(vec![NewEvent::new(format!("p{p}"), 1, body(p, n))])
                        .unwrap();
                    latencies.push(sent.elapsed());
                    max_queued.fetch_max(log.queued(), Ordering::Relaxed);
                    acked.push((range.first.get(), p, n));
                }
                (acked, latencies)
            })
        })
        .collect();
    let mut acked = Vec::new();
    let mut latencies = Vec::new();
    for t in threads {
        let (a, l) = t.join().unwrap();
        acked.extend(a);
        latencies.extend(l);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Run {
        events_per_sec: acked.len() as f64 / elapsed.as_secs_f64(),
        p99_ack: latencies
            .get(latencies.len() * 99 / 100)
            .copied()
            .unwrap_or_default(),
        max_queued: max_queued.load(Ordering::Relaxed),
        acked,
    }
}

#[test]
fn given_ten_times_the_producers_that_saturate_the_log_when_appending_then_backpressure_bounded_memory_and_nothing_lost()
 {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default().queue_capacity(QUEUE)).unwrap();
    let one = run(&log, 1, 1_000);
    let saturating = run(&log, QUEUE, 1_000);
    let rss_before = resident_bytes() - log.memtable_bytes().unwrap_or(0);
    let overload = run(&log, 10 * QUEUE, 400);
    let rss_after = resident_bytes() - log.memtable_bytes().unwrap_or(0);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "overload: one producer (the disk's sync rate) {:.0} events/s (p99 ack {:?}); {QUEUE} \
         producers {:.0} events/s (p99 {:?}, max queued {}); {} producers {:.0} events/s \
         (p99 {:?}, max queued {} of {QUEUE}); resident less memtable {:.1} -> {:.1} MiB",
        one.events_per_sec,
        one.p99_ack,
        saturating.events_per_sec,
        saturating.p99_ack,
        saturating.max_queued,
        10 * QUEUE,
        overload.events_per_sec,
        overload.p99_ack,
        overload.max_queued,
        mib(rss_before),
        mib(rss_after),
    );
    // Bounded: the queue never holds more than its capacity, and memory
    // does not grow with the offered load.
    assert!(overload.max_queued <= QUEUE);
    assert_eq!(
        overload.max_queued, QUEUE,
        "the overload never filled the queue"
    );
    assert!(
        rss_after < rss_before + 64 * 1024 * 1024,
        "memory grew with the offered load"
    );

    // Nothing acknowledged is lost: reopen and read each one back.
    let mut all: Vec<_> = [one.acked, saturating.acked, overload.acked].concat();
    all.sort_unstable();
    log.close_blocking().unwrap();
    drop(log);
    let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(
        log.last_seq(),
        Seq(all.len() as u64),
        "every seq acknowledged once"
    );
    let mut read = log.read_range(Seq::FIRST, log.last_seq()).unwrap();
    for (seq, p, n) in &all {
        let event = read.next().unwrap().unwrap();
        assert_eq!(event.seq, Seq(*seq));
        assert_eq!(event.body, body(*p, *n));
    }
}
