//! Raw RocksDB baselines for `strand bench append` and `bench replay`, run with exactly the
//! settings of the log (same options, same synced writes), so the ratios the
//! bench prints measure Strand's own overhead and nothing else.

use std::path::Path;
use std::time::{Duration, Instant};

use rocksdb::{DB, ReadOptions, WriteBatch};

use crate::codec;
use crate::error::{Error, Result, storage};
use crate::frame;
use crate::rocks::{CF_LOG, block_cache, db_options, descriptors, sync_write};
use crate::types::{Event, Seq};

/// What one baseline run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineRun {
    /// Events written.
    pub events: u64,
    /// Synced writes issued (one fsync each).
    pub fsyncs: u64,
    /// Wall time of the writes.
    pub elapsed: Duration,
}

impl BaselineRun {
    /// Events per second.
    pub fn events_per_sec(&self) -> f64 {
        rate(self.events, self.elapsed)
    }
}

/// `count / elapsed` in events per second.
#[expect(clippy::cast_precision_loss, reason = "a rate for reporting")]
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Write `events` values of `event_bytes` each into a fresh RocksDB at `dir`,
/// `per_write` events per synced `WriteBatch` (1: one event per fsync).
///
/// # Errors
/// Storage errors.
pub fn raw_synced_writes(
    dir: &Path,
    events: u64,
    per_write: u64,
    event_bytes: usize,
) -> Result<BaselineRun> {
    let db = DB::open(&db_options(true, &block_cache()), dir).map_err(storage("baseline open"))?;
    let value = vec![0x5A_u8; event_bytes];
    let per_write = per_write.max(1);
    let opts = sync_write();
    let start = Instant::now();
    let mut seq = 0u64;
    let mut fsyncs = 0u64;
    while seq < events {
        let mut wb = WriteBatch::default();
        let n = per_write.min(events - seq);
        for _ in 0..n {
            seq += 1;
            wb.put(seq.to_be_bytes(), &value);
        }
        // Durability: the baseline syncs exactly as the log does.
        db.write_opt(wb, &opts).map_err(storage("baseline write"))?;
        fsyncs += 1;
    }
    Ok(BaselineRun {
        events: seq,
        fsyncs,
        elapsed: start.elapsed(),
    })
}

/// Read every record of the log in `dir` as a bare RocksDB reader would:
/// iterate the log column family (same read options as the log's own
/// scans), check each frame's crc, decode its envelope, and hand the event
/// to `visit`. No contiguity, chain or seq checks: that is Strand's work.
///
/// # Errors
/// Storage errors, a record that fails its crc or does not decode.
pub fn raw_replay(dir: &Path, visit: &mut dyn FnMut(Event)) -> Result<BaselineRun> {
    let cache = block_cache();
    let db = DB::open_cf_descriptors_read_only(
        &db_options(false, &cache),
        dir,
        descriptors(&cache),
        false,
    )
    .map_err(storage("baseline open"))?;
    let cf = db
        .cf_handle(CF_LOG)
        .ok_or(Error::MissingColumnFamily { name: CF_LOG })?;
    let mut ro = ReadOptions::default();
    ro.fill_cache(false);
    ro.set_verify_checksums(true);
    let start = Instant::now();
    let mut iter = db.raw_iterator_cf_opt(cf, ro);
    iter.seek_to_first();
    let mut events = 0u64;
    while let Some((_, value)) = iter.item() {
        let seq = Seq(events + 1);
        let frame =
            frame::decode_exact(value).map_err(|source| Error::CorruptRecord { seq, source })?;
        let event = codec::decode_event(frame.payload)
            .map_err(|source| Error::CorruptEnvelope { seq, source })?;
        visit(event);
        events += 1;
        iter.next();
    }
    iter.status().map_err(storage("baseline scan"))?;
    Ok(BaselineRun {
        events,
        fsyncs: 0,
        elapsed: start.elapsed(),
    })
}
