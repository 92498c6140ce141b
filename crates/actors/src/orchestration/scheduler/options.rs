//! [`SchedulerOptions`]: how the scheduler is set up.

use std::time::Duration;

use strand_projections::RetentionPolicy;

use crate::orchestration::placement::{AffinityMode, Distribution};
use crate::policy::Backoff;

/// How the scheduler is set up.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// The worker pool supervisor's name, under the scheduler's parent.
    pub pool: String,
    /// The workers in the pool: name and labels.
    pub workers: Vec<(String, Vec<String>)>,
    /// How beads are ordered and workers chosen.
    pub distribution: Distribution,
    /// How a task's affinity binds it.
    pub affinity: AffinityMode,
    /// Delay before retry `n` (by failed attempts so far).
    pub retry_backoff: Backoff,
    /// The largest output a bead may produce.
    pub max_output_bytes: usize,
    /// How often a worker running an attempt sends a heartbeat.
    pub heartbeat_every: Duration,
    /// An attempt whose worker sent no heartbeat for this long is lost.
    pub heartbeat_timeout: Duration,
    /// How long finished runs stay in the state.
    pub retention: RetentionPolicy,
    /// How often runs past retention are expired.
    pub retention_every: Duration,
}
