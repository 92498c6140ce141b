//! Restart intensity (OTP's `MaxR` within `MaxT`), escalation, and restart
//! backoff, on a real, synced log; and the restart budget carried across a
//! process restart through the supervisor's stream.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::time::{Duration, Instant};

use common::{
    PATIENCE, ProbeMsg, Seen, TestResult, context, expect, open_log, probe, render, start, started,
    stopped, supervisor_stream,
};
use strand_actors::policy::Backoff;
use strand_actors::{ChildStatus, SupervisorRef, SupervisorSpec};
use strand_eventlog::LogOptions;
use strand_projections::DomainEvent;
use tokio::sync::mpsc;

fn two_per_hour(tx: &mpsc::UnboundedSender<Seen>) -> SupervisorSpec {
    SupervisorSpec::new("sup")
        .intensity(2, Duration::from_secs(3600))
        .backoff(Backoff::none())
        .child(probe("a", tx))
        .child(probe("b", tx))
}

async fn fail(sup: &SupervisorRef, child: &str) {
    sup.child::<ProbeMsg>(child)
        .await
        .unwrap()
        .cast(ProbeMsg::Fail(format!("{child} fails")))
        .unwrap();
}

/// The OTP supervisor suite's scenario: with 2 restarts per hour, two kills
/// are survived and the third escalates: the supervisor stops its other
/// children (logged first) and fails.
#[tokio::test]
async fn given_two_restarts_per_hour_when_a_child_fails_three_times_then_the_third_escalates()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let (sup, task) = start(two_per_hour(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    expect(&mut seen, started("b")).await;
    for _ in 0..2 {
        fail(&sup, "a").await;
        expect(&mut seen, started("a")).await;
    }
    fail(&sup, "a").await;
    expect(&mut seen, stopped("b")).await;
    tokio::time::timeout(PATIENCE, task).await??;
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started a",
            "started b",
            "failed a",
            "restarted a 1",
            "failed a",
            "restarted a 2",
            "failed a",
            "stopped b",
            "escalated",
        ]
    );
    let history = cx.errors.snapshot();
    assert_eq!(history.len(), 4, "three failures and the escalation");
    assert_eq!(history[3].child, "sup");
    Ok(())
}

/// Restart counts are a fold of the supervisor's stream: after a graceful
/// stop and a reopen of the log, one more failure escalates.
#[tokio::test]
async fn given_two_restarts_logged_when_the_process_restarts_then_the_next_failure_escalates()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (tx, mut seen) = mpsc::unbounded_channel();
    {
        let log = open_log(dir.path(), LogOptions::default()).await;
        let cx = context(log.clone());
        let (sup, task) = start(two_per_hour(&tx), cx).await;
        expect(&mut seen, started("a")).await;
        expect(&mut seen, started("b")).await;
        for _ in 0..2 {
            fail(&sup, "a").await;
            expect(&mut seen, started("a")).await;
        }
        sup.actor().stop(Some("process exit".into()));
        task.await?;
        log.close().await?;
    }
    common::drain(&mut seen);
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log);
    let (sup, task) = start(two_per_hour(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    expect(&mut seen, started("b")).await;
    let health = sup.children().await?;
    assert_eq!(
        health[0].health.restarts, 2,
        "restarts replayed from the log"
    );
    assert_eq!(health[0].health.errors, 2);
    fail(&sup, "a").await;
    tokio::time::timeout(PATIENCE, task).await??;
    let events = render(&supervisor_stream(&cx.store, "sup").await);
    assert_eq!(events.last().map(String::as_str), Some("escalated"));
    Ok(())
}

/// A process that dies with its children running logs no stop: on the next
/// start each such child's loss is logged before its fresh start, without
/// counting a restart (a process kill is not the child's fault, and a pool
/// of workers lost at once must not escalate on the next boot).
#[tokio::test]
async fn given_a_process_killed_with_children_running_when_restarted_then_the_loss_is_logged_uncounted()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = |tx: &mpsc::UnboundedSender<Seen>| {
        SupervisorSpec::new("sup")
            .intensity(1, Duration::from_secs(3600))
            .backoff(Backoff::none())
            .child(probe("a", tx))
    };
    for _ in 0..3 {
        let log = open_log(dir.path(), LogOptions::default()).await;
        let (sup, task) = start(spec(&tx), context(log.clone())).await;
        expect(&mut seen, started("a")).await;
        // No post_stop anywhere: as if the process were SIGKILLed.
        sup.actor().kill();
        task.await?;
        log.close().await?;
    }
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log);
    let (sup, _task) = start(spec(&tx), cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let health = &sup.children().await?[0].health;
    assert_eq!((health.errors, health.restarts), (3, 0));
    assert_eq!(
        health.last_error.as_deref(),
        Some(strand_actors::LOST_AT_EXIT)
    );
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started a",
            "failed a",
            "started a",
            "failed a",
            "started a",
            "failed a",
            "started a",
        ]
    );
    Ok(())
}

/// Consecutive failures back off on the configured curve (jitter included,
/// deterministic by seed): each delay is logged before the restart waits
/// for it, and the restart comes no earlier.
#[tokio::test]
async fn given_a_backoff_curve_when_a_child_keeps_failing_then_restarts_wait_the_logged_delays()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let backoff = Backoff {
        immediate: 1,
        initial: Duration::from_millis(40),
        multiplier: 2,
        max: Duration::from_millis(200),
        jitter: 0.5,
        reset_after: Duration::from_secs(3600),
        seed: 7,
    };
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .intensity(10, Duration::from_secs(3600))
        .backoff(backoff)
        .child(probe("a", &tx));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let mut waited = Vec::new();
    for _ in 0..5 {
        let failed_at = Instant::now();
        fail(&sup, "a").await;
        expect(&mut seen, started("a")).await;
        waited.push(failed_at.elapsed());
    }
    let logged: Vec<u64> = supervisor_stream(&cx.store, "sup")
        .await
        .iter()
        .filter_map(|e| match e {
            DomainEvent::RestartBackoffScheduled { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    let curve: Vec<u64> = (2..=5)
        .map(|n| u64::try_from(backoff.delay("a", n).as_millis()).unwrap())
        .collect();
    assert_eq!(
        logged, curve,
        "failures 2..5 back off; the first is immediate"
    );
    for (n, nominal) in [(2, 40), (3, 80), (4, 160), (5, 200)] {
        let delay = logged[n - 2];
        assert!((nominal / 2..=nominal).contains(&delay), "{n}: {delay}");
        assert!(
            waited[n - 1] >= Duration::from_millis(delay),
            "{n}: {waited:?}"
        );
    }
    Ok(())
}

/// While a restart waits out its backoff, the supervisor reports the child
/// as backing off until the logged time.
#[tokio::test]
async fn given_a_long_backoff_when_listing_children_then_the_child_is_backing_off() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let backoff = Backoff {
        immediate: 0,
        initial: Duration::from_secs(3600),
        max: Duration::from_secs(3600),
        jitter: 0.0,
        ..Backoff::default()
    };
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .backoff(backoff)
        .child(probe("a", &tx));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    fail(&sup, "a").await;
    // The restart is logged (with its delay) before the child is left down.
    let mut status = cx.store.watch_status();
    loop {
        let info = sup.children().await?;
        if let ChildStatus::BackingOff { until_ms } = info[0].health.status {
            assert!(until_ms > cx.clock.now_ms() + 3_000_000);
            break;
        }
        tokio::time::timeout(PATIENCE, status.changed()).await??;
    }
    assert!(sup.child::<ProbeMsg>("a").await?.actor().is_none());
    Ok(())
}
