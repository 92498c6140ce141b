//! Per-failure directives, restart types and the operator's controls:
//! what a supervisor logs and does for each.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::time::Duration;

use common::{
    PATIENCE, ProbeMsg, TestResult, context, drain, expect, open_log, probe, render, start,
    started, stopped, supervisor_stream,
};
use strand_actors::policy::Backoff;
use strand_actors::{ActorError, ChildStatus, Directive, Restart, SupervisorRef, SupervisorSpec};
use strand_eventlog::LogOptions;
use tokio::sync::mpsc;

/// A directive chosen from the failure's text: `"fatal"` stops, `"flaky"`
/// resumes, `"corrupt"` escalates, anything else restarts.
fn by_reason(_child: &str, error: &(dyn std::error::Error + 'static)) -> Directive {
    match error.to_string().as_str() {
        "fatal" => Directive::Stop,
        "flaky" => Directive::Resume,
        "corrupt" => Directive::Escalate,
        _ => Directive::Restart,
    }
}

async fn cast(sup: &SupervisorRef, child: &str, message: ProbeMsg) {
    sup.child::<ProbeMsg>(child)
        .await
        .unwrap()
        .cast(message)
        .unwrap();
}

/// Wait until `child`'s status is `status` (each check is a request queued
/// behind whatever the supervisor is handling; the log's end wakes us).
async fn wait_status(
    sup: &SupervisorRef,
    cx: &strand_actors::Context,
    child: &str,
    status: ChildStatus,
) {
    let mut log = cx.store.watch_status();
    loop {
        let children = sup.children().await.unwrap();
        let found = children.iter().find(|c| c.name == child).unwrap();
        if found.health.status == status {
            return;
        }
        tokio::time::timeout(PATIENCE, log.changed())
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn given_directive_stop_when_the_child_fails_then_it_stays_stopped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup").child(probe("a", &tx).decider(by_reason));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    cast(&sup, "a", ProbeMsg::Fail("fatal".into())).await;
    wait_status(&sup, &cx, "a", ChildStatus::Stopped).await;
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        ["started a", "failed a", "stopped a"]
    );
    assert!(drain(&mut seen).is_empty(), "not started again");
    Ok(())
}

#[tokio::test]
async fn given_directive_resume_when_the_child_fails_then_it_restarts_uncounted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    // No restart allowed at all: a counted restart would escalate.
    let spec = SupervisorSpec::new("sup")
        .intensity(0, Duration::from_secs(3600))
        .child(probe("a", &tx).decider(by_reason));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    for _ in 0..3 {
        cast(&sup, "a", ProbeMsg::Fail("flaky".into())).await;
        expect(&mut seen, started("a")).await;
    }
    let health = &sup.children().await?[0].health;
    assert_eq!((health.errors, health.restarts), (3, 0));
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started a",
            "failed a",
            "started a",
            "failed a",
            "started a",
            "failed a",
            "started a"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_directive_escalate_when_the_child_fails_then_the_supervisor_stops_all_and_fails()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .child(probe("a", &tx))
        .child(probe("b", &tx).decider(by_reason))
        .child(probe("c", &tx));
    let (sup, task) = start(spec, cx.clone()).await;
    for name in ["a", "b", "c"] {
        expect(&mut seen, started(name)).await;
    }
    cast(&sup, "b", ProbeMsg::Fail("corrupt".into())).await;
    tokio::time::timeout(PATIENCE, task).await??;
    assert_eq!(drain(&mut seen), [stopped("c"), stopped("a")]);
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started a",
            "started b",
            "started c",
            "failed b",
            "stopped c",
            "stopped a",
            "escalated"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_restart_types_when_children_exit_normally_or_fail_then_only_permanent_and_failed_transient_restart()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .backoff(Backoff::none())
        .intensity(10, Duration::from_secs(3600))
        .child(probe("perm", &tx))
        .child(probe("trans", &tx).restart(Restart::Transient))
        .child(probe("temp", &tx).restart(Restart::Temporary));
    let (sup, _task) = start(spec, cx.clone()).await;
    for name in ["perm", "trans", "temp"] {
        expect(&mut seen, started(name)).await;
    }
    // A normal exit: permanent restarts, transient does not.
    cast(&sup, "perm", ProbeMsg::Exit).await;
    expect(&mut seen, stopped("perm")).await;
    expect(&mut seen, started("perm")).await;
    cast(&sup, "trans", ProbeMsg::Fail("crash".into())).await;
    expect(&mut seen, started("trans")).await;
    cast(&sup, "trans", ProbeMsg::Exit).await;
    expect(&mut seen, stopped("trans")).await;
    wait_status(&sup, &cx, "trans", ChildStatus::Stopped).await;
    // A failure: temporary is not restarted.
    cast(&sup, "temp", ProbeMsg::Fail("crash".into())).await;
    wait_status(&sup, &cx, "temp", ChildStatus::Stopped).await;
    assert!(drain(&mut seen).is_empty());
    assert_eq!(
        render(&supervisor_stream(&cx.store, "sup").await),
        [
            "started perm",
            "started trans",
            "started temp",
            "stopped perm",
            "restarted perm 1",
            "failed trans",
            "restarted trans 2",
            "stopped trans",
            "failed temp",
            "stopped temp",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_a_running_tree_when_the_operator_stops_and_restarts_children_then_each_is_logged_first_and_uncounted()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .child(probe("a", &tx))
        .child(probe("b", &tx));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    expect(&mut seen, started("b")).await;
    sup.restart_child("a").await?;
    assert_eq!(drain(&mut seen), [stopped("a"), started("a")]);
    sup.stop_child("b").await?;
    assert_eq!(drain(&mut seen), [stopped("b")]);
    let children = sup.children().await?;
    assert_eq!(children[0].health.restarts, 0);
    assert_eq!(children[0].health.status, ChildStatus::Running);
    assert!(children[0].health.uptime.is_some());
    assert_eq!(children[1].health.status, ChildStatus::Stopped);
    assert!(matches!(
        sup.stop_child("zed").await,
        Err(ActorError::UnknownChild { .. })
    ));
    assert!(matches!(
        sup.child_state("a").await,
        Err(ActorError::NotInspectable { .. })
    ));
    // A child without a stream of its own: its history is what the
    // supervisor logged about it.
    let history = render(
        &sup.child_history("a")
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect::<Vec<_>>(),
    );
    assert_eq!(history, ["started a", "stopped a", "started a"]);
    Ok(())
}

/// A supervisor past its intensity escalates to its parent, which restarts
/// it (logged on the parent's stream); the restarted supervisor starts
/// with a fresh window and starts its children again.
#[tokio::test]
async fn given_nested_supervisors_when_the_inner_one_escalates_then_the_outer_one_restarts_it()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let inner = SupervisorSpec::new("inner")
        .intensity(1, Duration::from_secs(3600))
        .backoff(Backoff::none())
        .child(probe("a", &tx));
    let outer = SupervisorSpec::new("outer")
        .backoff(Backoff::none())
        .child(inner.into_child());
    let (outer, _task) = start(outer, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    let inner = outer.supervisor("inner").await?;
    cast(&inner, "a", ProbeMsg::Fail("one".into())).await;
    expect(&mut seen, started("a")).await;
    cast(&inner, "a", ProbeMsg::Fail("two".into())).await;
    // The inner supervisor escalates; the outer restarts it, and it starts
    // its child again.
    expect(&mut seen, started("a")).await;
    wait_status(&outer, &cx, "inner", ChildStatus::Running).await;
    assert_eq!(
        render(&supervisor_stream(&cx.store, "outer").await),
        ["started inner", "failed inner", "restarted inner 1"]
    );
    assert_eq!(
        render(&supervisor_stream(&cx.store, "inner").await),
        [
            "started a",
            "failed a",
            "restarted a 1",
            "failed a",
            "escalated",
            "started a"
        ]
    );
    let inner = outer.supervisor("inner").await?;
    cast(&inner, "a", ProbeMsg::Fail("three".into())).await;
    expect(&mut seen, started("a")).await;
    assert_eq!(inner.children().await?[0].health.restarts, 2);
    Ok(())
}
