//! Trimming the log from the front: what is left opens, reads, verifies,
//! exports and imports like any log, the archive of what went rebuilds the
//! whole log, and a refused trim removes nothing.

use std::path::{Path, PathBuf};

use strand_eventlog::{
    BASE_CHECKPOINT_PREFIX, Error, Event, EventLog, LogOptions, NewCheckpoint, NewEvent, Seq,
    TrimRequest, list_segments,
};

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn append(log: &EventLog, from: u64, to: u64) {
    let batch = (from..=to)
        .map(|n| NewEvent::new(format!("s{}", n % 3), 7, format!("event {n}").into_bytes()))
        .collect();
    log.append_blocking(batch).unwrap();
}

/// A closed log of `records` records in streams s0, s1, s2 (so its
/// stream index is written out whole).
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn filled_log(dir: &Path, records: u64) -> Vec<Event> {
    let log = EventLog::open(dir, LogOptions::default()).unwrap();
    append(&log, 1, records);
    log.close_blocking().unwrap();
    read_all(dir)
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn read_all(dir: &Path) -> Vec<Event> {
    let log = EventLog::open_read_only(dir).unwrap();
    log.read_range(log.first_seq(), log.last_seq())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn base_at(seq: u64) -> NewCheckpoint {
    NewCheckpoint {
        name: "state".into(),
        seq: Seq(seq),
        format_version: 1,
        data: format!("state at {seq}").into_bytes(),
    }
}

fn request(upto: u64, archive: Option<PathBuf>) -> TrimRequest {
    TrimRequest {
        upto: Seq(upto),
        base: vec![base_at(upto)],
        archive,
    }
}

#[test]
fn given_a_trimmed_log_when_reopened_then_it_starts_after_its_base_and_goes_on() -> Result<(), Error>
{
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = filled_log(&data, 100);
    let archive = dir.path().join("archive");

    let log = EventLog::open(&data, LogOptions::default())?;
    let report = log.trim(&request(60, Some(archive.clone())), &mut |_, _| {})?;
    assert_eq!(
        (report.first, report.upto, report.records),
        (Seq(1), Seq(60), 60)
    );
    assert_eq!(log.first_seq(), Seq(61));
    // Reads begin at the base; a read from before it is a gap, not a
    // silent start further on.
    assert!(matches!(
        log.read_range(Seq(1), Seq(100))?.next(),
        Some(Err(Error::Gap { .. }))
    ));
    let s1: Vec<u64> = log
        .read_stream("s1", Seq(1))?
        .map(|e| e.map(|e| e.seq.get()))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        s1.first(),
        Some(&61),
        "the stream index lost the trimmed seqs"
    );
    assert_eq!(s1.len(), 14);
    append(&log, 101, 110);
    log.close_blocking()?;
    drop(log);

    let log = EventLog::open(&data, LogOptions::default())?;
    let report = log.verify(&mut |_| {});
    assert!(report.ok, "{:?}", report.error);
    assert_eq!(
        (report.first_seq, report.last_seq, report.records),
        (Some(Seq(61)), Some(Seq(110)), 50)
    );
    let stored = log.load_checkpoint(&format!("{BASE_CHECKPOINT_PREFIX}state"), 1)?;
    let base = stored.checkpoint.unwrap();
    assert_eq!((base.seq, base.data), (Seq(60), b"state at 60".to_vec()));
    let kept = read_all_open(&log);
    assert_eq!(kept.first().map(|e| e.seq), Some(Seq(61)));
    assert_eq!(kept.get(..40), original.get(60..));
    log.close_blocking()?;
    drop(log);
    let read_only = EventLog::open_read_only(&data)?;
    assert!(read_only.verify(&mut |_| {}).ok);
    assert_eq!(read_only.base().map(|b| b.seq), Some(Seq(60)));
    Ok(())
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn read_all_open(log: &EventLog) -> Vec<Event> {
    log.read_range(log.first_seq(), log.last_seq())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn given_two_trims_when_segments_and_export_are_imported_then_the_whole_log_is_back()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = filled_log(&data, 90);
    let archive = dir.path().join("archive");
    let log = EventLog::open(&data, LogOptions::default())?;
    log.trim(&request(30, Some(archive.clone())), &mut |_, _| {})?;
    log.trim(&request(55, Some(archive.clone())), &mut |_, _| {})?;
    let export = dir.path().join("trimmed.export");
    let exported = log.export_to(&export, &mut |_, _| {})?;
    assert_eq!((exported.first_seq, exported.records), (Seq(56), 35));
    log.close_blocking()?;

    let segments = list_segments(&archive)?;
    let ranges: Vec<(u64, u64)> = segments
        .iter()
        .map(|s| (s.first.get(), s.records))
        .collect();
    assert_eq!(ranges, [(1, 30), (31, 25)]);

    // The trimmed log's export alone: a trimmed log, base and all.
    let alone = dir.path().join("alone");
    let report = EventLog::import_from(&export, &alone, &mut |_, _| {})?;
    assert_eq!((report.first_seq, report.last_seq), (Seq(56), Seq(90)));
    let log = EventLog::open(&alone, LogOptions::default())?;
    assert!(log.verify(&mut |_| {}).ok);
    assert_eq!(
        log.load_checkpoint("base/state", 1)?
            .checkpoint
            .map(|c| c.seq),
        Some(Seq(55))
    );
    log.close_blocking()?;

    // The segments, then the export: the whole log from seq 1.
    let mut chain: Vec<PathBuf> = segments.into_iter().map(|s| s.path).collect();
    chain.push(export.clone());
    let whole = dir.path().join("whole");
    let report = EventLog::import_chain(&chain, &whole, &mut |_, _| {})?;
    assert_eq!((report.first_seq, report.records), (Seq(1), 90));
    assert_eq!(read_all(&whole), original);
    let log = EventLog::open(&whole, LogOptions::default())?;
    assert!(log.verify(&mut |_| {}).ok);
    assert_eq!(log.base(), None);
    log.close_blocking()?;

    // Out of order, or with a segment missing: refused, nothing written.
    chain.swap(0, 1);
    let refused = dir.path().join("refused");
    let error = EventLog::import_chain(&chain, &refused, &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(error, Error::ExportWithoutBase { .. }),
        "{error:?}"
    );
    let gap = [chain[1].clone(), export];
    let error = EventLog::import_chain(&gap, &refused, &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(error, Error::ExportsNotContiguous { .. }),
        "{error:?}"
    );
    assert!(!refused.exists());
    Ok(())
}

#[test]
fn given_a_trim_that_cannot_be_done_when_asked_then_refused_and_nothing_is_removed()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = filled_log(&data, 40);
    let log = EventLog::open(&data, LogOptions::default())?;
    let past_end = log.trim(&request(41, None), &mut |_, _| {});
    assert!(
        matches!(past_end, Err(Error::BadTrim { .. })),
        "{past_end:?}"
    );
    let wrong_base = TrimRequest {
        base: vec![base_at(9)],
        ..request(10, None)
    };
    let refused = log.trim(&wrong_base, &mut |_, _| {});
    assert!(matches!(refused, Err(Error::BadTrim { .. })), "{refused:?}");
    log.trim(&request(10, None), &mut |_, _| {})?;
    let again = log.trim(&request(10, None), &mut |_, _| {});
    assert!(matches!(again, Err(Error::BadTrim { .. })), "{again:?}");
    log.close_blocking()?;
    assert_eq!(read_all(&data).as_slice(), original.get(10..).unwrap());
    Ok(())
}

#[test]
fn given_a_trim_killed_after_archiving_when_run_again_then_its_segment_is_replaced()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    filled_log(&data, 50);
    let archive = dir.path().join("archive");
    // The archive a killed trim left: the segment, synced and named, with
    // the records still in the log.
    let copy = dir.path().join("copy");
    {
        let log = EventLog::open(&data, LogOptions::default())?;
        let export = dir.path().join("full.export");
        log.export_to(&export, &mut |_, _| {})?;
        log.close_blocking()?;
        EventLog::import_from(&export, &copy, &mut |_, _| {})?;
        let other = EventLog::open(&copy, LogOptions::default())?;
        // Killed with another seq in mind: its segment overlaps ours.
        other.trim(&request(25, Some(archive.clone())), &mut |_, _| {})?;
        other.close_blocking()?;
    }
    let log = EventLog::open(&data, LogOptions::default())?;
    assert_eq!(log.first_seq(), Seq(1));
    let report = log.trim(&request(20, Some(archive.clone())), &mut |_, _| {})?;
    assert_eq!(report.segment.map(|s| s.last), Some(Seq(20)));
    let listed: Vec<(Seq, u64)> = list_segments(&archive)?
        .into_iter()
        .map(|s| (s.first, s.records))
        .collect();
    assert_eq!(listed, [(Seq(1), 20)], "the stale segment went");
    // A file under the name of the segment to write, holding another
    // range, is refused, never overwritten.
    let wrong = archive.join(strand_eventlog::segment_name(Seq(21), Seq(30)));
    std::fs::copy(
        archive.join(strand_eventlog::segment_name(Seq(1), Seq(20))),
        &wrong,
    )
    .unwrap();
    let refused = log.trim(&request(30, Some(archive)), &mut |_, _| {});
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(log.first_seq(), Seq(21));
    log.close_blocking()?;
    Ok(())
}
