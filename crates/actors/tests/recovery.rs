//! Recovery by replay: a durable actor killed mid-stream comes back with
//! the state of its stream (checkpoint + tail), and the state manager comes
//! back with the state of the whole log.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use common::{PATIENCE, TestResult, context, open_log, start};
use ractor::{ActorProcessingErr, RpcReplyPort};
use strand_actors::policy::Backoff;
use strand_actors::{
    ChildSpec, Durable, DurableContext, DurableMsg, DurableOptions, Runtime, RuntimeOptions,
    SupervisorSpec,
};
use strand_eventlog::LogOptions;
use strand_projections::{
    DomainEvent, EventMeta, Projection, ProjectionError, StateHash, StateManager, WorkerId,
};
use strand_replay::ReplayEngine;

/// A projection counting the `RateLimited` events of one key.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    applied: u64,
    hits: u64,
}

impl Projection for Tally {
    const NAME: &'static str = "tally";
    const SNAPSHOT_VERSION: u32 = 1;

    fn empty() -> Self {
        Self::default()
    }

    fn apply(&mut self, meta: EventMeta, event: DomainEvent) -> Result<(), ProjectionError> {
        if let DomainEvent::RateLimited { .. } = event {
            self.hits += 1;
        }
        self.applied = meta.seq;
        Ok(())
    }

    fn applied_seq(&self) -> u64 {
        self.applied
    }

    fn snapshot(&self) -> Result<Vec<u8>, ProjectionError> {
        Ok([self.applied.to_le_bytes(), self.hits.to_le_bytes()].concat())
    }

    fn restore(bytes: &[u8]) -> Result<Self, ProjectionError> {
        let (applied, hits) = bytes
            .split_at_checked(8)
            .ok_or(ProjectionError::SnapshotTrailingBytes { len: bytes.len() })?;
        let word = |b: &[u8]| {
            <[u8; 8]>::try_from(b)
                .map(u64::from_le_bytes)
                .map_err(|_| ProjectionError::SnapshotTrailingBytes { len: bytes.len() })
        };
        Ok(Self {
            applied: word(applied)?,
            hits: word(hits)?,
        })
    }

    fn state_hash(&self) -> StateHash {
        StateHash::of_bytes(&[self.applied.to_le_bytes(), self.hits.to_le_bytes()].concat())
    }
}

#[derive(Debug)]
enum TallyMsg {
    Hit,
    Crash,
    Count(RpcReplyPort<u64>),
}

struct Counter;

impl Durable for Counter {
    type State = Tally;
    type Msg = TallyMsg;

    fn stream(&self) -> String {
        "ratelimit/api".to_owned()
    }

    async fn handle(
        &self,
        context: &mut DurableContext<'_, Tally>,
        message: TallyMsg,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            TallyMsg::Hit => {
                context
                    .persist(vec![DomainEvent::RateLimited {
                        key: "api".to_owned(),
                    }])
                    .await?;
            }
            TallyMsg::Crash => return Err("crash on purpose".into()),
            TallyMsg::Count(reply) => {
                let _ = reply.send(context.state().hits);
            }
        }
        Ok(())
    }
}

type CounterMsg = DurableMsg<TallyMsg>;

async fn count(handle: &strand_actors::ChildHandle<CounterMsg>) -> u64 {
    handle
        .call(|r| DurableMsg::User(TallyMsg::Count(r)), PATIENCE)
        .await
        .unwrap()
}

#[tokio::test]
async fn given_a_durable_actor_killed_mid_stream_when_restarted_then_its_state_equals_a_replay_of_its_stream()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log.clone());
    let options = DurableOptions {
        checkpoint_every: None,
        checkpoint_on_stop: true,
    };
    let spec = SupervisorSpec::new("sup")
        .backoff(Backoff::none())
        .child(ChildSpec::durable("counter", options, || Counter));
    let (sup, _task) = start(spec, cx.clone()).await;
    let handle = sup.child::<CounterMsg>("counter").await?;
    for _ in 0..30 {
        handle.cast(DurableMsg::User(TallyMsg::Hit))?;
    }
    assert_eq!(count(&handle).await, 30);
    let checkpoint_seq = handle.call(DurableMsg::Checkpoint, PATIENCE).await??;
    for _ in 0..12 {
        handle.cast(DurableMsg::User(TallyMsg::Hit))?;
    }
    let before = sup.child_state("counter").await?;
    handle.cast(DurableMsg::User(TallyMsg::Crash))?;
    // Await the new incarnation: its count is answered from recovered state.
    let mut status = cx.store.watch_status();
    while sup.children().await?[0].health.restarts == 0 {
        tokio::time::timeout(PATIENCE, status.changed()).await??;
    }
    assert_eq!(count(&handle).await, 42);
    let after = sup.child_state("counter").await?;
    assert_eq!(after, before, "same applied seq and state hash");
    // An independent replay of the stream from scratch agrees.
    let engine = ReplayEngine::new(log.clone());
    let replayed = tokio::task::spawn_blocking(move || {
        engine.rebuild_stream::<Tally>("ratelimit/api", "no-such-checkpoint", &mut |_| {})
    })
    .await??;
    assert_eq!(replayed.projection.hits, 42);
    assert_eq!(replayed.projection.state_hash(), after.state_hash);
    // The restart itself started from the checkpoint.
    assert!(checkpoint_seq > 0);
    let history = sup.child_history("counter").await?;
    assert_eq!(history.len(), 42, "its stream is its history");
    Ok(())
}

#[tokio::test]
async fn given_a_durable_actor_persisting_to_another_stream_when_handling_then_nothing_is_appended()
-> TestResult {
    struct Stray;
    impl Durable for Stray {
        type State = Tally;
        type Msg = RpcReplyPort<bool>;
        fn stream(&self) -> String {
            "ratelimit/mine".to_owned()
        }
        async fn handle(
            &self,
            context: &mut DurableContext<'_, Tally>,
            reply: RpcReplyPort<bool>,
        ) -> Result<(), ActorProcessingErr> {
            let refused = context
                .persist(vec![DomainEvent::RateLimited {
                    key: "theirs".to_owned(),
                }])
                .await;
            let _ = reply.send(matches!(
                refused,
                Err(strand_actors::ActorError::ForeignStream { .. })
            ));
            Ok(())
        }
    }
    let dir = tempfile::tempdir()?;
    let log = open_log(dir.path(), LogOptions::default()).await;
    let cx = context(log.clone());
    let spec = SupervisorSpec::new("sup").child(ChildSpec::durable(
        "stray",
        DurableOptions::default(),
        || Stray,
    ));
    let (sup, _task) = start(spec, cx).await;
    let handle = sup.child::<DurableMsg<RpcReplyPort<bool>>>("stray").await?;
    let last = log.last_seq();
    assert!(handle.call(DurableMsg::User, PATIENCE).await?);
    assert_eq!(log.last_seq(), last);
    Ok(())
}

fn spawned(n: u64) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(format!("w{n}")),
        labels: vec![],
    }
}

/// Read your writes under many readers: each appends, then queries after
/// its own seq, and sees its own event (queries wait for the catch-up that
/// reaches their seq; none is answered early).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_many_writers_when_each_queries_after_its_seq_then_each_sees_its_own_event()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let (store, state) = (runtime.store().clone(), runtime.state().clone());
        tasks.spawn(async move {
            let last = store.append(&[spawned(n)]).await?.range.last;
            let name = WorkerId::from(format!("w{n}"));
            let seen = state
                .query_after(last, move |s| {
                    (s.applied_seq(), s.workers().iter().any(|w| w.id == name))
                })
                .await?;
            Ok::<_, strand_actors::ActorError>((last, seen))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (last, (applied, seen)) = joined??;
        assert!(
            applied >= last.get(),
            "answered at {applied}, before {last:?}"
        );
        assert!(seen, "the event at {last:?} is not in the state");
    }
    runtime.shutdown().await?;
    Ok(())
}

/// The state manager follows the log; killed, it is restarted and rebuilds
/// to the hash of a full replay; a graceful shutdown checkpoints it, and
/// the next start restores that checkpoint.
#[tokio::test]
async fn given_the_runtime_when_the_state_manager_is_killed_then_it_rebuilds_to_a_full_replay()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
    for n in 0..20 {
        runtime.store().append(&[spawned(n)]).await?;
    }
    let last = runtime.store().append(&[spawned(20)]).await?.range.last;
    runtime.state().wait_applied(last).await?;
    let workers = runtime.state().query(|s| s.workers().len()).await?;
    assert_eq!(workers, 21);
    let storage = runtime.storage().clone();
    let killed = storage
        .child::<strand_actors::StateManagerMsg>("state_manager")
        .await?
        .actor()
        .unwrap();
    killed.kill();
    let mut status = runtime.store().watch_status();
    while storage.children().await?[1].health.restarts == 0 {
        tokio::time::timeout(PATIENCE, status.changed()).await??;
    }
    let state = runtime.state().inspect().await?;
    let log = runtime.store().log().clone();
    let full = tokio::task::spawn_blocking(move || {
        ReplayEngine::new(log).rebuild_from_scratch::<StateManager>(&mut |_| {})
    })
    .await??;
    assert_eq!(state.applied_seq, full.projection.applied_seq());
    assert_eq!(state.state_hash, full.report.state_hash);
    runtime.shutdown().await?;

    // Graceful shutdown checkpointed; the next start restores it.
    let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
    let restored = runtime.state().inspect().await?;
    assert!(restored.applied_seq >= state.applied_seq);
    let log = runtime.store().log().clone();
    let report = tokio::task::spawn_blocking(move || {
        ReplayEngine::new(log).rebuild::<StateManager>(&mut |_| {})
    })
    .await??
    .report;
    assert!(report.checkpoint.is_some(), "shutdown left a checkpoint");
    runtime.shutdown().await?;
    Ok(())
}

/// The tree of DESIGN.md: universe over storage (event store, then state
/// manager); a graceful shutdown stops them in reverse start order, each
/// stop logged first, and the log is flushed last.
#[tokio::test]
async fn given_the_runtime_when_shut_down_then_children_stop_in_reverse_order_logged_first()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
    let tree: Vec<String> = runtime
        .root()
        .children()
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(tree, ["storage"]);
    let storage: Vec<String> = runtime
        .storage()
        .children()
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(storage, ["event_store", "state_manager"]);
    let store = runtime.store().clone();
    runtime.shutdown().await?;
    drop(store);
    let log = open_log(dir.path(), LogOptions::default()).await;
    let store = strand_actors::EventStore::new(log);
    assert_eq!(
        common::render(&common::supervisor_stream(&store, "storage").await),
        [
            "started event_store",
            "started state_manager",
            "stopped state_manager",
            "stopped event_store",
        ]
    );
    assert_eq!(
        common::render(&common::supervisor_stream(&store, "universe").await),
        ["started storage", "stopped storage"]
    );
    Ok(())
}

#[tokio::test]
async fn given_a_runtime_on_a_poisoned_log_when_an_append_fails_then_the_tree_escalates_and_nothing_acknowledged_is_lost()
-> TestResult {
    use strand_eventlog::failpoint::{FailPoint, FailPoints};
    let dir = tempfile::tempdir()?;
    let points = FailPoints::new();
    let log = open_log(dir.path(), LogOptions::default().failpoints(points.clone())).await;
    let runtime = Runtime::start(log, RuntimeOptions::default()).await?;
    let mut acked = Vec::new();
    for n in 0..5 {
        acked.push(runtime.store().append(&[spawned(n)]).await?.range.last);
    }
    points.fail_after(FailPoint::AppendBeforeWrite, 0);
    let refused = runtime.store().append(&[spawned(99)]).await;
    assert!(matches!(refused, Err(strand_actors::ActorError::Poisoned)));
    tokio::time::timeout(PATIENCE, runtime.wait()).await?;
    assert!(!runtime.is_running());
    let errors = runtime.errors();
    assert!(
        errors.iter().any(|e| e.child == "event_store"),
        "{errors:?}"
    );
    let store = runtime.store().clone();
    drop(runtime);
    drop(store);
    points.clear();
    let log = open_log(dir.path(), LogOptions::default()).await;
    let last = *acked.last().unwrap();
    assert!(log.last_seq() >= last);
    let events = log
        .read_range(strand_eventlog::Seq::FIRST, last)?
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(events.len(), usize::try_from(last.get())?);
    Ok(())
}

/// The state manager checkpoints on its interval: each checkpoint is
/// durable, then announced by a `CheckpointTaken` event.
#[tokio::test]
async fn given_a_short_checkpoint_interval_when_events_arrive_then_the_state_manager_checkpoints()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let options = RuntimeOptions {
        checkpoint_every: std::time::Duration::from_millis(20),
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::open(dir.path(), options).await?;
    let last = runtime.store().append(&[spawned(1)]).await?.range.last;
    let mut status = runtime.store().watch_status();
    // A checkpoint may come before the append (of the startup events
    // alone): wait for the one that covers it.
    let (name, seq) = 'wait: loop {
        let events = runtime
            .store()
            .read_stream("checkpoint", strand_eventlog::Seq::FIRST)
            .await?;
        for event in &events {
            let taken = strand_actors::decode(event)?.1;
            let DomainEvent::CheckpointTaken { name, seq } = taken else {
                panic!("a checkpoint event, not {taken:?}");
            };
            if seq >= last.get() {
                break 'wait (name, seq);
            }
        }
        tokio::time::timeout(PATIENCE, status.changed()).await??;
    };
    assert_eq!(name, StateManager::NAME);
    assert!(seq >= last.get());
    runtime.shutdown().await?;
    Ok(())
}

/// The storage supervisor killed: the universe restarts it (a new event
/// store and state manager), and the runtime's state handle finds the new
/// state manager, rebuilt to the log.
#[tokio::test]
async fn given_the_storage_supervisor_killed_when_restarted_then_the_state_handle_finds_the_new_state_manager()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let runtime = Runtime::open(dir.path(), RuntimeOptions::default()).await?;
    let last = runtime.store().append(&[spawned(7)]).await?.range.last;
    runtime.state().wait_applied(last).await?;
    runtime.storage().actor().kill();
    // The universe logs the restart before it acts; wait for it on the log,
    // then for the universe to answer again. A request that reached the
    // killed event store is answered `NotRunning` (never acknowledged), so
    // errors here mean "not yet".
    let mut status = runtime.store().watch_status();
    loop {
        let Ok(events) = runtime
            .store()
            .read_stream("supervisor/universe", strand_eventlog::Seq::FIRST)
            .await
        else {
            // Answered by the killed event store: ask again.
            tokio::task::yield_now().await;
            continue;
        };
        let restarted = events.iter().any(|e| {
            matches!(
                strand_actors::decode(e).map(|d| d.1),
                Ok(DomainEvent::ActorRestarted { child, .. }) if child == "storage"
            )
        });
        if restarted {
            if runtime.root().children().await.is_ok() {
                break;
            }
            tokio::task::yield_now().await;
            continue;
        }
        tokio::time::timeout(PATIENCE, status.changed()).await??;
    }
    let workers = runtime.state().query(|s| s.workers().len()).await?;
    assert_eq!(workers, 1);
    runtime.shutdown().await?;
    Ok(())
}
