//! The stream index: stored in chunks up to a watermark, the newest entries
//! in memory. Every read by stream must see exactly the stream's events,
//! whichever side of the watermark they are on, across clean closes,
//! crashes, failed index writes, format-1 logs and repairs.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic fails the test"
)]

use std::collections::BTreeMap;
use std::path::Path;

use rocksdb::{DB, IteratorMode, Options};
use strand_eventlog::failpoint::{FailPoint, FailPoints};
use strand_eventlog::repair::{plan_truncate, truncate_after};
use strand_eventlog::{
    Backend, Error, EventLog, LogOptions, NewEvent, OpenMode, RocksBackend, Seq,
};

const CFS: [&str; 4] = ["log", "stream_index", "checkpoints", "meta"];
const STREAMS: [&str; 5] = ["wf/a", "wf/b", "actor/c", "d", "a-much-longer-stream-name"];

/// Which stream each seq belongs to.
type Model = BTreeMap<Seq, &'static str>;

/// A small deterministic generator (no dependency needed for a fixed mix).
struct Mix(u64);

impl Mix {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn options(flush_every: usize) -> LogOptions {
    LogOptions::default().index_flush_events(flush_every)
}

/// Append `appends` batches of 1–3 events over the streams, recording each.
fn append(log: &EventLog, model: &mut Model, mix: &mut Mix, appends: u64) {
    for _ in 0..appends {
        let events: Vec<NewEvent> = (0..=mix.next(3))
            .map(|_| {
                let stream = STREAMS[usize::try_from(mix.next(5)).unwrap()];
                NewEvent::new(stream, 1, stream.as_bytes().to_vec())
            })
            .collect();
        let streams: Vec<&'static str> = events
            .iter()
            .map(|e| *STREAMS.iter().find(|s| **s == e.stream).unwrap())
            .collect();
        let range = log.append_blocking(events).unwrap();
        for (seq, stream) in (range.first.0..=range.last.0).zip(streams) {
            model.insert(Seq(seq), stream);
        }
    }
}

/// Every stream read from several seqs matches the model, and `streams()`
/// counts what the model counts.
fn assert_reads(log: &EventLog, model: &Model) {
    let last = model.keys().last().copied().unwrap_or_default();
    for stream in STREAMS {
        for from in [0, 1, 2, last.0 / 3, last.0 / 2, last.0, last.0 + 1] {
            let expected: Vec<Seq> = model
                .iter()
                .filter(|(seq, s)| **s == stream && seq.0 >= from)
                .map(|(seq, _)| *seq)
                .collect();
            let found: Vec<Seq> = log
                .read_stream(stream, Seq(from))
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    assert_eq!(e.stream, stream);
                    e.seq
                })
                .collect();
            assert_eq!(found, expected, "stream {stream} from {from}");
        }
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for stream in model.values() {
        *counts.entry((*stream).to_owned()).or_default() += 1;
    }
    assert_eq!(
        log.streams().unwrap(),
        counts.into_iter().collect::<Vec<_>>()
    );
}

fn stored_upto(dir: &Path) -> Option<Seq> {
    RocksBackend::open(dir, OpenMode::ReadOnly)
        .unwrap()
        .index_upto()
        .unwrap()
}

/// A log at `dir` with `appends` appends (index written out every 4
/// entries), closed cleanly and released for raw access.
fn write_and_close(
    dir: &Path,
    model: &mut Model,
    mix: &mut Mix,
    appends: u64,
) -> Result<(), Error> {
    let log = EventLog::open(dir, options(4))?;
    append(&log, model, mix, appends);
    log.close_blocking()?;
    drop(log);
    Ok(())
}

fn assert_verified(dir: &Path, records: u64) {
    let report = EventLog::open_read_only(dir).unwrap().verify(&mut |_| {});
    assert!(report.ok, "{:?}", report.error);
    assert_eq!(report.records, records);
}

#[test]
fn given_interleaved_streams_when_read_across_flushes_crash_and_close_then_every_read_matches()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut mix) = (Model::new(), Mix(0x9E37_79B9_7F4A_7C15));

    let log = EventLog::open(dir.path(), options(7))?;
    append(&log, &mut model, &mut mix, 60);
    // One more event, so that the last batch did not end on a flush.
    let range = log.append_blocking(vec![NewEvent::new("d", 1, vec![])])?;
    model.insert(range.first, "d");
    // Entries on both sides of the watermark while the writer runs.
    assert_reads(&log, &model);
    // A crash: the writer stops without its closing flush.
    drop(log);
    let upto = stored_upto(dir.path()).unwrap();
    let last = model.keys().last().copied().unwrap();
    assert!(Seq(0) < upto && upto < last, "upto {upto} last {last}");
    assert_verified(dir.path(), last.0);
    assert_reads(&EventLog::open_read_only(dir.path())?, &model);

    // The writable open re-derives the entries past the watermark.
    let log = EventLog::open(dir.path(), options(7))?;
    assert_reads(&log, &model);
    append(&log, &mut model, &mut mix, 40);
    assert_reads(&log, &model);
    log.close_blocking()?;
    drop(log);
    let last = model.keys().last().copied().unwrap();
    assert_eq!(
        stored_upto(dir.path()),
        Some(last),
        "a clean close stores it all"
    );
    assert_verified(dir.path(), last.0);
    assert_reads(&EventLog::open_read_only(dir.path())?, &model);
    Ok(())
}

#[test]
fn given_index_write_fails_when_flushing_then_poisoned_and_every_acknowledged_event_reads_back()
-> Result<(), Error> {
    for point in [FailPoint::IndexBeforeWrite, FailPoint::IndexAfterWrite] {
        let dir = tempfile::tempdir().unwrap();
        let (mut model, mut mix) = (Model::new(), Mix(7));
        let points = FailPoints::new();
        points.fail_after(point, 2);
        let log = EventLog::open(dir.path(), options(5).failpoints(points))?;
        let mut refused = None;
        for _ in 0..100 {
            match log.append_blocking(vec![NewEvent::new("s", 1, vec![1])]) {
                Ok(range) => {
                    model.insert(range.first, "s");
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        assert!(
            matches!(refused, Some(Error::Poisoned)),
            "{point:?}: {refused:?}"
        );
        assert!(log.is_poisoned());
        drop(log);
        let log = EventLog::open(dir.path(), options(5))?;
        // Every acknowledged event is there; so may be the one append that
        // was written while the index write failed, and then refused.
        let acknowledged = model.keys().last().copied().unwrap();
        let last = log.last_seq();
        assert!(
            acknowledged <= last && last.0 <= acknowledged.0 + 1,
            "{point:?}: {last}"
        );
        model.extend((acknowledged.0 + 1..=last.0).map(|seq| (Seq(seq), "s")));
        append(&log, &mut model, &mut mix, 10);
        let found: Vec<Seq> = log
            .read_stream("s", Seq(1))?
            .map(|e| e.unwrap().seq)
            .collect();
        let expected: Vec<Seq> = model
            .iter()
            .filter(|(_, s)| **s == "s")
            .map(|(seq, _)| *seq)
            .collect();
        assert_eq!(found, expected, "{point:?}");
        log.close_blocking()?;
        drop(log);
        assert_verified(dir.path(), model.len() as u64);
    }
    Ok(())
}

/// Rewrite a closed log as data-directory format 1 wrote it: one empty-valued
/// index entry per record, no watermark, format marker 1.
fn downgrade_to_format_1(dir: &Path, model: &Model) {
    let db = DB::open_cf(&Options::default(), dir, CFS).unwrap();
    let index = db.cf_handle("stream_index").unwrap();
    let keys: Vec<Box<[u8]>> = db
        .iterator_cf(index, IteratorMode::Start)
        .map(|item| item.unwrap().0)
        .collect();
    for key in keys {
        db.delete_cf(index, key).unwrap();
    }
    for (seq, stream) in model {
        let mut key = u16::try_from(stream.len()).unwrap().to_be_bytes().to_vec();
        key.extend_from_slice(stream.as_bytes());
        key.extend_from_slice(&seq.0.to_be_bytes());
        db.put_cf(index, key, []).unwrap();
    }
    let meta = db.cf_handle("meta").unwrap();
    db.delete_cf(meta, "index_upto").unwrap();
    db.put_cf(meta, "format_version", [1u8]).unwrap();
}

fn format_marker(dir: &Path) -> Option<Vec<u8>> {
    RocksBackend::open(dir, OpenMode::ReadOnly)
        .unwrap()
        .get_meta("format_version")
        .unwrap()
}

#[test]
fn given_format_1_log_when_opened_then_read_as_is_and_upgraded_by_a_writer() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut mix) = (Model::new(), Mix(42));
    write_and_close(dir.path(), &mut model, &mut mix, 30)?;
    downgrade_to_format_1(dir.path(), &model);

    assert_reads(&EventLog::open_read_only(dir.path())?, &model);
    assert_verified(dir.path(), model.len() as u64);
    assert_eq!(
        format_marker(dir.path()),
        Some(vec![1]),
        "read-only opens write nothing"
    );

    let log = EventLog::open(dir.path(), options(4))?;
    assert_eq!(
        format_marker(dir.path()),
        Some(vec![strand_eventlog::FORMAT_VERSION])
    );
    append(&log, &mut model, &mut mix, 30);
    assert_reads(&log, &model);
    log.close_blocking()?;
    drop(log);
    assert_verified(dir.path(), model.len() as u64);
    Ok(())
}

#[test]
fn given_damaged_index_when_verified_then_reported_and_a_writer_refuses_an_index_ahead()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut mix) = (Model::new(), Mix(3));
    write_and_close(dir.path(), &mut model, &mut mix, 20)?;
    let last = model.keys().last().copied().unwrap();

    let db = DB::open_cf(&Options::default(), dir.path(), CFS).unwrap();
    let meta = db.cf_handle("meta").unwrap();
    db.put_cf(meta, "index_upto", (last.0 + 5).to_be_bytes())
        .unwrap();
    drop(db);
    let report = EventLog::open_read_only(dir.path())?.verify(&mut |_| {});
    assert!(
        matches!(report.error, Some(Error::IndexAhead { .. })),
        "{:?}",
        report.error
    );
    assert!(matches!(
        EventLog::open(dir.path(), options(4)),
        Err(Error::IndexAhead { .. })
    ));

    let db = DB::open_cf(&Options::default(), dir.path(), CFS).unwrap();
    db.put_cf(
        db.cf_handle("meta").unwrap(),
        "index_upto",
        last.0.to_be_bytes(),
    )
    .unwrap();
    let index = db.cf_handle("stream_index").unwrap();
    let (key, _) = db
        .iterator_cf(index, IteratorMode::End)
        .next()
        .unwrap()
        .unwrap();
    // A gap of 0 never encodes a seq.
    db.put_cf(index, key, [0u8]).unwrap();
    drop(db);
    let report = EventLog::open_read_only(dir.path())?.verify(&mut |_| {});
    assert!(
        matches!(report.error, Some(Error::BadIndexChunk { .. })),
        "{:?}",
        report.error
    );
    Ok(())
}

#[test]
fn given_chunks_across_the_cut_and_an_unindexed_tail_when_truncated_then_streams_read_the_kept_events()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut mix) = (Model::new(), Mix(11));
    let log = EventLog::open(dir.path(), options(16))?;
    append(&log, &mut model, &mut mix, 50);
    // A crash, so that the newest entries are in no chunk.
    drop(log);
    let last = model.keys().last().copied().unwrap();
    let upto = stored_upto(dir.path()).unwrap();
    assert!(upto < last);
    // Cut inside the stored chunks: some hold seqs on both sides.
    let after = Seq(upto.0 / 2 + 1);
    let plan = plan_truncate(dir.path(), after)?;
    let mut removed: BTreeMap<String, u64> = BTreeMap::new();
    for (_, stream) in model.range(after.next()..) {
        *removed.entry((*stream).to_owned()).or_default() += 1;
    }
    assert_eq!(plan.streams, removed.into_iter().collect::<Vec<_>>());

    let backup = tempfile::tempdir().unwrap();
    let outcome = truncate_after(dir.path(), after, &backup.path().join("copy"))?;
    assert!(outcome.verify.ok, "{:?}", outcome.verify.error);
    model.retain(|seq, _| *seq <= after);
    assert_reads(&EventLog::open_read_only(dir.path())?, &model);
    let log = EventLog::open(dir.path(), options(16))?;
    append(&log, &mut model, &mut mix, 20);
    assert_reads(&log, &model);
    log.close_blocking()?;
    drop(log);
    assert_verified(dir.path(), model.len() as u64);
    Ok(())
}
