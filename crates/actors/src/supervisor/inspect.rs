//! What a supervisor tells about its children: status, health, state.

use std::time::Duration;

use strand_projections::{BreakerState, StateHash};

use crate::supervisor::spec::Restart;

/// Where a child is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildStatus {
    /// Not started yet.
    Idle,
    /// Running.
    Running,
    /// Waiting out a restart backoff, until this wall-clock ms.
    BackingOff {
        /// When the restart is due.
        until_ms: u64,
    },
    /// Stopped (by a directive, its restart type, or a request).
    Stopped,
}

impl ChildStatus {
    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::BackingOff { .. } => "backing_off",
            Self::Stopped => "stopped",
        }
    }
}

/// Health of one actor, as its supervisor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// Its status.
    pub status: ChildStatus,
    /// Failures seen (this supervisor's stream, replayed included).
    pub errors: u64,
    /// Restarts (replayed included).
    pub restarts: u64,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// Time since the current incarnation started, when running.
    pub uptime: Option<Duration>,
    /// The breaker in front of it.
    pub breaker: BreakerState,
    /// Seqs of its stream quarantined as poison events.
    pub quarantined: Vec<u64>,
}

/// One child, as listed by its supervisor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its name.
    pub name: String,
    /// Its restart type.
    pub restart: Restart,
    /// Whether it is a supervisor itself.
    pub is_supervisor: bool,
    /// Its health.
    pub health: Health,
}

/// A stateful child's state: what it has applied and its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildState {
    /// The last seq folded into its state.
    pub applied_seq: u64,
    /// The hash of its canonical snapshot.
    pub state_hash: StateHash,
}
