//! Offline repair: cut the log back to a chosen seq.
//!
//! `strand repair truncate --after SEQ` is what an operator runs when the
//! tail of a log is damaged (verify names the first bad seq) or must be
//! undone. A dry run ([`plan_truncate`]) opens the log read-only and says
//! what would go; [`truncate_after`] first copies the whole database aside
//! (a RocksDB checkpoint: hard links, so it is cheap), then removes the
//! records after SEQ, their stream-index entries and every checkpoint newer
//! than SEQ in one synced write, and verifies the result.
//!
//! The truncation never needs to decode the records it removes: the range is
//! cut by key, and their index entries are found from the index itself
//! (chunks past SEQ are deleted, chunks across it cut), so a tail too damaged
//! to decode can still be removed. Only the per-stream counts of the plan
//! decode the records past the index's watermark, as far as they decode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::ops::ControlFlow;

use crate::backend::{Backend, IndexChunk, Truncation};
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::index;
use crate::log::check_format;
use crate::reader::decode_record;
use crate::rocks::{OpenMode, RocksBackend};
use crate::types::Seq;
use crate::verify::{self, VerifyReport};
use crate::writer::META_CLEAN_CLOSE;

/// A checkpoint generation a truncation removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedCheckpoint {
    /// Its name.
    pub name: String,
    /// Its generation id.
    pub id: u64,
    /// Its watermark, or `None` when it does not decode (a damaged
    /// checkpoint is removed too: it could never be loaded, and verify
    /// would keep reporting it).
    pub seq: Option<Seq>,
}

/// What a truncation removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruncatePlan {
    /// Records with a seq above this go.
    pub after: Seq,
    /// The log's last stored seq before the truncation.
    pub last_seq: Seq,
    /// Records removed.
    pub records: u64,
    /// Streams losing events, with how many each loses, by name.
    pub streams: Vec<(String, u64)>,
    /// Checkpoint generations removed.
    pub checkpoints: Vec<RemovedCheckpoint>,
}

/// The outcome of a truncation.
#[derive(Debug)]
pub struct TruncateOutcome {
    /// What was removed.
    pub plan: TruncatePlan,
    /// Where the copy of the database taken first lives.
    pub backup: PathBuf,
    /// Verification of the log after the truncation.
    pub verify: VerifyReport,
}

fn plan(backend: &dyn Backend, after: Seq, format: u8) -> Result<(TruncatePlan, Truncation)> {
    let last = backend.last_record()?.map_or(Seq(0), |(seq, _)| seq);
    let upto = index::stored_upto(backend, format, last)?;
    let mut truncation = Truncation {
        after,
        last,
        index_upto: upto.min(after),
        ..Truncation::default()
    };
    let mut streams: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in backend.index_chunks()? {
        let IndexChunk { stream, mut seqs } = chunk?;
        let (Some(first), Some(end)) = (seqs.first().copied(), seqs.last().copied()) else {
            continue;
        };
        if end <= after {
            continue;
        }
        let kept = seqs.partition_point(|seq| *seq <= after);
        let removed = seqs.split_off(kept);
        let indexed = removed.iter().filter(|seq| **seq <= upto).count() as u64;
        if indexed > 0 {
            *streams.entry(stream.clone()).or_default() += indexed;
        }
        if seqs.is_empty() {
            truncation.index_removed.push((stream, first));
        } else {
            truncation.index_trimmed.push(IndexChunk { stream, seqs });
        }
    }
    // Records past the index's watermark: counted by stream as far as they
    // decode. The counts only inform the operator, and a record too damaged
    // to decode (or read) is removed all the same, so a failure here is not
    // an error.
    let unindexed = upto.max(after).next();
    if unindexed <= last {
        let _ = backend.scan_with(unindexed, last, &mut |seq, bytes| {
            if let Ok((event, _, _)) = decode_record(seq, bytes) {
                *streams.entry(event.stream).or_default() += 1;
            }
            ControlFlow::Continue(())
        });
    }
    let mut checkpoints = Vec::new();
    for (name, id, bytes) in backend.all_checkpoints()? {
        let seq = checkpoint::decode(&name, id, &bytes).ok().map(|cp| cp.seq);
        if seq.is_none_or(|seq| seq > after) {
            truncation.checkpoints.push((name.clone(), id));
            checkpoints.push(RemovedCheckpoint { name, id, seq });
        }
    }
    // A clean-close watermark past the new end would make every later open
    // report a lost tail.
    truncation.meta.push((
        META_CLEAN_CLOSE.to_owned(),
        after.min(last).0.to_be_bytes().to_vec(),
    ));
    let plan = TruncatePlan {
        after,
        last_seq: last,
        records: last.0.saturating_sub(after.0),
        streams: streams.into_iter().collect(),
        checkpoints,
    };
    Ok((plan, truncation))
}

/// What [`truncate_after`] would remove from the log in `path`, without
/// writing anything.
///
/// # Errors
/// [`Error::NotFound`], [`Error::UnsupportedFormat`], storage errors.
pub fn plan_truncate(path: &Path, after: Seq) -> Result<TruncatePlan> {
    let backend = RocksBackend::open(path, OpenMode::ReadOnly)?;
    let format = check_format(&backend, false)?;
    Ok(plan(&backend, after, format)?.0)
}

/// Copy the database in `path` to `backup` (which must not exist), then
/// durably remove every record after `after`, their index entries and every
/// checkpoint newer than `after`; verify the log afterwards.
///
/// Needs exclusive access: fails while another process has the log open.
///
/// # Errors
/// [`Error::BadTruncation`] when there is nothing after `after`;
/// [`Error::NotFound`], [`Error::UnsupportedFormat`], storage errors
/// (including `backup` existing). Nothing is removed on error.
pub fn truncate_after(path: &Path, after: Seq, backup: &Path) -> Result<TruncateOutcome> {
    let backend = RocksBackend::open(path, OpenMode::Existing)?;
    let format = check_format(&backend, false)?;
    let (plan, truncation) = plan(&backend, after, format)?;
    if plan.records == 0 && plan.checkpoints.is_empty() {
        return Err(Error::BadTruncation {
            after,
            reason: "the log holds nothing after it",
        });
    }
    backend.backup_to(backup)?;
    backend.truncate(&truncation)?;
    let verify = verify::verify(
        &backend,
        Some(after.min(plan.last_seq)),
        format,
        &mut |_| {},
    );
    Ok(TruncateOutcome {
        plan,
        backup: backup.to_path_buf(),
        verify,
    })
}
