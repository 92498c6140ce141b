//! Bearer tokens: with a token configured, every request must carry
//! `Authorization: Bearer TOKEN`; any other gets 401 and nothing else. The
//! one exception is the dashboard's page shell and assets (`GET /ui/...`),
//! which hold no data: a browser cannot attach a token to a navigation, so
//! the page is served, asks for the token, and sends it on every API call.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use crate::api::ApiError;

/// The token a request must carry.
#[derive(Clone)]
pub(crate) struct Token(pub(crate) Arc<str>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// Refuse a request without the token (compared in constant time).
pub(crate) async fn require(State(token): State<Token>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.0.as_bytes())))
        || (request.method().is_safe() && crate::dashboard::is_public(request.uri().path()));
    if allowed {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}
