//! Acknowledgement waits for fsync (DESIGN invariant 2). Dropping a handle
//! cannot prove this (the OS page cache survives a process exit), so these
//! tests count RocksDB's WAL syncs: they fail if the sync were removed from
//! appends or checkpoints.

use strand_eventlog::{Error, EventLog, LogOptions, NewCheckpoint, NewEvent, Seq};

#[expect(
    clippy::expect_used,
    reason = "test helper: a panic here fails the test"
)]
fn syncs(log: &EventLog) -> u64 {
    log.wal_syncs().expect("test builds count WAL syncs")
}

#[test]
fn given_sequential_appends_when_each_is_acknowledged_then_each_waited_for_its_own_fsync()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    let before = syncs(&log);
    for n in 0..5u8 {
        log.append_blocking(vec![NewEvent::new("s", 1, vec![n])])?;
        // Acknowledged: the WAL holding it was synced before the answer.
        assert_eq!(syncs(&log) - before, u64::from(n) + 1);
    }
    Ok(())
}

#[test]
fn given_checkpoint_when_stored_then_it_waited_for_an_fsync() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    log.append_blocking(vec![NewEvent::new("s", 1, vec![1])])?;
    let before = syncs(&log);
    log.put_checkpoint_blocking(NewCheckpoint {
        name: "c".into(),
        seq: Seq(1),
        format_version: 1,
        data: vec![1],
    })?;
    assert_eq!(syncs(&log) - before, 1);
    Ok(())
}

/// `repair truncate` reports success only after its one batch is synced.
#[test]
fn given_a_truncation_when_applied_then_it_waited_for_an_fsync() -> Result<(), Error> {
    use strand_eventlog::{Backend, OpenMode, RocksBackend, Truncation};
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(dir.path(), LogOptions::default())?;
        for n in 0..5u8 {
            log.append_blocking(vec![NewEvent::new("s", 1, vec![n])])?;
        }
        log.close_blocking()?;
    }
    let backend = RocksBackend::open(dir.path(), OpenMode::Existing)?;
    let before = backend.wal_syncs().unwrap();
    backend.truncate(&Truncation {
        after: Seq(2),
        last: Seq(5),
        index_trimmed: vec![strand_eventlog::IndexChunk {
            stream: "s".into(),
            seqs: vec![Seq(1), Seq(2)],
        }],
        index_upto: Seq(2),
        ..Truncation::default()
    })?;
    assert_eq!(backend.wal_syncs().unwrap() - before, 1);
    assert_eq!(backend.last_record()?.map(|(seq, _)| seq), Some(Seq(2)));
    Ok(())
}
