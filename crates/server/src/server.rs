//! [`Server`]: the API served over TCP and on the data directory's control
//! socket, for `strand serve`, `strand run` and embedding programs alike.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use strand_engine::Engine;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{ApiState, DEFAULT_MAX_BODY_BYTES, router};
use crate::auth::{Token, require};

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Listening beyond loopback needs a bearer token.
    #[error(
        "{addr} is not a loopback address: listening on it needs a bearer token (--token-file or STRAND_TOKEN)"
    )]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// An empty token would let anyone in.
    #[error("the bearer token is empty")]
    EmptyToken,
    /// The TCP address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The control socket cannot be bound.
    #[error("cannot serve the control socket {path}: {source}")]
    Socket {
        /// The socket's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The API of an engine, to serve: on the data directory's control socket
/// by default, and on a TCP address when asked.
#[derive(Debug)]
#[must_use = "a server serves nothing until it is started"]
pub struct Server {
    engine: Arc<Engine>,
    listen: Option<SocketAddr>,
    socket: Option<PathBuf>,
    token: Option<String>,
    max_body: usize,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl Server {
    /// The API of `engine`, on `DATA/strand.sock` (no TCP listener yet).
    pub fn new(engine: Arc<Engine>) -> Self {
        let socket = Some(crate::socket::path(engine.data_dir()));
        Self {
            engine,
            listen: None,
            socket,
            token: None,
            max_body: DEFAULT_MAX_BODY_BYTES,
            metrics: None,
        }
    }

    /// Also listen on `addr` (port 0 picks a free one; see
    /// [`RunningServer::local_addr`]). A non-loopback address needs a
    /// [`token`](Self::token).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Serve the control socket at `path` instead of the data directory's.
    pub fn socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.socket = Some(path.into());
        self
    }

    /// Serve no control socket.
    pub fn without_socket(mut self) -> Self {
        self.socket = None;
        self
    }

    /// Every TCP request must carry `Authorization: Bearer TOKEN`. (The
    /// socket asks for none: only the directory's owner can connect.)
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Serve `GET /metrics` from this Prometheus recorder (see
    /// [`install_prometheus`](crate::install_prometheus)).
    pub fn metrics(mut self, handle: metrics_exporter_prometheus::PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// Refuse request bodies over `bytes` (413).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Bind and start serving.
    ///
    /// # Errors
    /// [`ServerError::TokenRequired`] for a non-loopback address without a
    /// token, [`ServerError::EmptyToken`]; the address or the socket cannot
    /// be bound (nothing is left listening then).
    pub async fn start(self) -> Result<RunningServer, ServerError> {
        if let Some(addr) = self.listen
            && !addr.ip().is_loopback()
            && self.token.is_none()
        {
            return Err(ServerError::TokenRequired { addr });
        }
        if self.token.as_deref().is_some_and(str::is_empty) {
            return Err(ServerError::EmptyToken);
        }
        let ready = Arc::new(AtomicBool::new(true));
        let (stop, stopping) = watch::channel(false);
        let state = Arc::new(ApiState {
            engine: Arc::downgrade(&self.engine),
            ready: Arc::clone(&ready),
            stopping,
            metrics: self.metrics,
        });
        let app = router(state, self.max_body);
        // Bind everything before serving anything: a failure leaves nothing.
        let tcp = match self.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServerError::Listen { addr, source })?,
            ),
            None => None,
        };
        let local_addr = match &tcp {
            Some(listener) => Some(listener.local_addr().map_err(|source| {
                ServerError::Listen {
                    addr: self
                        .listen
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                    source,
                }
            })?),
            None => None,
        };
        let unix = match &self.socket {
            Some(path) => Some(bind_socket(path)?),
            None => None,
        };
        let mut tasks = Vec::new();
        if let Some(listener) = tcp {
            let app = match self.token {
                Some(token) => app.clone().layer(axum::middleware::from_fn_with_state(
                    Token(Arc::from(token)),
                    require,
                )),
                None => app.clone(),
            };
            tasks.push(spawn(listener, app, stop.subscribe()));
        }
        if let Some(listener) = unix {
            tasks.push(spawn(listener, app, stop.subscribe()));
        }
        Ok(RunningServer {
            local_addr,
            socket: self.socket,
            ready,
            stop,
            tasks,
        })
    }
}

/// Bind the control socket at `path`, mode 0600. A socket file there was
/// left by a process that died: the caller holds the engine, so the data
/// directory (RocksDB's lock) is its alone.
fn bind_socket(path: &std::path::Path) -> Result<UnixListener, ServerError> {
    let failed = |source| ServerError::Socket {
        path: path.to_owned(),
        source,
    };
    if path.exists() {
        std::fs::remove_file(path).map_err(failed)?;
    }
    let listener = UnixListener::bind(path).map_err(failed)?;
    // Only the directory's owner may control its engine.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
    Ok(listener)
}

/// Serve `app` on `listener` until `stop` turns true, then finish the
/// requests in flight (live streams end on the same signal).
fn spawn<L>(listener: L, app: Router, mut stop: watch::Receiver<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        if let Err(error) = served {
            tracing::warn!("the API server stopped: {error}");
        }
    })
}

/// A server being served; [`stop`](Self::stop) it before the engine shuts
/// down.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: Option<SocketAddr>,
    socket: Option<PathBuf>,
    ready: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The TCP address it listens on, if any (the port picked for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The control socket it serves, if any.
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        self.socket.as_deref()
    }

    /// From now on `/readyz` answers 503 (the engine is about to stop);
    /// everything else is still served.
    pub fn set_unready(&self) {
        self.ready.store(false, Ordering::Release);
    }

    /// Stop accepting, end live streams, finish the requests in flight,
    /// remove the socket file.
    pub async fn stop(self) {
        self.set_unready();
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}
