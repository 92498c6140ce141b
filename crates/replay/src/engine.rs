//! [`ReplayEngine`]: checkpoint + log tail -> projection.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use strand_eventlog::{CheckpointId, Event, EventLog, NewCheckpoint, Seq, base_checkpoint_name};
use strand_projections::{DomainEvent, EventMeta, Projection, codec};

use crate::error::ReplayError;
use crate::report::{Progress, ReplayReport, SkipReason, SkippedGeneration, UsedCheckpoint};

/// Events between two progress callbacks.
const PROGRESS_EVERY: u64 = 65_536;

/// A projection rebuilt from the log, with the report of how.
#[derive(Debug)]
pub struct Replayed<P> {
    /// The state.
    pub projection: P,
    /// How it was rebuilt.
    pub report: ReplayReport,
}

/// Rebuilds projections from a log.
///
/// Reads block on storage: from async code, call from
/// `tokio::task::spawn_blocking`. Events are streamed, one at a time, so
/// memory is bounded by the projection, never by the log.
#[derive(Debug, Clone)]
pub struct ReplayEngine {
    log: EventLog,
    /// Quarantined seqs, sorted: never applied.
    skip: Vec<u64>,
}

/// Where a rebuild starts: a restored (or empty) projection.
pub(crate) struct StartPoint<P> {
    pub(crate) projection: P,
    pub(crate) checkpoint: Option<UsedCheckpoint>,
    pub(crate) skipped: Vec<SkippedGeneration>,
}

/// Decode one stored event for a projection.
fn decoded(event: &Event) -> Result<(EventMeta, DomainEvent), ReplayError> {
    let seq = event.seq.get();
    let domain = codec::decode(event.kind, &event.body)
        .map_err(|source| ReplayError::Decode { seq, source })?;
    let meta = EventMeta {
        seq,
        at_ms: event.at_ms,
    };
    Ok((meta, domain))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

impl ReplayEngine {
    /// Apply one event, with the stream of the log its fold reads, if any
    /// ([`Projection::stream_needed`]: its events before this one, less
    /// the quarantined). A projection that panics on it is reported like
    /// one that refuses it, naming the seq: the state is dropped either
    /// way.
    pub(crate) fn apply_event<P: Projection>(
        &self,
        projection: &mut P,
        event: &Event,
    ) -> Result<(), ReplayError> {
        let seq = event.seq.get();
        let (meta, domain) = decoded(event)?;
        let stream = match projection.stream_needed(&domain) {
            None => None,
            Some(name) => {
                let mut earlier = Vec::new();
                for stored in self.log.read_stream(&name, self.log.first_seq())? {
                    let stored = stored?;
                    if stored.seq >= event.seq {
                        break;
                    }
                    if !self.skips(stored.seq) {
                        earlier.push(decoded(&stored)?);
                    }
                }
                Some(earlier)
            }
        };
        let applied = std::panic::catch_unwind(AssertUnwindSafe(|| match stream {
            None => projection.apply(meta, domain),
            Some(stream) => projection.apply_with_stream(meta, domain, stream),
        }));
        match applied {
            Ok(applied) => applied.map_err(|source| ReplayError::Apply { seq, source }),
            Err(payload) => Err(ReplayError::Panicked {
                seq,
                message: panic_message(payload.as_ref()),
            }),
        }
    }

    /// An engine reading `log` (read-only is enough, except for
    /// [`ReplayEngine::checkpoint`]).
    pub fn new(log: EventLog) -> Self {
        Self {
            log,
            skip: Vec::new(),
        }
    }

    /// The same engine, never applying the events at `seqs` (quarantined
    /// poison events; see `EventQuarantined`).
    #[must_use]
    pub fn skipping(mut self, seqs: impl IntoIterator<Item = u64>) -> Self {
        self.skip.extend(seqs);
        self.skip.sort_unstable();
        self.skip.dedup();
        self
    }

    pub(crate) fn skips(&self, seq: Seq) -> bool {
        !self.skip.is_empty() && self.skip.binary_search(&seq.get()).is_ok()
    }

    /// The log replayed.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The newest checkpoint generation of `name` that restores, or an empty
    /// projection, with every newer generation skipped and why. On a
    /// trimmed log the base checkpoint (`base/<name>`) comes after the
    /// generations, a checkpoint behind the base is skipped, and there is
    /// no empty start.
    fn start_point<P: Projection>(&self, name: &str) -> Result<StartPoint<P>, ReplayError> {
        self.start_from(name, &[name.to_owned(), base_checkpoint_name(name)])
    }

    /// The start point from the first of `candidates` (checkpoint names,
    /// tried in order, each newest generation first) that restores.
    pub(crate) fn start_from<P: Projection>(
        &self,
        name: &str,
        candidates: &[String],
    ) -> Result<StartPoint<P>, ReplayError> {
        self.start_before(name, candidates, self.log.last_seq().get())
    }

    /// [`start_from`](Self::start_from) among the checkpoints at or before
    /// `last` (a later one is skipped as ahead).
    pub(crate) fn start_before<P: Projection>(
        &self,
        name: &str,
        candidates: &[String],
        last: u64,
    ) -> Result<StartPoint<P>, ReplayError> {
        let base = self.log.base().map(|b| b.seq.get());
        let mut skipped = Vec::new();
        for candidate in candidates {
            for generation in self.log.checkpoint_generations(
                candidate,
                P::OLDEST_SNAPSHOT_VERSION..=P::SNAPSHOT_VERSION,
            )? {
                let checkpoint = match generation {
                    Ok(cp) => cp,
                    Err(bad) => {
                        skipped.push(SkippedGeneration {
                            id: bad.id,
                            reason: SkipReason::Defect(bad.defect),
                        });
                        continue;
                    }
                };
                let seq = checkpoint.seq.get();
                if seq > last && last < self.log.last_seq().get() {
                    // After the seq asked for, not after the log's end:
                    // not a defect, just not a start for this rebuild.
                    continue;
                }
                let reason = if seq > last {
                    SkipReason::Ahead { seq, last }
                } else if let Some(base) = base.filter(|base| seq < *base) {
                    SkipReason::BehindBase { seq, base }
                } else {
                    match P::restore(&checkpoint.data) {
                        Ok(projection) if projection.applied_seq() == seq => {
                            return Ok(StartPoint {
                                projection,
                                checkpoint: Some(UsedCheckpoint {
                                    id: checkpoint.id,
                                    seq,
                                }),
                                skipped,
                            });
                        }
                        Ok(projection) => SkipReason::Watermark {
                            checkpoint: seq,
                            restored: projection.applied_seq(),
                        },
                        Err(e) => SkipReason::Restore(e),
                    }
                };
                if matches!(reason, SkipReason::BehindBase { .. }) {
                    // Every trim past a checkpoint leaves it behind: not a
                    // defect, and a running engine trims every few minutes.
                    tracing::debug!(name = candidate, id = checkpoint.id, %reason, "skipping checkpoint");
                } else {
                    tracing::warn!(name = candidate, id = checkpoint.id, %reason, "skipping checkpoint");
                }
                skipped.push(SkippedGeneration {
                    id: checkpoint.id,
                    reason,
                });
            }
        }
        if let Some(base) = base {
            return Err(ReplayError::Trimmed {
                name: name.to_owned(),
                base,
            });
        }
        Ok(StartPoint {
            projection: P::empty(),
            checkpoint: None,
            skipped,
        })
    }

    /// Apply every event after the projection's applied seq up to the log's
    /// last seq. Returns the number of events applied.
    fn replay_tail<P: Projection>(
        &self,
        projection: &mut P,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, ReplayError> {
        let last = self.log.last_seq();
        let from = Seq(projection.applied_seq()).next();
        let mut events = 0u64;
        let reached = self.log.for_each_event(from, last, |event| {
            if self.skips(event.seq) {
                return Ok(());
            }
            self.apply_event(projection, &event)?;
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY) {
                progress(Progress {
                    seq: event.seq.get(),
                    last_seq: last.get(),
                    events,
                });
            }
            Ok::<(), ReplayError>(())
        })?;
        // The scan stops where the stored records stop; a log shorter than
        // its reported end lost its tail.
        if from <= last && reached != last.next() {
            return Err(ReplayError::ShortLog {
                expected_last: last.get(),
                reached: reached.get().saturating_sub(1),
            });
        }
        progress(Progress {
            seq: last.get(),
            last_seq: last.get(),
            events,
        });
        Ok(events)
    }

    fn finish<P: Projection>(
        start: Instant,
        name: &str,
        point: StartPoint<P>,
        events: u64,
    ) -> Replayed<P> {
        let StartPoint {
            projection,
            checkpoint,
            skipped,
        } = point;
        // Measured before hashing: the hash is for reporting and verifying,
        // not part of what a restarting actor waits for.
        let elapsed = start.elapsed();
        let report = ReplayReport {
            checkpoint_name: name.to_owned(),
            checkpoint,
            skipped,
            events_replayed: events,
            last_seq: projection.applied_seq(),
            elapsed,
            state_hash: projection.state_hash(),
            verified: None,
        };
        Replayed { projection, report }
    }

    /// Rebuild `P` from its newest usable checkpoint (named `P::NAME`) plus
    /// every later event. A checkpoint that fails its checksum, has another
    /// version, is ahead of the log or is refused by `P::restore` is skipped
    /// for the next older one, then for a full replay; the report says which.
    ///
    /// # Errors
    /// Log errors, an event that does not decode or cannot be applied.
    pub fn rebuild<P: Projection>(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Replayed<P>, ReplayError> {
        self.rebuild_named(P::NAME, progress)
    }

    /// [`ReplayEngine::rebuild`] from the checkpoint called `name`.
    ///
    /// # Errors
    /// As [`ReplayEngine::rebuild`].
    pub fn rebuild_named<P: Projection>(
        &self,
        name: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Replayed<P>, ReplayError> {
        let start = Instant::now();
        let mut point = self.start_point::<P>(name)?;
        let events = self.replay_tail(&mut point.projection, progress)?;
        Ok(Self::finish(start, name, point, events))
    }

    /// Rebuild `P` from seq 1, ignoring checkpoints; on a trimmed log, from
    /// its base checkpoint (what stands for the records removed).
    ///
    /// # Errors
    /// As [`ReplayEngine::rebuild`]; [`ReplayError::Trimmed`] for a trimmed
    /// log without a base checkpoint of `P`.
    pub fn rebuild_from_scratch<P: Projection>(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Replayed<P>, ReplayError> {
        let start = Instant::now();
        let mut point = self.start_from::<P>(P::NAME, &[base_checkpoint_name(P::NAME)])?;
        let events = self.replay_tail(&mut point.projection, progress)?;
        Ok(Self::finish(start, P::NAME, point, events))
    }

    /// Rebuild `P` from its checkpoint, then again from seq 1, and compare
    /// the state hashes (invariant: checkpoint + tail == full replay).
    ///
    /// # Errors
    /// [`ReplayError::HashMismatch`] naming the checkpoint when they differ;
    /// the errors of [`ReplayEngine::rebuild`].
    pub fn verify<P: Projection>(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Replayed<P>, ReplayError> {
        let mut replayed = self.rebuild::<P>(progress)?;
        let full = self.rebuild_from_scratch::<P>(progress)?;
        if let Some(used) = replayed.report.checkpoint
            && full.report.state_hash != replayed.report.state_hash
        {
            return Err(ReplayError::HashMismatch {
                name: P::NAME.to_owned(),
                id: used.id,
                seq: used.seq,
                from_checkpoint: replayed.report.state_hash,
                full: full.report.state_hash,
            });
        }
        replayed.report.elapsed += full.report.elapsed;
        replayed.report.verified = Some(true);
        Ok(replayed)
    }

    /// Rebuild the state of one stream (one actor's history): restore
    /// checkpoint `checkpoint_name`, then apply the stream's events after it.
    ///
    /// # Errors
    /// As [`ReplayEngine::rebuild`].
    pub fn rebuild_stream<P: Projection>(
        &self,
        stream: &str,
        checkpoint_name: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Replayed<P>, ReplayError> {
        let start = Instant::now();
        let mut point = self.start_point::<P>(checkpoint_name)?;
        let last = self.log.last_seq().get();
        let from = Seq(point.projection.applied_seq()).next();
        let mut events = 0u64;
        for event in self.log.read_stream(stream, from)? {
            let event = event?;
            if self.skips(event.seq) {
                continue;
            }
            self.apply_event(&mut point.projection, &event)?;
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY) {
                progress(Progress {
                    seq: event.seq.get(),
                    last_seq: last,
                    events,
                });
            }
        }
        Ok(Self::finish(start, checkpoint_name, point, events))
    }

    /// Store `projection` as a new generation of checkpoint `P::NAME` at its
    /// applied seq (synced, through the log's writer).
    ///
    /// # Errors
    /// [`ReplayError::Snapshot`]; the log's errors (read-only log, a seq
    /// ahead of the log, storage).
    pub fn checkpoint<P: Projection>(&self, projection: &P) -> Result<CheckpointId, ReplayError> {
        self.checkpoint_named(P::NAME, projection)
    }

    /// [`ReplayEngine::checkpoint`] under another name (one actor's stream).
    ///
    /// # Errors
    /// As [`ReplayEngine::checkpoint`].
    pub fn checkpoint_named<P: Projection>(
        &self,
        name: &str,
        projection: &P,
    ) -> Result<CheckpointId, ReplayError> {
        let data = projection.snapshot().map_err(ReplayError::Snapshot)?;
        Ok(self.log.put_checkpoint_blocking(NewCheckpoint {
            name: name.to_owned(),
            seq: Seq(projection.applied_seq()),
            format_version: P::SNAPSHOT_VERSION,
            data,
        })?)
    }
}
