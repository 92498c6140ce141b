//! The control socket: a small HTTP/JSON API on a Unix socket in the data
//! directory (`DATA/strand.sock`, mode 0600), served by the process that
//! holds an engine, so that the CLI reaches a running engine (one process
//! holds a data directory: RocksDB's lock).
//!
//! Routes (JSON unless said; errors are `{ "code", "error" }`):
//!
//! | method and path | does |
//! |---|---|
//! | `GET /v1/status` | every run and the workers ([`crate::views::Overview`]) |
//! | `GET /v1/runs?state=&definition=&limit=&since_ms=` | runs, newest first ([`crate::views::RunList`]) |
//! | `POST /v1/runs` | start a run: `{ "workflow": TOML text, "source"?, "id"?, "input"? }`, answers `{ "run", "existing" }` once durable |
//! | `GET /v1/runs/{run}` | one run: beads, attempts, outputs ([`crate::views::RunDetail`]) |
//! | `GET /v1/runs/{run}/beads/{bead}/output` | the bead's output, raw, with its content type (409 `no_output` with the bead's `state` before it completed) |
//! | `POST /v1/runs/{run}/{cancel,pause,resume,retry}` | a control; body `{ "reason"?, "beads"? }` |
//!
//! Built on axum (server) and hyper (client), not hand-written HTTP.

mod client;
mod server;

pub use client::{Client, ClientError, Reply};
pub use server::{SocketServer, serve, serve_engine};

/// The socket's file name in the data directory.
pub const SOCKET_NAME: &str = "strand.sock";

/// The socket path of a data directory.
pub fn path(data: &std::path::Path) -> std::path::PathBuf {
    data.join(SOCKET_NAME)
}

/// A run or bead id as one URL path segment (percent-encoded).
pub fn escape(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}
