//! The control socket: the API on a Unix socket in the data directory
//! (`DATA/strand.sock`, mode 0600), so that the CLI reaches the engine that
//! holds the directory (one process holds it: RocksDB's lock). Only the
//! directory's owner may connect; no token is asked for.

use std::path::{Path, PathBuf};

pub use crate::client::{Client, ClientError, Reply};

/// The socket's file name in the data directory.
pub const SOCKET_NAME: &str = "strand.sock";

/// The socket path of a data directory.
pub fn path(data: &Path) -> PathBuf {
    data.join(SOCKET_NAME)
}

/// A run or bead id as one URL path segment (percent-encoded).
pub fn escape(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}
