//! Shared test fixtures: a real, synced log in a temporary directory, and a
//! probe actor that reports each incarnation's start and graceful stop.

#![allow(dead_code, reason = "each test binary uses a different part")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test fixtures: a failure is the test failing"
)]

use std::path::Path;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use strand_actors::{ChildSpec, Context, EventStore, Supervisor, SupervisorRef, SupervisorSpec};
use strand_eventlog::{EventLog, LogOptions, Seq};
use strand_projections::DomainEvent;
use tokio::sync::mpsc;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// How long a test waits for an event before it fails (never slept).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Open (or reopen) the log in `dir` off the runtime's workers.
pub async fn open_log(dir: &Path, options: LogOptions) -> EventLog {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || EventLog::open(dir, options))
        .await
        .unwrap()
        .unwrap()
}

/// A context over `log`, with the panic hook installed.
pub fn context(log: EventLog) -> Context {
    strand_actors::panic::install();
    Context::new(EventStore::new(log))
}

/// What a probe reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// An incarnation of this child started.
    Started(String),
    /// An incarnation stopped gracefully (`post_stop` ran).
    Stopped(String),
}

pub fn started(name: &str) -> Seen {
    Seen::Started(name.to_owned())
}

pub fn stopped(name: &str) -> Seen {
    Seen::Stopped(name.to_owned())
}

/// What a probe is sent.
#[derive(Debug)]
pub enum ProbeMsg {
    /// Fail the handler with this reason.
    Fail(String),
    /// Panic in the handler.
    Panic,
    /// Stop normally.
    Exit,
    /// Answer with the probe's name.
    Ping(RpcReplyPort<String>),
    /// Never answer (the reply port is kept).
    Hang(RpcReplyPort<String>),
}

/// A child that reports its lifecycle on a channel.
pub struct Probe;

pub struct ProbeState {
    name: String,
    seen: mpsc::UnboundedSender<Seen>,
    hung: Vec<RpcReplyPort<String>>,
}

impl Actor for Probe {
    type Msg = ProbeMsg;
    type State = ProbeState;
    type Arguments = (String, mpsc::UnboundedSender<Seen>);

    async fn pre_start(
        &self,
        _myself: ActorRef<ProbeMsg>,
        (name, seen): Self::Arguments,
    ) -> Result<ProbeState, ActorProcessingErr> {
        let _ = seen.send(Seen::Started(name.clone()));
        Ok(ProbeState {
            name,
            seen,
            hung: Vec::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ProbeMsg>,
        state: &mut ProbeState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.seen.send(Seen::Stopped(state.name.clone()));
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ProbeMsg>,
        message: ProbeMsg,
        state: &mut ProbeState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ProbeMsg::Fail(reason) => return Err(reason.into()),
            ProbeMsg::Panic => panic!("probe {} panicked on purpose", state.name),
            ProbeMsg::Exit => myself.stop(Some("done".to_owned())),
            ProbeMsg::Ping(reply) => {
                let _ = reply.send(state.name.clone());
            }
            ProbeMsg::Hang(reply) => state.hung.push(reply),
        }
        Ok(())
    }
}

/// A permanent probe child called `name`, reporting on `seen`.
pub fn probe(name: &str, seen: &mpsc::UnboundedSender<Seen>) -> ChildSpec {
    let (name, seen) = (name.to_owned(), seen.clone());
    ChildSpec::actor(name.clone(), move |_: &Context| {
        (Probe, (name.clone(), seen.clone()))
    })
}

/// Start `spec` as a top-level supervisor.
pub async fn start(
    spec: SupervisorSpec,
    context: Context,
) -> (SupervisorRef, tokio::task::JoinHandle<()>) {
    let name = spec.name().to_owned();
    let (actor, task) = Actor::spawn(None, Supervisor, (spec, context))
        .await
        .unwrap();
    (SupervisorRef::new(name, actor), task)
}

/// The next thing a probe reports, waiting at most [`PATIENCE`].
pub async fn next(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(PATIENCE, seen.recv())
        .await
        .expect("a probe event in time")
        .expect("the channel open")
}

/// Wait for `expected` (skipping nothing: it must be the next report).
pub async fn expect(seen: &mut mpsc::UnboundedReceiver<Seen>, expected: Seen) {
    assert_eq!(next(seen).await, expected);
}

/// Everything reported so far, without waiting.
pub fn drain(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Vec<Seen> {
    let mut out = Vec::new();
    while let Ok(s) = seen.try_recv() {
        out.push(s);
    }
    out
}

/// The events of a supervisor's stream, in log order.
pub async fn supervisor_stream(store: &EventStore, supervisor: &str) -> Vec<DomainEvent> {
    store
        .read_stream(&format!("supervisor/{supervisor}"), Seq::FIRST)
        .await
        .unwrap()
        .iter()
        .map(|e| strand_actors::decode(e).unwrap().1)
        .collect()
}

/// A compact rendering of supervision events, for order assertions:
/// `"started a"`, `"failed b"`, `"restarted b 1"`, `"stopped c"`,
/// `"backoff b 20"`, `"escalated"`, `"breaker a Open"`.
pub fn render(events: &[DomainEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            DomainEvent::ActorStarted { child, .. } => format!("started {child}"),
            DomainEvent::ActorFailed { child, .. } => format!("failed {child}"),
            DomainEvent::ActorRestarted {
                child, restarts, ..
            } => format!("restarted {child} {restarts}"),
            DomainEvent::ActorStopped { child, .. } => format!("stopped {child}"),
            DomainEvent::RestartBackoffScheduled {
                child, delay_ms, ..
            } => format!("backoff {child} {delay_ms}"),
            DomainEvent::SupervisorEscalated { .. } => "escalated".to_owned(),
            DomainEvent::BreakerChanged { child, state, .. } => {
                format!("breaker {child} {state:?}")
            }
            DomainEvent::EventQuarantined { child, seq, .. } => {
                format!("quarantined {child} {seq}")
            }
            other => format!("{other:?}"),
        })
        .collect()
}
