//! `strand bench actors`: Strand's supervised actors against bare ractor,
//! measured in one run:
//!
//! - (a) call round trip: a request/response through a [`ChildHandle`] (the
//!   child's current incarnation, its breaker, a timeout) vs `ActorRef::call`
//!   with the same timeout on a bare ractor actor. `ratio_call_p99` =
//!   strand p99 / bare p99.
//! - (b) restart: a panic in a supervised durable actor until its new
//!   incarnation is ready, with the failure and restart logged (one synced
//!   append), its checkpoint restored and its stream's tail replayed, vs a
//!   bare ractor supervisor that respawns the child on `ActorFailed`.
//!
//! Both sides share the process, the runtime and the panic hook (Strand's,
//! which records message and location without a backtrace).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use ractor::{
    Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent, rpc::CallResult,
};
use serde_json::json;
use strand_actors::policy::Backoff;
use strand_actors::{
    ActorError, ChildHandle, ChildSpec, Context as TreeContext, Durable, DurableContext,
    DurableMsg, DurableOptions, EventStore, EventStoreActor, Supervisor, SupervisorRef,
    SupervisorSpec,
};
use strand_eventlog::{EventLog, LogOptions};
use strand_projections::{DomainEvent, StateManager, WorkerId};
use tokio::sync::mpsc;

use super::Percentiles;
use crate::cli::{CliError, Context, Status};

/// `strand bench actors` arguments.
#[derive(Debug, Args)]
pub struct ActorsBenchArgs {
    /// Request/response round trips measured on each side.
    #[arg(long, default_value_t = 100_000)]
    pub calls: u64,
    /// Restarts measured on each side.
    #[arg(long, default_value_t = 1_000)]
    pub restarts: u64,
    /// Events in the restarted actor's checkpoint.
    #[arg(long, default_value_t = 100)]
    pub checkpointed_events: u64,
    /// Events in its stream after the checkpoint, replayed on each restart.
    #[arg(long, default_value_t = 10)]
    pub tail_events: u64,
    /// Where the temporary log goes (default: the system's temp directory).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
}

/// Timeout given to every call on both sides.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What both sides' call targets answer.
#[derive(Debug)]
enum EchoMsg {
    Echo(u64, RpcReplyPort<u64>),
}

struct Echo;

impl Actor for Echo {
    type Msg = EchoMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<EchoMsg>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<EchoMsg>,
        EchoMsg::Echo(n, reply): EchoMsg,
        (): &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = reply.send(n);
        Ok(())
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn bench_error(reason: String) -> CliError {
    CliError::Usage {
        name: "bench actors",
        reason,
    }
}

async fn bare_calls(calls: u64) -> Result<Vec<u64>, CliError> {
    let (actor, task) = Actor::spawn(None, Echo, ())
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let mut samples = Vec::with_capacity(usize::try_from(calls).unwrap_or(0));
    for n in 0..calls {
        let start = Instant::now();
        let answer = actor
            .call(|reply| EchoMsg::Echo(n, reply), Some(CALL_TIMEOUT))
            .await;
        samples.push(ns(start.elapsed()));
        if !matches!(answer, Ok(CallResult::Success(m)) if m == n) {
            return Err(bench_error("a bare ractor call failed".into()));
        }
    }
    actor.stop(None);
    let _ = task.await;
    Ok(samples)
}

async fn strand_calls(handle: &ChildHandle<EchoMsg>, calls: u64) -> Result<Vec<u64>, CliError> {
    let mut samples = Vec::with_capacity(usize::try_from(calls).unwrap_or(0));
    for n in 0..calls {
        let start = Instant::now();
        let answer = handle
            .call(|reply| EchoMsg::Echo(n, reply), CALL_TIMEOUT)
            .await?;
        samples.push(ns(start.elapsed()));
        if answer != n {
            return Err(bench_error("a Strand call answered wrongly".into()));
        }
    }
    Ok(samples)
}

/// The restarted durable actor: its state is the StateManager of its own
/// stream (`worker/bench`).
struct Restartee {
    ready: mpsc::UnboundedSender<Instant>,
}

#[derive(Debug)]
enum RestarteeMsg {
    /// Append one event to its stream.
    Spawned(RpcReplyPort<()>),
    Panic,
}

const RESTARTEE: &str = "bench";

impl Durable for Restartee {
    type State = StateManager;
    type Msg = RestarteeMsg;

    fn stream(&self) -> String {
        format!("worker/{RESTARTEE}")
    }

    async fn started(
        &self,
        _: &mut DurableContext<'_, StateManager>,
    ) -> Result<(), ActorProcessingErr> {
        let _ = self.ready.send(Instant::now());
        Ok(())
    }

    async fn handle(
        &self,
        context: &mut DurableContext<'_, StateManager>,
        message: RestarteeMsg,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RestarteeMsg::Spawned(reply) => {
                context
                    .persist(vec![DomainEvent::WorkerSpawned {
                        worker: WorkerId::from(RESTARTEE.to_owned()),
                        labels: Vec::new(),
                    }])
                    .await?;
                let _ = reply.send(());
            }
            RestarteeMsg::Panic => panic!("bench: restart me"),
        }
        Ok(())
    }
}

/// A bare ractor supervisor: respawn the child on every `ActorFailed`.
struct BareSupervisor;

struct BareState {
    ready: mpsc::UnboundedSender<(Instant, ActorRef<BareChildMsg>)>,
}

#[derive(Debug)]
enum BareChildMsg {
    Panic,
}

struct BareChild;

impl Actor for BareChild {
    type Msg = BareChildMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<BareChildMsg>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<BareChildMsg>,
        BareChildMsg::Panic: BareChildMsg,
        (): &mut (),
    ) -> Result<(), ActorProcessingErr> {
        panic!("bench: restart me")
    }
}

impl BareSupervisor {
    async fn spawn_child(
        myself: &ActorRef<()>,
        state: &BareState,
    ) -> Result<(), ActorProcessingErr> {
        let (child, _) = Actor::spawn_linked(None, BareChild, (), myself.get_cell()).await?;
        let _ = state.ready.send((Instant::now(), child));
        Ok(())
    }
}

impl Actor for BareSupervisor {
    type Msg = ();
    type State = BareState;
    type Arguments = mpsc::UnboundedSender<(Instant, ActorRef<BareChildMsg>)>;

    async fn pre_start(
        &self,
        _: ActorRef<()>,
        ready: Self::Arguments,
    ) -> Result<BareState, ActorProcessingErr> {
        Ok(BareState { ready })
    }

    async fn post_start(
        &self,
        myself: ActorRef<()>,
        state: &mut BareState,
    ) -> Result<(), ActorProcessingErr> {
        Self::spawn_child(&myself, state).await
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut BareState,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(..) = event {
            Self::spawn_child(&myself, state).await?;
        }
        Ok(())
    }
}

async fn bare_restarts(restarts: u64) -> Result<Vec<u64>, CliError> {
    let (tx, mut ready) = mpsc::unbounded_channel();
    let (sup, task) = Actor::spawn(None, BareSupervisor, tx)
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let (_, mut child) = ready
        .recv()
        .await
        .ok_or_else(|| bench_error("bare child never started".into()))?;
    let mut samples = Vec::new();
    for _ in 0..restarts {
        let start = Instant::now();
        child
            .send_message(BareChildMsg::Panic)
            .map_err(|e| bench_error(e.to_string()))?;
        let (at, next) = ready
            .recv()
            .await
            .ok_or_else(|| bench_error("bare child never restarted".into()))?;
        samples.push(ns(at.duration_since(start)));
        child = next;
    }
    sup.stop(None);
    let _ = task.await;
    Ok(samples)
}

async fn strand_restarts(
    sup: &SupervisorRef,
    ready: &mut mpsc::UnboundedReceiver<Instant>,
    args: &ActorsBenchArgs,
) -> Result<Vec<u64>, CliError> {
    let handle = sup.child::<DurableMsg<RestarteeMsg>>("restartee").await?;
    let spawned = |handle: ChildHandle<DurableMsg<RestarteeMsg>>| async move {
        handle
            .call(
                |reply| DurableMsg::User(RestarteeMsg::Spawned(reply)),
                CALL_TIMEOUT,
            )
            .await
    };
    for _ in 0..args.checkpointed_events {
        spawned(handle.clone()).await?;
    }
    handle.call(DurableMsg::Checkpoint, CALL_TIMEOUT).await??;
    for _ in 0..args.tail_events {
        spawned(handle.clone()).await?;
    }
    let mut samples = Vec::new();
    for _ in 0..args.restarts {
        let start = Instant::now();
        handle.cast(DurableMsg::User(RestarteeMsg::Panic))?;
        let at = ready
            .recv()
            .await
            .ok_or_else(|| bench_error("restartee never restarted".into()))?;
        samples.push(ns(at.duration_since(start)));
        // The supervisor publishes the new incarnation when its restart
        // handling ends; a request queued behind it waits for that.
        sup.children().await?;
    }
    Ok(samples)
}

fn figures(samples: &mut [u64]) -> serde_json::Value {
    let p = Percentiles::of(samples);
    json!({ "p50_ns": p.p50, "p99_ns": p.p99, "max_ns": p.max, "samples": samples.len() })
}

fn ratio(a: u64, b: u64) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
    let r = if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (r * 1000.0).round() / 1000.0
}

async fn measure(
    args: &ActorsBenchArgs,
    log: EventLog,
) -> Result<(serde_json::Value, String), CliError> {
    strand_actors::panic::install();
    // Two thousand panics on purpose: recorded, not printed.
    strand_actors::panic::set_quiet(true);
    let store = EventStore::new(log);
    let (store_actor, store_task) = Actor::spawn(None, EventStoreActor, store.clone())
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let context = TreeContext::new(store.clone());
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    let options = DurableOptions {
        checkpoint_every: None,
        checkpoint_on_stop: false,
    };
    let spec = SupervisorSpec::new("bench")
        .intensity(u32::MAX, Duration::from_secs(1))
        .backoff(Backoff::none())
        .child(ChildSpec::actor("echo", |_: &TreeContext| (Echo, ())))
        .child(ChildSpec::durable("restartee", options, move || {
            Restartee {
                ready: ready_tx.clone(),
            }
        }));
    let (sup, sup_task) = Actor::spawn(None, Supervisor, (spec, context))
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let sup = SupervisorRef::new("bench", sup);
    let echo = sup.child::<EchoMsg>("echo").await?;
    // The first incarnation's start is not a restart.
    let _ = ready.recv().await;

    // Warm both paths, then alternate halves so drift hits both sides.
    let warm = args.calls.min(10_000) / 10;
    bare_calls(warm).await?;
    strand_calls(&echo, warm).await?;
    let half = args.calls.div_ceil(2);
    let mut bare = bare_calls(half).await?;
    let mut strand = strand_calls(&echo, half).await?;
    bare.extend(bare_calls(half).await?);
    strand.extend(strand_calls(&echo, half).await?);
    let (bare_call, strand_call) = (Percentiles::of(&mut bare), Percentiles::of(&mut strand));

    let mut bare_restart = bare_restarts(args.restarts).await?;
    let mut strand_restart = strand_restarts(&sup, &mut ready, args).await?;
    let (bare_r, strand_r) = (
        Percentiles::of(&mut bare_restart),
        Percentiles::of(&mut strand_restart),
    );
    let restarts_logged = sup
        .children()
        .await?
        .iter()
        .map(|c| c.health.restarts)
        .sum::<u64>();

    sup.actor().stop(None);
    let _ = sup_task.await;
    store_actor.stop(None);
    let _ = store_task.await;
    store.log().close().await.map_err(ActorError::from)?;

    let text = format!(
        "call     p50/p99: strand {} / {} ns, bare ractor {} / {} ns\nrestart  p50/p99: strand {} / {} ns, bare ractor {} / {} ns",
        strand_call.p50,
        strand_call.p99,
        bare_call.p50,
        bare_call.p99,
        strand_r.p50,
        strand_r.p99,
        bare_r.p50,
        bare_r.p99,
    );
    let doc = json!({
        "bench": "actors",
        "call": {
            "bare_ractor": figures(&mut bare),
            "strand": figures(&mut strand),
            "ratio_call_p50": ratio(strand_call.p50, bare_call.p50),
            "ratio_call_p99": ratio(strand_call.p99, bare_call.p99),
            "timeout_ms": CALL_TIMEOUT.as_millis(),
        },
        "restart": {
            "bare_ractor": figures(&mut bare_restart),
            "strand": figures(&mut strand_restart),
            "ratio_restart_p99": ratio(strand_r.p99, bare_r.p99),
            "strand_p99_under_1ms": strand_r.p99 < 1_000_000,
            "restarts_logged": restarts_logged,
            "checkpointed_events": args.checkpointed_events,
            "tail_events_replayed": args.tail_events,
        },
    });
    Ok((doc, text))
}

/// Run the bench.
///
/// # Errors
/// Storage and actor errors.
pub fn run(args: &ActorsBenchArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.calls == 0 || args.restarts == 0 {
        return Err(CliError::Usage {
            name: "--calls/--restarts",
            reason: "must be at least 1".into(),
        });
    }
    let tmp = super::temp_dir(args.tmp.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let log = EventLog::open(tmp.path().join("strand"), LogOptions::default())?;
    let (doc, text) = runtime.block_on(measure(args, log))?;
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
