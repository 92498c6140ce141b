//! The workflow branch of the tree: a worker pool, then the scheduler.
//!
//! ```text
//! workflow (rest_for_one)
//! ├── worker_pool (one_for_one): worker-000 .. worker-N
//! └── scheduler
//! queue (one_for_one)
//! └── rate_limiter
//! reconciler_supervisor (one_for_one)
//! └── reconciler
//! ```
//!
//! `rest_for_one`: a restarted pool is a new set of workers, so the
//! scheduler restarts after it (and finds them); a restarted scheduler
//! finds the same workers.

use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;
use strand_projections::{RetentionPolicy, WorkerId};

use crate::context::Context;
use crate::orchestration::handler::DEFAULT_MAX_OUTPUT_BYTES;
use crate::orchestration::handler::Handlers;
use crate::orchestration::placement::{AffinityMode, Distribution};
use crate::orchestration::rate_limiter::{RateLimiter, RateLimiterActor, RateLimits};
use crate::orchestration::reconciler::{Reconciler, SchedulerLink};
use crate::orchestration::scheduler::{Scheduler, SchedulerOptions};
use crate::orchestration::worker::BeadWorker;
use crate::policy::{Backoff, Intensity};
use crate::supervisor::{ChildContext, ChildSpec, Strategy, SupervisorSpec};

/// Names in the workflow branch.
pub mod names {
    /// The branch's supervisor.
    pub const WORKFLOW: &str = "workflow";
    /// The worker pool's supervisor.
    pub const WORKER_POOL: &str = "worker_pool";
    /// The scheduler.
    pub const SCHEDULER: &str = "scheduler";
    /// The queue supervisor.
    pub const QUEUE: &str = "queue";
    /// The rate limiter.
    pub const RATE_LIMITER: &str = "rate_limiter";
    /// The reconciler's supervisor.
    pub const RECONCILER_SUPERVISOR: &str = "reconciler_supervisor";
    /// The reconciler.
    pub const RECONCILER: &str = "reconciler";
}

/// How the workflow branch is set up.
#[derive(Clone, Debug)]
pub struct WorkflowBranch {
    /// Unlabelled bead workers (default 100): beads run at once.
    pub workers: usize,
    /// Labelled workers, added to those: `(label, count)`.
    pub labelled: Vec<(String, usize)>,
    /// How beads are ordered and workers chosen (default FIFO).
    pub distribution: Distribution,
    /// How a task's affinity binds it (default hard).
    pub affinity: AffinityMode,
    /// The task handlers.
    pub handlers: Arc<Handlers>,
    /// The rate limiter handlers reach through their context.
    pub rate_limiter: RateLimiter,
    /// Delay before a failed bead's retry.
    pub retry_backoff: Backoff,
    /// How often a worker running an attempt sends a heartbeat (5 s).
    pub heartbeat_every: Duration,
    /// An attempt without a heartbeat for this long is lost (30 s).
    pub heartbeat_timeout: Duration,
    /// The largest output a bead may produce (default 1 MiB).
    pub max_output_bytes: usize,
    /// How long finished runs stay (default: forever).
    pub retention: RetentionPolicy,
    /// How often runs past retention are expired (default 60 s).
    pub retention_every: Duration,
    /// Restart intensity of the branch's supervisors (default 3 in 5 s).
    /// The worker pool allows at least one restart per worker in the window:
    /// a pool of 100 losing a tenth of its workers is not a crash loop.
    pub intensity: Intensity,
}

impl Default for WorkflowBranch {
    fn default() -> Self {
        Self {
            workers: 100,
            labelled: Vec::new(),
            distribution: Distribution::Fifo,
            affinity: AffinityMode::Hard,
            handlers: Arc::new(Handlers::new()),
            rate_limiter: RateLimiter::new(),
            retry_backoff: Backoff {
                immediate: 0,
                ..Backoff::default()
            },
            heartbeat_every: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(30),
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            retention: RetentionPolicy::default(),
            retention_every: Duration::from_secs(60),
            intensity: Intensity::default(),
        }
    }
}

/// The worker name of index `i`.
fn worker_name(i: usize) -> String {
    format!("worker-{i:03}")
}

/// The branch as a child of the universe.
pub fn workflow_branch(branch: &WorkflowBranch) -> ChildSpec {
    let mut workers: Vec<(String, Vec<String>)> = (0..branch.workers)
        .map(|i| (worker_name(i), Vec::new()))
        .collect();
    for (label, count) in &branch.labelled {
        for _ in 0..*count {
            let name = format!("{}-{label}", worker_name(workers.len()));
            workers.push((name, vec![label.clone()]));
        }
    }
    if workers.is_empty() {
        workers.push((worker_name(0), Vec::new()));
    }
    let pool_restarts = branch
        .intensity
        .max_restarts
        .max(u32::try_from(workers.len()).unwrap_or(u32::MAX));
    let mut pool =
        SupervisorSpec::new(names::WORKER_POOL).intensity(pool_restarts, branch.intensity.window);
    for (name, _) in &workers {
        let (name, handlers) = (name.clone(), Arc::clone(&branch.handlers));
        let limiter = branch.rate_limiter.clone();
        pool = pool.child(ChildSpec::actor(name.clone(), move |_: &Context| {
            let id = WorkerId::from(name.clone());
            (BeadWorker, (id, Arc::clone(&handlers), limiter.clone()))
        }));
    }
    let options = SchedulerOptions {
        pool: names::WORKER_POOL.to_owned(),
        workers,
        distribution: branch.distribution,
        affinity: branch.affinity,
        retry_backoff: branch.retry_backoff,
        heartbeat_every: branch.heartbeat_every,
        heartbeat_timeout: branch.heartbeat_timeout,
        max_output_bytes: branch.max_output_bytes,
        retention: branch.retention.clone(),
        retention_every: branch.retention_every,
    };
    let scheduler = ChildSpec::new(names::SCHEDULER, move |cx: ChildContext| {
        let options = options.clone();
        Box::pin(async move {
            let args = (cx.context.clone(), cx.supervisor.clone(), options);
            let (actor, _) = Actor::spawn_linked(None, Scheduler, args, cx.supervisor).await?;
            Ok(actor.get_cell())
        })
    });
    SupervisorSpec::new(names::WORKFLOW)
        .intensity(branch.intensity.max_restarts, branch.intensity.window)
        .strategy(Strategy::RestForOne)
        .child(pool.into_child())
        .child(scheduler)
        .into_child()
}

/// The reconciler branch: a permanent reconciler ticking `every`, under its
/// own supervisor, reaching the scheduler through `link`.
pub fn reconciler_branch(link: &SchedulerLink, every: Duration, intensity: Intensity) -> ChildSpec {
    let link = link.clone();
    SupervisorSpec::new(names::RECONCILER_SUPERVISOR)
        .intensity(intensity.max_restarts, intensity.window)
        .child(ChildSpec::actor(names::RECONCILER, move |_: &Context| {
            (Reconciler, (link.clone(), every))
        }))
        .into_child()
}

/// The queue branch: the rate limiter (permanent) under the queue
/// supervisor.
pub fn queue_branch(limits: RateLimits, intensity: Intensity) -> ChildSpec {
    SupervisorSpec::new(names::QUEUE)
        .intensity(intensity.max_restarts, intensity.window)
        .child(ChildSpec::actor(
            names::RATE_LIMITER,
            move |cx: &Context| (RateLimiterActor, (cx.store.clone(), limits)),
        ))
        .into_child()
}
