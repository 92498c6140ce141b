//! The log's crash test, after RocksDB's `db_crashtest`: a child process
//! appends events from many producer threads while a checkpointer snapshots
//! the StateManager, and records every acknowledged seq and payload in a side
//! file the moment the acknowledgement arrives. The parent SIGKILLs it, at a
//! random moment or while the writer is held right before a synced write,
//! right after one, or on either side of a checkpoint write or of a bulk
//! stream-index write (the child writes its index out every
//! [`INDEX_FLUSH_EVENTS`] events, so every cycle crosses several); then
//! reopens the log and checks:
//!
//! - acknowledged ⊆ recovered, each acknowledged payload byte for byte;
//! - recovered is the gap-free range `first..=last` with no event twice;
//! - `verify` passes;
//! - the StateManager from checkpoint + tail equals a full replay (from
//!   the base, once trimmed).
//!
//! A trimmer thread trims the log as far as its index is written out,
//! archiving first, while the producers append; the parent also kills the
//! child with the archive synced and nothing removed, and with the trim's
//! unit (base, base checkpoint, removal) synced. Acknowledged records a
//! trim removed must be in the archive: its segments then the log's
//! export import as one log from seq 1 that verifies.
//!
//! The next cycle appends to the same log, so damage would compound.
//! `make test` runs a short version; a long one is
//! `STRAND_CRASH_CYCLES=2000 cargo test --release --test crash_append`.
//!
//! This is a `harness = false` test: the binary re-executes itself as the
//! child (`STRAND_CRASH_CHILD` set), so no helper binary ships with strand.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test harness: a failure is the test failing"
)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::Rng;
use strand::eventlog::failpoint::{FailPoint, FailPoints};
use strand::eventlog::{EventLog, LogOptions, NewEvent, Seq, list_segments};
use strand::projections::{DomainEvent, StateManager, WorkerId, codec};
use strand::replay::{ReplayEngine, Start, StateHold, TrimBounds};

const PRODUCERS: u64 = 6;
const SHORT_CYCLES: u64 = 25;
/// A long run starts a fresh log every so many cycles, so a check's full
/// replay stays short.
const CYCLES_PER_LOG: u64 = 25;
const CHILD_ENV: &str = "STRAND_CRASH_CHILD";
/// The child's `LogOptions::index_flush_events`: small, so that index
/// writes happen every few batches and a kill can land on either side.
const INDEX_FLUSH_EVENTS: usize = 64;

/// Where the child archives what it trims: beside its log.
fn archive_of(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".archive");
    PathBuf::from(name)
}

/// How a cycle's child dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kill {
    /// SIGKILL after a random delay, wherever the child is.
    Random,
    /// SIGKILL while the writer is held at a fail point.
    HeldAt(FailPoint),
}

impl Kill {
    const ALL: [Kill; 11] = [
        Kill::Random,
        Kill::HeldAt(FailPoint::AppendBeforeWrite),
        Kill::HeldAt(FailPoint::AppendAfterWrite),
        Kill::HeldAt(FailPoint::SyncBeforeSync),
        Kill::HeldAt(FailPoint::SyncAfterSync),
        Kill::HeldAt(FailPoint::CheckpointBeforeWrite),
        Kill::HeldAt(FailPoint::CheckpointAfterWrite),
        Kill::HeldAt(FailPoint::IndexBeforeWrite),
        Kill::HeldAt(FailPoint::IndexAfterWrite),
        Kill::HeldAt(FailPoint::TrimBeforeWrite),
        Kill::HeldAt(FailPoint::TrimAfterWrite),
    ];

    fn name(self) -> &'static str {
        match self {
            Kill::Random => "random",
            Kill::HeldAt(FailPoint::AppendBeforeWrite) => "before-batch-write",
            Kill::HeldAt(FailPoint::AppendAfterWrite) => "after-batch-write",
            Kill::HeldAt(FailPoint::SyncBeforeSync) => "before-log-sync",
            Kill::HeldAt(FailPoint::SyncAfterSync) => "after-log-sync",
            Kill::HeldAt(FailPoint::CheckpointBeforeWrite) => "before-checkpoint-write",
            Kill::HeldAt(FailPoint::CheckpointAfterWrite) => "after-checkpoint-write",
            Kill::HeldAt(FailPoint::IndexBeforeWrite) => "before-index-write",
            Kill::HeldAt(FailPoint::IndexAfterWrite) => "after-index-write",
            // The archive segment is synced, nothing is removed yet.
            Kill::HeldAt(FailPoint::TrimBeforeWrite) => "archived-before-trim-write",
            // The base checkpoint and the removal are synced.
            Kill::HeldAt(FailPoint::TrimAfterWrite) => "after-trim-write",
            Kill::HeldAt(_) => "unknown-fail-point",
        }
    }

    fn from_name(name: &str) -> Kill {
        Kill::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .expect("a known kill mode")
    }
}

/// The event a producer appends: unique by worker id, with a payload whose
/// length varies so records straddle block boundaries differently.
fn event(cycle: u64, producer: u64, n: u64, i: u64) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(format!("c{cycle}-p{producer}-{n}-{i}")),
        labels: vec!["x".repeat(usize::try_from((n * 37 + i * 11) % 300).unwrap())],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        write!(s, "{b:02x}").unwrap();
        s
    })
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    given_a_producer_process_killed_at_random_and_at_write_boundaries_when_reopened_then_every_acknowledged_event_is_recovered_intact();
}

// ---------------------------------------------------------------- child ---

/// The child: `spec` is `dir|side file|cycle|kill mode|delay ms`.
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let [dir, side, cycle, kill, delay] = parts.as_slice() else {
        panic!("bad child spec {spec}");
    };
    let cycle: u64 = cycle.parse().unwrap();
    let kill = Kill::from_name(kill);
    let points = FailPoints::new();
    let options = LogOptions::default()
        .index_flush_events(INDEX_FLUSH_EVENTS)
        .failpoints(points.clone());
    let log = EventLog::open(dir, options).unwrap();
    let side = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(side)
        .unwrap();

    for producer in 0..PRODUCERS {
        let (log, mut side) = (log.clone(), side.try_clone().unwrap());
        std::thread::spawn(move || {
            for n in 0.. {
                let events: Vec<DomainEvent> =
                    (0..=n % 3).map(|i| event(cycle, producer, n, i)).collect();
                let bodies: Vec<Vec<u8>> =
                    events.iter().map(|e| codec::encode(e).unwrap()).collect();
                let batch = events
                    .iter()
                    .zip(&bodies)
                    .map(|(e, b)| NewEvent::new(e.stream(), e.kind().as_u16(), b.clone()))
                    .collect();
                let range = log.append_blocking(batch).unwrap();
                // One write(2) per acknowledgement, O_APPEND: lines of
                // different producers never interleave, and a line is only
                // counted if its end marker made it.
                let mut lines = String::new();
                for (seq, body) in (range.first.get()..).zip(&bodies) {
                    writeln!(lines, "{seq} {} .", hex(body)).unwrap();
                }
                side.write_all(lines.as_bytes()).unwrap();
            }
        });
    }

    let checkpointer = log.clone();
    std::thread::spawn(move || {
        let engine = ReplayEngine::new(checkpointer);
        loop {
            // A trim may remove what a rebuild was about to read: it is
            // then simply tried again.
            if let Ok(replayed) = engine.rebuild::<StateManager>(&mut |_| {}) {
                engine.checkpoint(&replayed.projection).unwrap();
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    });

    // Trims the log as far as its index is written out, archiving first,
    // while the producers append.
    let (trimmer, archive) = (log.clone(), archive_of(Path::new(dir)));
    std::thread::spawn(move || {
        let engine = ReplayEngine::new(trimmer.clone());
        let bounds = TrimBounds {
            before: None,
            not_after_ms: u64::MAX,
        };
        // The producers' records belong to no run: no state holds any.
        let hold = StateHold {
            from: Seq(u64::MAX),
            run: None,
        };
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let Ok(plan) = engine.plan_trim(&hold, bounds) else {
                continue;
            };
            if plan.records() > 0 {
                let request = plan.request(Some(archive.clone())).unwrap();
                trimmer.trim(&request, &mut |_, _| {}).unwrap();
            }
        }
    });

    std::thread::sleep(Duration::from_millis(delay.parse().unwrap()));
    if let Kill::HeldAt(point) = kill {
        points.pause(point);
        points.wait_until_paused(point);
        // Tell the parent the writer is held at the point: kill me now.
        let mut out = std::io::stdout();
        writeln!(out, "held").unwrap();
        out.flush().unwrap();
    }
    loop {
        std::thread::park();
    }
}

// --------------------------------------------------------------- parent ---

#[derive(Debug, Default)]
struct Figures {
    cycles: u64,
    kills: HashMap<&'static str, u64>,
    acknowledged: u64,
    recovered: u64,
    /// This log's counts so far (the totals add up finished logs).
    acknowledged_now: u64,
    recovered_now: u64,
    lost: u64,
    duplicated: u64,
    from_checkpoint: u64,
    full_replays: u64,
    killed_in_creation: u64,
    /// Checks of a trimmed log, and acknowledged records found archived.
    trimmed_logs: u64,
    archived: u64,
}

fn given_a_producer_process_killed_at_random_and_at_write_boundaries_when_reopened_then_every_acknowledged_event_is_recovered_intact()
 {
    let cycles: u64 = std::env::var("STRAND_CRASH_CYCLES")
        .ok()
        .map_or(SHORT_CYCLES, |c| c.parse().expect("STRAND_CRASH_CYCLES"));
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x00C0_FFEE_5EED);
    let mut figures = Figures::default();
    let started = Instant::now();

    for cycle in 0..cycles {
        let generation = cycle / CYCLES_PER_LOG;
        let dir = tmp.path().join(format!("log-{generation}"));
        let side = tmp.path().join(format!("acknowledged-{generation}"));
        if cycle % CYCLES_PER_LOG == 0 && generation > 0 {
            let old = tmp.path().join(format!("log-{}", generation - 1));
            std::fs::remove_dir_all(&old).unwrap();
            let _ = std::fs::remove_dir_all(archive_of(&old));
        }
        let kill = Kill::ALL[usize::try_from(cycle).unwrap() % Kill::ALL.len()];
        let delay = 10 + rng.below(90);
        kill_one_child(&dir, &side, cycle, kill, delay);
        *figures.kills.entry(kill.name()).or_default() += 1;
        figures.cycles += 1;
        check(&dir, &side, &mut figures);
        if (cycle + 1) % CYCLES_PER_LOG == 0 || cycle + 1 == cycles {
            figures.acknowledged += figures.acknowledged_now;
            figures.recovered += figures.recovered_now;
        }
    }

    println!(
        "crash append: {} cycles in {:.1} s, kills {:?}; acknowledged={} recovered={} \
         (of which unacknowledged={}) lost={} duplicated={}; rebuilds from checkpoint={} full={}; \
         killed while creating the log={}; trimmed logs checked={} acknowledged records archived={}",
        figures.cycles,
        started.elapsed().as_secs_f64(),
        figures.kills,
        figures.acknowledged,
        figures.recovered,
        figures.recovered - figures.acknowledged,
        figures.lost,
        figures.duplicated,
        figures.from_checkpoint,
        figures.full_replays,
        figures.killed_in_creation,
        figures.trimmed_logs,
        figures.archived,
    );
    assert_eq!(figures.lost, 0);
    assert_eq!(figures.duplicated, 0);
    assert!(
        figures.acknowledged > 0,
        "the children acknowledged nothing"
    );
    assert!(figures.from_checkpoint > 0, "no rebuild used a checkpoint");
    assert!(figures.trimmed_logs > 0, "no check met a trimmed log");
}

/// Run one child and SIGKILL it as `kill` says.
fn kill_one_child(dir: &Path, side: &Path, cycle: u64, kill: Kill, delay: u64) {
    let spec = format!(
        "{}|{}|{cycle}|{}|{delay}",
        dir.display(),
        side.display(),
        kill.name()
    );
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, spec)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    match kill {
        Kill::Random => std::thread::sleep(Duration::from_millis(delay)),
        Kill::HeldAt(_) => {
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            let line = rx.recv_timeout(Duration::from_secs(60));
            assert!(
                matches!(line.as_deref(), Ok("held\n")),
                "cycle {cycle}: the child never reached {}: {line:?}",
                kill.name()
            );
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "cycle {cycle}: the child exited on its own"
    );
    // The fault: SIGKILL, no destructor, no flush, no close.
    child.kill().unwrap();
    child.wait().unwrap();
}

/// What a trim removed is in the archive: the segments up to the log's
/// base, then the log's export, import as one log from seq 1 that
/// verifies and holds every acknowledged record before the base, byte for
/// byte. (A segment past the base is what a kill after archiving left:
/// its records are still in the log.)
fn check_archive(dir: &Path, log: &EventLog, acked: &HashMap<u64, String>, figures: &mut Figures) {
    let Some(base) = log.base() else {
        return;
    };
    figures.trimmed_logs += 1;
    let mut chain: Vec<PathBuf> = list_segments(&archive_of(dir))
        .unwrap()
        .into_iter()
        .filter(|segment| segment.first <= base.seq)
        .map(|segment| segment.path)
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    let export = scratch.path().join("log.export");
    log.export_to(&export, &mut |_, _| {}).unwrap();
    chain.push(export);
    let whole = scratch.path().join("whole");
    EventLog::import_chain(&chain, &whole, &mut |_, _| {}).unwrap();
    let whole = EventLog::open_read_only(&whole).unwrap();
    assert_eq!(
        whole.first_seq(),
        Seq::FIRST,
        "the archive misses the start"
    );
    assert!(
        whole.verify(&mut |_| {}).ok,
        "the archived log does not verify"
    );
    for event in whole.read_range(Seq::FIRST, base.seq).unwrap() {
        let event = event.unwrap();
        if let Some(body) = acked.get(&event.seq.get()) {
            assert_eq!(
                *body,
                hex(&event.body),
                "seq {}: archived changed",
                event.seq
            );
            figures.archived += 1;
        }
    }
}

/// The acknowledged seqs and payloads recorded so far. A line without its end
/// marker was cut by the kill and was never counted.
fn acknowledged(side: &Path, figures: &mut Figures) -> HashMap<u64, String> {
    let text = std::fs::read_to_string(side).unwrap_or_default();
    let mut acked = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(' ');
        let (Some(seq), Some(body), Some(".")) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if acked
            .insert(seq.parse().unwrap(), body.to_owned())
            .is_some()
        {
            figures.duplicated += 1;
        }
    }
    acked
}

fn check(dir: &Path, side: &Path, figures: &mut Figures) {
    let acked = acknowledged(side, figures);
    if !dir.exists() {
        // Killed while creating the log: it is created whole or not at all,
        // and nothing can have been acknowledged.
        assert!(acked.is_empty(), "acknowledged events but no log");
        figures.killed_in_creation += 1;
        return;
    }
    let log = EventLog::open_read_only(dir).unwrap();
    let last = log.last_seq().get();
    let first = log.first_seq().get();
    check_archive(dir, &log, &acked, figures);

    let mut workers = HashSet::new();
    let mut streams: HashMap<String, Vec<u64>> = HashMap::new();
    let mut expected = first;
    for event in log.read_range(log.first_seq(), Seq(last)).unwrap() {
        let event = event.unwrap();
        assert_eq!(event.seq.get(), expected, "a gap before seq {expected}");
        expected += 1;
        streams
            .entry(event.stream.clone())
            .or_default()
            .push(event.seq.get());
        if let DomainEvent::WorkerSpawned { worker, .. } =
            codec::decode(event.kind, &event.body).unwrap()
            && !workers.insert(worker)
        {
            figures.duplicated += 1;
        }
        if let Some(body) = acked.get(&event.seq.get()) {
            assert_eq!(
                *body,
                hex(&event.body),
                "seq {}: the payload changed",
                event.seq
            );
        }
    }
    assert_eq!(expected - 1, last, "recovered is not first..=last");
    figures.lost = u64::try_from(acked.keys().filter(|&&s| s > last).count()).unwrap();
    assert_eq!(
        figures.lost, 0,
        "acknowledged events past the recovered end {last}"
    );
    assert_eq!(
        figures.duplicated, 0,
        "an event recovered or acknowledged twice"
    );

    // The stream index (stored chunks up to its watermark, the rest rebuilt
    // on open) lists each stream's seqs exactly as the log holds them.
    for (stream, seqs) in &streams {
        let indexed: Vec<u64> = log
            .read_stream(stream, Seq::FIRST)
            .unwrap()
            .map(|event| event.unwrap().seq.get())
            .collect();
        assert_eq!(&indexed, seqs, "stream {stream} read through the index");
    }
    assert_eq!(log.streams().unwrap().len(), streams.len());

    let report = log.verify(&mut |_| {});
    assert!(report.ok, "verify after a kill: {report:?}");
    assert_eq!(report.records, last + 1 - first);

    let replayed = ReplayEngine::new(log)
        .verify::<StateManager>(&mut |_| {})
        .unwrap();
    if replayed.report.start() == Start::FullReplay {
        figures.full_replays += 1;
    } else {
        figures.from_checkpoint += 1;
    }

    figures.acknowledged_now = u64::try_from(acked.len()).unwrap();
    figures.recovered_now = last;
}
