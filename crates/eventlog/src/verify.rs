//! Whole-log verification: what `strand log verify` reports.

use crate::backend::Backend;
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::index;
use crate::reader::{Records, load_indexed};
use crate::trim::read_base;
use crate::types::Seq;

/// The outcome of verifying a log.
#[derive(Debug)]
pub struct VerifyReport {
    /// True when no problem was found.
    pub ok: bool,
    /// Records that passed every check before the first problem.
    pub records: u64,
    /// Seq of the first record, if any.
    pub first_seq: Option<Seq>,
    /// Seq of the last good record, if any.
    pub last_seq: Option<Seq>,
    /// Seq of the first record that failed (None when the problem is not a
    /// record: index, checkpoints, storage).
    pub first_bad_seq: Option<Seq>,
    /// Stream index entries checked.
    pub index_entries: u64,
    /// Checkpoint generations checked.
    pub checkpoints: u64,
    /// The first problem found.
    pub error: Option<Error>,
}

impl VerifyReport {
    /// A report of nothing checked yet: ok until a problem is recorded.
    fn empty() -> Self {
        Self {
            ok: true,
            records: 0,
            first_seq: None,
            last_seq: None,
            first_bad_seq: None,
            index_entries: 0,
            checkpoints: 0,
            error: None,
        }
    }

    /// The report for a log that could not even be opened (damaged
    /// `MANIFEST`, unknown format, ...): nothing checked, not ok.
    pub fn unopenable(error: Error) -> Self {
        Self {
            ok: false,
            error: Some(error),
            ..Self::empty()
        }
    }
}

/// Progress of a verification, reported every so many records.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// The seq a record-level error is about, for `first_bad_seq`.
fn bad_seq(error: &Error, expected: Seq) -> Option<Seq> {
    match error {
        Error::CorruptRecord { seq, .. }
        | Error::CorruptEnvelope { seq, .. }
        | Error::ChainMismatch { seq, .. } => Some(*seq),
        Error::SeqMismatch { key, .. } => Some(*key),
        // A gap, a malformed key, an unreadable block or a lost tail: the
        // first seq that cannot be read intact is the one that was expected.
        Error::Gap { expected, .. } => Some(*expected),
        Error::BadKey { .. } | Error::Storage { .. } | Error::LostTail { .. } => Some(expected),
        _ => None,
    }
}

pub(crate) fn verify(
    backend: &dyn Backend,
    clean_close: Option<Seq>,
    format: u8,
    progress: Progress<'_>,
) -> VerifyReport {
    let mut report = VerifyReport::empty();
    let base = match read_base(backend) {
        Ok(base) => base,
        Err(error) => return VerifyReport::unopenable(error),
    };
    // Read before the records: a live log's writer may move it on meanwhile.
    let upto = backend.index_upto();
    let first = base.map_or(Seq::FIRST, |b| b.first());
    let mut next = first;
    let scan = Records::new(backend, first, Seq(u64::MAX), base).map(|records| {
        for item in records {
            let event = item?;
            report.first_seq.get_or_insert(event.seq);
            report.last_seq = Some(event.seq);
            report.records += 1;
            next = event.seq.next();
            if report.records.is_multiple_of(65_536) {
                progress(report.records);
            }
        }
        Ok::<(), Error>(())
    });
    let outcome = scan
        .and_then(|r| r)
        .and_then(|()| {
            let end = report.last_seq.or(base.map(|b| b.seq));
            check_clean_close(end, clean_close)
        })
        .and_then(|()| {
            let floor = base.map_or(Seq(0), |b| b.seq);
            let last = report.last_seq.unwrap_or(floor);
            let upto = index::resolve_upto(upto?, format, last)?.max(floor);
            check_index(backend, (floor, upto), last, &mut report.index_entries)
        })
        .and_then(|()| {
            let end = report.last_seq.or(base.map(|b| b.seq));
            check_checkpoints(backend, end, &mut report.checkpoints)
        });
    if let Err(error) = outcome {
        report.ok = false;
        report.first_bad_seq = bad_seq(&error, next);
        report.error = Some(error);
    }
    progress(report.records);
    report
}

fn check_clean_close(last: Option<Seq>, clean_close: Option<Seq>) -> Result<()> {
    let found = last.unwrap_or_default();
    match clean_close {
        Some(expected) if expected > found => Err(Error::LostTail {
            expected_at_least: expected,
            found,
        }),
        _ => Ok(()),
    }
}

/// The stored index must hold each seq `floor+1..=upto` exactly once (the
/// floor is the base of a trimmed log, else 0), under the stream of its
/// record. Entries past `upto` are a flush that raced this check on a live
/// log, and readers ignore them: so does this.
fn check_index(
    backend: &dyn Backend,
    (floor, upto): (Seq, Seq),
    last: Seq,
    entries: &mut u64,
) -> Result<()> {
    if upto > last {
        return Err(Error::IndexAhead { upto, last });
    }
    let mut previous: Option<(String, Seq)> = None;
    for chunk in backend.index_chunks()? {
        let chunk = chunk?;
        let (Some(first), Some(end)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        if let Some((stream, before)) = &previous
            && *stream == chunk.stream
            && first <= *before
        {
            return Err(Error::BadIndexChunk {
                stream: chunk.stream,
                first,
            });
        }
        for &seq in chunk.seqs.iter().take_while(|seq| **seq <= upto) {
            load_indexed(backend, &chunk.stream, seq)?;
            *entries += 1;
        }
        previous = Some((chunk.stream, end));
    }
    if *entries != upto.0 - floor.0 {
        return Err(Error::IndexCount {
            records: upto.0 - floor.0,
            entries: *entries,
        });
    }
    Ok(())
}

fn check_checkpoints(backend: &dyn Backend, last: Option<Seq>, count: &mut u64) -> Result<()> {
    for (name, id, bytes) in backend.all_checkpoints()? {
        let cp =
            checkpoint::decode(&name, id, &bytes).map_err(|reason| Error::CorruptCheckpoint {
                name: name.clone(),
                id,
                reason,
            })?;
        let last = last.unwrap_or_default();
        if cp.seq > last {
            return Err(Error::CheckpointAhead { seq: cp.seq, last });
        }
        *count += 1;
    }
    Ok(())
}
