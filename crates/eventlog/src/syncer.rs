//! Stage three of the writer: the syncer makes written batches durable.
//!
//! The committer writes each batch to the store unsynced
//! ([`Backend::write`]) and hands it here. The syncer takes every batch
//! written since its last sync, syncs the log once for all of them
//! ([`Backend::sync`]), and only then hands them to the replier
//! (`delivery.rs`), which publishes them and answers their producers. Its
//! next sync starts at once: while the disk syncs batch k, the committer
//! writes batch k+1 (its WAL append and memtable insert), so the fsync is
//! the only work between two fsyncs. A single thread that wrote with
//! `sync = true` paid for the write, the fsync and the memtable insert in
//! turn (measured: `bench append` went from about 0.85 of raw RocksDB
//! batches to about 1.0).
//!
//! A written batch is readable in the store before it is durable; the log
//! hides it from its readers until the replier publishes it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Instant;

use crate::backend::{Backend, RecordBatch};
use crate::delivery::Delivery;
use crate::error::Error;
use crate::handoff::{Handoff, Tail, Waiting};
use crate::writer::{Reply, Shared};

/// What the committer hands the syncer, in order.
pub(crate) enum Written {
    /// A batch written, not yet durable, with its producers.
    Batch {
        batch: RecordBatch,
        waiting: Waiting,
        /// The log's tail once this batch is durable.
        tail: Tail,
    },
    /// An answer that waits for every batch before it, and needs no sync of
    /// its own (a checkpoint's, a refusal, the close).
    Reply(Reply),
}

/// How a sync went for the batches it covered.
enum Synced {
    /// Durable: deliver them.
    Durable,
    /// The sync failed: their durability is unknown; never acknowledged.
    Failed(Arc<Error>),
    /// The log was already poisoned: not synced, never acknowledged.
    Refused,
}

/// The syncer thread's state.
pub(crate) struct Syncer {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) delivery: Arc<Delivery>,
    /// Where delivered batches' buffers go back to.
    pub(crate) handoff: Arc<Handoff>,
    /// From the committer.
    pub(crate) written: mpsc::Receiver<Written>,
    /// To the replier.
    pub(crate) replies: mpsc::Sender<Reply>,
    pub(crate) shared: Arc<Shared>,
}

impl Syncer {
    /// Runs until the committer is gone and everything it wrote is handed on.
    pub(crate) fn run(self) {
        let mut pending = Vec::new();
        while let Ok(first) = self.written.recv() {
            pending.push(first);
            // Everything queued now was written before the sync below starts,
            // so that sync covers it.
            pending.extend(self.written.try_iter());
            let synced = self.sync(&pending);
            for item in pending.drain(..) {
                let reply = match item {
                    Written::Batch {
                        batch,
                        waiting,
                        tail,
                    } => self.answer(&synced, batch, waiting, tail),
                    Written::Reply(reply) => reply,
                };
                // The replier only stops after the syncer; if it died,
                // dropping the reply drops its senders and producers see
                // `Error::Closed`.
                if self.replies.send(reply).is_err() {
                    tracing::error!("log replier is gone");
                    return;
                }
            }
        }
    }

    /// Sync the log once for the batches in `pending`, if any.
    fn sync(&self, pending: &[Written]) -> Synced {
        let (events, bytes) =
            pending
                .iter()
                .fold((0_u64, 0_u64), |(events, bytes), item| match item {
                    Written::Batch { batch, .. } => {
                        (events + batch.len() as u64, bytes + batch.bytes() as u64)
                    }
                    Written::Reply(_) => (events, bytes),
                });
        if events == 0 {
            return Synced::Durable;
        }
        // A write failed since these batches were written: nothing after a
        // failure is acknowledged.
        if self.shared.poisoned.load(Ordering::Acquire) {
            return Synced::Refused;
        }
        // Durability: one fsync for every batch written so far; their
        // producers are answered only after it returns.
        let started = Instant::now();
        match self.backend.sync() {
            Ok(()) => {
                self.shared.batches.fetch_add(1, Ordering::AcqRel);
                self.shared.events.fetch_add(events, Ordering::AcqRel);
                self.shared.bytes.fetch_add(bytes, Ordering::AcqRel);
                // Once per fsync, never per event.
                metrics::histogram!(crate::metrics::FSYNC_SECONDS)
                    .record(started.elapsed().as_secs_f64());
                #[expect(clippy::cast_precision_loss, reason = "a histogram sample")]
                metrics::histogram!(crate::metrics::EVENTS_PER_FSYNC).record(events as f64);
                Synced::Durable
            }
            Err(e) => {
                // Never retry: a failed fsync may have dropped dirty pages, so
                // a retry that "succeeds" could acknowledge data not on disk.
                self.shared.poison();
                tracing::error!(error = %e, "log sync failed; poisoning the log");
                Synced::Failed(Arc::new(e))
            }
        }
    }

    /// What the replier does with one batch the sync covered.
    fn answer(&self, synced: &Synced, batch: RecordBatch, waiting: Waiting, tail: Tail) -> Reply {
        match synced {
            Synced::Durable => {
                let delivery = Arc::clone(&self.delivery);
                let handoff = Arc::clone(&self.handoff);
                let mut waiting = waiting;
                Box::new(move || {
                    delivery.deliver(&batch, &mut waiting, tail.last);
                    handoff.recycle(batch, waiting);
                })
            }
            Synced::Failed(cause) => {
                let cause = Arc::clone(cause);
                Box::new(move || {
                    for (reply, _) in waiting {
                        let _ = reply.send(Err(Error::WriteFailed {
                            source: Arc::clone(&cause),
                        }));
                    }
                })
            }
            Synced::Refused => Box::new(move || {
                for (reply, _) in waiting {
                    let _ = reply.send(Err(Error::Poisoned));
                }
            }),
        }
    }
}
