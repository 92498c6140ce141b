//! Group commit: a four-stage pipeline owns every write to the log.
//!
//! Producers send [`Command`]s through a bounded queue (a full queue is
//! backpressure). The **encoder** thread takes each command, assigns seqs,
//! and frames its events into the *open* batch of the [`Handoff`]. The
//! **committer** thread takes the open batch the moment it is free and
//! writes it to the store, not yet synced. The **syncer** (`syncer.rs`)
//! syncs the log once for every batch written since its last sync, while the
//! committer writes the next. Only then does the **replier** deliver each
//! durable batch, in batch order (`delivery.rs`): it indexes the batch by
//! stream, publishes the watermark (`last_seq`), then answers each producer
//! with its seq range. It also writes the stream index out in bulk, and
//! performs the clean close after the last batch.
//!
//! While the disk syncs batch k, every append that arrives joins a later
//! batch: alone, an append costs one fsync; under load one fsync serves
//! hundreds of appends, and no stage waits for another to be scheduled
//! while it has work (`handoff.rs` says why).
//!
//! Safety of the pipeline: the committer writes batches strictly in seq
//! order, each after the one before it returned, and after a failure writes
//! nothing ever again; the store keeps writes in order, so a crash keeps a
//! prefix of them. A batch is acknowledged only after a sync that started
//! after its write returned. So no gap can be created, and a batch written
//! after a failed one never is acknowledged: its producers get
//! [`Error::Poisoned`].
//!
//! After a failed write or sync the log is poisoned: the outcome is unknown
//! (an fsync that failed may or may not have persisted data), so no later
//! append is acknowledged until the log is reopened and its tail is read
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
use crate::syncer::{Syncer, Written};
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

/// Answers to send, in order, off the committer's and syncer's threads.
pub(crate) type Reply = Box<dyn FnOnce() + Send>;

/// State the writer publishes to readers and handles.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Last durable seq (0 for an empty log).
    pub(crate) last_seq: AtomicU64,
    /// Set once a write fails; never cleared (reopen instead).
    pub(crate) poisoned: AtomicBool,
    /// Syncs of the log that made event batches durable (one fsync each).
    pub(crate) batches: AtomicU64,
    /// Events made durable since open.
    pub(crate) events: AtomicU64,
    /// Bytes of the records made durable since open.
    pub(crate) bytes: AtomicU64,
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
    /// Syncs that made appended events durable (each one fsync, covering
    /// every batch written since the one before).
    pub fsyncs: u64,
    /// Events made durable.
    pub events: u64,
    /// Bytes of the records made durable (frames as stored).
    pub bytes: u64,
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
            bytes: self.bytes.load(Ordering::Acquire),
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

/// Start the writer's threads; returns their handles.
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
    // Both unbounded, but never longer than the requests the bounded queue
    // admitted.
    let (to_syncer, written) = std_mpsc::channel::<Written>();
    let (to_replier, answers) = std_mpsc::channel::<Reply>();
    let delivery = Arc::new(Delivery {
        backend: Arc::clone(&backend),
        index,
        shared: Arc::clone(shared),
        index_flush_events: config.index_flush_events,
    });
    let syncer = Syncer {
        backend: Arc::clone(&backend),
        delivery: Arc::clone(&delivery),
        handoff: Arc::clone(&handoff),
        written,
        replies: to_replier,
        shared: Arc::clone(shared),
    };
    let committer = Committer {
        delivery,
        backend,
        handoff: Arc::clone(&handoff),
        written: to_syncer,
        shared: Arc::clone(shared),
        last_written: tail,
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
    let syncer = std::thread::Builder::new()
        .name("strand-log-sync".into())
        .spawn(move || syncer.run())?;
    let committer = std::thread::Builder::new()
        .name("strand-log-commit".into())
        .spawn(move || committer.run())?;
    let encoder = std::thread::Builder::new()
        .name("strand-log-encode".into())
        .spawn(move || encoder.run())?;
    // Joined in this order: each thread ends when the one before it is gone.
    Ok(vec![encoder, committer, syncer, replier])
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

/// Stage two: writes batches, in order, and hands them to the syncer.
struct Committer {
    backend: Arc<dyn Backend>,
    /// What the replier does at the close (`delivery.rs`).
    delivery: Arc<Delivery>,
    handoff: Arc<Handoff>,
    /// To the syncer thread.
    written: std_mpsc::Sender<Written>,
    shared: Arc<Shared>,
    /// Last written seq and chain (durable once the syncer synced it; a
    /// checkpoint's own synced write syncs everything written before it).
    last_written: Tail,
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
                    let (poisoned, last) = (self.poisoned, self.last_written.last);
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

    /// Answer after every batch written before, through the syncer.
    fn reply(&self, reply: Reply) {
        self.hand_on(Written::Reply(reply));
    }

    fn hand_on(&self, written: Written) {
        // The syncer only stops after the committer; if it died, dropping
        // the item drops its senders and producers see `Error::Closed`.
        if self.written.send(written).is_err() {
            tracing::error!("log syncer is gone");
        }
    }

    /// Write one batch, unsynced, and hand it to the syncer, which makes it
    /// durable before the replier answers its producers.
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
        match self.backend.write(&batch) {
            Ok(()) => {
                self.last_written = tail;
                self.hand_on(Written::Batch {
                    batch,
                    waiting,
                    tail,
                });
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
        if checkpoint.seq > self.last_written.last {
            return Err(Error::CheckpointAhead {
                seq: checkpoint.seq,
                last: self.last_written.last,
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
