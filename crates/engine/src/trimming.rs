//! Trimming in a running engine: on a schedule (and on demand through
//! [`Engine::trim`](crate::Engine::trim)), the log's front is removed as far
//! as nothing still needs it, after archiving it.
//!
//! A trim asks the live state manager what it still needs (its oldest
//! run's stream, and nothing it has not applied yet), then plans and
//! carries out the trim off the async workers: the plan folds the base
//! state from the log, and the trim archives, syncs and deletes
//! (`strand_eventlog` orders those writes so a kill at any point leaves
//! the old log or the trimmed one). Appends go on meanwhile. One trim runs
//! at a time; the engine's shutdown waits for the one under way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use strand_actors::clock::Clock;
use strand_actors::{ActorError, EventStore, StateManagerHandle};
use strand_eventlog::{ArchiveSegment, Seq};
use strand_replay::{ReplayEngine, StateHold, TrimBounds, TrimLimit};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

/// The archive's directory under the data directory, by default.
pub const ARCHIVE_DIR: &str = "archive";

/// Counter: records trimmed from the log's front by the running engine.
pub const TRIMMED_RECORDS: &str = "strand_log_trimmed_records_total";

/// Where a trim archives the records it removes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveTo {
    /// `DATA/archive/` (the default).
    DataDir,
    /// A directory of the operator's.
    Dir(PathBuf),
    /// Nowhere: the records are removed without a copy.
    Nowhere,
}

impl ArchiveTo {
    /// The archive's directory for a log in `data`; `None` for nowhere.
    pub fn dir(&self, data: &std::path::Path) -> Option<PathBuf> {
        match self {
            Self::DataDir => Some(data.join(ARCHIVE_DIR)),
            Self::Dir(dir) => Some(dir.clone()),
            Self::Nowhere => None,
        }
    }
}

/// When and how a running engine trims its log.
#[derive(Clone, Debug)]
pub struct TrimSchedule {
    /// How often it trims; `None` (the default) for never on its own.
    pub every: Option<Duration>,
    /// Trim no record younger than this (default 1 h): supervisors fold
    /// that much of their own streams.
    pub keep_recent: Duration,
    /// Where the removed records go first.
    pub archive: ArchiveTo,
}

impl Default for TrimSchedule {
    fn default() -> Self {
        Self {
            every: None,
            keep_recent: Duration::from_secs(3600),
            archive: ArchiveTo::DataDir,
        }
    }
}

/// What one trim did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Trimmed {
    /// The log's first seq before the trim.
    pub first: Seq,
    /// The last seq removed (before `first` when none was).
    pub upto: Seq,
    /// Records removed.
    pub records: u64,
    /// What held the trim back there.
    pub limit: TrimLimit,
    /// The archive segment written, if any.
    pub segment: Option<ArchiveSegment>,
}

/// What a trim needs of the engine, shared by the scheduled task and
/// [`Engine::trim`](crate::Engine::trim).
#[derive(Debug)]
pub(crate) struct Trimmer {
    store: EventStore,
    state: StateManagerHandle,
    /// The runtime's clock, the one retention reads too.
    clock: Arc<dyn Clock>,
    keep_recent: Duration,
    archive: Option<PathBuf>,
    /// One trim at a time: a second plan made while one is under way
    /// would start from a front that is about to move.
    one: Mutex<()>,
    /// The last trim that removed records.
    last: watch::Sender<Option<Trimmed>>,
}

impl Trimmer {
    pub(crate) fn new(
        store: EventStore,
        state: StateManagerHandle,
        clock: Arc<dyn Clock>,
        schedule: &TrimSchedule,
        data: &std::path::Path,
    ) -> Self {
        let archive = schedule.archive.dir(data);
        Self {
            store,
            state,
            clock,
            keep_recent: schedule.keep_recent,
            archive,
            one: Mutex::new(()),
            last: watch::Sender::new(None),
        }
    }

    /// The last trim that removed records, as it changes.
    pub(crate) fn watch(&self) -> watch::Receiver<Option<Trimmed>> {
        self.last.subscribe()
    }

    /// Trim as far as is safe now.
    ///
    /// # Errors
    /// The state manager does not answer; the log's read or write errors
    /// (nothing is removed then).
    pub(crate) async fn trim(&self) -> Result<Trimmed, ActorError> {
        let _one = self.one.lock().await;
        let hold = self.state.query(StateHold::of).await?;
        let log = self.store.log().clone();
        let archive = self.archive.clone();
        let bounds = TrimBounds {
            before: None,
            not_after_ms: self.clock.now_ms().saturating_sub(ms(self.keep_recent)),
        };
        // The plan folds the log and the trim writes and syncs it:
        // blocking RocksDB work, off the async workers.
        let trimmed = tokio::task::spawn_blocking(move || -> Result<Trimmed, ActorError> {
            let plan = ReplayEngine::new(log.clone()).plan_trim(&hold, bounds)?;
            let mut trimmed = Trimmed {
                first: plan.first,
                upto: plan.upto,
                records: plan.records(),
                limit: plan.limit.clone(),
                segment: None,
            };
            if trimmed.records > 0 {
                let report = log.trim(&plan.request(archive)?, &mut |_, _| {})?;
                trimmed.segment = report.segment;
            }
            Ok(trimmed)
        })
        .await
        .map_err(|_| ActorError::NotRunning {
            actor: "log trim".to_owned(),
        })??;
        if trimmed.records > 0 {
            metrics::counter!(TRIMMED_RECORDS).increment(trimmed.records);
            self.last.send_replace(Some(trimmed.clone()));
        }
        Ok(trimmed)
    }
}

/// The scheduled trims: a task that trims every `every` until stopped.
#[derive(Debug)]
pub(crate) struct TrimTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TrimTask {
    /// Start trimming with `trimmer` every `every`; the first trim is one
    /// period after the start.
    pub(crate) fn start(trimmer: Arc<Trimmer>, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // An interval's first tick is at once.
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = ticks.tick() => {}
                }
                match trimmer.trim().await {
                    Ok(done) if done.records > 0 => tracing::info!(
                        first = done.first.get(),
                        upto = done.upto.get(),
                        records = done.records,
                        held_by = %done.limit.describe(),
                        "trimmed the log"
                    ),
                    Ok(_) => {}
                    // The next period tries again; nothing was removed.
                    Err(error) => tracing::warn!(%error, "a scheduled trim failed"),
                }
            }
        });
        Self { stop, task }
    }

    /// Stop, waiting for a trim under way to finish.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "the trim task ended abnormally");
        }
    }
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
