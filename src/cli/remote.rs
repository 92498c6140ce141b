//! Asking the engine that holds the data directory, through its control
//! socket. Every command that can be answered by a running engine tries
//! this first and falls back to the log itself when no engine answers (no
//! socket, or one left by a process that died).

use hyper::Method;
use serde::de::DeserializeOwned;

use super::{CliError, Context};
use crate::socket::{Client, Reply};

/// Send `method url` (with a JSON body) to the engine holding `ctx.data`:
/// its reply, whatever its status, or `None` when no engine answers.
///
/// # Errors
/// The runtime cannot start; the exchange failed after connecting.
pub(crate) fn ask(
    ctx: &Context,
    method: Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> Result<Option<Reply>, CliError> {
    let path = crate::socket::path(&ctx.data);
    if !path.exists() {
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        let Ok(mut client) = Client::connect(&path).await else {
            return Ok(None);
        };
        let reply = client
            .send(method, url, body)
            .await
            .map_err(|source| CliError::Socket { source })?;
        Ok(Some(reply))
    })
}

/// A reply that is not a success, as the error the engine answered with.
pub(crate) fn refusal(reply: &Reply) -> CliError {
    let answer = reply.json();
    let field = |key: &str| {
        answer
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    CliError::Remote {
        status: reply.status.as_u16(),
        code: field("code").unwrap_or_else(|| "unknown".to_owned()),
        message: field("error").unwrap_or_default(),
    }
}

/// A successful reply's body as `T`; a refusal as its error.
///
/// # Errors
/// [`CliError::Remote`] for a refusal; [`CliError::BadAnswer`] for a body
/// that is not a `T`.
pub(crate) fn decode<T: DeserializeOwned>(url: &str, reply: &Reply) -> Result<T, CliError> {
    if !reply.status.is_success() {
        return Err(refusal(reply));
    }
    serde_json::from_slice(&reply.body).map_err(|e| CliError::BadAnswer {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}
