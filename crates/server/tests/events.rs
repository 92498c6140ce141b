//! The live event stream: durable events only, each once and in seq
//! order, resumable with `Last-Event-ID`, for one client or two hundred.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::fmt::Write as _;
use std::net::SocketAddr;

use common::{PAIR, Sse, TestResult, engine, get, post, serve, stop};
use serde_json::json;

/// Every seq of `run`'s events in the log, through the paged route.
async fn logged(addr: SocketAddr, run: &str) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut after = 0;
    loop {
        let page = get(addr, &format!("/api/v1/runs/{run}/events?after={after}"))
            .await
            .json();
        seqs.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_u64().unwrap()),
        );
        match page["next"].as_u64() {
            Some(next) => after = next,
            None => return seqs,
        }
    }
}

/// Read `stream` until the run's end; the seqs it sent.
async fn until_finished(stream: &mut Sse) -> Vec<u64> {
    let mut seqs = Vec::new();
    while let Some(event) = stream.next().await {
        let seq = event.id.unwrap();
        assert_eq!(event.data["seq"], seq, "the id is the event's seq");
        seqs.push(seq);
        if event.data["kind"] == "workflow_completed" {
            break;
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_follower_when_a_run_proceeds_then_it_sees_each_event_once_in_order_and_resumes_after_the_last()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    let started = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": PAIR, "id": "pair-1" }),
    )
    .await;
    assert_eq!(started.json()["run"], "pair-1");
    let mut stream = Sse::open(addr, "/api/v1/events?run=pair-1&after=0", None).await;
    // The gated bead holds the run open while the stream is read.
    let first = stream.next().await.unwrap();
    assert_eq!(first.data["kind"], "run_submitted", "{:?}", first.data);
    gate.add_permits(1);
    let mut seen = vec![first.id.unwrap()];
    seen.extend(until_finished(&mut stream).await);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in seq order, once: {seen:?}"
    );
    assert_eq!(seen, logged(addr, "pair-1").await, "every event of the run");

    // Reconnecting after the third event resumes with the fourth.
    let mut resumed = Sse::open(addr, "/api/v1/events?run=pair-1", Some(seen[2])).await;
    assert_eq!(resumed.next().await.unwrap().id, Some(seen[3]));
    drop(resumed);
    drop(stream);
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_two_hundred_followers_of_one_busy_run_when_it_finishes_then_each_saw_every_event_once_in_order()
-> TestResult {
    const FOLLOWERS: usize = 200;
    const WIDE: usize = 40;
    let dir = tempfile::tempdir()?;
    let (engine, gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    let mut workflow = "name = \"wide\"\n[[task]]\nid = \"root\"\nhandler = \"gated\"\n".to_owned();
    for n in 0..WIDE {
        let _ = write!(
            workflow,
            "[[task]]\nid = \"leaf-{n:02}\"\nhandler = \"echo\"\ndeps = [\"root\"]\n"
        );
    }
    workflow.push_str("[[task]]\nid = \"join\"\nhandler = \"echo\"\ndeps = [");
    let leaves: Vec<String> = (0..WIDE).map(|n| format!("\"leaf-{n:02}\"")).collect();
    workflow.push_str(&leaves.join(", "));
    workflow.push_str("]\n");
    post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": workflow, "id": "wide-1" }),
    )
    .await;

    let mut followers = Vec::new();
    for _ in 0..FOLLOWERS {
        let mut stream = Sse::open(addr, "/api/v1/events?run=wide-1&after=0", None).await;
        followers.push(tokio::spawn(
            async move { until_finished(&mut stream).await },
        ));
    }
    // Every follower is connected before the run moves on.
    gate.add_permits(1);
    let expected = {
        engine.wait(&"wide-1".into()).await?;
        logged(addr, "wide-1").await
    };
    assert!(
        expected.len() > 4 * WIDE,
        "a busy run: {} events",
        expected.len()
    );
    for follower in followers {
        assert_eq!(follower.await?, expected);
    }
    stop(running, engine).await
}
