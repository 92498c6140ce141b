//! OTP restart strategies on a real, synced log: which children restart,
//! in which order, and what the supervisor logged before acting.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use common::{
    PATIENCE, ProbeMsg, TestResult, context, drain, expect, open_log, probe, render, start,
    started, stopped, supervisor_stream,
};
use strand_actors::policy::Backoff;
use strand_actors::{Strategy, SupervisorSpec};
use strand_eventlog::LogOptions;
use tokio::sync::mpsc;

/// Three probes `a`, `b`, `c` under `strategy`, no backoff; `b` fails once.
/// Returns what the probes reported after `b`'s restart and the stream.
async fn fail_b_under(strategy: Strategy) -> (Vec<common::Seen>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .strategy(strategy)
        .backoff(Backoff::none())
        .child(probe("a", &tx))
        .child(probe("b", &tx))
        .child(probe("c", &tx));
    let (sup, _task) = start(spec, cx.clone()).await;
    for name in ["a", "b", "c"] {
        expect(&mut seen, started(name)).await;
    }
    sup.child::<ProbeMsg>("b")
        .await
        .unwrap()
        .cast(ProbeMsg::Fail("boom".into()))
        .unwrap();
    // The failed child is always started again; wait for that, then let the
    // supervisor finish the restart it is handling.
    let mut reported = Vec::new();
    loop {
        let s = common::next(&mut seen).await;
        let done = s == started("b");
        reported.push(s);
        if done {
            break;
        }
    }
    let _ = tokio::time::timeout(PATIENCE, sup.children())
        .await
        .unwrap()
        .unwrap();
    reported.extend(drain(&mut seen));
    let stream = render(&supervisor_stream(&cx.store, "sup").await);
    (reported, stream)
}

#[tokio::test]
async fn given_one_for_one_when_a_child_fails_then_only_it_restarts() -> TestResult {
    let (reported, stream) = fail_b_under(Strategy::OneForOne).await;
    assert_eq!(reported, vec![started("b")]);
    assert_eq!(
        stream,
        [
            "started a",
            "started b",
            "started c",
            "failed b",
            "restarted b 1"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_one_for_all_when_a_child_fails_then_others_stop_in_reverse_and_all_start_in_order()
-> TestResult {
    let (reported, stream) = fail_b_under(Strategy::OneForAll).await;
    assert_eq!(
        reported,
        vec![
            stopped("c"),
            stopped("a"),
            started("a"),
            started("b"),
            started("c")
        ]
    );
    assert_eq!(
        stream,
        [
            "started a",
            "started b",
            "started c",
            "failed b",
            "stopped c",
            "stopped a",
            "restarted b 1",
            "started a",
            "started c",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_rest_for_one_when_a_child_fails_then_it_and_later_children_restart() -> TestResult {
    let (reported, stream) = fail_b_under(Strategy::RestForOne).await;
    assert_eq!(reported, vec![stopped("c"), started("b"), started("c")]);
    assert_eq!(
        stream,
        [
            "started a",
            "started b",
            "started c",
            "failed b",
            "stopped c",
            "restarted b 1",
            "started c",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn given_a_panicking_child_when_it_panics_then_the_failure_logged_names_the_panic_and_its_location()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let cx = context(open_log(dir.path(), LogOptions::default()).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let spec = SupervisorSpec::new("sup")
        .backoff(Backoff::none())
        .child(probe("a", &tx));
    let (sup, _task) = start(spec, cx.clone()).await;
    expect(&mut seen, started("a")).await;
    sup.child::<ProbeMsg>("a").await?.cast(ProbeMsg::Panic)?;
    expect(&mut seen, started("a")).await;
    let events = supervisor_stream(&cx.store, "sup").await;
    let reason = events
        .iter()
        .find_map(|e| match e {
            strand_projections::DomainEvent::ActorFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(reason.contains("probe a panicked on purpose"), "{reason}");
    assert!(reason.contains("tests/common/mod.rs"), "{reason}");
    let errors = cx.errors.snapshot();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].child, "a");
    Ok(())
}
