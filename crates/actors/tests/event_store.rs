//! The event store actor fronts the group-commit writer: concurrent appends
//! through it share fsyncs, and each caller gets its own seqs, durable.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use common::{TestResult, open_log};
use ractor::Actor;
use strand_actors::{EventStore, EventStoreActor};
use strand_eventlog::LogOptions;
use strand_eventlog::failpoint::{FailPoint, FailPoints};
use strand_projections::{DomainEvent, WorkerId};

fn spawned(n: u64) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(format!("w{n}")),
        labels: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_appends_through_the_actor_while_a_write_is_held_when_it_completes_then_few_fsyncs_serve_them_all()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let points = FailPoints::new();
    let log = open_log(dir.path(), LogOptions::default().failpoints(points.clone())).await;
    let store = EventStore::new(log.clone());
    let (actor, task) = Actor::spawn(None, EventStoreActor, store.clone()).await?;

    // Hold the committer at the write of a first append.
    points.pause(FailPoint::AppendBeforeWrite);
    let first = tokio::spawn({
        let store = store.clone();
        async move { store.append(&[spawned(0)]).await }
    });
    let waiter = points.clone();
    tokio::task::spawn_blocking(move || waiter.wait_until_paused(FailPoint::AppendBeforeWrite))
        .await?;

    let mut queued = Vec::new();
    for n in 1..100 {
        let store = store.clone();
        queued.push(tokio::spawn(
            async move { store.append(&[spawned(n)]).await },
        ));
    }
    // Every request has been taken from the writer's queue into the open
    // batch (on a loaded machine the encoder may lag behind the senders:
    // resuming before it staged them would split them over more batches).
    while log.queued() > 0 || log.stats().appends < 100 {
        tokio::task::yield_now().await;
    }
    points.resume(FailPoint::AppendBeforeWrite);

    assert_eq!(first.await??.range.first.get(), 1);
    let mut seqs = Vec::new();
    for task in queued {
        seqs.push(task.await??.range.first.get());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=100).collect::<Vec<_>>());
    let stats = log.stats();
    assert_eq!(stats.events, 100);
    // The held append, then at most two batches; one sync covers every
    // batch written before it starts, so they may share syncs.
    assert!(
        (1..=3).contains(&stats.fsyncs),
        "{} fsyncs for 100 appends",
        stats.fsyncs
    );
    actor.stop(None);
    task.await?;
    Ok(())
}

#[tokio::test]
async fn given_the_actor_is_down_when_appending_and_reading_then_the_handle_reaches_the_log_directly()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let log = open_log(dir.path(), LogOptions::default()).await;
    let store = EventStore::new(log);
    let appended = store.append(&[spawned(1), spawned(2)]).await?;
    assert_eq!(appended.range.len(), 2);
    let events = store
        .read_range(appended.range.first, appended.range.last)
        .await?;
    assert_eq!(events.len(), 2);
    let stream = store
        .read_stream("worker/w2", strand_eventlog::Seq::FIRST)
        .await?;
    assert_eq!(stream.len(), 1);
    assert_eq!(strand_actors::decode(&stream[0])?.1, spawned(2));
    Ok(())
}

#[tokio::test]
async fn given_a_long_stream_when_read_a_page_at_a_time_then_each_page_is_its_limit_in_seq_order()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let log = open_log(dir.path(), LogOptions::default()).await;
    let store = EventStore::new(log);
    let (actor, task) = Actor::spawn(None, EventStoreActor, store.clone()).await?;
    // Two streams interleaved: a page of one never holds the other's.
    for n in 0..300 {
        store.append(&[spawned(7), spawned(n % 2 + 100)]).await?;
    }
    let mut seen = Vec::new();
    let mut from = strand_eventlog::Seq::FIRST;
    loop {
        let page = store.read_stream_page("worker/w7", from, 64).await?;
        assert!(page.len() <= 64);
        let Some(last) = page.last() else { break };
        from = last.seq.next();
        seen.extend(page.iter().map(|e| e.seq.get()));
        if page.len() < 64 {
            break;
        }
    }
    let all: Vec<u64> = store
        .read_stream("worker/w7", strand_eventlog::Seq::FIRST)
        .await?
        .iter()
        .map(|e| e.seq.get())
        .collect();
    assert_eq!(all.len(), 300);
    assert_eq!(seen, all);
    assert!(
        store
            .read_stream_page("worker/w7", from, 0)
            .await?
            .is_empty()
    );
    actor.stop(None);
    task.await?;
    Ok(())
}
