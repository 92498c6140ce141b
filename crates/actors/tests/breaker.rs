//! The circuit breaker in front of calls into a child: it opens after
//! repeated failures (logged first), refuses calls without reaching the
//! child, half-opens after its open period, and closes on a good trial.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::time::{Duration, Instant};

use common::{
    PATIENCE, ProbeMsg, Seen, TestResult, context, expect, open_log, probe, render, start, started,
    supervisor_stream,
};
use strand_actors::policy::{Backoff, BreakerConfig, BreakerState};
use strand_actors::{ActorError, ChildHandle, EventStore, SupervisorRef, SupervisorSpec};
use strand_eventlog::LogOptions;
use tokio::sync::mpsc;

const OPEN_FOR: Duration = Duration::from_millis(150);

fn spec(tx: &mpsc::UnboundedSender<Seen>) -> SupervisorSpec {
    SupervisorSpec::new("sup")
        .intensity(100, Duration::from_secs(3600))
        .backoff(Backoff::none())
        .child(probe("a", tx).breaker(BreakerConfig {
            failure_threshold: 2,
            open_for: OPEN_FOR,
        }))
}

/// Wait (on the log's durable end, never by sleeping) until the
/// supervisor's stream holds `entry` `times` times, then until the
/// supervisor has acted on it: it acts right after the append, and a
/// request queued behind that is answered only once it has.
async fn logged_times(sup: &SupervisorRef, store: &EventStore, entry: &str, times: usize) {
    let mut status = store.watch_status();
    loop {
        let events = render(&supervisor_stream(store, "sup").await);
        if events.iter().filter(|e| *e == entry).count() >= times {
            sup.children().await.unwrap();
            return;
        }
        tokio::time::timeout(PATIENCE, status.changed())
            .await
            .unwrap()
            .unwrap();
    }
}

async fn logged(sup: &SupervisorRef, store: &EventStore, entry: &str) {
    logged_times(sup, store, entry, 1).await;
}

async fn ping(handle: &ChildHandle<ProbeMsg>) -> Result<String, ActorError> {
    handle.call(ProbeMsg::Ping, Duration::from_secs(5)).await
}

#[tokio::test]
async fn given_a_breaker_when_the_child_fails_repeatedly_then_it_opens_half_opens_and_closes()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let (sup, _task) = start(spec(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let handle = sup.child::<ProbeMsg>("a").await?;
    assert_eq!(ping(&handle).await?, "a");
    for _ in 0..2 {
        handle.cast(ProbeMsg::Fail("bad".into()))?;
        expect(&mut seen, started("a")).await;
    }
    let opened = Instant::now();
    logged(&sup, &cx.store, "breaker a Open").await;
    assert_eq!(handle.breaker(), BreakerState::Open);
    // Refused without reaching the (running) child.
    assert!(matches!(
        ping(&handle).await,
        Err(ActorError::BreakerOpen { .. })
    ));
    logged(&sup, &cx.store, "breaker a HalfOpen").await;
    assert!(opened.elapsed() >= OPEN_FOR);
    assert_eq!(handle.breaker(), BreakerState::HalfOpen);
    // One trial call passes and succeeds: closed again.
    assert_eq!(ping(&handle).await?, "a");
    logged(&sup, &cx.store, "breaker a Closed").await;
    assert_eq!(handle.breaker(), BreakerState::Closed);
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started a",
            "failed a",
            "restarted a 1",
            "failed a",
            "breaker a Open",
            "restarted a 2",
            "breaker a HalfOpen",
            "breaker a Closed",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_a_half_open_breaker_when_the_trial_call_times_out_then_it_opens_again() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let (sup, _task) = start(spec(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let handle = sup.child::<ProbeMsg>("a").await?;
    for _ in 0..2 {
        handle.cast(ProbeMsg::Fail("bad".into()))?;
        expect(&mut seen, started("a")).await;
    }
    logged(&sup, &cx.store, "breaker a HalfOpen").await;
    let trial = handle.call(ProbeMsg::Hang, Duration::from_millis(50)).await;
    assert!(
        matches!(trial, Err(ActorError::Timeout { .. })),
        "{trial:?}"
    );
    logged_times(&sup, &cx.store, "breaker a Open", 2).await;
    assert_eq!(handle.breaker(), BreakerState::Open);
    let events = render(&supervisor_stream(&cx.store, "sup").await);
    assert_eq!(
        events[6..8],
        ["breaker a HalfOpen".to_owned(), "breaker a Open".to_owned()],
        "{events:?}"
    );
    Ok(())
}

/// A breaker's state is in the log: an open breaker is open again after a
/// process restart, and still half-opens on time.
#[tokio::test]
async fn given_an_open_breaker_when_the_process_restarts_then_it_is_still_open() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (tx, mut seen) = mpsc::unbounded_channel();
    {
        let log = open_log(dir.path(), LogOptions::default()).await;
        let cx = context(log.clone());
        let (sup, task) = start(spec(&tx), cx.clone()).await;
        expect(&mut seen, started("a")).await;
        let handle = sup.child::<ProbeMsg>("a").await?;
        for _ in 0..2 {
            handle.cast(ProbeMsg::Fail("bad".into()))?;
            expect(&mut seen, started("a")).await;
        }
        logged(&sup, &cx.store, "breaker a Open").await;
        sup.actor().stop(None);
        task.await?;
        log.close().await?;
    }
    common::drain(&mut seen);
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (sup, _task) = start(spec(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let handle = sup.child::<ProbeMsg>("a").await?;
    // Restored from the log before the child started: open, or already
    // half-open if its open period ran out meanwhile; never closed.
    assert_ne!(handle.breaker(), BreakerState::Closed);
    logged(&sup, &cx.store, "breaker a HalfOpen").await;
    assert_eq!(ping(&handle).await?, "a");
    logged(&sup, &cx.store, "breaker a Closed").await;
    Ok(())
}
