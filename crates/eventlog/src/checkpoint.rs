//! Checkpoints: a named snapshot of some state as of a log seq.
//!
//! A checkpoint is stored as one frame (so it is checksummed like a record)
//! whose payload is the codec encoding of [`StoredCheckpoint`]. Each name keeps
//! the newest `checkpoint_generations` generations (at least two), so that a
//! checkpoint failing its checks falls back to the one before it.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::error::{CheckpointDefect, Error, Result};
use crate::frame;
use crate::types::Seq;

/// A checkpoint to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckpoint {
    /// Whose state this is (a projection or an actor's stream name).
    pub name: String,
    /// The watermark: the state includes every event with seq ≤ this.
    pub seq: Seq,
    /// Version of `data`'s own format, chosen by the owner of the state.
    pub format_version: u32,
    /// The snapshot.
    pub data: Vec<u8>,
}

/// A stored checkpoint, read back and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Whose state this is.
    pub name: String,
    /// Generation id: 1 for the first checkpoint of a name, then +1 each time.
    pub id: u64,
    /// The watermark seq.
    pub seq: Seq,
    /// Version of `data`'s format.
    pub format_version: u32,
    /// The snapshot.
    pub data: Vec<u8>,
    /// The crc32 of the stored frame.
    pub checksum: u32,
}

/// Identifies a stored checkpoint generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckpointId {
    /// Generation id.
    pub id: u64,
    /// Watermark seq.
    pub seq: Seq,
    /// crc32 of the stored frame.
    pub checksum: u32,
}

/// A generation passed over while loading, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCheckpoint {
    /// Its generation id.
    pub id: u64,
    /// What was wrong with it.
    pub defect: CheckpointDefect,
}

/// The outcome of loading a checkpoint: the newest usable generation, if
/// any, and every newer generation that was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointLoad {
    /// The newest generation that passed every check.
    pub checkpoint: Option<Checkpoint>,
    /// Newer generations that failed, newest first.
    pub skipped: Vec<SkippedCheckpoint>,
}

/// One stored generation as listed by `strand checkpoint list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// Name.
    pub name: String,
    /// Generation id.
    pub id: u64,
    /// Its checked contents, or why it is unusable.
    pub status: std::result::Result<CheckpointSummary, CheckpointDefect>,
}

/// The header of a good checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointSummary {
    /// Watermark seq.
    pub seq: Seq,
    /// Data format version.
    pub format_version: u32,
    /// Size of the data.
    pub data_bytes: usize,
    /// crc32 of the frame.
    pub checksum: u32,
}

/// The stored payload as written: borrows from the caller's checkpoint so
/// that a large snapshot is copied once, straight into the frame. Field order
/// and types must match [`StoredCheckpoint`], which reads it back.
#[derive(Serialize)]
struct StoredCheckpointRef<'a> {
    name: &'a str,
    id: u64,
    seq: Seq,
    format_version: u32,
    #[serde(with = "serde_bytes")]
    data: &'a [u8],
}

/// The stored payload. Field order is part of the format (docs/format.md).
#[derive(Deserialize)]
struct StoredCheckpoint {
    name: String,
    id: u64,
    seq: Seq,
    format_version: u32,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

/// Frame a checkpoint for storage; returns the frame and its crc.
pub(crate) fn encode(checkpoint: &NewCheckpoint, id: u64) -> Result<(Vec<u8>, u32)> {
    let stored = StoredCheckpointRef {
        name: &checkpoint.name,
        id,
        seq: checkpoint.seq,
        format_version: checkpoint.format_version,
        data: &checkpoint.data,
    };
    let mut out = Vec::with_capacity(frame::HEADER_LEN + 64 + checkpoint.data.len());
    let crc = frame::encode_with(&mut out, 0, |buf| {
        codec::encode_into(&stored, buf).map_err(Error::from)
    })?;
    Ok((out, crc))
}

impl From<frame::FrameError> for Error {
    fn from(source: frame::FrameError) -> Self {
        match source {
            frame::FrameError::TooLarge { len, max } => Error::RecordTooLarge { len, max },
            other => Error::CorruptRecord {
                seq: Seq(0),
                source: other,
            },
        }
    }
}

/// Decode and check one stored generation.
pub(crate) fn decode(
    name: &str,
    id: u64,
    bytes: &[u8],
) -> std::result::Result<Checkpoint, CheckpointDefect> {
    let frame = frame::decode_exact(bytes).map_err(CheckpointDefect::Frame)?;
    let stored: StoredCheckpoint =
        codec::decode_exact(frame.payload).map_err(|_| CheckpointDefect::Payload)?;
    if stored.name != name || stored.id != id {
        return Err(CheckpointDefect::KeyMismatch {
            name: stored.name,
            id: stored.id,
        });
    }
    Ok(Checkpoint {
        name: stored.name,
        id: stored.id,
        seq: stored.seq,
        format_version: stored.format_version,
        data: stored.data,
        checksum: frame.crc,
    })
}

/// Decode one generation and check it has `format_version`.
pub(crate) fn check(
    name: &str,
    id: u64,
    bytes: &[u8],
    format_version: u32,
) -> std::result::Result<Checkpoint, SkippedCheckpoint> {
    match decode(name, id, bytes) {
        Ok(cp) if cp.format_version == format_version => Ok(cp),
        Ok(cp) => Err(SkippedCheckpoint {
            id,
            defect: CheckpointDefect::Version {
                found: cp.format_version,
                expected: format_version,
            },
        }),
        Err(defect) => Err(SkippedCheckpoint { id, defect }),
    }
}

/// Pick the newest generation (of `generations`, newest first) that decodes
/// and has `format_version`.
pub(crate) fn select(
    name: &str,
    generations: Vec<(u64, Box<[u8]>)>,
    format_version: u32,
) -> CheckpointLoad {
    let mut load = CheckpointLoad::default();
    for (id, bytes) in generations {
        match check(name, id, &bytes, format_version) {
            Ok(cp) => {
                load.checkpoint = Some(cp);
                return load;
            }
            Err(skipped) => load.skipped.push(skipped),
        }
    }
    load
}
