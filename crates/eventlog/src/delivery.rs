//! Stage three of the writer: what happens to a batch once it is durable,
//! on the replier thread, in batch order.
//!
//! The committer hands each synced batch over and goes straight on to its
//! next synced write: indexing the batch by stream, publishing the new end
//! of the log and answering its producers all happen here, while the
//! committer waits on the disk (on two cores every microsecond taken off
//! the committer between two syncs is throughput). In that order: an
//! acknowledged event, and any seq a watcher of the log sees, is readable
//! by stream at once.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::backend::{Backend, RecordBatch};
use crate::error::{Error, Result};
use crate::handoff::Waiting;
use crate::index::StreamIndex;
use crate::types::Seq;
use crate::writer::{META_CLEAN_CLOSE, Shared};

/// What the replier needs to deliver batches.
pub(crate) struct Delivery {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) index: Arc<StreamIndex>,
    pub(crate) shared: Arc<Shared>,
    /// Entries the index holds in memory before they are written out.
    pub(crate) index_flush_events: usize,
}

impl Delivery {
    /// Deliver `batch`, durable up to `last`: index it, publish `last`, then
    /// answer its producers (leaving `waiting` empty); write the index out
    /// when enough has gathered.
    pub(crate) fn deliver(&self, batch: &RecordBatch, waiting: &mut Waiting, last: Seq) {
        let pending = self.index.record(batch);
        self.shared.last_seq.store(last.0, Ordering::Release);
        self.shared
            .status
            .send_modify(|status| status.last_seq = last);
        // A failed write since this batch's sync poisoned the log: nothing
        // is acknowledged after that (the batch is durable, never acked).
        let poisoned = self.shared.poisoned.load(Ordering::Acquire);
        for (reply, appended) in waiting.drain(..) {
            let _ = reply.send(if poisoned {
                Err(Error::Poisoned)
            } else {
                Ok(appended)
            });
        }
        if pending >= self.index_flush_events && !poisoned {
            self.flush_index(last);
        }
    }

    /// Write the index entries held in memory to the store. A failure
    /// poisons the log like any failed write (the store's state is unknown).
    fn flush_index(&self, last: Seq) {
        if let Err(e) = self.index.flush(self.backend.as_ref(), last) {
            tracing::error!(error = %e, "stream index write failed; poisoning the log");
            self.shared.poison();
        }
    }

    /// The clean close, after every batch up to `last` was delivered: the
    /// whole index into the store, the clean-close watermark, a flush.
    pub(crate) fn close(&self, last: Seq) -> Result<()> {
        if self.shared.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned);
        }
        // A clean close leaves the whole index in the store: the next open
        // re-reads nothing.
        if self.index.pending() > 0 {
            self.index.flush(self.backend.as_ref(), last)?;
        }
        // Record how far the log was acknowledged, so that a later open can
        // tell a lost tail from a short log.
        self.backend
            .put_meta(META_CLEAN_CLOSE, &last.0.to_be_bytes())?;
        self.backend.flush()
    }
}
