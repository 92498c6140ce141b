//! Checkpoints: a named snapshot of some state as of a log seq.
//!
//! A checkpoint is stored as one frame (so it is checksummed like a record)
//! whose payload is the codec encoding of [`StoredCheckpoint`]. Each name keeps
//! the newest `checkpoint_generations` generations (at least two), so that a
//! checkpoint failing its checks falls back to the one before it.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

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

/// Snapshot bytes carried per frame: a large snapshot is split into frames
/// that each stay well under the record bound.
pub(crate) const CHUNK_LEN: usize = 8 * 1024 * 1024;
/// Largest snapshot a checkpoint may hold (1 GiB): the checkpoint bound.
pub const MAX_CHECKPOINT_LEN: usize = 1024 * 1024 * 1024;

/// The first frame's payload as written: borrows from the caller's
/// checkpoint so that a large snapshot is copied once, straight into the
/// frames. Field order and types must match [`StoredCheckpoint`].
#[derive(Serialize)]
struct StoredCheckpointRef<'a> {
    name: &'a str,
    id: u64,
    seq: Seq,
    format_version: u32,
    data_len: u64,
    #[serde(with = "serde_bytes")]
    first_chunk: &'a [u8],
}

/// The first frame's payload. Field order is part of the format
/// (docs/format.md); the rest of the data follows in continuation frames.
#[derive(Deserialize)]
struct StoredCheckpoint {
    name: String,
    id: u64,
    seq: Seq,
    format_version: u32,
    data_len: u64,
    #[serde(with = "serde_bytes")]
    first_chunk: Vec<u8>,
}

/// Frame a checkpoint for storage: a first frame with the header and up to
/// [`CHUNK_LEN`] bytes of data, then one continuation frame per further
/// chunk, each chained to its predecessor's crc. Returns the bytes and the
/// last frame's crc (which, through the chain, covers every frame).
pub(crate) fn encode(checkpoint: &NewCheckpoint, id: u64) -> Result<(Vec<u8>, u32)> {
    let data = checkpoint.data.as_slice();
    if data.len() > MAX_CHECKPOINT_LEN {
        return Err(Error::RecordTooLarge {
            len: data.len(),
            max: MAX_CHECKPOINT_LEN,
        });
    }
    let (first, rest) = data.split_at(data.len().min(CHUNK_LEN));
    let stored = StoredCheckpointRef {
        name: &checkpoint.name,
        id,
        seq: checkpoint.seq,
        format_version: checkpoint.format_version,
        data_len: data.len() as u64,
        first_chunk: first,
    };
    let chunks = rest.len().div_ceil(CHUNK_LEN);
    let mut out = Vec::with_capacity((1 + chunks) * frame::HEADER_LEN + 64 + data.len());
    let mut crc = frame::encode_with(&mut out, 0, |buf| {
        codec::encode_into(&stored, buf).map_err(Error::from)
    })?;
    for chunk in rest.chunks(CHUNK_LEN) {
        crc = frame::encode(&mut out, crc, chunk)?;
    }
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

/// Decode and check one stored generation: every frame, the chain between
/// them, the key, and that the data has exactly the announced length.
pub(crate) fn decode(
    name: &str,
    id: u64,
    bytes: &[u8],
) -> std::result::Result<Checkpoint, CheckpointDefect> {
    let first = frame::decode_prefix(bytes).map_err(CheckpointDefect::Frame)?;
    let stored: StoredCheckpoint =
        codec::decode_exact(first.payload).map_err(|_| CheckpointDefect::Payload)?;
    if stored.name != name || stored.id != id {
        return Err(CheckpointDefect::KeyMismatch {
            name: stored.name,
            id: stored.id,
        });
    }
    let data_len = usize::try_from(stored.data_len)
        .ok()
        // Canonical chunking only: the first chunk is as long as it can be.
        .filter(|&len| len <= MAX_CHECKPOINT_LEN && stored.first_chunk.len() == len.min(CHUNK_LEN))
        .ok_or(CheckpointDefect::Length {
            announced: stored.data_len,
            found: stored.first_chunk.len() as u64,
        })?;
    let mut data = stored.first_chunk;
    let mut crc = first.crc;
    let mut rest = bytes.get(first.encoded_len()..).unwrap_or_default();
    if data.len() < data_len {
        data.reserve_exact(data_len - data.len());
    }
    while data.len() < data_len {
        let next = frame::decode_prefix(rest).map_err(CheckpointDefect::Frame)?;
        if next.chain != crc {
            return Err(CheckpointDefect::Chain {
                offset: bytes.len() - rest.len(),
            });
        }
        if next.payload.len() != (data_len - data.len()).min(CHUNK_LEN) {
            return Err(CheckpointDefect::Length {
                announced: stored.data_len,
                found: (data.len() + next.payload.len()) as u64,
            });
        }
        data.extend_from_slice(next.payload);
        crc = next.crc;
        rest = rest.get(next.encoded_len()..).unwrap_or_default();
    }
    if data.len() != data_len || !rest.is_empty() {
        return Err(CheckpointDefect::Length {
            announced: stored.data_len,
            found: data.len() as u64 + rest.len() as u64,
        });
    }
    Ok(Checkpoint {
        name: stored.name,
        id: stored.id,
        seq: stored.seq,
        format_version: stored.format_version,
        data,
        checksum: crc,
    })
}

/// Decode one generation and check it has `format_version`.
pub(crate) fn check(
    name: &str,
    id: u64,
    bytes: &[u8],
    format_versions: &RangeInclusive<u32>,
) -> std::result::Result<Checkpoint, SkippedCheckpoint> {
    match decode(name, id, bytes) {
        Ok(cp) if format_versions.contains(&cp.format_version) => Ok(cp),
        Ok(cp) => Err(SkippedCheckpoint {
            id,
            defect: CheckpointDefect::Version {
                found: cp.format_version,
                expected: *format_versions.end(),
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
        match check(name, id, &bytes, &(format_version..=format_version)) {
            Ok(cp) => {
                load.checkpoint = Some(cp);
                return load;
            }
            Err(skipped) => load.skipped.push(skipped),
        }
    }
    load
}
