//! The rate limiter: per-key token buckets with a non-blocking acquire,
//! refusals in the log, and no burst past capacity across a restart.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::fmt::Write as _;
use std::time::Duration;

use strand::actors::orchestration::{RateLimiterMsg, RateLimits, TaskContext, TaskError};
use strand::actors::policy::Backoff;
use strand::engine::Engine;
use strand::projections::RunStatus;
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const LIMITS: RateLimits = RateLimits {
    capacity: 3,
    refill_every: Duration::from_millis(50),
};

/// Wait, on the log's durable end (never by sleeping), until the limiter
/// logged its refusals: the end of its refill period.
async fn next_refill(engine: &Engine, logged_before: u64) -> u64 {
    let mut status = engine.runtime().store().watch_status();
    loop {
        let last = status.borrow().last_seq;
        engine.runtime().state().wait_applied(last).await.unwrap();
        let logged = engine
            .runtime()
            .state()
            .query(|s| s.rate_limited("api"))
            .await
            .unwrap();
        if logged > logged_before {
            return logged;
        }
        tokio::time::timeout(Duration::from_secs(20), status.changed())
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_bucket_of_three_when_acquiring_then_three_pass_per_period_and_refusals_are_logged()
-> TestResult {
    let dir = tempfile::tempdir()?;
    // A period long enough that four calls never straddle a refill.
    let limits = RateLimits {
        refill_every: Duration::from_millis(300),
        ..LIMITS
    };
    let engine = Engine::builder(dir.path())
        .rate_limits(limits)
        .open()
        .await?;
    let limiter = engine.rate_limiter().clone();
    // A new limiter starts empty until its first refill.
    assert!(!limiter.try_acquire("api").await?);
    let logged = next_refill(&engine, 0).await;
    assert_eq!(logged, 1);
    let grants: Vec<bool> = futures_grants(&limiter, 4).await;
    assert_eq!(grants, [true, true, true, false]);
    assert_eq!(next_refill(&engine, logged).await, 2);
    assert!(limiter.try_acquire("api").await?, "refilled");
    // Keys are independent.
    assert!(limiter.try_acquire("other").await?);

    // A restarted limiter starts empty: no burst past capacity.
    let queue = engine.runtime().root().supervisor("queue").await?;
    let killed = queue
        .child::<RateLimiterMsg>("rate_limiter")
        .await?
        .actor()
        .unwrap();
    killed.kill();
    let mut status = engine.runtime().store().watch_status();
    while queue.children().await?[0].health.restarts == 0 {
        tokio::time::timeout(Duration::from_secs(20), status.changed()).await??;
    }
    assert!(!limiter.try_acquire("api").await?);
    engine.shutdown().await?;
    Ok(())
}

async fn futures_grants(
    limiter: &strand::actors::orchestration::RateLimiter,
    n: usize,
) -> Vec<bool> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(limiter.try_acquire("api").await.unwrap());
    }
    out
}

/// Handlers reach the limiter through their context: a refused call is a
/// retryable failure, retried after a backoff, until every bead got its
/// token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_handlers_that_take_tokens_when_the_bucket_runs_dry_then_beads_retry_and_complete()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = Engine::builder(dir.path())
        .rate_limits(LIMITS)
        .retry_backoff(Backoff {
            immediate: 0,
            initial: Duration::from_millis(20),
            max: Duration::from_millis(40),
            jitter: 0.0,
            ..Backoff::default()
        })
        .handler("call-api", |cx: TaskContext| async move {
            if cx.rate_limiter.try_acquire("api").await.unwrap_or(false) {
                Ok("called".to_owned())
            } else {
                Err(TaskError::retryable("rate limited"))
            }
        })
        .open()
        .await?;
    let mut toml = String::from("name = \"calls\"\n");
    for i in 0..8 {
        writeln!(
            toml,
            "[[task]]\nid = \"c{i}\"\nhandler = \"call-api\"\nretries = 100"
        )?;
    }
    let outcome = engine
        .run(&Workflow::from_toml_str("calls.toml", &toml)?)
        .await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    let last = engine.runtime().store().log().last_seq();
    engine.runtime().state().wait_applied(last).await?;
    let refusals = engine
        .runtime()
        .state()
        .query(|s| s.rate_limited("api"))
        .await?;
    assert!(
        refusals >= 1,
        "8 calls through a bucket of 3 were throttled"
    );
    engine.shutdown().await?;
    Ok(())
}
