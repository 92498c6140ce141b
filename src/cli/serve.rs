//! `strand serve`: the engine as a long-running service. It opens the
//! engine on `--data`, serves the HTTP API on `--listen` and on the data
//! directory's control socket, and runs until SIGINT or SIGTERM. Then it
//! stops gracefully: it stops accepting requests, lets running attempts
//! finish for up to `--grace`, checkpoints and closes the log last. A
//! second signal stops it at once; that is still durable (everything
//! acknowledged is synced), the attempts left running run again next time.
//!
//! With `-o json`, the one JSON document on stdout is printed once it
//! listens: `{ "listening": ADDR, "socket": PATH }`. Prometheus scrapes
//! `GET /metrics`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use strand_server::{Server, ServerError};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::retention::RetentionArgs;
use super::run::worker_labels;
use super::trim::ServeTrimArgs;
use super::{CliError, Context, Status};
use crate::engine::Engine;

/// `strand serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the HTTP API listens. Beyond loopback it needs a token.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// Unlabelled workers: beads run at once.
    #[arg(long, default_value_t = 100)]
    pub workers: usize,
    /// Labelled workers for tasks with `affinity`, `LABEL=COUNT` (repeatable).
    #[arg(long = "worker-label", value_name = "LABEL=COUNT")]
    pub worker_label: Vec<String>,
    /// A file holding the bearer token every request must carry
    /// (`Authorization: Bearer TOKEN`); else `STRAND_TOKEN`, if set.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// How long running attempts may take to finish on a stop.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub grace: Duration,
    /// How long finished runs stay (forever unless set).
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// When the log's front is trimmed (on with a retention policy).
    #[command(flatten)]
    pub trimming: ServeTrimArgs,
}

/// The bearer token: the file's first line, else `STRAND_TOKEN`.
fn token(args: &ServeArgs) -> Result<Option<String>, CliError> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
            path: path.clone(),
            source,
        })?;
        let token = text.lines().next().unwrap_or_default().trim().to_owned();
        return Ok(Some(token));
    }
    Ok(std::env::var("STRAND_TOKEN").ok())
}

/// SIGINT or SIGTERM.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> Result<Self, CliError> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).map_err(CliError::Runtime)?,
            terminate: signal(SignalKind::terminate()).map_err(CliError::Runtime)?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Run `strand serve`.
///
/// # Errors
/// A non-loopback `--listen` without a token, an empty token (exit 2,
/// nothing opened); the engine or the listener cannot start.
pub fn run(args: &ServeArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let labelled = worker_labels(&args.worker_label)?;
    let retention = args.retention.policy()?;
    let trimming = args.trimming.schedule(retention.is_forever())?;
    let token = token(args)?;
    // Refused before the engine opens: nothing is written.
    if !args.listen.ip().is_loopback() && token.is_none() {
        return Err(ServerError::TokenRequired { addr: args.listen }.into());
    }
    if token.as_deref().is_some_and(str::is_empty) {
        return Err(ServerError::EmptyToken.into());
    }
    let mut builder = Engine::builder(&ctx.data)
        .workers(args.workers)
        .retention(retention)
        .trimming(trimming);
    for (label, count) in labelled {
        builder = builder.labelled_workers(label, count);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    // Installed before the engine opens, so that every handle it makes
    // reaches it.
    let metrics = strand_server::install_prometheus()?;
    runtime.block_on(async {
        let mut signals = Signals::new()?;
        let engine = Arc::new(builder.open().await?);
        let mut server = Server::new(Arc::clone(&engine))
            .listen(args.listen)
            .metrics(metrics);
        if let Some(token) = token {
            server = server.token(token);
        }
        let running = match server.start().await {
            Ok(running) => running,
            Err(error) => {
                close(engine).await?;
                return Err(error.into());
            }
        };
        let listening = running.local_addr().map(|a| a.to_string());
        let socket = running.socket_path().map(|p| p.display().to_string());
        let doc = json!({ "listening": listening, "socket": socket });
        ctx.emit(
            &doc,
            &format!(
                "serving on http://{} and {}",
                listening.as_deref().unwrap_or("-"),
                socket.as_deref().unwrap_or("no socket")
            ),
        )?;
        signals.next().await;
        tracing::warn!(
            "stopping: no new requests, running attempts have {:?} to finish (signal again to stop at once)",
            args.grace
        );
        running.set_unready();
        let graceful = async {
            running.stop().await;
            engine.drain(args.grace).await
        };
        tokio::select! {
            drained = graceful => {
                match drained {
                    Ok(true) => tracing::info!("every running attempt finished"),
                    Ok(false) => tracing::warn!("attempts still running after {:?} run again on the next start", args.grace),
                    Err(error) => tracing::warn!("cannot drain the scheduler: {error}"),
                }
                close(engine).await
            }
            () = signals.next() => {
                // Everything acknowledged is synced already; what runs now
                // runs again on the next start.
                tracing::warn!("stopping at once");
                Ok(())
            }
        }
    })?;
    Ok(Status::Ok)
}

/// Shut the engine down (checkpoint, the log last) once nothing else
/// holds it.
async fn close(engine: Arc<Engine>) -> Result<(), CliError> {
    let engine = Arc::try_unwrap(engine).map_err(|_| {
        CliError::Runtime(std::io::Error::other(
            "the engine is still in use after the server stopped",
        ))
    })?;
    engine.shutdown().await?;
    Ok(())
}
