//! A run's events, paged, and the live event stream (Server-Sent Events).
//!
//! The stream follows the log's durable end: only durable events are sent,
//! each with its seq as the SSE `id`, so a client that reconnects with
//! `Last-Event-ID` resumes right after the last one it saw. It is pulled:
//! the next page is read from the log when the client has taken the last
//! one, so the log itself is the buffer. A slow client holds one page
//! (at most [`PAGE`] events) and falls behind; it never makes the server
//! buffer without bound.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Weak};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use strand_engine::{Engine, FedEvent};
use strand_eventlog::LogStatus;
use strand_projections::RunId;
use tokio::sync::watch;

use super::{ApiError, ApiState};

/// Events read from the log at a time, for a page or a stream.
pub(crate) const PAGE: usize = 256;

/// `?after=&limit=` of a page of a run's events.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// A run's events with `seq > after`, from the log: `{ events, next }`,
/// `next` being the `after` of the following page (`null` at the end).
pub(super) async fn page(
    State(state): State<Arc<ApiState>>,
    Path(run): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let id = RunId::from(run.as_str());
    let known = {
        let id = id.clone();
        state
            .engine()?
            .query(move |projection, _| projection.run(&id).is_some())
            .await?
    };
    if !known {
        return Err(ApiError::unknown_run(&run));
    }
    let limit = query.limit.unwrap_or(PAGE).clamp(1, 10 * PAGE);
    let events = state
        .engine()?
        .events_after(query.after.unwrap_or(0), Some(&id), limit)
        .await?;
    let next = (events.len() == limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(axum::Json(json!({ "events": events, "next": next })))
}

/// `?run=&after=` of the live stream.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FollowQuery {
    run: Option<String>,
    after: Option<u64>,
}

/// Live events (every run's, or one run's) as Server-Sent Events, after
/// `Last-Event-ID` (or `?after=`, or from the durable end when neither).
pub(super) async fn follow(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    query: Result<Query<FollowQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let resumed = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_last_event_id",
                        "Last-Event-ID must be a seq this stream sent",
                    )
                })?,
        ),
    };
    let engine = state.engine()?;
    // Seen before reading the durable end, so no change in between is missed.
    let mut durable = engine.watch_durable();
    durable.borrow_and_update();
    let after = resumed
        .or(query.after)
        .unwrap_or_else(|| engine.durable_seq());
    let follower = Follower {
        engine: Arc::downgrade(&engine),
        stopping: state.stopping.clone(),
        run: query.run.map(RunId::from),
        after,
        durable,
        pending: VecDeque::new(),
        done: false,
    };
    let stream = futures::stream::unfold(follower, Follower::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One client's place in the log.
struct Follower {
    /// Not an owner, as the server's state.
    engine: Weak<Engine>,
    /// The server stops: streams end, so it can.
    stopping: watch::Receiver<bool>,
    run: Option<RunId>,
    /// The last seq sent.
    after: u64,
    durable: watch::Receiver<LogStatus>,
    /// Read, not sent yet (at most one page).
    pending: VecDeque<FedEvent>,
    /// The stream ends after what is pending.
    done: bool,
}

impl Follower {
    /// The next event to send, reading a page or waiting for the durable
    /// end to move when none is pending.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(fed) = self.pending.pop_front() {
                self.after = fed.seq;
                let event = Event::default()
                    .id(fed.seq.to_string())
                    .json_data(&fed)
                    .unwrap_or_else(|_| Event::default().id(fed.seq.to_string()));
                return Some((Ok(event), self));
            }
            if self.done {
                return None;
            }
            // Mark the current end seen first: a batch made durable while
            // the page is read wakes the wait below.
            self.durable.borrow_and_update();
            // The engine stopped: so does the stream.
            let engine = self.engine.upgrade()?;
            let read = engine
                .events_after(self.after, self.run.as_ref(), PAGE)
                .await;
            drop(engine);
            match read {
                Ok(events) if !events.is_empty() => self.pending.extend(events),
                Ok(_) => {
                    if *self.stopping.borrow() {
                        return None;
                    }
                    tokio::select! {
                        moved = self.durable.changed() => {
                            if moved.is_err() {
                                // The log closed: the engine is shutting down.
                                return None;
                            }
                        }
                        _ = self.stopping.changed() => return None,
                    }
                }
                Err(error) => {
                    self.done = true;
                    let reason = json!({ "code": "feed_failed", "error": error.to_string() });
                    let event = Event::default().event("error").data(reason.to_string());
                    return Some((Ok(event), self));
                }
            }
        }
    }
}
