//! Group commit: a two-stage pipeline owns every write to the log.
//!
//! Producers send [`Command`]s through a bounded queue (a full queue is
//! backpressure). The **encoder** thread takes each command, assigns seqs,
//! and frames its events into the *open* batch of the [`Handoff`]. The
//! **committer** thread takes the open batch the moment it is free, writes
//! it with one sync, and only then answers each producer with its seq
//! range. While the committer waits on the disk for batch k, every append
//! that arrives joins batch k+1: alone, an append costs one fsync; under
//! load one fsync serves hundreds of appends, and the committer never waits
//! for the encoder to be scheduled (`handoff.rs` says why).
//!
//! A third thread, the **replier**, delivers each durable batch, in batch
//! order (`delivery.rs`): it indexes the batch by stream, publishes the
//! watermark (`last_seq`), then sends the answers, so the committer goes
//! straight from one synced write to the next. It also writes the stream
//! index out in bulk, and performs the clean close after the last batch.
//!
//! Safety of the pipeline: the committer writes batches strictly in seq order
//! and, after a failed write, writes nothing ever again. So a batch encoded
//! after a failed one (its seqs follow the lost ones) never reaches storage,
//! and no gap can be created. Such batches' producers get [`Error::Poisoned`].
//!
//! After a failed write the log is poisoned: the outcome of that write is
//! unknown (an fsync that failed may or may not have persisted data), so no
//! later append is acknowledged until the log is reopened and its tail is read
//! back from storage. Nothing here ever retries an fsync.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, watch};

use crate::backend::{Backend, RecordBatch};
use crate::checkpoint::{self, CheckpointId, NewCheckpoint};
use crate::codec::{self, EnvelopeRef};
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::frame;
use crate::handoff::{AppendBatch, Handoff, Limits, Stage, Tail, Waiting};
use crate::index::StreamIndex;
use crate::types::{Appended, MAX_STREAM_LEN, NewEvent, Seq, SeqRange};

/// Metadata key of the clean-close watermark (u64 BE seq).
pub(crate) const META_CLEAN_CLOSE: &str = "clean_close_seq";

/// A request to the writer.
pub(crate) enum Command {
    Append {
        events: Vec<NewEvent>,
        reply: oneshot::Sender<Result<Appended>>,
    },
    Checkpoint {
        checkpoint: NewCheckpoint,
        reply: oneshot::Sender<Result<CheckpointId>>,
    },
    Close {
        reply: oneshot::Sender<Result<()>>,
    },
}

/// Answers to send, in order, off the committer's thread.
type Reply = Box<dyn FnOnce() + Send>;

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
    /// Append requests taken from the queue by the writer since open.
    pub(crate) appends: AtomicU64,
    /// The durable end of the log and the poison flag, for watchers
    /// (projections that follow the log, supervisors that escalate on poison).
    pub(crate) status: watch::Sender<LogStatus>,
}

/// What a watcher of the log sees: its durable end, and whether it is
/// poisoned. Published once per synced batch, never per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStatus {
    /// Last durable seq (`Seq(0)` for an empty log).
    pub last_seq: Seq,
    /// True once a write failed; the log must be reopened.
    pub poisoned: bool,
}

/// Counters of the writer since the log was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Synced batch writes (each one fsync).
    pub fsyncs: u64,
    /// Events made durable.
    pub events: u64,
    /// Append requests the writer has taken from its queue (acknowledged,
    /// refused, or in a batch not yet durable).
    pub appends: u64,
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
    /// Mark the log poisoned, for handles and watchers.
    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
        self.status.send_modify(|status| status.poisoned = true);
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            fsyncs: self.batches.load(Ordering::Acquire),
            events: self.events.load(Ordering::Acquire),
            appends: self.appends.load(Ordering::Acquire),
        }
    }
}

pub(crate) struct WriterConfig {
    pub(crate) max_batch_events: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) checkpoint_generations: usize,
    pub(crate) index_flush_events: usize,
}

/// Start the encoder and committer threads; returns their handles.
pub(crate) fn spawn(
    backend: Arc<dyn Backend>,
    index: Arc<StreamIndex>,
    commands: mpsc::Receiver<Command>,
    shared: &Arc<Shared>,
    tail: Tail,
    config: &WriterConfig,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    shared.last_seq.store(tail.last.0, Ordering::Release);
    shared.status.send_replace(LogStatus {
        last_seq: tail.last,
        poisoned: false,
    });
    // The newest batch stays open to the encoder until the committer is
    // free, so appends that arrive meanwhile join it.
    let handoff = Arc::new(Handoff::default());
    // Unbounded, but never longer than the requests the bounded queue admitted.
    let (to_replier, answers) = std_mpsc::channel::<Reply>();
    let committer = Committer {
        delivery: Arc::new(Delivery {
            backend: Arc::clone(&backend),
            index,
            shared: Arc::clone(shared),
            index_flush_events: config.index_flush_events,
        }),
        backend,
        handoff: Arc::clone(&handoff),
        replies: to_replier,
        shared: Arc::clone(shared),
        durable: tail,
        checkpoint_generations: config.checkpoint_generations,
        generations: HashMap::new(),
        poisoned: false,
    };
    let encoder = Encoder {
        commands,
        handoff,
        shared: Arc::clone(shared),
        limits: Limits {
            events: config.max_batch_events,
            bytes: config.max_batch_bytes,
        },
        next_seq: tail.last.next(),
        chain: tail.chain,
    };
    let replier = std::thread::Builder::new()
        .name("strand-log-reply".into())
        .spawn(move || {
            while let Ok(reply) = answers.recv() {
                reply();
            }
        })?;
    let committer = std::thread::Builder::new()
        .name("strand-log-commit".into())
        .spawn(move || committer.run())?;
    let encoder = std::thread::Builder::new()
        .name("strand-log-encode".into())
        .spawn(move || encoder.run())?;
    // Joined in this order: each thread ends when the one before it is gone.
    Ok(vec![encoder, committer, replier])
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Stage one: assigns seqs and frames events into the open batch.
struct Encoder {
    commands: mpsc::Receiver<Command>,
    handoff: Arc<Handoff>,
    shared: Arc<Shared>,
    limits: Limits,
    /// Seq the next staged event receives.
    next_seq: Seq,
    /// Chain value for the next staged event.
    chain: u32,
}

impl Encoder {
    /// Runs until every handle is dropped or a `Close` command is processed.
    fn run(mut self) {
        loop {
            // Take no request while the waiting batch is full: the queue
            // fills, and producers wait (backpressure).
            self.handoff.wait_for_room(self.limits);
            let Some(command) = self.commands.blocking_recv() else {
                break;
            };
            match command {
                Command::Append { events, reply } => self.stage(&events, reply),
                Command::Checkpoint { checkpoint, reply } => {
                    self.handoff.push(Stage::Checkpoint { checkpoint, reply });
                }
                Command::Close { reply } => {
                    self.handoff.push(Stage::Close { reply });
                    break;
                }
            }
        }
        self.handoff.finish();
    }

    fn tail(&self) -> Tail {
        Tail {
            last: Seq(self.next_seq.0 - 1),
            chain: self.chain,
        }
    }

    fn stage(&mut self, events: &[NewEvent], reply: oneshot::Sender<Result<Appended>>) {
        self.shared.appends.fetch_add(1, Ordering::AcqRel);
        if self.shared.poisoned.load(Ordering::Acquire) {
            let _ = reply.send(Err(Error::Poisoned));
            return;
        }
        let handoff = Arc::clone(&self.handoff);
        handoff.with_open_batch(now_ms, self.tail(), |open| {
            let mark = open.batch.mark();
            let (first, chain) = (self.next_seq, self.chain);
            match self.encode(&mut open.batch, open.at_ms, events) {
                Ok(range) => {
                    open.waiting.push((
                        reply,
                        Appended {
                            range,
                            at_ms: open.at_ms,
                        },
                    ));
                    open.tail = self.tail();
                }
                Err(e) => {
                    open.batch.rollback(mark);
                    self.next_seq = first;
                    self.chain = chain;
                    let _ = reply.send(Err(e));
                }
            }
        });
    }

    fn encode(
        &mut self,
        batch: &mut RecordBatch,
        at_ms: u64,
        events: &[NewEvent],
    ) -> Result<SeqRange> {
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
                at_ms,
                kind: event.kind,
                body: &event.body,
            };
            let chain = self.chain;
            let crc = batch.push_with(self.next_seq, &event.stream, |arena| {
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
}

/// Stage two: makes batches durable, in order, and answers producers.
struct Committer {
    backend: Arc<dyn Backend>,
    /// What the replier does with each durable batch (`delivery.rs`).
    delivery: Arc<Delivery>,
    handoff: Arc<Handoff>,
    /// To the replier thread.
    replies: std_mpsc::Sender<Reply>,
    shared: Arc<Shared>,
    /// Last durable seq and chain.
    durable: Tail,
    checkpoint_generations: usize,
    /// Stored generation ids per checkpoint name, oldest first. Loaded from
    /// storage at a name's first checkpoint, then kept here: only this
    /// thread writes checkpoints, and re-reading every stored snapshot just
    /// to learn its id would stall appends behind it.
    generations: HashMap<String, Vec<u64>>,
    /// Set at the first failed write; from then on nothing is written.
    poisoned: bool,
}

impl Committer {
    fn run(mut self) {
        while let Some(stage) = self.handoff.take() {
            match stage {
                Stage::Append(AppendBatch {
                    batch,
                    waiting,
                    tail,
                    ..
                }) => self.commit(batch, waiting, tail),
                Stage::Checkpoint { checkpoint, reply } => {
                    let outcome = self.checkpoint(&checkpoint);
                    self.reply(Box::new(move || {
                        let _ = reply.send(outcome);
                    }));
                }
                Stage::Close { reply } => {
                    // On the replier, after every earlier batch was delivered
                    // (indexed, acknowledged); nothing is written after it.
                    let delivery = Arc::clone(&self.delivery);
                    let (poisoned, last) = (self.poisoned, self.durable.last);
                    self.reply(Box::new(move || {
                        let outcome = if poisoned {
                            Err(Error::Poisoned)
                        } else {
                            delivery.close(last)
                        };
                        let _ = reply.send(outcome);
                    }));
                    return;
                }
            }
        }
    }

    fn reply(&self, reply: Reply) {
        // The replier only stops after the committer; if it died, dropping
        // the reply drops its senders and producers see `Error::Closed`.
        if self.replies.send(reply).is_err() {
            tracing::error!("log replier is gone");
        }
    }

    /// Write one batch with one sync, then hand it to the replier, which
    /// indexes it and answers its producers (`delivery.rs`).
    fn commit(&mut self, batch: RecordBatch, waiting: Waiting, tail: Tail) {
        // The replier poisons the log when an index write fails.
        self.poisoned |= self.shared.poisoned.load(Ordering::Acquire);
        if self.poisoned {
            self.reply(Box::new(move || {
                for (reply, _) in waiting {
                    let _ = reply.send(Err(Error::Poisoned));
                }
            }));
            return;
        }
        match self.backend.append(&batch) {
            Ok(()) => {
                self.durable = tail;
                self.shared.batches.fetch_add(1, Ordering::AcqRel);
                self.shared
                    .events
                    .fetch_add(batch.len() as u64, Ordering::AcqRel);
                let delivery = Arc::clone(&self.delivery);
                let handoff = Arc::clone(&self.handoff);
                let mut waiting = waiting;
                self.reply(Box::new(move || {
                    delivery.deliver(&batch, &mut waiting, tail.last);
                    handoff.recycle(batch, waiting);
                }));
            }
            Err(e) => {
                self.poison();
                tracing::error!(error = %e, "log write failed; poisoning the log");
                let cause = Arc::new(e);
                self.reply(Box::new(move || {
                    for (reply, _) in waiting {
                        let _ = reply.send(Err(Error::WriteFailed {
                            source: Arc::clone(&cause),
                        }));
                    }
                }));
            }
        }
    }

    fn poison(&mut self) {
        // Never retry: a failed fsync may have dropped dirty pages, so a retry
        // that "succeeds" could acknowledge data that is not on disk.
        self.poisoned = true;
        self.shared.poison();
    }

    fn checkpoint(&mut self, checkpoint: &NewCheckpoint) -> Result<CheckpointId> {
        self.poisoned |= self.shared.poisoned.load(Ordering::Acquire);
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if checkpoint.seq > self.durable.last {
            return Err(Error::CheckpointAhead {
                seq: checkpoint.seq,
                last: self.durable.last,
            });
        }
        if !self.generations.contains_key(&checkpoint.name) {
            // Newest first from storage; kept oldest first here.
            let mut ids: Vec<u64> = self
                .backend
                .checkpoints(&checkpoint.name)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            ids.reverse();
            self.generations.insert(checkpoint.name.clone(), ids);
        }
        let ids = self
            .generations
            .get(&checkpoint.name)
            .map_or(&[][..], Vec::as_slice);
        let id = ids.last().map_or(1, |newest| newest + 1);
        let (bytes, checksum) = checkpoint::encode(checkpoint, id)?;
        // Keep the newest `checkpoint_generations - 1` older generations.
        let keep_older = self.checkpoint_generations - 1;
        let split = ids.len().saturating_sub(keep_older);
        let (delete, kept) = ids.split_at(split);
        let remaining: Vec<u64> = kept.iter().copied().chain([id]).collect();
        if let Err(e) = self
            .backend
            .put_checkpoint(&checkpoint.name, id, &bytes, delete)
        {
            self.poison();
            return Err(Error::WriteFailed {
                source: Arc::new(e),
            });
        }
        self.generations.insert(checkpoint.name.clone(), remaining);
        Ok(CheckpointId {
            id,
            seq: checkpoint.seq,
            checksum,
        })
    }
}
