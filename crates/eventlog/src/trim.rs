//! Trimming the log from the front, behind a base.
//!
//! A trim at seq S removes every record up to S. What replaces them is the
//! log's **base**: the metadata value `base` (S and the crc of record S,
//! which record S+1 carries as its chain value) and the base checkpoints,
//! stored under `base/<name>`: the state of each projection at exactly S,
//! given by the caller. A trimmed log starts at S+1: opens, reads and
//! verification check contiguity from there and the chain from the base's
//! crc. See docs/format.md.
//!
//! The order makes a crash at any point leave the old log or the trimmed
//! one, whole: (1) the records are archived first, when asked (an export
//! segment, synced, renamed into place, its directory synced); (2) one
//! synced batch writes the base, the base checkpoints and the new format
//! version, and removes the records and their stream-index chunks; (3) the
//! store compacts the removed range to give the space back.

use std::path::PathBuf;

use crate::backend::{Backend, IndexChunk, Trim};
use crate::checkpoint::{self, NewCheckpoint};
use crate::error::{Error, Result};
use crate::export::{self, ArchiveSegment, TransferProgress};
use crate::reader::decode_record;
use crate::types::Seq;

/// Metadata key of the base.
pub(crate) const META_BASE: &str = "base";
/// What base checkpoints' names begin with.
pub const BASE_CHECKPOINT_PREFIX: &str = "base/";

/// Where a trimmed log begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogBase {
    /// The last seq trimmed away: the log starts after it.
    pub seq: Seq,
    /// The crc of record `seq`: the chain value record `seq + 1` carries.
    pub chain: u32,
}

impl LogBase {
    /// The first seq the log holds.
    pub fn first(&self) -> Seq {
        self.seq.next()
    }

    /// Stored form: the seq big-endian, then the crc little-endian.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(&self.seq.0.to_be_bytes());
        out.extend_from_slice(&self.chain.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let seq = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let chain = u32::from_le_bytes(bytes.get(8..)?.try_into().ok()?);
        (seq > 0).then_some(Self {
            seq: Seq(seq),
            chain,
        })
    }
}

/// The base stored in `backend`, if the log was ever trimmed.
///
/// # Errors
/// Storage errors; [`Error::BadMetadata`] for a malformed value.
pub(crate) fn read_base(backend: &dyn Backend) -> Result<Option<LogBase>> {
    match backend.get_meta(META_BASE)? {
        None => Ok(None),
        Some(bytes) => LogBase::decode(&bytes)
            .map(Some)
            .ok_or(Error::BadMetadata { key: META_BASE }),
    }
}

/// The name a base checkpoint of `name` is stored under.
pub fn base_checkpoint_name(name: &str) -> String {
    format!("{BASE_CHECKPOINT_PREFIX}{name}")
}

/// A trim to carry out.
#[derive(Debug, Clone)]
pub struct TrimRequest {
    /// Every record up to this seq goes.
    pub upto: Seq,
    /// The state of each projection that needs one at exactly `upto`,
    /// kept as the base (under `base/<name>`) in place of the records.
    pub base: Vec<NewCheckpoint>,
    /// The directory the removed records are archived in first, as one
    /// export segment; `None` to remove them unarchived.
    pub archive: Option<PathBuf>,
}

/// What a trim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrimReport {
    /// The first seq removed.
    pub first: Seq,
    /// The last seq removed: the new base.
    pub upto: Seq,
    /// Records removed.
    pub records: u64,
    /// The archive segment written, if any.
    pub segment: Option<ArchiveSegment>,
}

/// A trim ready to be committed: its archive written, its unit planned.
pub(crate) struct Prepared {
    /// The one durable unit.
    pub(crate) unit: Trim,
    /// The base it leaves.
    pub(crate) base: LogBase,
    /// What it does.
    pub(crate) report: TrimReport,
}

/// Check `request` against the log of `backend` (its current `base`, its
/// durable end `last`), archive the records it removes, and plan its unit
/// (recording data-directory `format`).
///
/// # Errors
/// [`Error::BadTrim`] for a seq outside the log or past the stream index's
/// watermark, or a base checkpoint at another seq; archive I/O errors;
/// storage errors. Nothing is removed.
pub(crate) fn prepare(
    backend: &dyn Backend,
    base: Option<LogBase>,
    last: Seq,
    format: u8,
    request: &TrimRequest,
    progress: TransferProgress<'_>,
) -> Result<Prepared> {
    let first = base.map_or(Seq::FIRST, |b| b.first());
    let upto = request.upto;
    let refuse = |reason: &'static str| Error::BadTrim { upto, reason };
    if upto < first {
        return Err(refuse("the log starts after it: nothing before it is left"));
    }
    if upto > last {
        return Err(refuse("it is past the log's durable end"));
    }
    let indexed = backend.index_upto()?.unwrap_or(Seq(0));
    if upto > indexed {
        return Err(refuse(
            "the stream index is not yet written out that far; trim to an earlier seq",
        ));
    }
    if request.base.iter().any(|cp| cp.seq != upto) {
        return Err(refuse("a base checkpoint is not of the state at that seq"));
    }
    let stored = backend.get(upto)?.ok_or(Error::Gap {
        expected: upto,
        found: upto.next(),
    })?;
    let (_, chain, _) = decode_record(upto, &stored)?;
    let new_base = LogBase { seq: upto, chain };

    let segment = match &request.archive {
        Some(dir) => Some(export::archive_segment(
            backend,
            (first, upto),
            base.map_or(0, |b| b.chain),
            dir,
            progress,
        )?),
        None => None,
    };

    let mut unit = Trim {
        first,
        upto,
        ..Trim::default()
    };
    for chunk in backend.index_chunks()? {
        let IndexChunk { stream, mut seqs } = chunk?;
        let Some(key) = seqs.first().copied() else {
            continue;
        };
        if key > upto {
            continue;
        }
        unit.index_removed.push((stream.clone(), key));
        let removed = seqs.partition_point(|seq| *seq <= upto);
        let kept = seqs.split_off(removed);
        if !kept.is_empty() {
            unit.index_rewritten.push(IndexChunk { stream, seqs: kept });
        }
    }
    for cp in &request.base {
        let name = base_checkpoint_name(&cp.name);
        let older: Vec<u64> = backend
            .checkpoints(&name)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let id = older.iter().max().map_or(1, |newest| newest + 1);
        let renamed = NewCheckpoint {
            name: name.clone(),
            ..cp.clone()
        };
        let (bytes, _) = checkpoint::encode(&renamed, id)?;
        unit.checkpoints_removed
            .extend(older.into_iter().map(|old| (name.clone(), old)));
        unit.checkpoints_put
            .push((name, id, bytes.into_boxed_slice()));
    }
    unit.meta.push((META_BASE.to_owned(), new_base.encode()));
    unit.meta
        .push((crate::log::META_FORMAT.to_owned(), vec![format]));
    Ok(Prepared {
        unit,
        base: new_base,
        report: TrimReport {
            first,
            upto,
            records: upto.0 - first.0 + 1,
            segment,
        },
    })
}

/// Write a prepared trim's unit, then give the space back.
///
/// # Errors
/// Storage errors; nothing was removed then.
pub(crate) fn commit(backend: &dyn Backend, prepared: &Prepared) -> Result<()> {
    backend.trim(&prepared.unit)?;
    if let Err(error) = backend.reclaim(prepared.base.seq) {
        // The trim is durable; only the space comes back later.
        tracing::warn!(%error, "the trimmed range was not compacted");
    }
    Ok(())
}
