//! `strand bench serve`: the HTTP API under load, in one process. An engine
//! runs a layered DAG of no-op beads alone (the baseline), then again while
//! many loopback connections read one small run (`GET /api/v1/runs/{id}`)
//! at a set rate (or as fast as they can); then many connections start one-bead runs. Reported:
//! requests/s and p50/p99 latency of reads and of starts, and bead
//! throughput under read load as a ratio of the one without.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::json;
use strand_actors::orchestration::TaskContext;
use strand_projections::RunId;
use strand_server::Server;
use tokio::net::TcpStream;

use super::Percentiles;
use crate::cli::{CliError, Context, Status};
use crate::engine::{Engine, RunInput};

/// The run the readers read: a diamond of five no-op beads.
const PROBE: &str = "name = \"probe\"\n[[task]]\nid = \"a\"\nhandler = \"noop\"\n\
                     [[task]]\nid = \"b\"\nhandler = \"noop\"\ndeps = [\"a\"]\n\
                     [[task]]\nid = \"c\"\nhandler = \"noop\"\ndeps = [\"a\"]\n\
                     [[task]]\nid = \"d\"\nhandler = \"noop\"\ndeps = [\"b\", \"c\"]\n\
                     [[task]]\nid = \"e\"\nhandler = \"noop\"\ndeps = [\"d\"]\n";

/// `strand bench serve` arguments.
#[derive(Debug, Args)]
pub struct ServeBenchArgs {
    /// Beads in the layered DAG run alone and under read load.
    #[arg(long, default_value_t = 10_000)]
    pub beads: usize,
    /// Connections reading one run meanwhile.
    #[arg(long, default_value_t = 32)]
    pub readers: usize,
    /// Runs started through the API.
    #[arg(long, default_value_t = 1_000)]
    pub starts: usize,
    /// Connections starting them.
    #[arg(long, default_value_t = 32)]
    pub starters: usize,
    /// Reads per second over all readers (0: as fast as they can).
    #[arg(long, default_value_t = 10_000)]
    pub read_rate: u64,
    /// What the readers ask for (`/healthz` measures the server without
    /// the engine's state).
    #[arg(long, default_value = "/api/v1/runs/probe")]
    pub read: String,
    /// Seed of the DAG.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<std::path::PathBuf>,
}

fn bench_error(reason: String) -> CliError {
    CliError::Usage {
        name: "bench serve",
        reason,
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Self, CliError> {
        let stream = TcpStream::connect(addr).await.map_err(CliError::Runtime)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| bench_error(e.to_string()))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Send a request; its status and latency in µs.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(u16, u64), CliError> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "bench")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| bench_error(e.to_string()))?;
        let started = Instant::now();
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| bench_error(e.to_string()))?;
        let status = response.status().as_u16();
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| bench_error(e.to_string()))?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Ok((status, micros))
    }
}

/// Latencies of a load, summed up.
fn summary(mut latencies: Vec<u64>, errors: usize, elapsed: Duration) -> serde_json::Value {
    let count = latencies.len();
    let p = Percentiles::of(&mut latencies);
    #[expect(clippy::cast_precision_loss, reason = "rates for reporting")]
    let per_sec = count as f64 / elapsed.as_secs_f64().max(1e-9);
    #[expect(clippy::cast_precision_loss, reason = "milliseconds for reporting")]
    let ms = |us: u64| (us as f64 / 10.0).round() / 100.0;
    json!({
        "requests": count,
        "errors": errors,
        "per_sec": per_sec.round(),
        "p50_ms": ms(p.p50),
        "p99_ms": ms(p.p99),
        "max_ms": ms(p.max),
    })
}

/// Run the layered DAG; beads/s.
async fn beads_per_sec(engine: &Engine, args: &ServeBenchArgs, id: &str) -> Result<f64, CliError> {
    let workflow = super::engine::layered(args.beads, args.seed)?;
    let started = Instant::now();
    let run = engine
        .start_with_id(&workflow, RunId::from(id), RunInput::new())
        .await?
        .run;
    engine.wait(&run).await?;
    #[expect(clippy::cast_precision_loss, reason = "a rate for reporting")]
    let rate = args.beads as f64 / started.elapsed().as_secs_f64().max(1e-9);
    Ok(rate.round())
}

/// Starts of one-bead runs through the API, each its own id, from
/// `args.starters` connections: latencies, errors, elapsed.
async fn starts(
    addr: SocketAddr,
    args: &ServeBenchArgs,
) -> Result<(Vec<u64>, usize, Duration), CliError> {
    let workflow = "name = \"one\"\n[[task]]\nid = \"only\"\nhandler = \"noop\"\n";
    let per_starter = args.starts.div_ceil(args.starters);
    let starts_started = Instant::now();
    let mut starters = Vec::new();
    for starter in 0..args.starters {
        let mut connection = Connection::open(addr).await?;
        starters.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0_usize);
            for n in 0..per_starter {
                let body = json!({ "workflow": workflow, "id": format!("s-{starter}-{n}") });
                let body = Bytes::from(body.to_string());
                match connection.send(Method::POST, "/api/v1/runs", body).await {
                    Ok((200, micros)) => latencies.push(micros),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut start_latencies, mut start_errors) = (Vec::new(), 0);
    for starter in starters {
        let (latencies, errors) = starter.await.map_err(|e| bench_error(e.to_string()))?;
        start_latencies.extend(latencies);
        start_errors += errors;
    }
    let starts_elapsed = starts_started.elapsed();

    Ok((start_latencies, start_errors, starts_elapsed))
}

async fn measure(
    args: &ServeBenchArgs,
    dir: &std::path::Path,
) -> Result<serde_json::Value, CliError> {
    let engine = Arc::new(
        Engine::builder(dir)
            .workers(100)
            .handler("noop", |_: TaskContext| async { Ok(String::new()) })
            .open()
            .await?,
    );
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .await?;
    let addr = running
        .local_addr()
        .ok_or_else(|| bench_error("the server has no address".into()))?;

    let alone = beads_per_sec(&engine, args, "alone").await?;
    // What the readers read: a small finished run (a 10,000-bead run's
    // document is megabytes; a dashboard pages through those).
    let probe = crate::workflow::Workflow::from_toml_str("probe.toml", PROBE)?;
    let probe = engine
        .start_with_id(&probe, RunId::from("probe"), RunInput::new())
        .await?
        .run;
    engine.wait(&probe).await?;

    // Reads of the finished run while the second one runs.
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..args.readers {
        let done = Arc::clone(&done);
        let path = args.read.clone();
        let mut connection = Connection::open(addr).await?;
        // Each reader's share of the rate, as a tick to wait for.
        let mut pace = (args.read_rate > 0).then(|| {
            #[expect(clippy::cast_precision_loss, reason = "a period")]
            let period = args.readers as f64 / args.read_rate as f64;
            let mut tick = tokio::time::interval(Duration::from_secs_f64(period));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        });
        readers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0_usize);
            while !done.load(Ordering::Acquire) {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                match connection.send(Method::GET, &path, Bytes::new()).await {
                    Ok((200, micros)) => latencies.push(micros),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let reads_started = Instant::now();
    let loaded = beads_per_sec(&engine, args, "loaded").await?;
    done.store(true, Ordering::Release);
    let reads_elapsed = reads_started.elapsed();
    let (mut read_latencies, mut read_errors) = (Vec::new(), 0);
    for reader in readers {
        let (latencies, errors) = reader.await.map_err(|e| bench_error(e.to_string()))?;
        read_latencies.extend(latencies);
        read_errors += errors;
    }

    let (start_latencies, start_errors, starts_elapsed) = starts(addr, args).await?;

    running.stop().await;
    let engine =
        Arc::try_unwrap(engine).map_err(|_| bench_error("the engine is still shared".into()))?;
    engine.shutdown().await?;
    Ok(json!({
        "reads": {
            "connections": args.readers,
            "rate_asked": args.read_rate,
            "route": format!("GET {}", args.read),
            "probe": "a finished 5-bead diamond, run id `probe`",
            "summary": summary(read_latencies, read_errors, reads_elapsed),
        },
        "starts": {
            "connections": args.starters,
            "route": "POST /api/v1/runs",
            "summary": summary(start_latencies, start_errors, starts_elapsed),
        },
        "beads_per_sec": {
            "alone": alone,
            "under_read_load": loaded,
            "ratio": (loaded / alone.max(1.0) * 100.0).round() / 100.0,
        },
    }))
}

/// Run `strand bench serve`.
///
/// # Errors
/// Bad arguments (exit 2); the engine or the server failed.
pub fn run(args: &ServeBenchArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.beads == 0 || args.readers == 0 || args.starters == 0 || args.starts == 0 {
        return Err(bench_error(
            "beads, readers, starts and starters must be at least 1".into(),
        ));
    }
    let tmp = super::temp_dir(args.tmp.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let figures = runtime.block_on(measure(args, tmp.path()))?;
    let doc = json!({ "bench": "serve", "figures": figures });
    let at = |pointer: &str| figures.pointer(pointer).cloned().unwrap_or_default();
    let text = format!(
        "reads: {} req/s, p50 {} ms, p99 {} ms over {} connections\nstarts: {} req/s, p50 {} ms, p99 {} ms\nbeads/s alone {}, under read load {} (x{})",
        at("/reads/summary/per_sec"),
        at("/reads/summary/p50_ms"),
        at("/reads/summary/p99_ms"),
        args.readers,
        at("/starts/summary/per_sec"),
        at("/starts/summary/p50_ms"),
        at("/starts/summary/p99_ms"),
        at("/beads_per_sec/alone"),
        at("/beads_per_sec/under_read_load"),
        at("/beads_per_sec/ratio"),
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
