//! A poison event: one event of a durable actor's stream that its state
//! cannot take (here the projection panics on it), so every restart fails
//! the same way. Restart intensity stops the loop; the supervisor
//! quarantines the seq (durably) instead of escalating; the actor comes back
//! without it; its sibling never notices; and the quarantine holds across a
//! process restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::time::Duration;

use common::{PATIENCE, Seen, TestResult, context, open_log, probe, render, start};
use ractor::{ActorProcessingErr, RpcReplyPort};
use strand_actors::policy::Backoff;
use strand_actors::{
    ChildSpec, ChildStatus, Durable, DurableContext, DurableMsg, DurableOptions, EventStore,
    SupervisorRef, SupervisorSpec,
};
use strand_eventlog::LogOptions;
use strand_projections::{
    DomainEvent, EventMeta, Projection, ProjectionError, StateHash, StateManager, WorkerId,
};
use strand_replay::ReplayEngine;
use tokio::sync::mpsc;

/// Slots offered by worker `w1`: the sum of the first label of each spawn,
/// trusted to be a number (the bug the poison event finds).
#[derive(Debug, Default)]
struct Slots {
    applied: u64,
    slots: u64,
}

impl Projection for Slots {
    const NAME: &'static str = "slots";
    const SNAPSHOT_VERSION: u32 = 1;

    fn empty() -> Self {
        Self::default()
    }

    fn apply(&mut self, meta: EventMeta, event: DomainEvent) -> Result<(), ProjectionError> {
        if let DomainEvent::WorkerSpawned { labels, .. } = event {
            let first = labels.first().map_or("0", String::as_str);
            self.slots += first.parse::<u64>().expect("a slot count");
        }
        self.applied = meta.seq;
        Ok(())
    }

    fn applied_seq(&self) -> u64 {
        self.applied
    }

    fn snapshot(&self) -> Result<Vec<u8>, ProjectionError> {
        Ok([self.applied.to_le_bytes(), self.slots.to_le_bytes()].concat())
    }

    fn restore(_bytes: &[u8]) -> Result<Self, ProjectionError> {
        Err(ProjectionError::SnapshotTrailingBytes { len: 0 })
    }

    fn state_hash(&self) -> StateHash {
        StateHash::of_bytes(&[self.applied.to_le_bytes(), self.slots.to_le_bytes()].concat())
    }
}

struct Pool;

impl Durable for Pool {
    type State = Slots;
    type Msg = RpcReplyPort<u64>;

    fn stream(&self) -> String {
        "worker/w1".to_owned()
    }

    async fn handle(
        &self,
        context: &mut DurableContext<'_, Slots>,
        reply: RpcReplyPort<u64>,
    ) -> Result<(), ActorProcessingErr> {
        let _ = reply.send(context.state().slots);
        Ok(())
    }
}

fn spawned(labels: &str) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from("w1"),
        labels: vec![labels.to_owned()],
    }
}

fn died() -> DomainEvent {
    DomainEvent::WorkerDied {
        worker: WorkerId::from("w1"),
        reason: "gone".to_owned(),
    }
}

const MAX_RESTARTS: u32 = 3;

fn spec(seen: &mpsc::UnboundedSender<Seen>) -> SupervisorSpec {
    let options = DurableOptions {
        checkpoint_every: None,
        checkpoint_on_stop: false,
    };
    SupervisorSpec::new("sup")
        .intensity(MAX_RESTARTS, Duration::from_secs(3600))
        .backoff(Backoff::none())
        .child(probe("sibling", seen))
        .child(ChildSpec::durable("pool", options, || Pool))
}

/// Wait until `pool` runs, following the log's appends (never sleeping).
async fn pool_running(sup: &SupervisorRef, store: &EventStore) -> Vec<u64> {
    let mut status = store.watch_status();
    loop {
        let children = sup.children().await.unwrap();
        let pool = children.iter().find(|c| c.name == "pool").unwrap();
        if pool.health.status == ChildStatus::Running {
            return pool.health.quarantined.clone();
        }
        tokio::time::timeout(PATIENCE, status.changed())
            .await
            .expect("the supervisor to act")
            .unwrap();
    }
}

async fn slots(sup: &SupervisorRef) -> u64 {
    let pool = sup
        .child::<DurableMsg<RpcReplyPort<u64>>>("pool")
        .await
        .unwrap();
    pool.call(DurableMsg::User, PATIENCE).await.unwrap()
}

#[tokio::test]
async fn given_an_event_that_panics_a_durable_actors_recovery_when_restarts_run_out_then_it_is_quarantined_and_the_rest_keeps_going()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log.clone());
    cx.store
        .append(&[spawned("4"), died(), spawned("four"), died(), spawned("5")])
        .await?;
    let poison_seq = 3;

    let (seen, mut reports) = mpsc::unbounded_channel();
    let (sup, task) = start(spec(&seen), cx.clone()).await;
    let quarantined = pool_running(&sup, &cx.store).await;
    assert_eq!(quarantined, vec![poison_seq]);
    assert_eq!(slots(&sup).await, 9, "every event but the poison applied");

    let events = render(&common::supervisor_stream(&cx.store, "sup").await);
    let mut expected = vec!["started sibling".to_owned(), "started pool".to_owned()];
    for n in 1..=MAX_RESTARTS {
        expected.extend(["failed pool".to_owned(), format!("restarted pool {n}")]);
    }
    expected.extend([
        "failed pool".to_owned(),
        format!("quarantined pool {poison_seq}"),
        "restarted pool 1".to_owned(),
    ]);
    assert_eq!(events, expected);

    // The sibling was never touched, and nothing escalated.
    let children = sup.children().await?;
    let sibling = children.iter().find(|c| c.name == "sibling").unwrap();
    assert_eq!(
        (sibling.health.status, sibling.health.restarts),
        (ChildStatus::Running, 0)
    );
    assert_eq!(
        common::drain(&mut reports),
        vec![common::started("sibling")]
    );
    // Reported: the error history and the state manager's view of the child.
    assert!(
        cx.errors
            .snapshot()
            .iter()
            .any(|e| e.reason.starts_with("event 3 of worker/w1 quarantined"))
    );
    let engine = ReplayEngine::new(log.clone());
    let state = tokio::task::spawn_blocking(move || {
        engine.rebuild_from_scratch::<StateManager>(&mut |_| {})
    })
    .await??
    .projection;
    let record = state
        .supervision()
        .into_iter()
        .find(|c| (c.supervisor.as_str(), c.child.as_str()) == ("sup", "pool"))
        .map(|c| c.record)
        .unwrap();
    assert!(
        record
            .last_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("event 3 quarantined")),
        "{record:?}"
    );
    println!(
        "poison event: seq {poison_seq} quarantined after {} failed recoveries; sibling restarts 0",
        MAX_RESTARTS + 1
    );

    // A new process: the supervisor's memory (a fold of its stream) still
    // has the quarantine, so the pool starts at once without the poison.
    sup.actor().stop(None);
    task.await?;
    let (seen, _reports) = mpsc::unbounded_channel();
    let (sup, _task) = start(spec(&seen), cx.clone()).await;
    assert_eq!(pool_running(&sup, &cx.store).await, vec![poison_seq]);
    assert_eq!(slots(&sup).await, 9);
    let events = render(&common::supervisor_stream(&cx.store, "sup").await);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("failed pool"))
            .count(),
        usize::try_from(MAX_RESTARTS + 1)?,
        "no new failure after the restart"
    );
    Ok(())
}
