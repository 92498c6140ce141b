//! The RocksDB backend: the only code in Strand that touches RocksDB.
//!
//! Column families, all created at initialisation:
//! - `log`: key = seq as u64 big-endian (so byte order is seq order), value = frame;
//! - `stream_index`: key = u16 BE stream length, stream bytes, u64 BE first
//!   seq; value = the chunk's later seqs as gaps (`chunk.rs`);
//! - `checkpoints`: key = u16 BE name length, name bytes, u64 BE generation; value = frame;
//! - `meta`: key = ASCII name; value = small fixed encodings.

mod chunk;

use std::ops::ControlFlow;
use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType,
    DBRecoveryMode, Direction, IteratorMode, Options, ReadOptions, WriteBatch, WriteOptions,
};

use crate::backend::{
    Backend, IndexChunk, IndexChunks, NamedCheckpoint, RawCheckpoint, RawRecord, RawRecords,
    RecordBatch, Trim, Truncation,
};
use crate::error::{Error, Result, storage};
use crate::types::Seq;

pub(crate) const CF_LOG: &str = "log";
const CF_INDEX: &str = "stream_index";
const CF_CHECKPOINTS: &str = "checkpoints";
const CF_META: &str = "meta";
const COLUMN_FAMILIES: [&str; 4] = [CF_LOG, CF_INDEX, CF_CHECKPOINTS, CF_META];
/// Metadata key of the stream index's watermark (u64 BE seq).
const META_INDEX_UPTO: &str = "index_upto";

/// How to open the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read and write; create the directory and column families if missing.
    Create,
    /// Read and write an existing log only.
    Existing,
    /// Never write (for verify, dump and every other read-only command).
    ReadOnly,
}

/// The most bytes RocksDB's block cache holds (one LRU cache shared by
/// every column family of a database): reads of old events and index chunks.
pub const BLOCK_CACHE_BYTES: usize = 32 << 20;

/// The most bytes all memtables of a database hold together before RocksDB
/// flushes the largest (its write buffer manager).
pub const MEMTABLE_BYTES: usize = 128 << 20;

/// The most bytes of write-ahead log files kept: what the memtables can
/// hold, no more (see `db_options`).
pub const MAX_TOTAL_WAL_BYTES: u64 = MEMTABLE_BYTES as u64;

/// One column family's memtable size that triggers its flush (RocksDB's
/// default: smaller ones flush more often, and a read-only open racing a
/// flush of the primary can find a write-ahead log file gone).
const WRITE_BUFFER_BYTES: usize = 64 << 20;

/// The block cache of one open database, shared by its column families.
pub(crate) fn block_cache() -> Cache {
    Cache::new_lru_cache(BLOCK_CACHE_BYTES)
}

/// The RocksDB options Strand depends on for durability, and the memory
/// bounds above (reads through `cache`). Public to the crate so that the raw
/// baselines of `bench` run with exactly the same settings.
pub(crate) fn db_options(create: bool, cache: &Cache) -> Options {
    let mut opts = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    // Index and filter blocks live in the cache too (else every table file
    // opened holds its own, outside any bound).
    table.set_cache_index_and_filter_blocks(true);
    opts.set_block_based_table_factory(&table);
    opts.set_db_write_buffer_size(MEMTABLE_BYTES);
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES);
    opts.set_max_write_buffer_number(2);
    // The write-ahead log files stay until every column family with
    // records in them has flushed: the small ones (meta, index,
    // checkpoints) would keep gigabytes of the log's WAL on disk (and to
    // be replayed by an open) behind a few bytes of theirs. Past this
    // total, RocksDB flushes the families that hold the oldest file.
    opts.set_max_total_wal_size(MAX_TOTAL_WAL_BYTES);
    opts.create_if_missing(create);
    opts.create_missing_column_families(create);
    // A torn last WAL record (crash mid-write, never acknowledged) is dropped;
    // any other corruption refuses to open. The crate default, PointInTime,
    // would silently truncate at mid-log corruption.
    opts.set_wal_recovery_mode(DBRecoveryMode::TolerateCorruptedTailRecords);
    // Refuse to run on a database that fails its consistency checks.
    opts.set_paranoid_checks(true);
    // Recycled WAL files can make stale records look like a valid tail.
    opts.set_recycle_log_file_num(0);
    // Every write reaches the WAL before it returns; we sync it ourselves.
    opts.set_manual_wal_flush(false);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_max_background_jobs(2);
    // One committer thread writes; concurrent memtable writes buy nothing.
    opts.set_allow_concurrent_memtable_write(false);
    opts
}

pub(crate) fn descriptors(cache: &Cache) -> impl Iterator<Item = ColumnFamilyDescriptor> + '_ {
    COLUMN_FAMILIES
        .iter()
        .map(move |name| ColumnFamilyDescriptor::new(*name, db_options(false, cache)))
}

/// The sync write options: a write is acknowledged only after its WAL record
/// has been fsync'd, so an acknowledged event survives power loss.
pub(crate) fn sync_write() -> WriteOptions {
    let mut wo = WriteOptions::default();
    // Durability: fsync the WAL before returning; acknowledgements depend on it.
    wo.set_sync(true);
    wo.disable_wal(false);
    wo
}

/// Write options for a write made durable later: into the WAL (in order
/// with every other write), not synced.
fn unsynced_write() -> WriteOptions {
    let mut wo = WriteOptions::default();
    // Durability: deferred to the next sync of the WAL, which covers it.
    wo.set_sync(false);
    wo.disable_wal(false);
    wo
}

/// The write options of the stream index: written to the WAL (so that a
/// crash keeps or loses chunks and watermark together) but not synced.
fn index_write() -> WriteOptions {
    // Durability: none needed; the index is re-derived from the log past its
    // watermark on open, and the next sync of the log syncs this WAL record too.
    unsynced_write()
}

/// The log's RocksDB store.
pub struct RocksBackend {
    db: DB,
    /// Its block cache, for the memory it reports.
    cache: Cache,
    /// The options the database was opened with; in test builds they carry
    /// RocksDB's statistics, which count WAL syncs.
    #[cfg(feature = "failpoints")]
    opts: Options,
}

impl std::fmt::Debug for RocksBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksBackend")
            .field("path", &self.db.path())
            .finish_non_exhaustive()
    }
}

pub(crate) fn seq_key(seq: Seq) -> [u8; 8] {
    seq.0.to_be_bytes()
}

fn seq_from_key(key: &[u8]) -> Option<Seq> {
    key.try_into().ok().map(|b| Seq(u64::from_be_bytes(b)))
}

/// `u16 BE length | name bytes`: the prefix shared by one stream's (or one
/// checkpoint name's) keys. Names are bounded well below `u16::MAX` upstream.
fn name_prefix(name: &str, out: &mut Vec<u8>) {
    let len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(name.as_bytes());
}

fn named_key(name: &str, n: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + name.len() + 8);
    name_prefix(name, &mut key);
    key.extend_from_slice(&n.to_be_bytes());
    key
}

/// Split a named key into (name, number).
fn split_named_key(key: &[u8]) -> Option<(String, u64)> {
    let (len, rest) = key.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    let (name, n) = rest.split_at_checked(len)?;
    let n: [u8; 8] = n.try_into().ok()?;
    Some((
        String::from_utf8(name.to_vec()).ok()?,
        u64::from_be_bytes(n),
    ))
}

impl RocksBackend {
    /// Open the database at `path`.
    ///
    /// # Errors
    /// [`Error::NotFound`] or storage errors.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self> {
        if mode != OpenMode::Create && !path.join("CURRENT").exists() {
            return Err(Error::NotFound {
                path: path.to_path_buf(),
            });
        }
        #[cfg_attr(
            not(feature = "failpoints"),
            expect(unused_mut, reason = "mutated in test builds")
        )]
        let cache = block_cache();
        let mut opts = db_options(mode == OpenMode::Create, &cache);
        // Test builds count WAL syncs, so tests can prove acks wait for fsync.
        #[cfg(feature = "failpoints")]
        opts.enable_statistics();
        let db = if mode == OpenMode::ReadOnly {
            DB::open_cf_descriptors_read_only(&opts, path, descriptors(&cache), false)
        } else {
            DB::open_cf_descriptors(&opts, path, descriptors(&cache))
        }
        .map_err(storage("open"))?;
        Ok(Self {
            db,
            cache,
            #[cfg(feature = "failpoints")]
            opts,
        })
    }

    /// Make a consistent copy of the database at `dest` (which must not
    /// exist): RocksDB hard-links its table files and copies the rest.
    ///
    /// # Errors
    /// Storage errors, including `dest` already existing.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let checkpoint =
            rocksdb::checkpoint::Checkpoint::new(&self.db).map_err(storage("backup"))?;
        // Durability: RocksDB flushes and syncs the copy before returning.
        checkpoint
            .create_checkpoint(dest)
            .map_err(storage("backup"))
    }

    fn cf(&self, name: &'static str) -> Result<&ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or(Error::MissingColumnFamily { name })
    }

    fn edge_record(&self, mode: IteratorMode<'_>) -> Result<Option<RawRecord>> {
        let cf = self.cf(CF_LOG)?;
        match self.db.iterator_cf(cf, mode).next() {
            None => Ok(None),
            Some(Err(e)) => Err(Error::Storage {
                op: "read log edge",
                source: e,
            }),
            Some(Ok((key, value))) => Ok(Some((decode_log_key(&key, Seq(0))?, value))),
        }
    }
}

fn decode_chunk(key: &[u8], value: &[u8]) -> Result<IndexChunk> {
    let (stream, first) = split_named_key(key).ok_or(Error::BadKey {
        after: Seq(0),
        len: key.len(),
    })?;
    match chunk::decode_gaps(Seq(first), value) {
        Some(seqs) => Ok(IndexChunk { stream, seqs }),
        None => Err(Error::BadIndexChunk {
            stream,
            first: Seq(first),
        }),
    }
}

fn decode_log_key(key: &[u8], after: Seq) -> Result<Seq> {
    seq_from_key(key).ok_or(Error::BadKey {
        after,
        len: key.len(),
    })
}

fn read_opts_range(to: Seq) -> ReadOptions {
    let mut ro = ReadOptions::default();
    ro.set_iterate_upper_bound(seq_key(to.next()).to_vec());
    // Whole-log scans (verify, replay) should not evict the working set.
    ro.fill_cache(false);
    ro.set_verify_checksums(true);
    ro
}

impl RocksBackend {
    fn log_batch(&self, batch: &RecordBatch) -> Result<WriteBatch> {
        let log = self.cf(CF_LOG)?;
        // Sized once: a record costs its frame, its key and a few header bytes.
        let mut wb = WriteBatch::with_capacity_bytes(batch.bytes() + 32 * batch.len() + 64);
        for (seq, frame) in batch.frames() {
            wb.put_cf(log, seq_key(seq), frame);
        }
        Ok(wb)
    }
}

impl Backend for RocksBackend {
    fn append(&self, batch: &RecordBatch) -> Result<()> {
        // Durability: one fsync for the whole batch; acks wait for it.
        self.db
            .write_opt(self.log_batch(batch)?, &sync_write())
            .map_err(storage("append"))
    }

    fn write(&self, batch: &RecordBatch) -> Result<()> {
        // Durability: none yet; the WAL record reaches the OS before this
        // returns (manual_wal_flush is off), and `sync` makes it durable.
        self.db
            .write_opt(self.log_batch(batch)?, &unsynced_write())
            .map_err(storage("append"))
    }

    fn sync(&self) -> Result<()> {
        // Durability: fsync the WAL up to every write that returned before
        // this call (RocksDB's SyncWAL, safe beside concurrent writes);
        // acknowledgements wait for it.
        self.db.flush_wal(true).map_err(storage("sync"))
    }

    fn first_record(&self) -> Result<Option<RawRecord>> {
        self.edge_record(IteratorMode::Start)
    }

    fn last_record(&self) -> Result<Option<RawRecord>> {
        self.edge_record(IteratorMode::End)
    }

    fn get(&self, seq: Seq) -> Result<Option<Box<[u8]>>> {
        let cf = self.cf(CF_LOG)?;
        self.db
            .get_cf(cf, seq_key(seq))
            .map(|v| v.map(Vec::into_boxed_slice))
            .map_err(storage("get"))
    }

    fn scan(&self, from: Seq, to: Seq) -> Result<RawRecords<'_>> {
        let cf = self.cf(CF_LOG)?;
        let start = seq_key(from);
        let iter = self.db.iterator_cf_opt(
            cf,
            read_opts_range(to),
            IteratorMode::From(&start, Direction::Forward),
        );
        let mut last_good = Seq(from.0.saturating_sub(1));
        Ok(Box::new(iter.map(move |item| {
            let (key, value) = item.map_err(storage("scan"))?;
            let seq = decode_log_key(&key, last_good)?;
            last_good = seq;
            Ok((seq, value))
        })))
    }

    fn scan_with(
        &self,
        from: Seq,
        to: Seq,
        visit: &mut dyn FnMut(Seq, &[u8]) -> ControlFlow<()>,
    ) -> Result<()> {
        let cf = self.cf(CF_LOG)?;
        let mut iter = self.db.raw_iterator_cf_opt(cf, read_opts_range(to));
        iter.seek(seq_key(from));
        let mut last_good = Seq(from.0.saturating_sub(1));
        while let Some((key, value)) = iter.item() {
            let seq = decode_log_key(key, last_good)?;
            last_good = seq;
            if visit(seq, value).is_break() {
                return Ok(());
            }
            iter.next();
        }
        // An invalid iterator is either the end or an error: never confuse them.
        iter.status().map_err(storage("scan"))
    }

    fn put_index(&self, chunks: &[IndexChunk], upto: Seq) -> Result<()> {
        let index = self.cf(CF_INDEX)?;
        let meta = self.cf(CF_META)?;
        let mut wb = WriteBatch::default();
        let mut value = Vec::new();
        for chunk in chunks {
            let Some(first) = chunk.first() else {
                continue;
            };
            value.clear();
            chunk::encode_gaps(&chunk.seqs, &mut value);
            wb.put_cf(index, named_key(&chunk.stream, first.0), &value);
        }
        wb.put_cf(meta, META_INDEX_UPTO, seq_key(upto));
        self.db
            .write_opt(wb, &index_write())
            .map_err(storage("put index"))
    }

    fn index_upto(&self) -> Result<Option<Seq>> {
        match self.get_meta(META_INDEX_UPTO)? {
            None => Ok(None),
            Some(bytes) => seq_from_key(&bytes).map(Some).ok_or(Error::BadMetadata {
                key: META_INDEX_UPTO,
            }),
        }
    }

    fn stream_chunks(&self, stream: &str, from: Seq) -> Result<IndexChunks<'_>> {
        let cf = self.cf(CF_INDEX)?;
        let mut prefix = Vec::with_capacity(2 + stream.len());
        name_prefix(stream, &mut prefix);
        // Start at the chunk keyed at or before `from`: it may hold `from`.
        let mut start = named_key(stream, from.0);
        let mut probe = self.db.raw_iterator_cf(cf);
        probe.seek_for_prev(&start);
        match probe.key() {
            Some(key) if key.starts_with(&prefix) && key.len() == start.len() => {
                start = key.to_vec();
            }
            _ => probe.status().map_err(storage("stream index seek"))?,
        }
        drop(probe);
        let iter = self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Forward));
        Ok(Box::new(
            iter.map(|item| item.map_err(storage("stream index scan")))
                .take_while(move |item| match item {
                    Ok((key, _)) => key.starts_with(&prefix) && key.len() == prefix.len() + 8,
                    Err(_) => true,
                })
                .map(|item| {
                    let (key, value) = item?;
                    decode_chunk(&key, &value)
                }),
        ))
    }

    fn index_chunks(&self) -> Result<IndexChunks<'_>> {
        let cf = self.cf(CF_INDEX)?;
        let mut ro = ReadOptions::default();
        ro.fill_cache(false);
        let iter = self.db.iterator_cf_opt(cf, ro, IteratorMode::Start);
        Ok(Box::new(iter.map(|item| {
            let (key, value) = item.map_err(storage("stream index scan"))?;
            decode_chunk(&key, &value)
        })))
    }

    fn put_checkpoint(&self, name: &str, id: u64, frame: &[u8], delete: &[u64]) -> Result<()> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        let mut wb = WriteBatch::default();
        wb.put_cf(cf, named_key(name, id), frame);
        for old in delete {
            wb.delete_cf(cf, named_key(name, *old));
        }
        // Durability: a checkpoint is synced like the log it summarises, and
        // written after it by the same writer, so it is never ahead of the log.
        self.db
            .write_opt(wb, &sync_write())
            .map_err(storage("put checkpoint"))
    }

    fn checkpoints(&self, name: &str) -> Result<Vec<RawCheckpoint>> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        let mut prefix = Vec::new();
        name_prefix(name, &mut prefix);
        let mut out = Vec::new();
        let iter = self
            .db
            .iterator_cf(cf, IteratorMode::From(&prefix, Direction::Forward));
        for item in iter {
            let (key, value) = item.map_err(storage("checkpoint scan"))?;
            if !key.starts_with(&prefix) {
                break;
            }
            let id = split_named_key(&key).map_or(0, |(_, id)| id);
            out.push((id, value));
        }
        out.reverse();
        Ok(out)
    }

    fn all_checkpoints(&self) -> Result<Vec<NamedCheckpoint>> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (key, value) = item.map_err(storage("checkpoint scan"))?;
            let (name, id) = split_named_key(&key).unwrap_or_default();
            out.push((name, id, value));
        }
        Ok(out)
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let cf = self.cf(CF_META)?;
        self.db.get_cf(cf, key).map_err(storage("get meta"))
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        let cf = self.cf(CF_META)?;
        let mut wb = WriteBatch::default();
        wb.put_cf(cf, key, value);
        // Durability: metadata (format version, clean-close watermark) is read
        // on open to judge the log, so it must survive power loss.
        self.db
            .write_opt(wb, &sync_write())
            .map_err(storage("put meta"))
    }

    fn truncate(&self, truncation: &Truncation) -> Result<()> {
        let log = self.cf(CF_LOG)?;
        let index = self.cf(CF_INDEX)?;
        let checkpoints = self.cf(CF_CHECKPOINTS)?;
        let meta = self.cf(CF_META)?;
        let mut wb = WriteBatch::default();
        // One range tombstone for the records, explicit deletes for the rest.
        wb.delete_range_cf(
            log,
            seq_key(truncation.after.next()),
            seq_key(truncation.last.next()),
        );
        for (stream, first) in &truncation.index_removed {
            wb.delete_cf(index, named_key(stream, first.0));
        }
        let mut value = Vec::new();
        for chunk in &truncation.index_trimmed {
            if let Some(first) = chunk.first() {
                value.clear();
                chunk::encode_gaps(&chunk.seqs, &mut value);
                wb.put_cf(index, named_key(&chunk.stream, first.0), &value);
            }
        }
        wb.put_cf(meta, META_INDEX_UPTO, seq_key(truncation.index_upto));
        for (name, id) in &truncation.checkpoints {
            wb.delete_cf(checkpoints, named_key(name, *id));
        }
        for (name, value) in &truncation.meta {
            wb.put_cf(meta, name, value);
        }
        // Durability: a repair is acknowledged to the operator only once it
        // is synced, and it is one batch so a crash leaves all or nothing.
        self.db
            .write_opt(wb, &sync_write())
            .map_err(storage("truncate"))
    }

    fn trim(&self, trim: &Trim) -> Result<()> {
        let log = self.cf(CF_LOG)?;
        let index = self.cf(CF_INDEX)?;
        let checkpoints = self.cf(CF_CHECKPOINTS)?;
        let meta = self.cf(CF_META)?;
        let mut wb = WriteBatch::default();
        // One range tombstone for the records, explicit deletes for the rest.
        wb.delete_range_cf(log, seq_key(trim.first), seq_key(trim.upto.next()));
        for (stream, first) in &trim.index_removed {
            wb.delete_cf(index, named_key(stream, first.0));
        }
        let mut value = Vec::new();
        for chunk in &trim.index_rewritten {
            if let Some(first) = chunk.first() {
                value.clear();
                chunk::encode_gaps(&chunk.seqs, &mut value);
                wb.put_cf(index, named_key(&chunk.stream, first.0), &value);
            }
        }
        for (name, id) in &trim.checkpoints_removed {
            wb.delete_cf(checkpoints, named_key(name, *id));
        }
        for (name, id, frame) in &trim.checkpoints_put {
            wb.put_cf(checkpoints, named_key(name, *id), frame);
        }
        for (name, value) in &trim.meta {
            wb.put_cf(meta, name, value);
        }
        // Durability: the base and its checkpoints must be on disk before
        // the records they replace are gone, and all of it is one batch so
        // a crash leaves the old log or the trimmed one, nothing between.
        self.db
            .write_opt(wb, &sync_write())
            .map_err(storage("trim"))
    }

    fn reclaim(&self, upto: Seq) -> Result<()> {
        let log = self.cf(CF_LOG)?;
        self.db
            .compact_range_cf(log, None::<&[u8]>, Some(seq_key(upto.next())));
        let index = self.cf(CF_INDEX)?;
        self.db
            .compact_range_cf(index, None::<&[u8]>, None::<&[u8]>);
        Ok(())
    }

    fn wal_syncs(&self) -> Option<u64> {
        #[cfg(feature = "failpoints")]
        return Some(
            self.opts
                .get_ticker_count(rocksdb::statistics::Ticker::WalFileSynced),
        );
        #[cfg(not(feature = "failpoints"))]
        None
    }

    fn memtable_bytes(&self) -> Option<u64> {
        COLUMN_FAMILIES
            .iter()
            .filter_map(|name| self.db.cf_handle(name))
            .map(|cf| {
                self.db
                    // Active, immutable and flushed-but-pinned memtables.
                    .property_int_value_cf(cf, "rocksdb.size-all-mem-tables")
                    .ok()
                    .flatten()
            })
            .sum()
    }

    fn block_cache_bytes(&self) -> Option<u64> {
        u64::try_from(self.cache.get_usage()).ok()
    }

    fn flush(&self) -> Result<()> {
        let cfs: Vec<&ColumnFamily> = COLUMN_FAMILIES
            .iter()
            .map(|name| self.cf(name))
            .collect::<Result<_>>()?;
        // Durability: after a clean close every record lives in table files
        // whose blocks are checksummed, so WAL tail tolerance can never drop
        // an acknowledged record of a cleanly closed log.
        self.db
            .flush_cfs_opt(&cfs, &rocksdb::FlushOptions::default())
            .map_err(storage("flush"))?;
        self.db.flush_wal(true).map_err(storage("flush wal"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_named_key_when_split_then_name_and_number_round_trip() {
        let key = named_key("wf/etl", 42);
        assert_eq!(split_named_key(&key), Some(("wf/etl".to_string(), 42)));
        assert_eq!(split_named_key(&key[..5]), None);
    }

    #[test]
    fn given_seqs_when_keyed_then_byte_order_is_seq_order() {
        assert!(seq_key(Seq(255)) < seq_key(Seq(256)));
        assert_eq!(seq_from_key(&seq_key(Seq(9))), Some(Seq(9)));
        assert_eq!(seq_from_key(&[1, 2, 3]), None);
    }
}
