//! Single-bit corruption anywhere in a crashed log's directory — the
//! write-ahead log, table files, the MANIFEST, checkpoint records — after
//! `SQLite`'s and `RocksDB`'s corruption tests. Each trial must end in one of:
//!
//! - the open refuses, with a typed error;
//! - `verify` reports the damage;
//! - every acknowledged event reads back intact;
//!
//! and never in a log that opens, verifies, and has lost or changed an
//! acknowledged event. The test counts the trials and their outcomes.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::case_sensitive_file_extension_comparisons,
    reason = "test harness: a failure is the test failing"
)]

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use strand_eventlog::{EventLog, LogOptions, NewCheckpoint, NewEvent, Seq};

const CLOSED_EVENTS: u64 = 200;
const TAIL_EVENTS: u64 = 100;
/// Offsets tried per file: spread over it, and its last bytes (where a
/// write-ahead log's newest, acknowledged records are).
const SPREAD: u64 = 24;
const TAIL: u64 = 12;

fn body(n: u64) -> Vec<u8> {
    let len = usize::try_from(32 + n % 90).unwrap();
    (0..len)
        .map(|i| (n as u8).wrapping_mul(31) ^ i as u8)
        .collect()
}

/// Append events `ns` one per synced write, recording each acknowledged
/// seq and body.
fn append_acked(log: &EventLog, ns: RangeInclusive<u64>, acked: &mut BTreeMap<u64, Vec<u8>>) {
    for n in ns {
        let range = log
            .append_blocking(vec![NewEvent::new(format!("s{}", n % 4), 1, body(n))])
            .unwrap();
        acked.insert(range.first.get(), body(n));
    }
}

fn checkpoint(log: &EventLog, seq: u64, fill: u8, len: usize) {
    log.put_checkpoint_blocking(NewCheckpoint {
        name: "state".into(),
        seq: Seq(seq),
        format_version: 1,
        data: vec![fill; len],
    })
    .unwrap();
}

/// A crash image: a first session closed cleanly (table files), a second
/// one acknowledged more events, a checkpoint, and more events (write-ahead
/// log only), then the directory was copied as it stood: the process died.
fn crash_image(root: &Path) -> (PathBuf, BTreeMap<u64, Vec<u8>>) {
    let live = root.join("live");
    let mut acked = BTreeMap::new();
    let log = EventLog::open(&live, LogOptions::default()).unwrap();
    append_acked(&log, 1..=CLOSED_EVENTS, &mut acked);
    checkpoint(&log, CLOSED_EVENTS, 0xC7, 3000);
    log.close_blocking().unwrap();
    drop(log);

    let log = EventLog::open(&live, LogOptions::default()).unwrap();
    let tail = CLOSED_EVENTS + TAIL_EVENTS;
    append_acked(&log, CLOSED_EVENTS + 1..=tail, &mut acked);
    checkpoint(&log, tail, 0x5A, 2000);
    // The newest records are events again: the WAL's tail is acknowledged
    // data, not a checkpoint.
    append_acked(&log, tail + 1..=tail + TAIL_EVENTS, &mut acked);
    // Every append above was synced before it returned: the files hold it.
    let image = root.join("image");
    copy_dir(&live, &image);
    drop(log);
    (image, acked)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[derive(Debug, Default)]
struct Outcomes {
    refused: u64,
    reported: u64,
    intact: u64,
    silent_loss: Vec<String>,
}

impl Outcomes {
    fn total(&self) -> (u64, u64, u64) {
        (self.refused, self.reported, self.intact)
    }
}

/// Open the damaged copy and classify what happens.
fn trial(dir: &Path, acked: &BTreeMap<u64, Vec<u8>>, what: &str, outcomes: &mut Outcomes) {
    let Ok(log) = EventLog::open(dir, LogOptions::default().create_if_missing(false)) else {
        outcomes.refused += 1;
        return;
    };
    let report = log.verify(&mut |_| {});
    if !report.ok {
        outcomes.reported += 1;
        return;
    }
    let mut intact = log.last_seq().get() >= *acked.keys().last().unwrap();
    if intact {
        for (seq, body) in acked {
            let event = log.read_range(Seq(*seq), Seq(*seq)).unwrap().next();
            if !matches!(event, Some(Ok(e)) if e.body == *body) {
                intact = false;
                break;
            }
        }
    }
    if intact {
        outcomes.intact += 1;
    } else {
        outcomes.silent_loss.push(format!(
            "{what}: opens, verifies, last seq {}",
            log.last_seq()
        ));
    }
}

#[test]
fn given_single_bit_flips_anywhere_in_a_crashed_logs_files_when_reopened_then_never_a_silent_loss()
{
    let root = tempfile::tempdir().unwrap();
    let (image, acked) = crash_image(root.path());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&image)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    files.sort();
    let mut outcomes = Outcomes::default();
    let mut by_kind: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut trials = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let kind = match name.as_str() {
            n if n.ends_with(".log") => "wal",
            n if n.ends_with(".sst") => "sst",
            n if n.starts_with("MANIFEST") => "manifest",
            _ => "other",
        };
        let len = std::fs::metadata(file).unwrap().len();
        let spread = (0..SPREAD).map(|k| len * (2 * k + 1) / (2 * SPREAD));
        let tail = (1..=TAIL).map(|k| len.saturating_sub(k * 7));
        for offset in spread.chain(tail) {
            let bit = (offset * 5 + 3) % 8;
            let copy = root.path().join(format!("trial-{trials}"));
            copy_dir(&image, &copy);
            let target = copy.join(&name);
            let mut bytes = std::fs::read(&target).unwrap();
            bytes[usize::try_from(offset).unwrap()] ^= 1 << bit;
            std::fs::write(&target, bytes).unwrap();
            let before = outcomes.total();
            trial(
                &copy,
                &acked,
                &format!("{name} bit {bit} of byte {offset}"),
                &mut outcomes,
            );
            std::fs::remove_dir_all(&copy).unwrap();
            trials += 1;
            let after = outcomes.total();
            let counts = by_kind.entry(kind).or_default();
            counts.0 += after.0 - before.0;
            counts.1 += after.1 - before.1;
            counts.2 += after.2 - before.2;
        }
    }
    println!(
        "bit flips in a crashed log: {trials} trials over {} files; refused={} reported={} \
         intact={} silent_loss={}; by file kind (refused, reported, intact): {by_kind:?}",
        files.len(),
        outcomes.refused,
        outcomes.reported,
        outcomes.intact,
        outcomes.silent_loss.len()
    );
    assert!(
        by_kind.contains_key("wal") && by_kind.contains_key("sst"),
        "the image holds a WAL and table files: {files:?}"
    );
    assert!(
        outcomes.silent_loss.is_empty(),
        "acknowledged events lost without a word: {:#?}",
        outcomes.silent_loss
    );
}
