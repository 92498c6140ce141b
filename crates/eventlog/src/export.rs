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
//!
//! One concern per file: this one the format and the writing of a file,
//! `reader.rs` the reading of one, `import.rs` imports, `segments.rs` the
//! archive's segments.

use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, NamedCheckpoint};
use crate::codec;
use crate::error::{Error, Result};
use crate::frame::{self};
use crate::log::FORMAT_VERSION;
use crate::reader::Checker;
use crate::staging::{io, parent_dir, sync_dir};
use crate::trim::{BASE_CHECKPOINT_PREFIX, LogBase};
use crate::types::Seq;

mod import;
mod reader;
mod segments;

pub(crate) use import::import;
pub(crate) use segments::archive_segment;
pub use segments::{ArchiveSegment, SEGMENT_EXTENSION, SegmentInfo, list_segments, segment_name};

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
