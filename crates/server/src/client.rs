//! Talking to an engine through its control socket (hyper, HTTP/1.1 over
//! a Unix stream).

use std::path::Path;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

/// Why the socket could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No engine listens on the socket (none, or a stale file).
    #[error("no engine answers on {path}")]
    NoEngine {
        /// The socket.
        path: String,
    },
    /// The exchange failed after connecting.
    #[error("the control socket failed: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built.
    #[error("bad request: {0}")]
    Request(#[from] hyper::http::Error),
}

/// An answer: its status, content type and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A connection to a data directory's control socket.
#[derive(Debug)]
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    /// Connect to the socket at `path`.
    ///
    /// # Errors
    /// [`ClientError::NoEngine`] when nothing listens there (no file, or a
    /// file left by a process that died).
    pub async fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|_| ClientError::NoEngine {
                path: path.display().to_string(),
            })?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the server closes.
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Send `method path` with an optional JSON body.
    ///
    /// # Errors
    /// The exchange failed.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Reply, ClientError> {
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "strand")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(bytes))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }
}
