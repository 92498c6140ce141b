//! The hand-off between the writer's encoder and committer: the stages to
//! commit, in order, where the newest append batch stays *open* — the
//! encoder keeps adding to it — until the committer takes it.
//!
//! So the committer, once its synced write returns, takes everything
//! encoded meanwhile in one batch, without waiting for the encoder to be
//! scheduled (a rendezvous channel cost a thread wake per batch, and a
//! buffered one sealed batches early and halved them). At most one append
//! batch waits: when it is full, the encoder stops taking requests, so a
//! full queue is still backpressure.
//!
//! Once a batch is delivered its buffers come back here, emptied, and the
//! encoder fills them again: a new batch does not regrow its arena from
//! nothing (a dozen reallocations and fresh pages per batch, some of them
//! under the lock the committer waits on).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::backend::RecordBatch;
use crate::checkpoint::{CheckpointId, NewCheckpoint};
use crate::error::Result;
use crate::types::Appended;

use tokio::sync::oneshot;

/// Producers waiting on one batch, with their ranges.
pub(crate) type Waiting = Vec<(oneshot::Sender<Result<Appended>>, Appended)>;

/// Where the log ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tail {
    pub(crate) last: crate::types::Seq,
    /// crc of the last record (the next record's chain value); 0 when empty.
    pub(crate) chain: u32,
}

/// Events to make durable with one synced write.
pub(crate) struct AppendBatch {
    pub(crate) batch: RecordBatch,
    /// Their producers, with their ranges.
    pub(crate) waiting: Waiting,
    /// The log's tail once this batch is durable.
    pub(crate) tail: Tail,
    /// The commit time stamped on its events (when it was opened).
    pub(crate) at_ms: u64,
}

/// What the encoder hands to the committer, in order.
pub(crate) enum Stage {
    Append(AppendBatch),
    Checkpoint {
        checkpoint: NewCheckpoint,
        reply: oneshot::Sender<Result<CheckpointId>>,
    },
    Close {
        reply: oneshot::Sender<Result<()>>,
    },
}

#[derive(Default)]
struct Stages {
    queue: VecDeque<Stage>,
    /// The encoder is gone: once the queue is empty, the committer stops.
    done: bool,
    /// The committer is blocked on `ready` (the queue was empty).
    committer_waits: bool,
    /// The encoder is blocked on `taken` (the open batch was full).
    encoder_waits: bool,
}

impl Stages {
    /// Wake the committer if it is blocked. A condvar notification is a
    /// futex syscall even when nobody waits; the encoder adds to the open
    /// batch once per request, so it signals only a committer that waits.
    fn wake_committer(&mut self, ready: &Condvar) {
        if std::mem::take(&mut self.committer_waits) {
            ready.notify_one();
        }
    }
}

/// Spare buffers kept for new batches: one per batch in flight beyond the
/// open one (committing, delivering).
const SPARES: usize = 2;

/// A spare batch larger than this is dropped, not kept: a rare huge batch
/// does not pin its memory for the life of the log.
const SPARE_MAX_BYTES: usize = 1 << 20;

/// An append batch's buffers, emptied, to be filled again.
#[derive(Default)]
struct Buffers {
    batch: RecordBatch,
    waiting: Waiting,
}

/// The stages between the two threads.
#[derive(Default)]
pub(crate) struct Handoff {
    stages: Mutex<Stages>,
    /// Buffers of delivered batches (a lock of their own: returning them
    /// never contends with the committer taking a stage).
    spares: Mutex<Vec<Buffers>>,
    /// Signalled when a stage is added or the encoder is done.
    ready: Condvar,
    /// Signalled when the committer takes a stage.
    taken: Condvar,
}

/// The batch limits an open append batch grows to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) events: usize,
    pub(crate) bytes: usize,
}

fn full(stage: Option<&Stage>, limits: Limits) -> bool {
    matches!(stage, Some(Stage::Append(open))
        if open.batch.len() >= limits.events || open.batch.bytes() >= limits.bytes)
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Stages> {
        self.stages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Block until the open append batch (if any) has room: the encoder
    /// calls this before it takes the next request.
    pub(crate) fn wait_for_room(&self, limits: Limits) {
        let mut stages = self.lock();
        while full(stages.queue.back(), limits) {
            stages.encoder_waits = true;
            stages = self
                .taken
                .wait(stages)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Run `add` on the open append batch, opening one (ending at `tail`,
    /// stamped `now()`) when the newest stage is not an append batch.
    pub(crate) fn with_open_batch<T>(
        &self,
        now: impl FnOnce() -> u64,
        tail: Tail,
        add: impl FnOnce(&mut AppendBatch) -> T,
    ) -> T {
        let mut stages = self.lock();
        let mut open = match stages.queue.pop_back() {
            Some(Stage::Append(open)) => open,
            other => {
                stages.queue.extend(other);
                let Buffers { batch, waiting } = self.spare();
                AppendBatch {
                    batch,
                    waiting,
                    tail,
                    at_ms: now(),
                }
            }
        };
        let outcome = add(&mut open);
        // A batch whose only request was refused is not committed.
        if !open.batch.is_empty() {
            stages.queue.push_back(Stage::Append(open));
            stages.wake_committer(&self.ready);
        }
        outcome
    }

    fn spare(&self) -> Buffers {
        self.spares
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// Give back a delivered batch's buffers (its producers answered), to be
    /// filled by a later batch.
    pub(crate) fn recycle(&self, mut batch: RecordBatch, mut waiting: Waiting) {
        if batch.capacity() > SPARE_MAX_BYTES {
            return;
        }
        batch.clear();
        waiting.clear();
        let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
        if spares.len() < SPARES {
            spares.push(Buffers { batch, waiting });
        }
    }

    /// Queue a stage that never merges (a checkpoint, the close).
    pub(crate) fn push(&self, stage: Stage) {
        let mut stages = self.lock();
        stages.queue.push_back(stage);
        stages.wake_committer(&self.ready);
    }

    /// The encoder is gone: the committer stops once the queue is empty.
    pub(crate) fn finish(&self) {
        let mut stages = self.lock();
        stages.done = true;
        stages.wake_committer(&self.ready);
    }

    /// The committer's next stage, waiting for one; `None` once the encoder
    /// is done and nothing is left.
    pub(crate) fn take(&self) -> Option<Stage> {
        let mut stages = self.lock();
        loop {
            if let Some(stage) = stages.queue.pop_front() {
                let wake_encoder = std::mem::take(&mut stages.encoder_waits);
                drop(stages);
                if wake_encoder {
                    self.taken.notify_one();
                }
                return Some(stage);
            }
            if stages.done {
                return None;
            }
            stages.committer_waits = true;
            stages = self
                .ready
                .wait(stages)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
impl Handoff {
    /// Whether the committer and the encoder are blocked, in that order.
    fn waiters(&self) -> (bool, bool) {
        let stages = self.lock();
        (stages.committer_waits, stages.encoder_waits)
    }
}

#[cfg(test)]
mod tests;
