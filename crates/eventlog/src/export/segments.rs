//! Archive segments: the trimmed ranges of a log, one export file each,
//! named by seq range; written by a trim, listed by `strand log archive
//! list`, imported as a chain.

use std::fs::{self, File};
use std::io::{BufReader, ErrorKind};
use std::path::{Path, PathBuf};

use crate::backend::Backend;
use crate::error::Result;
use crate::staging::{io, parent_dir, sync_dir};
use crate::types::Seq;

use super::reader::{ExportReader, read_header};
use super::{ExportSpec, TransferProgress, write_export};

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
        let mut reader = ExportReader::new(BufReader::new(file), path.clone());
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
