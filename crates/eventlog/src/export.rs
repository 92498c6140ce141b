//! Export and import: the whole log as one framed, checksummed file.
//!
//! Format (all frames are the log's own frame, see `frame.rs` and
//! docs/format.md):
//!
//! ```text
//! offset  size  field
//!      0     8  magic        "STRANDX1"
//!      8     …  header frame (chain 0), payload = ExportHeader
//!      …     …  one frame per record, seq 1..=last, exactly as stored in
//!               the log (envelope payload, chain = predecessor's crc)
//!      …     …  trailer frame (chain = last record's crc), payload = ExportTrailer
//!    end        nothing may follow the trailer
//! ```
//!
//! Records are copied verbatim, so an import reproduces the log byte for
//! byte: same seqs, timestamps, chain and checksums, hence the same state
//! when replayed. Every frame is checked on the way out and again on the way
//! in. An import writes into a hidden staging directory beside the target and
//! renames it into place only after the trailer checked out, so a damaged
//! file or a crash mid-import never leaves a partial data directory.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, RecordBatch};
use crate::codec;
use crate::error::{Error, ExportDefect, Result};
use crate::frame::{self, FrameError, HEADER_LEN};
use crate::index::StreamIndex;
use crate::log::{FORMAT_VERSION, check_format};
use crate::reader::Checker;
use crate::rocks::{OpenMode, RocksBackend};
use crate::staging::{io, parent_dir, remove_stale_staging, staging_prefix, sync_dir};
use crate::types::Seq;
use crate::writer::META_CLEAN_CLOSE;

/// The first eight bytes of every export file.
pub const EXPORT_MAGIC: [u8; 8] = *b"STRANDX1";
/// Version of the export file layout.
pub const EXPORT_VERSION: u32 = 1;

/// Records per synced write while importing.
const IMPORT_BATCH_RECORDS: usize = 4096;
/// Bytes per synced write while importing.
const IMPORT_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Stream-index entries an import holds in memory before writing them out.
const IMPORT_INDEX_ENTRIES: usize = 65_536;

/// Payload of the header frame. Field order is part of the format.
#[derive(Debug, Serialize, Deserialize)]
struct ExportHeader {
    export_version: u32,
    log_format: u8,
    /// Number of record frames that follow (seqs 1..=records).
    records: u64,
}

/// Payload of the trailer frame. Field order is part of the format.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ExportTrailer {
    records: u64,
    last_seq: Seq,
    /// crc of the last record frame (0 when there is none).
    last_crc: u32,
}

/// What an export or import moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferReport {
    /// Records written or read.
    pub records: u64,
    /// The last seq (`Seq(0)` for an empty log).
    pub last_seq: Seq,
    /// Size of the export file in bytes.
    pub bytes: u64,
}

/// Progress of a long transfer: `(records done, records in total)`.
pub type TransferProgress<'a> = &'a mut dyn FnMut(u64, u64);

fn frame_payload<T: Serialize>(out: &mut Vec<u8>, chain: u32, value: &T) -> Result<u32> {
    frame::encode_with(out, chain, |buf| {
        codec::encode_into(value, buf).map_err(Error::from)
    })
}

/// Write every record of `backend` (which must hold `last` records from
/// seq 1) to a new file `dest`, checking each as it is read.
pub(crate) fn export(
    backend: &dyn Backend,
    last: Seq,
    dest: &Path,
    progress: TransferProgress<'_>,
) -> Result<TransferReport> {
    if dest.exists() {
        return Err(Error::ExportTargetExists {
            path: dest.to_path_buf(),
        });
    }
    let dir = parent_dir(dest);
    let tmp = tempfile::Builder::new()
        .prefix(".strand-export-")
        .tempfile_in(&dir)
        .map_err(io("create temporary export file in", &dir))?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp);
    let mut head = Vec::with_capacity(64);
    head.extend_from_slice(&EXPORT_MAGIC);
    frame_payload(
        &mut head,
        0,
        &ExportHeader {
            export_version: EXPORT_VERSION,
            log_format: FORMAT_VERSION,
            records: last.0,
        },
    )?;
    out.write_all(&head).map_err(io("write", dest))?;
    let mut bytes = head.len() as u64;

    let mut checker = Checker::new(Seq::FIRST);
    let mut last_crc = 0;
    let mut failure = None;
    backend.scan_with(Seq::FIRST, last, &mut |seq, stored| {
        let written = checker.check(seq, stored).and_then(|(_, crc)| {
            last_crc = crc;
            out.write_all(stored).map_err(io("write", dest))
        });
        match written {
            Ok(()) => {
                bytes += stored.len() as u64;
                if seq.0.is_multiple_of(65_536) {
                    progress(seq.0, last.0);
                }
                std::ops::ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                std::ops::ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    // The scan ends where the log does; a shorter log than announced is a gap.
    if checker.expected != last.next() {
        return Err(Error::Gap {
            expected: checker.expected,
            found: last.next(),
        });
    }
    let mut tail = Vec::with_capacity(64);
    frame_payload(
        &mut tail,
        last_crc,
        &ExportTrailer {
            records: last.0,
            last_seq: last,
            last_crc,
        },
    )?;
    out.write_all(&tail).map_err(io("write", dest))?;
    bytes += tail.len() as u64;
    let tmp = out.into_inner().map_err(|e| Error::Io {
        op: "write",
        path: dest.to_path_buf(),
        source: e.into_error(),
    })?;
    // Durability: the file's bytes must be on disk before the rename below
    // publishes it under its final name.
    tmp.as_file().sync_all().map_err(io("sync", dest))?;
    tmp.persist_noclobber(dest).map_err(|e| {
        if e.error.kind() == ErrorKind::AlreadyExists {
            Error::ExportTargetExists {
                path: dest.to_path_buf(),
            }
        } else {
            Error::Io {
                op: "rename export into",
                path: dest.to_path_buf(),
                source: e.error,
            }
        }
    })?;
    sync_dir(&dir)?;
    progress(last.0, last.0);
    Ok(TransferReport {
        records: last.0,
        last_seq: last,
        bytes,
    })
}

/// Reads frames from an export file, tracking where each starts.
struct ExportReader {
    file: BufReader<File>,
    path: PathBuf,
    /// Offset of the next byte to read.
    offset: u64,
    /// Offset where the frame being read starts.
    frame_start: u64,
    /// The last record that checked out.
    last_good_seq: Seq,
    buf: Vec<u8>,
}

impl ExportReader {
    fn defect(&self, defect: ExportDefect) -> Error {
        Error::BadExport {
            offset: self.frame_start,
            last_good_seq: self.last_good_seq,
            defect,
        }
    }

    /// Fill `self.buf[from..]`; a short file is [`ExportDefect::Truncated`].
    fn fill(&mut self, from: usize) -> Result<()> {
        let Some(dest) = self.buf.get_mut(from..) else {
            return Ok(());
        };
        match self.file.read_exact(dest) {
            Ok(()) => {
                self.offset += dest.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                Err(self.defect(ExportDefect::Truncated))
            }
            Err(e) => Err(io("read", &self.path)(e)),
        }
    }

    fn read_magic(&mut self) -> Result<()> {
        self.buf.clear();
        self.buf.resize(EXPORT_MAGIC.len(), 0);
        self.fill(0)?;
        if self.buf != EXPORT_MAGIC {
            return Err(self.defect(ExportDefect::BadMagic));
        }
        Ok(())
    }

    /// Read one whole frame into `self.buf` and check it; returns its chain
    /// and crc.
    fn read_frame(&mut self) -> Result<(u32, u32)> {
        self.frame_start = self.offset;
        self.buf.clear();
        self.buf.resize(HEADER_LEN, 0);
        self.fill(0)?;
        // The header alone says how long the frame is (and is checked for
        // magic, version, flags and the length bound before any allocation).
        match frame::decode_prefix(&self.buf) {
            Err(FrameError::Incomplete { needed, .. }) if needed > HEADER_LEN => {
                self.buf.resize(needed, 0);
                self.fill(HEADER_LEN)?;
            }
            Err(e) => return Err(self.defect(ExportDefect::Frame(e))),
            Ok(_) => {}
        }
        let frame = frame::decode_exact(&self.buf).map_err(|e| Error::BadExport {
            offset: self.frame_start,
            last_good_seq: self.last_good_seq,
            defect: ExportDefect::Frame(e),
        })?;
        Ok((frame.chain, frame.crc))
    }

    fn payload(&self) -> &[u8] {
        self.buf.get(HEADER_LEN..).unwrap_or_default()
    }

    /// True when the file has no byte left.
    fn at_end(&mut self) -> Result<bool> {
        let mut probe = [0u8; 1];
        loop {
            match self.file.read(&mut probe) {
                Ok(n) => return Ok(n == 0),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io("read", &self.path)(e)),
            }
        }
    }
}

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

/// Read and check a whole export file, handing each record to `sink` as
/// `(seq, stream, frame, crc)`. Returns the number of records and the last
/// seq once the trailer and the end of the file checked out.
fn read_export(
    src: &Path,
    sink: RecordSink<'_>,
    progress: TransferProgress<'_>,
) -> Result<TransferReport> {
    let file = File::open(src).map_err(io("open", src))?;
    let mut reader = ExportReader {
        file: BufReader::with_capacity(1 << 20, file),
        path: src.to_path_buf(),
        offset: 0,
        frame_start: 0,
        last_good_seq: Seq(0),
        buf: Vec::new(),
    };
    reader.read_magic()?;
    reader.read_frame()?;
    let header: ExportHeader =
        codec::decode_exact(reader.payload()).map_err(|_| reader.defect(ExportDefect::Header))?;
    // Data-directory formats 1 and 2 differ only in how the stream index is
    // stored, which an export does not carry: their records read alike.
    if header.export_version != EXPORT_VERSION || !(1..=FORMAT_VERSION).contains(&header.log_format)
    {
        return Err(reader.defect(ExportDefect::Version {
            export: header.export_version,
            log: header.log_format,
        }));
    }
    let mut checker = Checker::new(Seq::FIRST);
    let mut last_crc = 0;
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
            progress(seq.0, header.records);
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
    Ok(TransferReport {
        records: header.records,
        last_seq,
        bytes: reader.offset,
    })
}

/// Import the export file `src` into the new (absent or empty) data
/// directory `data_dir`. On any error nothing is left in `data_dir`.
///
/// Two passes: the first checks the whole file without writing anything,
/// so a damaged file is refused cheaply; the second writes it (checking
/// again, in case the file changed in between) into a staging directory.
pub(crate) fn import(
    src: &Path,
    data_dir: &Path,
    progress: TransferProgress<'_>,
) -> Result<TransferReport> {
    check_target(data_dir)?;
    let checked = read_export(src, &mut |_, _, _, _| Ok(()), &mut |_, _| {})?;

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
    let mut batch = RecordBatch::default();
    // The stream index is built as the log's writer builds it: in memory,
    // written out in bulk, and whole before the directory appears.
    let index = StreamIndex::default();
    let total = checked.records;
    let report = read_export(
        src,
        &mut |seq, stream, frame, crc| {
            batch.push_with(seq, stream, |arena| {
                arena.extend_from_slice(frame);
                Ok::<u32, Error>(crc)
            })?;
            if batch.len() >= IMPORT_BATCH_RECORDS || batch.bytes() >= IMPORT_BATCH_BYTES {
                backend.append(&batch)?;
                if index.record(&batch) >= IMPORT_INDEX_ENTRIES {
                    index.flush(&backend, seq)?;
                }
                batch.clear();
                progress(seq.0, total);
            }
            Ok(())
        },
        &mut |_, _| {},
    )?;
    if !batch.is_empty() {
        backend.append(&batch)?;
        index.record(&batch);
    }
    index.flush(&backend, report.last_seq)?;
    backend.put_meta(META_CLEAN_CLOSE, &report.last_seq.0.to_be_bytes())?;
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
    progress(report.records, report.records);
    Ok(report)
}
