//! [`BeadState`] and [`RunStatus`]: where a bead and a workflow are in
//! their lifecycles.
//!
//! Both are part of snapshot format version 1 (bincode writes the variant
//! index): append variants, never reorder or remove them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of one bead.
///
/// ```text
/// pending ──▶ ready ──▶ scheduled ──▶ running ──▶ completed
///   (deps done) ▲  ▲        │  │           ├──▶ failed ────┐
///               │  └────────┘  │           └──▶ timed_out ─┤
///               │   (requeue)  └──────────────▶ timed_out  │
///               └────────────── (retry) ───────────────────┘
/// every state but completed and cancelled ──▶ cancelled
/// ```
///
/// [`StateManager`](crate::StateManager)'s `apply` enforces these edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeadState {
    /// Submitted; waits for its blocking dependencies.
    Pending,
    /// Every blocking dependency has completed; may be scheduled.
    Ready,
    /// Assigned to a worker, not started yet.
    Scheduled,
    /// A worker is executing an attempt.
    Running,
    /// An attempt succeeded. Final: a completed bead never runs again.
    Completed,
    /// The last attempt failed; may be retried.
    Failed,
    /// The last attempt (or its scheduling) ran out of time; may be retried.
    TimedOut,
    /// Cancelled. Final.
    Cancelled,
}

impl BeadState {
    /// Every state, in declaration order.
    pub const ALL: [BeadState; 8] = [
        Self::Pending,
        Self::Ready,
        Self::Scheduled,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::TimedOut,
        Self::Cancelled,
    ];

    /// The `snake_case` name (`pending`, ..., `timed_out`, `cancelled`), as
    /// printed by the CLI and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether no event can move the bead out of this state (`completed`,
    /// `cancelled`).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

impl fmt::Display for BeadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of one workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Submitted and not finished: its beads move.
    Running,
    /// Every bead completed. Final.
    Completed,
    /// Given up on. Final.
    Failed,
    /// Cancelled. Final.
    Cancelled,
}

impl RunStatus {
    /// The `snake_case` name (`running`, `completed`, `failed`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the workflow has finished (any status but `running`).
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Running)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
