//! A failed write or sync poisons the log (DESIGN invariant 7): nothing later
//! is acknowledged until reopen, and every earlier acknowledgement holds.

use strand_eventlog::failpoint::{FailPoint, FailPoints};
use strand_eventlog::{Error, EventLog, LogOptions, NewCheckpoint, NewEvent, Seq};

fn event(n: u8) -> NewEvent {
    NewEvent::new("s", 1, vec![n])
}

fn assert_poisoned(log: &EventLog) {
    assert!(log.is_poisoned());
    assert!(matches!(
        log.append_blocking(vec![event(9)]),
        Err(Error::Poisoned)
    ));
    let checkpoint = NewCheckpoint {
        name: "c".into(),
        seq: Seq(1),
        format_version: 1,
        data: vec![1],
    };
    assert!(matches!(
        log.put_checkpoint_blocking(checkpoint),
        Err(Error::Poisoned)
    ));
}

#[test]
fn given_write_fails_before_reaching_storage_when_appending_then_not_acked_and_poisoned()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    points.fail_after(FailPoint::AppendBeforeWrite, 3);
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points.clone()))?;
    for n in 0..3 {
        log.append_blocking(vec![event(n)])?;
    }
    let err = log.append_blocking(vec![event(3)]).unwrap_err();
    assert!(matches!(err, Error::WriteFailed { .. }), "{err:?}");
    assert_poisoned(&log);
    // Clearing the fault does not un-poison: only a reopen does.
    points.clear();
    assert!(matches!(
        log.append_blocking(vec![event(4)]),
        Err(Error::Poisoned)
    ));
    drop(log);
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    assert_eq!(log.last_seq(), Seq(3));
    let bodies: Vec<u8> = log
        .read_range(Seq(1), Seq(3))?
        .map(|e| e.map(|e| e.body[0]))
        .collect::<Result<_, _>>()?;
    assert_eq!(bodies, vec![0, 1, 2]);
    assert_eq!(log.append_blocking(vec![event(5)])?.first, Seq(4));
    Ok(())
}

#[test]
fn given_a_write_reported_failed_after_reaching_storage_when_appending_then_not_acked_poisoned_and_reopen_is_consistent()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    points.fail_after(FailPoint::AppendAfterWrite, 2);
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points))?;
    log.append_blocking(vec![event(0)])?;
    log.append_blocking(vec![event(1)])?;
    assert!(matches!(
        log.append_blocking(vec![event(2)]),
        Err(Error::WriteFailed { .. })
    ));
    assert_poisoned(&log);
    drop(log);
    // The unacknowledged record may or may not be on disk; everything
    // acknowledged is, and the log is a valid, verifiable prefix either way.
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    assert!(log.last_seq() >= Seq(2));
    let report = log.verify(&mut |_| {});
    assert!(report.ok, "{:?}", report.error);
    let next = log.append_blocking(vec![event(7)])?;
    assert_eq!(next.first, log.last_seq());
    Ok(())
}

#[test]
fn given_the_log_sync_fails_when_appending_then_the_batch_is_not_acked_nor_read_and_reopen_is_consistent()
-> Result<(), Error> {
    for point in [FailPoint::SyncBeforeSync, FailPoint::SyncAfterSync] {
        let dir = tempfile::tempdir().unwrap();
        let points = FailPoints::new();
        points.fail_after(point, 2);
        let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points))?;
        log.append_blocking(vec![event(0)])?;
        log.append_blocking(vec![event(1)])?;
        let err = log.append_blocking(vec![event(2)]).unwrap_err();
        assert!(
            matches!(err, Error::WriteFailed { .. }),
            "{point:?}: {err:?}"
        );
        assert_poisoned(&log);
        // Written, but never durable as far as the log knows: not published.
        assert_eq!(log.last_seq(), Seq(2), "{point:?}");
        assert_eq!(log.read_range(Seq(1), Seq(u64::MAX))?.count(), 2);
        drop(log);
        // The unacknowledged record may or may not be on disk; everything
        // acknowledged is, and the log is a valid, verifiable prefix.
        let log = EventLog::open(dir.path(), LogOptions::default())?;
        assert!(log.last_seq() >= Seq(2), "{point:?}");
        let report = log.verify(&mut |_| {});
        assert!(report.ok, "{point:?}: {:?}", report.error);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_many_waiters_in_failed_batch_when_sync_fails_then_none_is_acked() -> Result<(), Error>
{
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    points.fail_after(FailPoint::AppendBeforeWrite, 0);
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points))?;
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move { log.append(vec![event(n)]).await })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(
            matches!(outcome, Err(Error::WriteFailed { .. } | Error::Poisoned)),
            "{outcome:?}"
        );
    }
    assert_eq!(log.last_seq(), Seq(0));
    Ok(())
}

#[test]
fn given_checkpoint_write_fails_when_storing_then_log_is_poisoned() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    points.fail_after(FailPoint::CheckpointBeforeWrite, 0);
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points))?;
    log.append_blocking(vec![event(0)])?;
    let checkpoint = NewCheckpoint {
        name: "c".into(),
        seq: Seq(1),
        format_version: 1,
        data: vec![1],
    };
    assert!(matches!(
        log.put_checkpoint_blocking(checkpoint),
        Err(Error::WriteFailed { .. })
    ));
    assert_poisoned(&log);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_status_watcher_when_batches_commit_and_then_a_write_fails_then_it_sees_each_end_and_the_poison()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    points.fail_after(FailPoint::AppendBeforeWrite, 2);
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points))?;
    let mut status = log.watch_status();
    assert_eq!(status.borrow_and_update().last_seq, Seq(0));
    log.append(vec![event(0), event(1)]).await?;
    status.changed().await.unwrap();
    assert_eq!(status.borrow_and_update().last_seq, Seq(2));
    log.append(vec![event(2)]).await?;
    status.changed().await.unwrap();
    assert_eq!(status.borrow_and_update().last_seq, Seq(3));
    assert!(log.append(vec![event(3)]).await.is_err());
    status.changed().await.unwrap();
    let seen = *status.borrow_and_update();
    assert_eq!((seen.last_seq, seen.poisoned), (Seq(3), true));
    Ok(())
}
