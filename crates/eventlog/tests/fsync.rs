//! Acknowledgement waits for fsync (DESIGN invariant 2). Dropping a handle
//! cannot prove this (the OS page cache survives a process exit), so these
//! tests count RocksDB's WAL syncs: they fail if the sync were removed from
//! appends or checkpoints. A batch the writer has written but not synced is
//! not acknowledged, and no reader sees it.

use strand_eventlog::failpoint::{FailPoint, FailPoints};
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

/// Disarms every fail point when dropped.
struct Release(FailPoints);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_batch_written_but_not_yet_synced_when_reading_then_no_reader_sees_it()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points.clone()))?;
    // Dropped before the log: a failed assertion releases the held syncer
    // instead of hanging in the log's drop.
    let _release = Release(points.clone());
    log.append(vec![NewEvent::new("s", 1, vec![0])]).await?;
    points.pause(FailPoint::SyncBeforeSync);
    let held = tokio::spawn({
        let log = log.clone();
        async move { log.append(vec![NewEvent::new("s", 1, vec![1])]).await }
    });
    let waiter = points.clone();
    tokio::task::spawn_blocking(move || waiter.wait_until_paused(FailPoint::SyncBeforeSync))
        .await
        .unwrap();

    // Seq 2 is in the store, written; its sync has not started.
    assert_eq!(log.last_seq(), Seq(1));
    assert_eq!(log.read_range(Seq(1), Seq(u64::MAX))?.count(), 1);
    assert_eq!(log.read_range(Seq(2), Seq(2))?.count(), 0);
    let mut visited = 0;
    log.for_each_event(Seq(1), Seq(u64::MAX), |_| {
        visited += 1;
        Ok::<_, Error>(())
    })?;
    assert_eq!(visited, 1);
    assert_eq!(log.read_stream("s", Seq(1))?.count(), 1);
    assert!(!held.is_finished());

    points.resume(FailPoint::SyncBeforeSync);
    assert_eq!(held.await.unwrap()?.first, Seq(2));
    assert_eq!(log.read_range(Seq(1), Seq(u64::MAX))?.count(), 2);
    Ok(())
}
