//! Strand's web layer: the engine's HTTP/JSON API (axum), served over TCP
//! by `strand serve` and on the data directory's control socket by every
//! process that holds an engine, the live event stream (Server-Sent
//! Events from the log's durable end), and the client the CLI talks to the
//! socket with. The engine crates know none of this: it sits on
//! `strand_engine::Engine`'s queries, commands and durable event feed.
//!
//! ```no_run
//! # async fn serve(engine: std::sync::Arc<strand_engine::Engine>) -> Result<(), Box<dyn std::error::Error>> {
//! use strand_server::Server;
//!
//! // The API on 127.0.0.1:7070 and on DATA/strand.sock.
//! let running = Server::new(engine)
//!     .listen("127.0.0.1:7070".parse()?)
//!     .start()
//!     .await?;
//! // ... until the program stops:
//! running.stop().await;
//! # Ok(())
//! # }
//! ```

mod api;
mod auth;
pub mod client;
mod dashboard;
mod metrics;
mod origin;
mod server;
pub mod socket;

pub use api::{API_PREFIX, DEFAULT_MAX_BODY_BYTES};
pub use metrics::{MetricsError, install_prometheus};
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use server::{RunningServer, Server, ServerError};
