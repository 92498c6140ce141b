//! Import: one export, or a base export and the archive segments that
//! continue it, checked as a chain and written into a new data directory
//! through a staging directory renamed into place once complete.

use std::fs::{self, File};
use std::io::{BufReader, ErrorKind};
use std::path::{Path, PathBuf};

use crate::backend::{Backend, NamedCheckpoint, RecordBatch};
use crate::checkpoint::{self, MAX_CHECKPOINT_LEN};
use crate::codec;
use crate::error::{Error, ExportDefect, Result};
use crate::index::StreamIndex;
use crate::log::check_format;
use crate::reader::Checker;
use crate::rocks::{OpenMode, RocksBackend};
use crate::staging::{io, parent_dir, remove_stale_staging, staging_prefix, sync_dir};
use crate::trim::{BASE_CHECKPOINT_PREFIX, LogBase, META_BASE};
use crate::types::Seq;
use crate::writer::META_CLEAN_CLOSE;

use super::reader::{ExportReader, read_header};
use super::{
    ExportTrailer, IMPORT_BATCH_BYTES, IMPORT_BATCH_RECORDS, IMPORT_INDEX_ENTRIES,
    TransferProgress, TransferReport,
};

fn check_target(data_dir: &Path) -> Result<()> {
    match fs::read_dir(data_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::ImportTargetNotEmpty {
                    path: data_dir.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotADirectory => Err(Error::ImportTargetNotEmpty {
            path: data_dir.to_path_buf(),
        }),
        Err(e) => Err(io("read directory", data_dir)(e)),
    }
}

/// Receives each checked record of an export: `(seq, stream, frame, crc)`.
type RecordSink<'a> = &'a mut dyn FnMut(Seq, &str, &[u8], u32) -> Result<()>;

/// What reading a whole export file found.
struct ReadExport {
    report: TransferReport,
    /// The chain value of its first record.
    prev_crc: u32,
    /// The crc of its last record (`prev_crc` when it has none).
    last_crc: u32,
    /// Its base checkpoints, each checked.
    base: Vec<NamedCheckpoint>,
}

/// Read and check a whole export file, handing each record to `sink` as
/// `(seq, stream, frame, crc)`. With `after`, the file must continue a
/// log that ends there. Returns what it found once the trailer and the
/// end of the file checked out.
fn read_export(
    src: &Path,
    after: Option<LogBase>,
    sink: RecordSink<'_>,
    progress: TransferProgress<'_>,
) -> Result<ReadExport> {
    let file = File::open(src).map_err(io("open", src))?;
    let mut reader = ExportReader::new(BufReader::with_capacity(1 << 20, file), src.to_path_buf());
    reader.read_magic()?;
    let header = read_header(&mut reader)?;
    let first = header.first_seq;
    if let Some(after) = after
        && (first != after.first() || header.prev_crc != after.chain)
    {
        return Err(Error::ExportsNotContiguous {
            path: src.to_path_buf(),
            first,
            expected_after: after.seq,
        });
    }
    let mut base = Vec::with_capacity(header.base.len());
    for (name, id, len) in header.base {
        reader.frame_start = reader.offset;
        let bad = |reason| ExportDefect::BaseCheckpoint {
            name: name.clone(),
            reason,
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len <= MAX_BASE_BYTES && name.starts_with(BASE_CHECKPOINT_PREFIX))
            .ok_or_else(|| {
                reader.defect(bad(crate::error::CheckpointDefect::Length {
                    announced: len,
                    found: 0,
                }))
            })?;
        reader.buf.clear();
        reader.buf.resize(len, 0);
        reader.fill(0)?;
        if let Err(reason) = checkpoint::decode(&name, id, &reader.buf) {
            return Err(reader.defect(bad(reason)));
        }
        base.push((name, id, std::mem::take(&mut reader.buf).into_boxed_slice()));
    }
    reader.last_good_seq = Seq(first.0 - 1);
    let chained = (first > Seq::FIRST).then(|| LogBase {
        seq: Seq(first.0 - 1),
        chain: header.prev_crc,
    });
    let mut checker = Checker::new(first, chained);
    let mut last_crc = header.prev_crc;
    for _ in 0..header.records {
        reader.read_frame()?;
        let seq = checker.expected;
        let (event, crc) = checker
            .check(seq, &reader.buf)
            .map_err(|e| reader.defect(ExportDefect::Record(Box::new(e))))?;
        sink(seq, &event.stream, &reader.buf, crc)?;
        last_crc = crc;
        reader.last_good_seq = seq;
        if seq.0.is_multiple_of(65_536) {
            progress(seq.0 - first.0 + 1, header.records);
        }
    }
    let last_seq = reader.last_good_seq;
    let (chain, _) = reader.read_frame()?;
    let trailer: Option<ExportTrailer> = codec::decode_exact(reader.payload()).ok();
    let expected = ExportTrailer {
        records: header.records,
        last_seq,
        last_crc,
    };
    if chain != last_crc || trailer.as_ref() != Some(&expected) {
        return Err(reader.defect(ExportDefect::Trailer));
    }
    reader.frame_start = reader.offset;
    if !reader.at_end()? {
        return Err(reader.defect(ExportDefect::TrailingBytes));
    }
    Ok(ReadExport {
        report: TransferReport {
            records: header.records,
            first_seq: first,
            last_seq,
            bytes: reader.offset,
        },
        prev_crc: header.prev_crc,
        last_crc,
        base,
    })
}

/// The largest base checkpoint an import reads (its data bound plus the
/// frames around it).
const MAX_BASE_BYTES: usize = MAX_CHECKPOINT_LEN + (MAX_CHECKPOINT_LEN >> 10) + 4096;

/// Check every file of `srcs` in order, each continuing the one before:
/// where the log they make begins (its base), and where it ends.
fn check_chain(srcs: &[PathBuf]) -> Result<(Option<LogBase>, LogBase, u64)> {
    let mut start = None;
    let mut end: Option<LogBase> = None;
    let mut total = 0;
    for src in srcs {
        let found = read_export(src, end, &mut |_, _, _, _| Ok(()), &mut |_, _| {})?;
        if end.is_none() {
            let first = found.report.first_seq;
            if first > Seq::FIRST {
                if found.base.is_empty() {
                    return Err(Error::ExportWithoutBase {
                        path: src.clone(),
                        first,
                    });
                }
                start = Some(LogBase {
                    seq: Seq(first.0 - 1),
                    chain: found.prev_crc,
                });
            }
        }
        total += found.report.records;
        end = Some(LogBase {
            seq: found.report.last_seq,
            chain: found.last_crc,
        });
    }
    let end = end.unwrap_or(LogBase {
        seq: Seq(0),
        chain: 0,
    });
    Ok((start, end, total))
}

/// Import the export files `srcs` (a log's export, or archive segments
/// followed by the export of the log they were trimmed from, each
/// continuing the one before) into the new (absent or empty) data
/// directory `data_dir`. On any error nothing is left in `data_dir`.
///
/// Two passes: the first checks every file without writing anything, so a
/// damaged or misplaced file is refused cheaply; the second writes them
/// (checking again, in case a file changed in between) into a staging
/// directory.
pub(crate) fn import(
    srcs: &[PathBuf],
    data_dir: &Path,
    progress: TransferProgress<'_>,
) -> Result<TransferReport> {
    check_target(data_dir)?;
    let (start, _, total) = check_chain(srcs)?;

    let parent = parent_dir(data_dir);
    fs::create_dir_all(&parent).map_err(io("create directory", &parent))?;
    let prefix = staging_prefix(data_dir, "import");
    remove_stale_staging(&parent, &prefix)?;
    // Dropped (and so removed) on every early return below.
    let staging = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&parent)
        .map_err(io("create staging directory in", &parent))?;
    let backend = RocksBackend::open(staging.path(), OpenMode::Create)?;
    check_format(&backend, true)?;
    if let Some(base) = start {
        backend.put_index(&[], base.seq)?;
    }
    let mut batch = RecordBatch::default();
    // The stream index is built as the log's writer builds it: in memory,
    // written out in bulk, and whole before the directory appears.
    let index = StreamIndex::default();
    let mut done = 0;
    let mut end = start;
    let mut base_checkpoints = Vec::new();
    let mut bytes = 0;
    for (at, src) in srcs.iter().enumerate() {
        let found = read_export(
            src,
            end,
            &mut |seq, stream, frame, crc| {
                batch.push_with(seq, stream, |arena| {
                    arena.extend_from_slice(frame);
                    Ok::<u32, Error>(crc)
                })?;
                done += 1;
                if batch.len() >= IMPORT_BATCH_RECORDS || batch.bytes() >= IMPORT_BATCH_BYTES {
                    backend.append(&batch)?;
                    if index.record(&batch) >= IMPORT_INDEX_ENTRIES {
                        index.flush(&backend, seq)?;
                    }
                    batch.clear();
                    progress(done, total);
                }
                Ok(())
            },
            &mut |_, _| {},
        )?;
        if at == 0 {
            base_checkpoints = found.base;
        }
        bytes += found.report.bytes;
        end = Some(LogBase {
            seq: found.report.last_seq,
            chain: found.last_crc,
        });
    }
    let last = end.map_or(Seq(0), |e| e.seq);
    if !batch.is_empty() {
        backend.append(&batch)?;
        index.record(&batch);
    }
    index.flush(&backend, last.max(start.map_or(Seq(0), |b| b.seq)))?;
    if let Some(base) = start {
        for (name, id, frame) in &base_checkpoints {
            backend.put_checkpoint(name, *id, frame, &[])?;
        }
        // Durability: synced, like every metadata value, and after the
        // checkpoints it stands for.
        backend.put_meta(META_BASE, &base.encode())?;
    }
    backend.put_meta(META_CLEAN_CLOSE, &last.0.to_be_bytes())?;
    backend.flush()?;
    drop(backend);

    let staged = staging.keep();
    // An empty target directory is replaced by the rename (rename(2) allows
    // it); a crash before this line leaves only the hidden staging directory.
    if let Err(e) = fs::rename(&staged, data_dir) {
        // Best effort: the staging copy is useless without the rename.
        let _ = fs::remove_dir_all(&staged);
        return Err(io("rename staging directory to", data_dir)(e));
    }
    sync_dir(&parent)?;
    progress(total, total);
    Ok(TransferReport {
        records: total,
        first_seq: start.map_or(Seq::FIRST, |b| b.first()),
        last_seq: last,
        bytes,
    })
}
