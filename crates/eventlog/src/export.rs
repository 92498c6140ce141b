//! Export and import: a log (or a range of it) as one framed, checksummed
//! file; and the archive segments a trim writes in the same format.
//!
//! Format (all frames are the log's own frame, see `frame.rs` and
//! docs/format.md):
//!
//! ```text
//! offset  size  field
//!      0     8  magic        "STRANDX1"
//!      8     …  header frame (chain 0), payload = ExportHeader (version 1)
//!               or ExportHeaderV2 (version 2)
//!      …     …  version 2 only: each base checkpoint's stored bytes, as
//!               the header lists them (name, generation, length)
//!      …     …  one frame per record, seq first..=last, exactly as stored
//!               in the log (envelope payload, chain = predecessor's crc;
//!               the first record's is the header's prev_crc)
//!      …     …  trailer frame (chain = last record's crc), payload = ExportTrailer
//!    end        nothing may follow the trailer
//! ```
//!
//! Version 1 is a whole log from seq 1 (written for every log that was
//! never trimmed, so such exports are unchanged). Version 2 starts at any
//! seq: a trimmed log's export carries its base checkpoints; an archive
//! segment carries none, and continues the segment before it.
//!
//! Records are copied verbatim, so an import reproduces the log byte for
//! byte: same seqs, timestamps, chain and checksums, hence the same state
//! when replayed. Every frame is checked on the way out and again on the way
//! in. An import writes into a hidden staging directory beside the target and
//! renames it into place only after every file checked out, so a damaged
//! file or a crash mid-import never leaves a partial data directory.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, NamedCheckpoint, RecordBatch};
use crate::checkpoint::{self, MAX_CHECKPOINT_LEN};
use crate::codec;
use crate::error::{Error, ExportDefect, Result};
use crate::frame::{self, FrameError, HEADER_LEN};
use crate::index::StreamIndex;
use crate::log::{FORMAT_VERSION, check_format};
use crate::reader::Checker;
use crate::rocks::{OpenMode, RocksBackend};
use crate::staging::{io, parent_dir, remove_stale_staging, staging_prefix, sync_dir};
use crate::trim::{BASE_CHECKPOINT_PREFIX, LogBase, META_BASE};
use crate::types::Seq;
use crate::writer::META_CLEAN_CLOSE;

/// The first eight bytes of every export file.
pub const EXPORT_MAGIC: [u8; 8] = *b"STRANDX1";
/// Version of the export file layout (the newest written).
pub const EXPORT_VERSION: u32 = 2;
/// The layout of a whole log from seq 1, without a base.
const EXPORT_V1: u32 = 1;

/// Records per synced write while importing.
const IMPORT_BATCH_RECORDS: usize = 4096;
/// Bytes per synced write while importing.
const IMPORT_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Stream-index entries an import holds in memory before writing them out.
const IMPORT_INDEX_ENTRIES: usize = 65_536;

/// Payload of the header frame, version 1. Field order is part of the format.
#[derive(Debug, Serialize, Deserialize)]
struct ExportHeader {
    export_version: u32,
    log_format: u8,
    /// Number of record frames that follow (seqs 1..=records).
    records: u64,
}

/// Payload of the header frame, version 2. Field order is part of the
/// format; `export_version` and `log_format` lead as in version 1, so a
/// reader tells the versions apart by the first field.
#[derive(Debug, Serialize, Deserialize)]
struct ExportHeaderV2 {
    export_version: u32,
    log_format: u8,
    /// The seq of the first record frame.
    first_seq: Seq,
    /// Number of record frames that follow (seqs `first_seq` on).
    records: u64,
    /// The chain value the first record carries: the crc of the record
    /// before it (0 before seq 1).
    prev_crc: u32,
    /// The base checkpoints whose stored bytes follow the header:
    /// `(name, generation id, length)`.
    base: Vec<(String, u64, u64)>,
}

/// The version byte shared by both headers, read first.
#[derive(Debug, Deserialize)]
struct VersionProbe {
    export_version: u32,
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
    /// The first seq (1, or the first after a trimmed log's base).
    pub first_seq: Seq,
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

/// What an export file holds: records `first..=last` (none when `last <
/// first`), the first chained to `prev_crc`, and base checkpoints.
struct ExportSpec {
    first: Seq,
    last: Seq,
    prev_crc: u32,
    base: Vec<NamedCheckpoint>,
}

impl ExportSpec {
    fn records(&self) -> u64 {
        (self.last.0 + 1).saturating_sub(self.first.0)
    }

    /// Version 1 when it is a whole untrimmed log, as before there were
    /// bases (so such exports are byte for byte what they were).
    fn header(&self) -> Result<Vec<u8>> {
        let mut head = Vec::with_capacity(64);
        head.extend_from_slice(&EXPORT_MAGIC);
        if self.first == Seq::FIRST && self.base.is_empty() {
            frame_payload(
                &mut head,
                0,
                &ExportHeader {
                    export_version: EXPORT_V1,
                    log_format: FORMAT_VERSION,
                    records: self.records(),
                },
            )?;
            return Ok(head);
        }
        frame_payload(
            &mut head,
            0,
            &ExportHeaderV2 {
                export_version: EXPORT_VERSION,
                log_format: FORMAT_VERSION,
                first_seq: self.first,
                records: self.records(),
                prev_crc: self.prev_crc,
                base: self
                    .base
                    .iter()
                    .map(|(name, id, bytes)| (name.clone(), *id, bytes.len() as u64))
                    .collect(),
            },
        )?;
        for (_, _, bytes) in &self.base {
            head.extend_from_slice(bytes);
        }
        Ok(head)
    }
}

/// Write the whole log of `backend` (records after `base`, if trimmed, up
/// to `last`) to a new file `dest`, checking each record as it is read; a
/// trimmed log's base checkpoints go with it.
pub(crate) fn export(
    backend: &dyn Backend,
    base: Option<LogBase>,
    last: Seq,
    dest: &Path,
    progress: TransferProgress<'_>,
) -> Result<TransferReport> {
    let spec = ExportSpec {
        first: base.map_or(Seq::FIRST, |b| b.first()),
        last,
        prev_crc: base.map_or(0, |b| b.chain),
        base: match base {
            None => Vec::new(),
            Some(_) => backend
                .all_checkpoints()?
                .into_iter()
                .filter(|(name, _, _)| name.starts_with(BASE_CHECKPOINT_PREFIX))
                .collect(),
        },
    };
    write_export(backend, &spec, dest, progress)
}

/// One archive segment: records `first..=last` of a log, in a file of
/// the archive directory named by its seq range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSegment {
    /// The file.
    pub path: PathBuf,
    /// Its first seq.
    pub first: Seq,
    /// Its last seq.
    pub last: Seq,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The file name of the segment of records `first..=last`: both seqs
/// zero-padded, so names sort in log order.
pub fn segment_name(first: Seq, last: Seq) -> String {
    format!("{:020}-{:020}.{SEGMENT_EXTENSION}", first.0, last.0)
}

/// What archive segment files end with.
pub const SEGMENT_EXTENSION: &str = "strandx";

/// Archive records `first..=last` of `backend` (the first chained to
/// `prev_crc`) as a segment in `dir`, after removing the segments a trim
/// killed after archiving left (those from `first` on).
pub(crate) fn archive_segment(
    backend: &dyn Backend,
    (first, last): (Seq, Seq),
    prev_crc: u32,
    dir: &Path,
    progress: TransferProgress<'_>,
) -> Result<ArchiveSegment> {
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        // Durability: the new directory's name must survive a power loss
        // before the segment in it is relied on.
        sync_dir(&parent_dir(dir))?;
    }
    // A segment from `first` on holds records still in the log: a trim
    // killed after archiving left it. It goes, or the archive would hold
    // overlapping segments.
    let mut stale = false;
    for segment in list_segments(dir)? {
        if segment.first >= first {
            fs::remove_file(&segment.path).map_err(io("remove stale segment", &segment.path))?;
            stale = true;
        }
    }
    if stale {
        // Durability: the removal must not come back after a power loss
        // beside the segment written next.
        sync_dir(dir)?;
    }
    let path = dir.join(segment_name(first, last));
    let spec = ExportSpec {
        first,
        last,
        prev_crc,
        base: Vec::new(),
    };
    let report = write_export(backend, &spec, &path, progress)?;
    Ok(ArchiveSegment {
        path,
        first,
        last,
        bytes: report.bytes,
    })
}

/// Write the file `spec` describes to `dest`, which must not exist. The
/// file appears under its name only once complete and synced.
fn write_export(
    backend: &dyn Backend,
    spec: &ExportSpec,
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
    let head = spec.header()?;
    out.write_all(&head).map_err(io("write", dest))?;
    let mut bytes = head.len() as u64;

    let (first, last, total) = (spec.first, spec.last, spec.records());
    let after = (first > Seq::FIRST).then(|| LogBase {
        seq: Seq(first.0 - 1),
        chain: spec.prev_crc,
    });
    let mut checker = Checker::new(first, after);
    let mut last_crc = spec.prev_crc;
    let mut failure = None;
    if total > 0 {
        backend.scan_with(first, last, &mut |seq, stored| {
            let written = checker.check(seq, stored).and_then(|(_, crc)| {
                last_crc = crc;
                out.write_all(stored).map_err(io("write", dest))
            });
            match written {
                Ok(()) => {
                    bytes += stored.len() as u64;
                    if seq.0.is_multiple_of(65_536) {
                        progress(seq.0 - first.0 + 1, total);
                    }
                    std::ops::ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            }
        })?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    // The scan ends where the log does; a shorter log than announced is a gap.
    if total > 0 && checker.expected != last.next() {
        return Err(Error::Gap {
            expected: checker.expected,
            found: last.next(),
        });
    }
    let last_seq = if total > 0 { last } else { Seq(first.0 - 1) };
    let mut tail = Vec::with_capacity(64);
    frame_payload(
        &mut tail,
        last_crc,
        &ExportTrailer {
            records: total,
            last_seq,
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
    // Durability: the rename must reach the disk before the file is relied
    // on (a trim removes the records it archives right after this).
    sync_dir(&dir)?;
    progress(total, total);
    Ok(TransferReport {
        records: total,
        first_seq: first,
        last_seq,
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

/// The header of either version, as version 2 says it.
fn read_header(reader: &mut ExportReader) -> Result<ExportHeaderV2> {
    reader.read_frame()?;
    let probe: VersionProbe =
        codec::decode_prefix(reader.payload()).map_err(|_| reader.defect(ExportDefect::Header))?;
    let header = match probe.export_version {
        EXPORT_V1 => {
            let v1: ExportHeader = codec::decode_exact(reader.payload())
                .map_err(|_| reader.defect(ExportDefect::Header))?;
            ExportHeaderV2 {
                export_version: v1.export_version,
                log_format: v1.log_format,
                first_seq: Seq::FIRST,
                records: v1.records,
                prev_crc: 0,
                base: Vec::new(),
            }
        }
        EXPORT_VERSION => codec::decode_exact(reader.payload())
            .map_err(|_| reader.defect(ExportDefect::Header))?,
        export => {
            return Err(reader.defect(ExportDefect::Version { export, log: 0 }));
        }
    };
    // Data-directory formats 1 to 3 read records alike: they differ in how
    // the stream index is stored and whether a base exists, which the
    // export carries itself.
    if !(1..=FORMAT_VERSION).contains(&header.log_format) || header.first_seq < Seq::FIRST {
        return Err(reader.defect(ExportDefect::Version {
            export: header.export_version,
            log: header.log_format,
        }));
    }
    Ok(header)
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
    let mut reader = ExportReader {
        file: BufReader::with_capacity(1 << 20, file),
        path: src.to_path_buf(),
        offset: 0,
        frame_start: 0,
        last_good_seq: Seq(0),
        buf: Vec::new(),
    };
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

/// The archive segments in `dir`, in seq order, each read as far as its
/// header: `(path, first seq, records, bytes)`.
///
/// # Errors
/// I/O errors; a file named like a segment whose header does not read.
pub fn list_segments(dir: &Path) -> Result<Vec<SegmentInfo>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("read directory", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("read directory", dir))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(SEGMENT_EXTENSION) {
            continue;
        }
        let bytes = entry.metadata().map_err(io("stat", &path))?.len();
        let file = File::open(&path).map_err(io("open", &path))?;
        let mut reader = ExportReader {
            file: BufReader::new(file),
            path: path.clone(),
            offset: 0,
            frame_start: 0,
            last_good_seq: Seq(0),
            buf: Vec::new(),
        };
        reader.read_magic()?;
        let header = read_header(&mut reader)?;
        out.push(SegmentInfo {
            path,
            first: header.first_seq,
            records: header.records,
            bytes,
        });
    }
    out.sort_by_key(|segment| segment.first);
    Ok(out)
}

/// An archive segment as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The file.
    pub path: PathBuf,
    /// Its first seq.
    pub first: Seq,
    /// How many records it holds.
    pub records: u64,
    /// Its size in bytes.
    pub bytes: u64,
}
