//! A failed fsync under the running tree: the batch is not acknowledged,
//! the log is poisoned, the event store fails and storage, then the
//! universe, escalate; after a reopen every earlier acknowledged event is
//! there, intact.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use common::{PATIENCE, TestResult, open_log};
use strand_actors::{ActorError, Runtime, RuntimeOptions};
use strand_eventlog::failpoint::{FailPoint, FailPoints};
use strand_eventlog::{EventLog, LogOptions, Seq};
use strand_projections::{DomainEvent, WorkerId};

fn spawned(n: u64) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(format!("w{n}")),
        labels: vec![format!("payload-{n}")],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_failed_sync_under_the_running_tree_when_appending_then_not_acknowledged_the_tree_escalates_and_reopen_keeps_every_acknowledged_event()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let points = FailPoints::new();
    let log = open_log(dir.path(), LogOptions::default().failpoints(points.clone())).await;
    let runtime = Runtime::start(log.clone(), RuntimeOptions::default()).await?;

    let mut acknowledged = Vec::new();
    for n in 0..50 {
        let appended = runtime.store().append(&[spawned(n)]).await?;
        acknowledged.push((appended.range.first, n));
    }
    // The fault: the next write reaches the disk, then its sync fails.
    points.fail_after(FailPoint::AppendAfterWrite, 0);
    let failed = runtime.store().append(&[spawned(50)]).await;
    assert!(
        matches!(failed, Err(ActorError::Log(_) | ActorError::Poisoned)),
        "{failed:?}"
    );
    assert!(log.is_poisoned());
    // Nothing later is acknowledged either.
    assert!(runtime.store().append(&[spawned(51)]).await.is_err());
    // The event store fails on the poison; storage and the universe escalate.
    tokio::time::timeout(PATIENCE, runtime.wait()).await?;
    assert!(!runtime.is_running());
    let errors = runtime.errors();
    assert!(
        errors.iter().any(|e| e.child == strand_actors::EVENT_STORE),
        "{errors:#?}"
    );
    assert!(
        runtime.shutdown().await.is_err(),
        "a poisoned log cannot close"
    );
    drop(log);

    let dir = dir.path().to_owned();
    let log =
        tokio::task::spawn_blocking(move || EventLog::open(dir, LogOptions::default())).await??;
    let mut recovered = 0;
    for (seq, n) in &acknowledged {
        let event = log.read_range(*seq, *seq)?.next().unwrap()?;
        assert_eq!(strand_actors::decode(&event)?.1, spawned(*n));
        recovered += 1;
    }
    let report = log.verify(&mut |_| {});
    assert!(report.ok, "{report:?}");
    println!(
        "failed sync under the tree: {} acknowledged, {recovered} recovered intact, the failed \
         batch {} after reopen (written, never acknowledged), {} errors recorded",
        acknowledged.len(),
        if log.last_seq() > acknowledged.last().unwrap().0 {
            "present"
        } else {
            "absent"
        },
        errors.len()
    );
    assert!(log.last_seq() >= Seq(50));
    Ok(())
}
