//! [`EventLog`]: the public handle to one durable log. Opening one (format
//! checks, tail recovery, the index loaded) is `log/open.rs`.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

use crate::backend::Backend;
use crate::checkpoint::{
    self, Checkpoint, CheckpointId, CheckpointInfo, CheckpointLoad, NewCheckpoint,
    SkippedCheckpoint,
};
use crate::error::{Error, Result};
use crate::export::{self, TransferProgress, TransferReport};
use crate::index::StreamIndex;
use crate::reader::{self, Records, StreamRecords};
use crate::trim::{self, LogBase, TrimReport, TrimRequest};
use crate::types::{Appended, Event, NewEvent, Seq, SeqRange};
use crate::verify::{self, VerifyReport};
use crate::writer::{Command, LogStatus, Shared, WriterStats};

mod open;

pub(crate) use open::check_format;

/// Version of the data directory's layout (key encodings, frame, codec).
///
/// 2: the stream index is stored in chunks up to a watermark. Logs of
/// version 1 (one index entry per record, always complete) are read as they
/// are and upgraded by the first open that may write.
/// 3: the log may start after seq 1, behind a base (see `trim.rs`).
/// Version 2 logs are read as they are (they start at seq 1) and upgraded
/// by the first open that may write.
pub const FORMAT_VERSION: u8 = 3;
pub(crate) const META_FORMAT: &str = "format_version";

/// A handle to a durable event log. Cheap to clone; every clone appends
/// through the same group-commit writer.
///
/// Appends are acknowledged only after they are synced to disk. Reads and
/// `open` block on storage: from async code, call them from
/// `tokio::task::spawn_blocking`. [`EventLog::append`] is async and does not
/// block a runtime thread.
///
/// ```
/// # fn main() -> Result<(), strand_eventlog::Error> {
/// use strand_eventlog::{EventLog, LogOptions, NewEvent, Seq};
///
/// let dir = tempfile::tempdir().unwrap();
/// let log = EventLog::open(dir.path(), LogOptions::default())?;
/// let range = log.append_blocking(vec![
///     NewEvent::new("wf-1", 1, b"submitted".to_vec()),
///     NewEvent::new("wf-1", 2, b"started".to_vec()),
/// ])?;
/// assert_eq!((range.first, range.last), (Seq(1), Seq(2)));
/// let events: Vec<_> = log.read_range(Seq(1), Seq(2))?.collect::<Result<_, _>>()?;
/// assert_eq!(events[1].body, b"started");
/// log.close_blocking()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    /// The store; shared with the writer thread.
    backend: Arc<dyn Backend>,
    /// Queue to the writer; `None` for a read-only log.
    commands: Option<mpsc::Sender<Command>>,
    /// Watermark, poison flag and counters published by the writer.
    shared: Arc<Shared>,
    /// The writer threads (encoder, committer, replier), joined on drop in
    /// that order so the store is released before a reopen of the same
    /// directory.
    writer: Mutex<Vec<JoinHandle<()>>>,
    /// Clean-close watermark read at open.
    clean_close: Option<Seq>,
    /// The stream index (stored chunks plus the newest entries in memory).
    index: Arc<StreamIndex>,
    /// The data-directory format found at open.
    format: u8,
    /// Where the log begins, when it was trimmed (a trim moves it).
    base: Mutex<Option<LogBase>>,
    /// Held by the one trim running.
    trimming: Mutex<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer after its current batch.
        self.commands = None;
        let handles = std::mem::take(
            self.writer
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for handle in handles {
            if handle.join().is_err() {
                tracing::error!("log writer thread panicked");
            }
        }
    }
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("last_seq", &self.last_seq())
            .field("read_only", &self.inner.commands.is_none())
            .field("poisoned", &self.is_poisoned())
            .finish_non_exhaustive()
    }
}

impl EventLog {
    fn sender(&self) -> Result<&mpsc::Sender<Command>> {
        if self.is_poisoned() {
            return Err(Error::Poisoned);
        }
        self.inner.commands.as_ref().ok_or(Error::ReadOnly)
    }

    /// Append `events` (for any streams) and return their contiguous seq
    /// range once they are durable. Waits while the writer's queue is full.
    ///
    /// # Errors
    /// [`Error::Poisoned`], [`Error::WriteFailed`], [`Error::Closed`],
    /// [`Error::ReadOnly`], [`Error::EmptyAppend`], size limits.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<SeqRange> {
        let (reply, answer) = oneshot::channel();
        self.enqueue_append(events, reply).await?;
        answer
            .await
            .map_err(|_| Error::Closed)?
            .map(|appended| appended.range)
    }

    /// Queue `events` for the next group commit and return as soon as they
    /// are queued (waiting while the queue is full: backpressure). `reply`
    /// receives the outcome once the batch is durable, with the time stamped
    /// on its events; the caller need not stay around for it, which lets one
    /// actor front the writer without serialising the commits.
    ///
    /// # Errors
    /// [`Error::Poisoned`], [`Error::Closed`], [`Error::ReadOnly`] when the
    /// request cannot be queued; every other error arrives on `reply`.
    pub async fn enqueue_append(
        &self,
        events: Vec<NewEvent>,
        reply: oneshot::Sender<Result<Appended>>,
    ) -> Result<()> {
        self.sender()?
            .send(Command::Append { events, reply })
            .await
            .map_err(|_| Error::Closed)
    }

    /// [`EventLog::append`] for synchronous callers. Must not be called from
    /// inside an async runtime.
    ///
    /// # Errors
    /// As [`EventLog::append`].
    pub fn append_blocking(&self, events: Vec<NewEvent>) -> Result<SeqRange> {
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .blocking_send(Command::Append { events, reply })
            .map_err(|_| Error::Closed)?;
        answer
            .blocking_recv()
            .map_err(|_| Error::Closed)?
            .map(|appended| appended.range)
    }

    /// Store a checkpoint durably through the writer (so it is ordered after
    /// every append acknowledged before it), keeping the configured number of
    /// generations.
    ///
    /// # Errors
    /// [`Error::CheckpointAhead`] when `checkpoint.seq` is past the log's end;
    /// the errors of [`EventLog::append`].
    pub async fn put_checkpoint(&self, checkpoint: NewCheckpoint) -> Result<CheckpointId> {
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .send(Command::Checkpoint { checkpoint, reply })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// [`EventLog::put_checkpoint`] for synchronous callers.
    ///
    /// # Errors
    /// As [`EventLog::put_checkpoint`].
    pub fn put_checkpoint_blocking(&self, checkpoint: NewCheckpoint) -> Result<CheckpointId> {
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .blocking_send(Command::Checkpoint { checkpoint, reply })
            .map_err(|_| Error::Closed)?;
        answer.blocking_recv().map_err(|_| Error::Closed)?
    }

    /// Load the newest generation of checkpoint `name` that passes its checks
    /// and has `format_version`, reporting each newer one skipped and why.
    ///
    /// # Errors
    /// Storage errors.
    pub fn load_checkpoint(&self, name: &str, format_version: u32) -> Result<CheckpointLoad> {
        let generations = self.inner.backend.checkpoints(name)?;
        Ok(checkpoint::select(name, generations, format_version))
    }

    /// Every stored generation of checkpoint `name`, newest first, each
    /// checked (frame, payload, key, a format version in
    /// `format_versions`: the ones the caller's restore reads): the caller
    /// walks them to fall back past one its own restore refuses.
    ///
    /// # Errors
    /// Storage errors.
    pub fn checkpoint_generations(
        &self,
        name: &str,
        format_versions: std::ops::RangeInclusive<u32>,
    ) -> Result<Vec<std::result::Result<Checkpoint, SkippedCheckpoint>>> {
        Ok(self
            .inner
            .backend
            .checkpoints(name)?
            .into_iter()
            .map(|(id, bytes)| checkpoint::check(name, id, &bytes, &format_versions))
            .collect())
    }

    /// Every stored checkpoint generation, checked.
    ///
    /// # Errors
    /// Storage errors.
    pub fn list_checkpoints(&self) -> Result<Vec<CheckpointInfo>> {
        Ok(self
            .inner
            .backend
            .all_checkpoints()?
            .into_iter()
            .map(|(name, id, bytes)| {
                let status =
                    checkpoint::decode(&name, id, &bytes).map(|cp| checkpoint::CheckpointSummary {
                        seq: cp.seq,
                        format_version: cp.format_version,
                        data_bytes: cp.data.len(),
                        checksum: cp.checksum,
                    });
                CheckpointInfo { name, id, status }
            })
            .collect())
    }

    /// Events with `from <= seq <= to`, checked one by one as they are read.
    /// Reads end at the durable end ([`EventLog::last_seq`]): a batch the
    /// writer has written but not yet synced is never seen.
    ///
    /// # Errors
    /// Storage errors opening the scan; the iterator yields record errors.
    pub fn read_range(&self, from: Seq, to: Seq) -> Result<Records<'_>> {
        Records::new(
            self.inner.backend.as_ref(),
            from,
            to.min(self.last_seq()),
            self.base(),
        )
    }

    /// Visit the events with `from <= seq <= to` in order, each checked as by
    /// [`EventLog::read_range`], without copying stored bytes: the replay
    /// path. Returns the seq after the last event visited (`from` when none).
    /// Like [`EventLog::read_range`], it ends at the durable end.
    ///
    /// # Errors
    /// Storage and record errors (converted into `E`), and whatever `visit`
    /// returns, which stops the scan.
    pub fn for_each_event<E: From<Error>>(
        &self,
        from: Seq,
        to: Seq,
        mut visit: impl FnMut(Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<Seq, E> {
        let to = to.min(self.last_seq());
        reader::for_each_event(
            self.inner.backend.as_ref(),
            from,
            to,
            self.base(),
            &mut visit,
        )
    }

    /// Write the whole log to the new file `dest` (see the `export` format in
    /// docs/format.md), checking every record as it is read. The file
    /// appears under its name only once complete and synced.
    ///
    /// # Errors
    /// [`Error::ExportTargetExists`], record corruption, I/O and storage
    /// errors; on error no file is left at `dest`.
    pub fn export_to(&self, dest: &Path, progress: TransferProgress<'_>) -> Result<TransferReport> {
        export::export(
            self.inner.backend.as_ref(),
            self.base(),
            self.last_seq(),
            dest,
            progress,
        )
    }

    /// Create the data directory `data_dir` (absent or empty) from the export
    /// file `src`, checking every frame, the chain and the trailer. The
    /// directory appears only once the whole file checked out and is synced.
    ///
    /// # Errors
    /// [`Error::BadExport`] (naming the byte offset and the last good seq),
    /// [`Error::ImportTargetNotEmpty`], I/O and storage errors; on error
    /// nothing is left in `data_dir`.
    pub fn import_from(
        src: &Path,
        data_dir: &Path,
        progress: TransferProgress<'_>,
    ) -> Result<TransferReport> {
        export::import(&[src.to_path_buf()], data_dir, progress)
    }

    /// [`EventLog::import_from`] of several files in order, each continuing
    /// the one before: the archive segments a trim wrote, then the export
    /// of the trimmed log, rebuild the whole log.
    ///
    /// # Errors
    /// As [`EventLog::import_from`]; [`Error::ExportsNotContiguous`] when a
    /// file does not continue the one before; [`Error::ExportWithoutBase`]
    /// when the first starts after seq 1 without the base it needs.
    pub fn import_chain(
        srcs: &[std::path::PathBuf],
        data_dir: &Path,
        progress: TransferProgress<'_>,
    ) -> Result<TransferReport> {
        export::import(srcs, data_dir, progress)
    }

    /// Events of `stream` with `seq >= from`.
    ///
    /// # Errors
    /// Storage errors opening the scan; the iterator yields record errors.
    pub fn read_stream(&self, stream: &str, from: Seq) -> Result<StreamRecords<'_>> {
        let backend = self.inner.backend.as_ref();
        let seqs = self.inner.index.seqs(backend, stream, from)?;
        Ok(StreamRecords::new(backend, stream, seqs))
    }

    /// Every stream with its number of events, in stream-name order.
    ///
    /// # Errors
    /// Storage errors.
    pub fn streams(&self) -> Result<Vec<(String, u64)>> {
        self.inner.index.streams(self.inner.backend.as_ref())
    }

    /// Where the log begins, once it was trimmed: records up to the base's
    /// seq are gone, replaced by the base checkpoints (`None`: the log
    /// starts at seq 1).
    pub fn base(&self) -> Option<LogBase> {
        *self
            .inner
            .base
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The first seq the log holds (1 unless it was trimmed).
    pub fn first_seq(&self) -> Seq {
        self.base().map_or(Seq::FIRST, |b| b.first())
    }

    /// The stream index's stored watermark: a trim may go no further.
    ///
    /// # Errors
    /// Storage errors.
    pub fn index_upto(&self) -> Result<Seq> {
        Ok(self.inner.backend.index_upto()?.unwrap_or(Seq(0)))
    }

    /// Remove every record up to `request.upto`, archiving them first when
    /// `request.archive` names a directory, behind the base checkpoints it
    /// gives (see `trim.rs` for the order that makes it crash-safe). May
    /// run while the writer appends. Blocking: call it off the async
    /// workers.
    ///
    /// # Errors
    /// [`Error::ReadOnly`]; [`Error::BadTrim`]; archive I/O and storage
    /// errors. Nothing is removed on error.
    pub fn trim(
        &self,
        request: &TrimRequest,
        progress: TransferProgress<'_>,
    ) -> Result<TrimReport> {
        if self.inner.commands.is_none() {
            return Err(Error::ReadOnly);
        }
        // One trim at a time; readers take the base meanwhile (the archive
        // may take long), and see the new one from just before the records
        // go, so none reads from a seq no longer there.
        let _one = self
            .inner
            .trimming
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.base();
        let prepared = trim::prepare(
            self.inner.backend.as_ref(),
            old,
            self.last_seq(),
            FORMAT_VERSION,
            request,
            progress,
        )?;
        self.set_base(Some(prepared.base));
        if let Err(error) = trim::commit(self.inner.backend.as_ref(), &prepared) {
            self.set_base(old);
            return Err(error);
        }
        Ok(prepared.report)
    }

    fn set_base(&self, base: Option<LogBase>) {
        *self
            .inner
            .base
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = base;
    }

    /// The last durable seq (`Seq(0)` for an empty log).
    pub fn last_seq(&self) -> Seq {
        Seq(self.inner.shared.last_seq.load(Ordering::Acquire))
    }

    /// A watch of the log's durable end and poison flag, updated once per
    /// synced batch: a follower awaits `changed()` and then reads the new
    /// events, so it never polls and never misses one.
    pub fn watch_status(&self) -> watch::Receiver<LogStatus> {
        self.inner.shared.status.subscribe()
    }

    /// True once a write failed: the log must be reopened.
    pub fn is_poisoned(&self) -> bool {
        self.inner.shared.poisoned.load(Ordering::Acquire)
    }

    /// Append and checkpoint requests waiting in the writer's queue.
    pub fn queued(&self) -> usize {
        self.inner
            .commands
            .as_ref()
            .map_or(0, |tx| tx.max_capacity() - tx.capacity())
    }

    /// Write-ahead-log syncs the store performed since open, when it counts
    /// them (the RocksDB backend does in builds with the `failpoints`
    /// feature, which tests use; `None` otherwise).
    pub fn wal_syncs(&self) -> Option<u64> {
        self.inner.backend.wal_syncs()
    }

    /// Bytes the store holds in memory tables (RocksDB's memtables, every
    /// column family), for memory accounting.
    pub fn memtable_bytes(&self) -> Option<u64> {
        self.inner.backend.memtable_bytes()
    }

    /// Bytes the store holds in its block cache (RocksDB's, bounded by
    /// [`BLOCK_CACHE_BYTES`](crate::BLOCK_CACHE_BYTES)), for memory accounting.
    pub fn block_cache_bytes(&self) -> Option<u64> {
        self.inner.backend.block_cache_bytes()
    }

    /// Writer counters since open.
    pub fn stats(&self) -> WriterStats {
        self.inner.shared.stats()
    }

    /// Check the whole log: every frame, the seq sequence, the checksum chain,
    /// the stream index, every checkpoint, and the clean-close watermark.
    /// `progress` is called with the records checked so far.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> VerifyReport {
        verify::verify(
            self.inner.backend.as_ref(),
            self.inner.clean_close,
            self.inner.format,
            progress,
        )
    }

    /// Stop the writer after everything queued before this call, record the
    /// clean-close watermark, and flush storage. Later appends fail with
    /// [`Error::Closed`].
    ///
    /// # Errors
    /// [`Error::Poisoned`] when a write had failed; storage errors.
    pub async fn close(&self) -> Result<()> {
        let Some(tx) = self.inner.commands.as_ref() else {
            return Ok(());
        };
        let (reply, answer) = oneshot::channel();
        if tx.send(Command::Close { reply }).await.is_err() {
            return Ok(());
        }
        answer.await.unwrap_or(Ok(()))
    }

    /// [`EventLog::close`] for synchronous callers.
    ///
    /// # Errors
    /// As [`EventLog::close`].
    pub fn close_blocking(&self) -> Result<()> {
        let Some(tx) = self.inner.commands.as_ref() else {
            return Ok(());
        };
        let (reply, answer) = oneshot::channel();
        if tx.blocking_send(Command::Close { reply }).is_err() {
            return Ok(());
        }
        answer.blocking_recv().unwrap_or(Ok(()))
    }
}
