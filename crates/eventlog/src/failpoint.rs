//! Test-only fault injection at the storage seam (feature `failpoints`).
//!
//! A [`FailPoints`] handle arms named points with a countdown: the point lets
//! `n` writes through, then fails every later one until cleared. `AfterWrite`
//! points fail *after* the write reached storage, as an fsync that fails once
//! the data is in the OS would: the records may be on disk, but they were
//! never acknowledged. A point can also be *paused*: the writer stops there
//! until the test resumes it, so tests can queue work behind a busy writer
//! deterministically.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::backend::{
    Backend, IndexChunk, IndexChunks, NamedCheckpoint, RawCheckpoint, RawRecord, RawRecords,
    RecordBatch, Trim, Truncation,
};
use crate::error::{Error, Result};
use crate::types::Seq;

/// Where a fault can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailPoint {
    /// A batch write fails before anything is written.
    AppendBeforeWrite,
    /// A batch write happens, then is reported failed.
    AppendAfterWrite,
    /// A sync of the log fails before syncing anything.
    SyncBeforeSync,
    /// A sync of the log happens, then is reported failed (a failed fsync:
    /// the records may be on disk, but they are never acknowledged).
    SyncAfterSync,
    /// A checkpoint write fails before anything is written.
    CheckpointBeforeWrite,
    /// A checkpoint's synced write happens, then is reported failed.
    CheckpointAfterWrite,
    /// A bulk stream-index write fails before anything is written.
    IndexBeforeWrite,
    /// A bulk stream-index write happens, then is reported failed.
    IndexAfterWrite,
    /// A trim's unit (base, base checkpoints, removal) fails before
    /// anything is written: its archive segment is complete and synced.
    TrimBeforeWrite,
    /// A trim's unit is written (synced), then reported failed.
    TrimAfterWrite,
}

/// What an armed point does when hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arm {
    /// Let this many hits pass, then fail every later one.
    FailAfter(u64),
    /// Block the hitting thread until resumed; `reached` once it is blocked.
    Pause { reached: bool },
}

#[derive(Debug, Default)]
struct State {
    armed: Mutex<HashMap<FailPoint, Arm>>,
    changed: Condvar,
}

/// Shared, cloneable set of armed fail points.
#[derive(Debug, Clone, Default)]
pub struct FailPoints {
    state: Arc<State>,
}

impl FailPoints {
    /// A set with nothing armed.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FailPoint, Arm>> {
        self.state
            .armed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Let `successes` hits of `point` pass, then fail every later hit.
    pub fn fail_after(&self, point: FailPoint, successes: u64) {
        self.lock().insert(point, Arm::FailAfter(successes));
        self.state.changed.notify_all();
    }

    /// Block the next thread that hits `point` until [`FailPoints::resume`].
    pub fn pause(&self, point: FailPoint) {
        self.lock().insert(point, Arm::Pause { reached: false });
        self.state.changed.notify_all();
    }

    /// Wait until a thread is blocked at paused `point`.
    pub fn wait_until_paused(&self, point: FailPoint) {
        let mut armed = self.lock();
        while !matches!(armed.get(&point), Some(Arm::Pause { reached: true })) {
            armed = self
                .state
                .changed
                .wait(armed)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Release a paused `point` (and disarm it).
    pub fn resume(&self, point: FailPoint) {
        self.lock().remove(&point);
        self.state.changed.notify_all();
    }

    /// Disarm every point, releasing paused threads.
    pub fn clear(&self) {
        self.lock().clear();
        self.state.changed.notify_all();
    }

    fn hit(&self, point: FailPoint) -> Result<()> {
        let mut armed = self.lock();
        match armed.get_mut(&point) {
            None => Ok(()),
            Some(Arm::FailAfter(0)) => Err(Error::Injected(point)),
            Some(Arm::FailAfter(left)) => {
                *left -= 1;
                Ok(())
            }
            Some(Arm::Pause { reached }) => {
                *reached = true;
                self.state.changed.notify_all();
                while matches!(armed.get(&point), Some(Arm::Pause { .. })) {
                    armed = self
                        .state
                        .changed
                        .wait(armed)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Ok(())
            }
        }
    }
}

/// A backend that consults [`FailPoints`] around writes.
pub(crate) struct FaultyBackend {
    pub(crate) inner: Arc<dyn Backend>,
    pub(crate) points: FailPoints,
}

impl Backend for FaultyBackend {
    fn append(&self, batch: &RecordBatch) -> Result<()> {
        self.points.hit(FailPoint::AppendBeforeWrite)?;
        self.inner.append(batch)?;
        self.points.hit(FailPoint::AppendAfterWrite)
    }
    fn write(&self, batch: &RecordBatch) -> Result<()> {
        self.points.hit(FailPoint::AppendBeforeWrite)?;
        self.inner.write(batch)?;
        self.points.hit(FailPoint::AppendAfterWrite)
    }
    fn sync(&self) -> Result<()> {
        self.points.hit(FailPoint::SyncBeforeSync)?;
        self.inner.sync()?;
        self.points.hit(FailPoint::SyncAfterSync)
    }
    fn first_record(&self) -> Result<Option<RawRecord>> {
        self.inner.first_record()
    }
    fn last_record(&self) -> Result<Option<RawRecord>> {
        self.inner.last_record()
    }
    fn get(&self, seq: Seq) -> Result<Option<Box<[u8]>>> {
        self.inner.get(seq)
    }
    fn scan(&self, from: Seq, to: Seq) -> Result<RawRecords<'_>> {
        self.inner.scan(from, to)
    }
    fn scan_with(
        &self,
        from: Seq,
        to: Seq,
        visit: &mut dyn FnMut(Seq, &[u8]) -> std::ops::ControlFlow<()>,
    ) -> Result<()> {
        self.inner.scan_with(from, to, visit)
    }
    fn put_index(&self, chunks: &[IndexChunk], upto: Seq) -> Result<()> {
        self.points.hit(FailPoint::IndexBeforeWrite)?;
        self.inner.put_index(chunks, upto)?;
        self.points.hit(FailPoint::IndexAfterWrite)
    }
    fn index_upto(&self) -> Result<Option<Seq>> {
        self.inner.index_upto()
    }
    fn stream_chunks(&self, stream: &str, from: Seq) -> Result<IndexChunks<'_>> {
        self.inner.stream_chunks(stream, from)
    }
    fn index_chunks(&self) -> Result<IndexChunks<'_>> {
        self.inner.index_chunks()
    }
    fn put_checkpoint(&self, name: &str, id: u64, frame: &[u8], delete: &[u64]) -> Result<()> {
        self.points.hit(FailPoint::CheckpointBeforeWrite)?;
        self.inner.put_checkpoint(name, id, frame, delete)?;
        self.points.hit(FailPoint::CheckpointAfterWrite)
    }
    fn checkpoints(&self, name: &str) -> Result<Vec<RawCheckpoint>> {
        self.inner.checkpoints(name)
    }
    fn all_checkpoints(&self) -> Result<Vec<NamedCheckpoint>> {
        self.inner.all_checkpoints()
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_meta(key)
    }
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.inner.put_meta(key, value)
    }
    fn truncate(&self, truncation: &Truncation) -> Result<()> {
        self.inner.truncate(truncation)
    }
    fn trim(&self, trim: &Trim) -> Result<()> {
        self.points.hit(FailPoint::TrimBeforeWrite)?;
        self.inner.trim(trim)?;
        self.points.hit(FailPoint::TrimAfterWrite)
    }
    fn reclaim(&self, upto: Seq) -> Result<()> {
        self.inner.reclaim(upto)
    }

    fn wal_syncs(&self) -> Option<u64> {
        self.inner.wal_syncs()
    }
    fn memtable_bytes(&self) -> Option<u64> {
        self.inner.memtable_bytes()
    }
    fn block_cache_bytes(&self) -> Option<u64> {
        self.inner.block_cache_bytes()
    }
    fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
}
