//! Opening a log: the format checked (and upgraded by an open that may
//! write), the tail recovered or refused, the stream index loaded, the
//! writer started; or a read-only open that never writes.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::handoff::Tail;
use crate::index::{self, OnBadRecord, StreamIndex};
use crate::options::LogOptions;
use crate::reader::decode_record;
use crate::rocks::{OpenMode, RocksBackend};
use crate::staging;
use crate::trim::{self, LogBase};
use crate::types::Seq;
use crate::writer::{self, LogStatus, META_CLEAN_CLOSE, Shared, WriterConfig};

use super::{EventLog, FORMAT_VERSION, Inner, META_FORMAT};

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
}
