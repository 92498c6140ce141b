//! Group commit and backpressure, made deterministic by pausing the committer
//! at its write (a test-only fail point) while producers queue up behind it.

use std::time::Duration;

use strand_eventlog::failpoint::{FailPoint, FailPoints};
use strand_eventlog::{Error, EventLog, LogOptions, NewEvent, Seq};

fn event(n: u64) -> NewEvent {
    NewEvent::new(format!("p{n}"), 1, n.to_le_bytes().to_vec())
}

/// Start one append and wait until the committer is blocked writing it.
#[expect(
    clippy::unwrap_used,
    reason = "test helper: a panic here fails the test"
)]
async fn hold_committer(
    log: &EventLog,
    points: &FailPoints,
) -> tokio::task::JoinHandle<Result<strand_eventlog::SeqRange, Error>> {
    points.pause(FailPoint::AppendBeforeWrite);
    let held = tokio::spawn({
        let log = log.clone();
        async move { log.append(vec![event(0)]).await }
    });
    let waiter = points.clone();
    tokio::task::spawn_blocking(move || waiter.wait_until_paused(FailPoint::AppendBeforeWrite))
        .await
        .unwrap();
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_appends_queued_behind_a_write_when_it_completes_then_few_fsyncs_serve_them_all()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    let log = EventLog::open(dir.path(), LogOptions::default().failpoints(points.clone()))?;
    let first = hold_committer(&log, &points).await;

    // The committer holds append 0 at its write; these 99 queue behind it
    // (the encoder may take one batch of them and wait to hand it over).
    let mut queued = Vec::new();
    for n in 1..100 {
        let log = log.clone();
        queued.push(tokio::spawn(
            async move { log.append(vec![event(n)]).await },
        ));
    }
    while log.queued() as u64 + log.stats().appends < 100 {
        tokio::task::yield_now().await;
    }
    points.resume(FailPoint::AppendBeforeWrite);

    assert_eq!(first.await.unwrap()?.first, Seq(1));
    let mut seqs = Vec::new();
    for task in queued {
        seqs.push(task.await.unwrap()?.first.0);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=100).collect::<Vec<_>>());
    let stats = log.stats();
    assert_eq!(stats.events, 100);
    // Append 0 alone, then at most two batches for the 99 that waited: the
    // one the encoder held and everything queued behind it. One sync covers
    // every batch written before it starts, so these may share syncs.
    assert!(
        (1..=3).contains(&stats.fsyncs),
        "{} fsyncs for 100 appends",
        stats.fsyncs
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_full_queue_when_appending_then_producer_waits_and_nothing_is_lost()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let points = FailPoints::new();
    // One event per batch: the encoder takes exactly one request, then waits
    // to hand it to the (paused) committer, so the queue state is exact.
    let options = LogOptions::default()
        .queue_capacity(2)
        .max_batch_events(1)
        .failpoints(points.clone());
    let log = EventLog::open(dir.path(), options)?;
    let held = hold_committer(&log, &points).await;

    let mut filling = Vec::new();
    for n in 1..=6 {
        let log = log.clone();
        filling.push(tokio::spawn(
            async move { log.append(vec![event(n)]).await },
        ));
    }
    // Append 0 at the committer, append 1 held by the encoder, two queued,
    // three more waiting to enqueue.
    while !(log.stats().appends == 2 && log.queued() == 2) {
        tokio::task::yield_now().await;
    }
    // The queue is full and the writer is busy: a further producer cannot
    // even enqueue. It must still be waiting after a generous bound
    // (backpressure, not memory growth); the writer is paused, so this
    // cannot pass by timing luck.
    let blocked =
        tokio::time::timeout(Duration::from_millis(200), log.append(vec![event(99)])).await;
    assert!(blocked.is_err(), "append into a full queue must wait");

    points.resume(FailPoint::AppendBeforeWrite);
    held.await.unwrap()?;
    for task in filling {
        task.await.unwrap()?;
    }
    // The abandoned append enqueued nothing: 7 events, the next is seq 8.
    assert_eq!(log.append(vec![event(7)]).await?.first, Seq(8));
    Ok(())
}
