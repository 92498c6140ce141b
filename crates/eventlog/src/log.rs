//! [`EventLog`]: the public handle to one durable log.

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
use crate::handoff::Tail;
use crate::index::{self, OnBadRecord, StreamIndex};
use crate::options::LogOptions;
use crate::reader::{self, Records, StreamRecords, decode_record};
use crate::rocks::{OpenMode, RocksBackend};
use crate::staging;
use crate::trim::{self, LogBase, TrimReport, TrimRequest};
use crate::types::{Appended, Event, NewEvent, Seq, SeqRange};
use crate::verify::{self, VerifyReport};
use crate::writer::{
    self, Command, LogStatus, META_CLEAN_CLOSE, Shared, WriterConfig, WriterStats,
};

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

fn read_clean_close(backend: &dyn Backend) -> Result<Option<Seq>> {
    match backend.get_meta(META_CLEAN_CLOSE)? {
        None => Ok(None),
        Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
            .map(|b| Some(Seq(u64::from_be_bytes(b))))
            .map_err(|_| Error::BadMetadata {
                key: META_CLEAN_CLOSE,
            }),
    }
}

/// Check the format marker and return the format; when `writable`, write
/// it into a new, empty log, and upgrade a version-1 log.
pub(crate) fn check_format(backend: &dyn Backend, writable: bool) -> Result<u8> {
    match backend.get_meta(META_FORMAT)?.as_deref() {
        Some([FORMAT_VERSION]) => Ok(FORMAT_VERSION),
        Some([1]) if writable => {
            // Version 1 indexed every record with its batch: the index is
            // complete to the last record, which becomes its watermark.
            let last = backend.last_record()?.map_or(Seq(0), |(seq, _)| seq);
            backend.put_index(&[], last)?;
            // Durability: synced, and so is the watermark written before it.
            backend.put_meta(META_FORMAT, &[FORMAT_VERSION])?;
            Ok(FORMAT_VERSION)
        }
        Some([2]) if writable => {
            // Version 2 differs only in having no base: nothing to convert.
            // Durability: a synced write of the marker alone.
            backend.put_meta(META_FORMAT, &[FORMAT_VERSION])?;
            Ok(FORMAT_VERSION)
        }
        Some([found @ (1 | 2)]) => Ok(*found),
        Some([found]) => Err(Error::UnsupportedFormat {
            found: *found,
            supported: FORMAT_VERSION,
        }),
        Some(_) => Err(Error::BadMetadata { key: META_FORMAT }),
        None if backend.last_record()?.is_some() => Err(Error::BadMetadata { key: META_FORMAT }),
        None if writable => {
            backend.put_index(&[], Seq(0))?;
            // Durability: the format version is synced, and with it the
            // empty index's watermark written before it.
            backend.put_meta(META_FORMAT, &[FORMAT_VERSION])?;
            Ok(FORMAT_VERSION)
        }
        None => Ok(FORMAT_VERSION),
    }
}

/// Refuse a data directory that cannot be written, before RocksDB meets it
/// (its own error names a lock or info-log file). The probe is an unnamed
/// temporary file: nothing is left behind.
fn probe_writable(path: &Path) -> Result<()> {
    if !path.is_dir() {
        return Ok(());
    }
    match tempfile::tempfile_in(path) {
        Err(source)
            if matches!(
                source.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(Error::NotWritable {
                path: path.to_path_buf(),
                source,
            })
        }
        // Writable; or another error, which is RocksDB's to report.
        _ => Ok(()),
    }
}

/// Create a new, empty log at `path` whole: built in a hidden staging
/// directory beside it (every column family, the format version), then
/// renamed into place. A process killed midway leaves no half-made log at
/// `path` (once, a kill between RocksDB's creation of two column families
/// left one that read-only commands refused), and the next creation
/// removes the staging directory.
fn create_whole(path: &Path) -> Result<()> {
    let parent = staging::parent_dir(path);
    std::fs::create_dir_all(&parent).map_err(staging::io("create directory", &parent))?;
    let prefix = staging::staging_prefix(path, "create");
    staging::remove_stale_staging(&parent, &prefix)?;
    let dir = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&parent)
        .map_err(staging::io("create staging directory in", &parent))?;
    {
        let backend = RocksBackend::open(dir.path(), OpenMode::Create)?;
        // Durability: the format version is a synced write.
        check_format(&backend, true)?;
    }
    let staged = dir.keep();
    if let Err(e) = std::fs::rename(&staged, path) {
        // Best effort: the staging copy is useless without the rename.
        let _ = std::fs::remove_dir_all(&staged);
        return Err(staging::io("rename staging directory to", path)(e));
    }
    staging::sync_dir(&parent)
}

/// Find and check where the log ends: it must start at seq 1 (or right
/// after its base), its last
/// record must pass every check, and it must reach the clean-close watermark.
fn recover_tail(
    backend: &dyn Backend,
    clean_close: Option<Seq>,
    base: Option<LogBase>,
) -> Result<Tail> {
    let expected = base.map_or(Seq::FIRST, |b| b.first());
    if let Some((first, _)) = backend.first_record()?
        && first != expected
    {
        return Err(Error::Gap {
            expected,
            found: first,
        });
    }
    let tail = match backend.last_record()? {
        None => Tail {
            last: base.map_or(Seq(0), |b| b.seq),
            chain: base.map_or(0, |b| b.chain),
        },
        Some((seq, bytes)) => {
            let (_, crc, _) = decode_record(seq, &bytes)?;
            Tail {
                last: seq,
                chain: crc,
            }
        }
    };
    if let Some(expected) = clean_close
        && expected > tail.last
    {
        return Err(Error::LostTail {
            expected_at_least: expected,
            found: tail.last,
        });
    }
    Ok(tail)
}

impl EventLog {
    /// Open (or, with `create_if_missing`, create) the log in directory `path`.
    ///
    /// Blocks on storage. Checks the format version, that the log starts at
    /// seq 1, that its last record is intact, and that it reaches the
    /// watermark of its last clean close.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::UnsupportedFormat`], [`Error::LostTail`],
    /// record corruption at the tail, storage errors, invalid options.
    pub fn open(path: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        options.validate()?;
        let mode = if options.create_if_missing {
            OpenMode::Create
        } else {
            OpenMode::Existing
        };
        let path = path.as_ref();
        probe_writable(path)?;
        if mode == OpenMode::Create
            && !path.join("CURRENT").exists()
            && staging::absent_or_empty(path)
        {
            create_whole(path)?;
        }
        let backend: Arc<dyn Backend> = Arc::new(RocksBackend::open(path, mode)?);
        Self::with_backend(backend, options)
    }

    /// Open a log over any [`Backend`].
    ///
    /// # Errors
    /// As [`EventLog::open`].
    #[expect(
        clippy::needless_pass_by_value,
        reason = "options are passed by value like every builder's product, as in `open`"
    )]
    pub fn with_backend(backend: Arc<dyn Backend>, options: LogOptions) -> Result<Self> {
        options.validate()?;
        #[cfg(feature = "failpoints")]
        let backend: Arc<dyn Backend> = match options.failpoints.clone() {
            Some(points) => Arc::new(crate::failpoint::FaultyBackend {
                inner: backend,
                points,
            }),
            None => backend,
        };
        let format = check_format(backend.as_ref(), true)?;
        let clean_close = read_clean_close(backend.as_ref())?;
        let base = trim::read_base(backend.as_ref())?;
        let tail = recover_tail(backend.as_ref(), clean_close, base)?;
        let upto = index::stored_upto(backend.as_ref(), format, tail.last)?;
        if upto > tail.last {
            return Err(Error::IndexAhead {
                upto,
                last: tail.last,
            });
        }
        let index = Arc::new(StreamIndex::load(
            backend.as_ref(),
            upto,
            tail.last,
            OnBadRecord::Refuse,
        )?);
        let (tx, rx) = mpsc::channel(options.queue_capacity);
        let shared = Arc::new(Shared::default());
        let config = WriterConfig {
            max_batch_events: options.max_batch_events,
            max_batch_bytes: options.max_batch_bytes,
            checkpoint_generations: options.checkpoint_generations,
            index_flush_events: options.index_flush_events,
        };
        let handles = writer::spawn(
            Arc::clone(&backend),
            Arc::clone(&index),
            rx,
            &shared,
            tail,
            &config,
        )
        .map_err(|source| Error::WriterThread { source })?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                commands: Some(tx),
                shared,
                writer: Mutex::new(handles),
                clean_close,
                index,
                format,
                base: Mutex::new(base),
                trimming: Mutex::new(()),
            }),
        })
    }

    /// Open an existing log without ever writing to it (verify, dump, replay).
    ///
    /// Unlike [`EventLog::open`], a damaged tail does not refuse the open:
    /// [`EventLog::verify`] reports it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::UnsupportedFormat`], storage errors.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let backend: Arc<dyn Backend> =
            Arc::new(RocksBackend::open(path.as_ref(), OpenMode::ReadOnly)?);
        let format = check_format(backend.as_ref(), false)?;
        let clean_close = read_clean_close(backend.as_ref())?;
        let base = trim::read_base(backend.as_ref())?;
        let shared = Arc::new(Shared::default());
        let last = backend
            .last_record()?
            .map_or(base.map_or(0, |b| b.seq.0), |(seq, _)| seq.0);
        let upto = index::stored_upto(backend.as_ref(), format, Seq(last))?;
        let index = Arc::new(StreamIndex::load(
            backend.as_ref(),
            upto,
            Seq(last),
            OnBadRecord::Stop,
        )?);
        shared.last_seq.store(last, Ordering::Release);
        shared.status.send_replace(LogStatus {
            last_seq: Seq(last),
            poisoned: false,
        });
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                commands: None,
                shared,
                writer: Mutex::new(Vec::new()),
                clean_close,
                index,
                format,
                base: Mutex::new(base),
                trimming: Mutex::new(()),
            }),
        })
    }

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
    /// checked (frame, payload, key, `format_version`): the caller walks
    /// them to fall back past one its own restore refuses.
    ///
    /// # Errors
    /// Storage errors.
    pub fn checkpoint_generations(
        &self,
        name: &str,
        format_version: u32,
    ) -> Result<Vec<std::result::Result<Checkpoint, SkippedCheckpoint>>> {
        Ok(self
            .inner
            .backend
            .checkpoints(name)?
            .into_iter()
            .map(|(id, bytes)| checkpoint::check(name, id, &bytes, format_version))
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
