//! Group commit: one thread owns every write to the log.
//!
//! Producers send [`Command`]s through a bounded queue (a full queue is
//! backpressure). The writer takes the first waiting command, drains whatever
//! else is already queued (up to the batch bounds) into one [`RecordBatch`],
//! writes it with one sync, and only then answers each producer with its seq
//! range. Alone, an append costs one fsync; under load one fsync serves
//! hundreds of appends.
//!
//! After a failed write the writer is poisoned: the outcome of that write is
//! unknown (an fsync that failed may or may not have persisted data), so no
//! later append is acknowledged until the log is reopened and its tail is read
//! back from storage. The writer never retries an fsync.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::backend::{Backend, RecordBatch};
use crate::checkpoint::{self, CheckpointId, NewCheckpoint};
use crate::codec::{self, EnvelopeRef};
use crate::error::{Error, Result};
use crate::frame;
use crate::types::{MAX_STREAM_LEN, NewEvent, Seq, SeqRange};

/// Metadata key of the clean-close watermark (u64 BE seq).
pub(crate) const META_CLEAN_CLOSE: &str = "clean_close_seq";

/// A request to the writer.
pub(crate) enum Command {
    Append {
        events: Vec<NewEvent>,
        reply: oneshot::Sender<Result<SeqRange>>,
    },
    Checkpoint {
        checkpoint: NewCheckpoint,
        reply: oneshot::Sender<Result<CheckpointId>>,
    },
    Close {
        reply: oneshot::Sender<Result<()>>,
    },
}

/// State the writer publishes to readers and handles.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Last durable seq (0 for an empty log).
    pub(crate) last_seq: AtomicU64,
    /// Set once a write fails; never cleared (reopen instead).
    pub(crate) poisoned: AtomicBool,
    /// Synced writes of event batches (one fsync each).
    pub(crate) batches: AtomicU64,
    /// Events made durable since open.
    pub(crate) events: AtomicU64,
}

/// Counters of the writer since the log was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Synced batch writes (each one fsync).
    pub fsyncs: u64,
    /// Events made durable.
    pub events: u64,
}

impl WriterStats {
    /// Mean events served by one fsync.
    #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
    pub fn mean_events_per_fsync(&self) -> f64 {
        if self.fsyncs == 0 {
            0.0
        } else {
            self.events as f64 / self.fsyncs as f64
        }
    }
}

impl Shared {
    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            fsyncs: self.batches.load(Ordering::Acquire),
            events: self.events.load(Ordering::Acquire),
        }
    }
}

/// Where the log ends when the writer starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tail {
    pub(crate) last: Seq,
    /// crc of the last record (the next record's chain value); 0 when empty.
    pub(crate) chain: u32,
}

pub(crate) struct Writer {
    backend: Arc<dyn Backend>,
    commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    max_batch_events: usize,
    max_batch_bytes: usize,
    checkpoint_generations: usize,
    /// Seq the next staged event receives.
    next_seq: Seq,
    /// Chain value for the next staged event.
    chain: u32,
    /// Last durable seq and chain, to roll back to if a batch fails.
    durable: Tail,
    batch: RecordBatch,
    /// Producers waiting on the staged batch, with their ranges.
    waiting: Vec<(oneshot::Sender<Result<SeqRange>>, SeqRange)>,
    /// Commit time stamped on every event of the staged batch.
    batch_at_ms: u64,
    poisoned: bool,
}

pub(crate) struct WriterConfig {
    pub(crate) max_batch_events: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) checkpoint_generations: usize,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Writer {
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        commands: mpsc::Receiver<Command>,
        shared: Arc<Shared>,
        tail: Tail,
        config: &WriterConfig,
    ) -> Self {
        shared.last_seq.store(tail.last.0, Ordering::Release);
        Self {
            backend,
            commands,
            shared,
            max_batch_events: config.max_batch_events,
            max_batch_bytes: config.max_batch_bytes,
            checkpoint_generations: config.checkpoint_generations,
            next_seq: tail.last.next(),
            chain: tail.chain,
            durable: tail,
            batch: RecordBatch::default(),
            waiting: Vec::new(),
            batch_at_ms: 0,
            poisoned: false,
        }
    }

    /// The writer thread's loop: runs until every handle is dropped or a
    /// `Close` command is processed.
    pub(crate) fn run(mut self) {
        while let Some(first) = self.commands.blocking_recv() {
            let mut command = first;
            loop {
                match command {
                    Command::Append { events, reply } => self.stage(&events, reply),
                    Command::Checkpoint { checkpoint, reply } => {
                        self.commit();
                        let _ = reply.send(self.checkpoint(&checkpoint));
                    }
                    Command::Close { reply } => {
                        self.commit();
                        let _ = reply.send(self.close());
                        return;
                    }
                }
                if self.batch.len() >= self.max_batch_events
                    || self.batch.bytes() >= self.max_batch_bytes
                {
                    break;
                }
                match self.commands.try_recv() {
                    Ok(next) => command = next,
                    Err(_) => break,
                }
            }
            self.commit();
        }
    }

    fn stage(&mut self, events: &[NewEvent], reply: oneshot::Sender<Result<SeqRange>>) {
        if self.poisoned {
            let _ = reply.send(Err(Error::Poisoned));
            return;
        }
        if self.batch.is_empty() {
            self.batch_at_ms = now_ms();
        }
        let mark = self.batch.mark();
        let (first, chain) = (self.next_seq, self.chain);
        match self.encode(events) {
            Ok(range) => self.waiting.push((reply, range)),
            Err(e) => {
                self.batch.rollback(mark);
                self.next_seq = first;
                self.chain = chain;
                let _ = reply.send(Err(e));
            }
        }
    }

    fn encode(&mut self, events: &[NewEvent]) -> Result<SeqRange> {
        if events.is_empty() {
            return Err(Error::EmptyAppend);
        }
        let first = self.next_seq;
        for event in events {
            if event.stream.len() > MAX_STREAM_LEN {
                return Err(Error::StreamNameTooLong {
                    len: event.stream.len(),
                    max: MAX_STREAM_LEN,
                });
            }
            if event.body.len() > frame::MAX_PAYLOAD_LEN {
                return Err(Error::RecordTooLarge {
                    len: event.body.len(),
                    max: frame::MAX_PAYLOAD_LEN,
                });
            }
            let envelope = EnvelopeRef {
                seq: self.next_seq,
                stream: &event.stream,
                at_ms: self.batch_at_ms,
                kind: event.kind,
                body: &event.body,
            };
            let chain = self.chain;
            let crc = self
                .batch
                .push_with(self.next_seq, &event.stream, |arena| {
                    frame::encode_with(arena, chain, |buf| {
                        codec::encode_into(&envelope, buf).map_err(Error::Encode)
                    })
                })?;
            self.chain = crc;
            self.next_seq = self.next_seq.next();
        }
        Ok(SeqRange {
            first,
            last: Seq(self.next_seq.0 - 1),
        })
    }

    /// Write the staged batch with one sync and answer its producers.
    fn commit(&mut self) {
        let Some((_, last)) = self.batch.seq_span() else {
            return;
        };
        let outcome = self.backend.append(&self.batch);
        let events = self.batch.len() as u64;
        self.batch.clear();
        match outcome {
            Ok(()) => {
                self.durable = Tail {
                    last,
                    chain: self.chain,
                };
                self.shared.last_seq.store(last.0, Ordering::Release);
                self.shared.batches.fetch_add(1, Ordering::AcqRel);
                self.shared.events.fetch_add(events, Ordering::AcqRel);
                for (reply, range) in self.waiting.drain(..) {
                    let _ = reply.send(Ok(range));
                }
            }
            Err(e) => {
                self.poison();
                tracing::error!(error = %e, "log write failed; poisoning the log");
                let cause = Arc::new(e);
                for (reply, _) in self.waiting.drain(..) {
                    let _ = reply.send(Err(Error::WriteFailed {
                        source: Arc::clone(&cause),
                    }));
                }
            }
        }
    }

    fn poison(&mut self) {
        // Never retry: a failed fsync may have dropped dirty pages, so a retry
        // that "succeeds" could acknowledge data that is not on disk.
        self.poisoned = true;
        self.shared.poisoned.store(true, Ordering::Release);
        self.next_seq = self.durable.last.next();
        self.chain = self.durable.chain;
    }

    fn checkpoint(&mut self, checkpoint: &NewCheckpoint) -> Result<CheckpointId> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if checkpoint.seq > self.durable.last {
            return Err(Error::CheckpointAhead {
                seq: checkpoint.seq,
                last: self.durable.last,
            });
        }
        let existing = self.backend.checkpoints(&checkpoint.name)?;
        let id = existing.first().map_or(1, |(newest, _)| newest + 1);
        let (bytes, checksum) = checkpoint::encode(checkpoint, id)?;
        let keep_older = self.checkpoint_generations - 1;
        let delete: Vec<u64> = existing
            .iter()
            .skip(keep_older)
            .map(|(id, _)| *id)
            .collect();
        if let Err(e) = self
            .backend
            .put_checkpoint(&checkpoint.name, id, &bytes, &delete)
        {
            self.poison();
            return Err(Error::WriteFailed {
                source: Arc::new(e),
            });
        }
        Ok(CheckpointId {
            id,
            seq: checkpoint.seq,
            checksum,
        })
    }

    fn close(&mut self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        // Record how far the log was acknowledged, so that a later open can
        // tell a lost tail from a short log.
        self.backend
            .put_meta(META_CLEAN_CLOSE, &self.durable.last.0.to_be_bytes())?;
        self.backend.flush()
    }
}
