//! The storage seam: what the log needs from a store, and nothing more.
//!
//! RocksDB ([`crate::rocks::RocksBackend`]) is the embedded default and the
//! only backend today. The trait exists so that a shared SQL log (single
//! writer under a lease with a fencing token) can be added later without
//! touching the writer, readers, actors or replay, and so that tests can inject
//! storage faults. No method here may be one that only RocksDB could implement.
//!
//! Backends store opaque bytes: framing, checksums, chaining and seq
//! assignment all live above this trait, so every backend gets them for free.

use std::ops::{ControlFlow, Range};

use crate::error::Result;
use crate::types::Seq;

/// A raw stored record: its seq (from the key) and its framed bytes.
pub type RawRecord = (Seq, Box<[u8]>);

/// An iterator over raw records in ascending seq order. Storage errors are
/// items, never an early end.
pub type RawRecords<'a> = Box<dyn Iterator<Item = Result<RawRecord>> + Send + 'a>;

/// A run of one stream's seqs, ascending and non-empty: the unit in which
/// the stream index is stored. Its key is `(stream, first seq)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexChunk {
    /// The stream.
    pub stream: String,
    /// Its seqs, ascending.
    pub seqs: Vec<Seq>,
}

impl IndexChunk {
    /// The seq the chunk is keyed by.
    pub fn first(&self) -> Option<Seq> {
        self.seqs.first().copied()
    }

    /// Its highest seq.
    pub fn last(&self) -> Option<Seq> {
        self.seqs.last().copied()
    }
}

/// An iterator over stored index chunks, in `(stream, first seq)` order.
pub type IndexChunks<'a> = Box<dyn Iterator<Item = Result<IndexChunk>> + Send + 'a>;

/// Records with contiguous seqs, framed, to be written durably as one unit.
///
/// One arena holds every frame and stream name, so building a batch does not
/// allocate per record once the arena has grown to its working size.
#[derive(Debug, Default)]
pub struct RecordBatch {
    arena: Vec<u8>,
    entries: Vec<BatchEntry>,
}

#[derive(Debug, Clone)]
struct BatchEntry {
    seq: Seq,
    stream: Range<usize>,
    frame: Range<usize>,
}

/// A point in a [`RecordBatch`] to roll back to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchMark {
    arena: usize,
    entries: usize,
}

impl RecordBatch {
    /// Number of records in the batch.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (frames plus stream names).
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// The records as `(seq, stream, frame)`.
    pub fn records(&self) -> impl Iterator<Item = (Seq, &str, &[u8])> {
        self.entries.iter().map(|e| {
            let stream = self
                .arena
                .get(e.stream.clone())
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default();
            let frame = self.arena.get(e.frame.clone()).unwrap_or_default();
            (e.seq, stream, frame)
        })
    }

    /// The records as `(seq, frame)`: what a store writes.
    pub fn frames(&self) -> impl Iterator<Item = (Seq, &[u8])> {
        self.entries
            .iter()
            .map(|e| (e.seq, self.arena.get(e.frame.clone()).unwrap_or_default()))
    }

    /// First and last seq of the batch, if any.
    pub fn seq_span(&self) -> Option<(Seq, Seq)> {
        Some((self.entries.first()?.seq, self.entries.last()?.seq))
    }

    /// Bytes the batch can hold before it must grow.
    pub(crate) fn capacity(&self) -> usize {
        self.arena.capacity()
    }

    /// Empty the batch, keeping its memory for the next one.
    pub(crate) fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
    }

    pub(crate) fn mark(&self) -> BatchMark {
        BatchMark {
            arena: self.arena.len(),
            entries: self.entries.len(),
        }
    }

    pub(crate) fn rollback(&mut self, mark: BatchMark) {
        self.arena.truncate(mark.arena);
        self.entries.truncate(mark.entries);
    }

    /// Add a record whose frame is written by `write_frame` into the arena.
    pub(crate) fn push_with<E>(
        &mut self,
        seq: Seq,
        stream: &str,
        write_frame: impl FnOnce(&mut Vec<u8>) -> Result<u32, E>,
    ) -> Result<u32, E> {
        let stream_start = self.arena.len();
        self.arena.extend_from_slice(stream.as_bytes());
        let frame_start = self.arena.len();
        let crc = match write_frame(&mut self.arena) {
            Ok(crc) => crc,
            Err(e) => {
                self.arena.truncate(stream_start);
                return Err(e);
            }
        };
        self.entries.push(BatchEntry {
            seq,
            stream: stream_start..frame_start,
            frame: frame_start..self.arena.len(),
        });
        Ok(crc)
    }
}

/// A checkpoint's stored form: its generation id and framed bytes.
pub type RawCheckpoint = (u64, Box<[u8]>);

/// A stored checkpoint of any name: `(name, generation id, framed bytes)`.
pub type NamedCheckpoint = (String, u64, Box<[u8]>);

/// What `repair truncate` removes, as one durable unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truncation {
    /// Every record with `after < seq <= last` is removed.
    pub after: Seq,
    /// The highest stored seq.
    pub last: Seq,
    /// Stream-index chunks to delete, by key `(stream, first seq)`: those
    /// holding only removed seqs.
    pub index_removed: Vec<(String, Seq)>,
    /// Stream-index chunks to rewrite under their key: those holding seqs on
    /// both sides of `after`, cut to the kept ones.
    pub index_trimmed: Vec<IndexChunk>,
    /// The stream index's new watermark (see [`Backend::put_index`]).
    pub index_upto: Seq,
    /// Checkpoint generations `(name, id)` to remove.
    pub checkpoints: Vec<(String, u64)>,
    /// Metadata values to set in the same unit.
    pub meta: Vec<(String, Vec<u8>)>,
}

/// What a trim from the front removes and writes, as one durable unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trim {
    /// Every record with `first <= seq <= upto` is removed.
    pub first: Seq,
    /// The last record removed: the new base.
    pub upto: Seq,
    /// Stream-index chunks to delete, by key `(stream, first seq)`: those
    /// holding only removed seqs, and those rewritten below.
    pub index_removed: Vec<(String, Seq)>,
    /// Stream-index chunks to write under their (new) first seq: the kept
    /// part of chunks holding seqs on both sides of `upto`.
    pub index_rewritten: Vec<IndexChunk>,
    /// Checkpoints to store: `(name, generation id, framed bytes)`.
    pub checkpoints_put: Vec<NamedCheckpoint>,
    /// Checkpoint generations `(name, id)` to remove.
    pub checkpoints_removed: Vec<(String, u64)>,
    /// Metadata values to set in the same unit.
    pub meta: Vec<(String, Vec<u8>)>,
}

/// What the event log needs from durable storage.
///
/// Every method that writes must be durable (synced) when it returns `Ok`,
/// except [`Backend::write`], which [`Backend::sync`] makes durable.
/// Implementations must never turn a read error into an early end.
pub trait Backend: Send + Sync + 'static {
    /// Durably write every record of `batch`, as one atomic unit. (The stream
    /// index is written apart, in bulk: [`Backend::put_index`].)
    ///
    /// # Errors
    /// Any storage failure; the caller then poisons the log.
    fn append(&self, batch: &RecordBatch) -> Result<()>;

    /// Write every record of `batch` as one atomic unit, in order after every
    /// earlier write, but not yet durably: until a [`Backend::sync`] called
    /// after this returns, a crash may lose the batch (whole), and with it
    /// every later write, never an earlier one. Reads may see it at once:
    /// the log hides records past its durable end from its readers.
    ///
    /// # Errors
    /// Any storage failure; the caller then poisons the log.
    fn write(&self, batch: &RecordBatch) -> Result<()>;

    /// Make every [`Backend::write`] that returned before this call durable.
    /// It may run while another thread writes: the group commit writes
    /// batch k+1 while batch k is being synced.
    ///
    /// # Errors
    /// Any storage failure; the caller then poisons the log (whether the
    /// writes are durable is unknown).
    fn sync(&self) -> Result<()>;

    /// The record with the lowest seq, if any.
    ///
    /// # Errors
    /// Storage errors.
    fn first_record(&self) -> Result<Option<RawRecord>>;

    /// The record with the highest seq, if any.
    ///
    /// # Errors
    /// Storage errors.
    fn last_record(&self) -> Result<Option<RawRecord>>;

    /// One record by seq.
    ///
    /// # Errors
    /// Storage errors.
    fn get(&self, seq: Seq) -> Result<Option<Box<[u8]>>>;

    /// Records with `from <= seq <= to`, ascending.
    ///
    /// # Errors
    /// Storage errors.
    fn scan(&self, from: Seq, to: Seq) -> Result<RawRecords<'_>>;

    /// Call `visit` with each record with `from <= seq <= to`, ascending,
    /// borrowing the stored bytes (no copy per record: the replay path).
    /// Stops early when `visit` breaks.
    ///
    /// # Errors
    /// Storage errors (never turned into an early end).
    fn scan_with(
        &self,
        from: Seq,
        to: Seq,
        visit: &mut dyn FnMut(Seq, &[u8]) -> ControlFlow<()>,
    ) -> Result<()>;

    /// Store stream-index chunks and set the index watermark to `upto`, as
    /// one atomic unit: the stored index then holds exactly the entries with
    /// seq `<= upto`. Need not be synced: the index is derived from the log,
    /// and an open re-derives whatever a crash lost (the watermark is lost
    /// with the chunks, never without them).
    ///
    /// # Errors
    /// Storage errors; the caller then poisons the log.
    fn put_index(&self, chunks: &[IndexChunk], upto: Seq) -> Result<()>;

    /// The index watermark last stored by [`Backend::put_index`], if any.
    ///
    /// # Errors
    /// Storage errors, a malformed stored value.
    fn index_upto(&self) -> Result<Option<Seq>>;

    /// The stored chunks of `stream` that may hold a seq `>= from`, in order
    /// (the first may also hold smaller seqs).
    ///
    /// # Errors
    /// Storage errors.
    fn stream_chunks(&self, stream: &str, from: Seq) -> Result<IndexChunks<'_>>;

    /// Every stored index chunk, in `(stream, first seq)` order.
    ///
    /// # Errors
    /// Storage errors.
    fn index_chunks(&self) -> Result<IndexChunks<'_>>;

    /// Durably store checkpoint generation `id` of `name` and delete the
    /// generations in `delete`, atomically.
    ///
    /// # Errors
    /// Storage errors; the caller then poisons the log.
    fn put_checkpoint(&self, name: &str, id: u64, frame: &[u8], delete: &[u64]) -> Result<()>;

    /// Every stored generation of checkpoint `name`, newest first.
    ///
    /// # Errors
    /// Storage errors.
    fn checkpoints(&self, name: &str) -> Result<Vec<RawCheckpoint>>;

    /// Every stored checkpoint of every name: `(name, id, frame)`.
    ///
    /// # Errors
    /// Storage errors.
    fn all_checkpoints(&self) -> Result<Vec<NamedCheckpoint>>;

    /// A metadata value.
    ///
    /// # Errors
    /// Storage errors.
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Durably set a metadata value.
    ///
    /// # Errors
    /// Storage errors.
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Durably remove what `truncation` names, atomically (repair only:
    /// never called while a writer is running).
    ///
    /// # Errors
    /// Storage errors; on error nothing was removed.
    fn truncate(&self, truncation: &Truncation) -> Result<()>;

    /// Durably remove and write what `trim` names, atomically. May run
    /// while a writer appends: it touches no record, index chunk or
    /// metadata key the writer writes.
    ///
    /// # Errors
    /// Storage errors; on error nothing was removed.
    fn trim(&self, trim: &Trim) -> Result<()>;

    /// Give back the space of records up to `upto`, removed by a trim (for
    /// RocksDB: compact the range, so the tombstone and what it covers
    /// leave the table files). Not needed for correctness.
    ///
    /// # Errors
    /// Storage errors.
    fn reclaim(&self, _upto: Seq) -> Result<()> {
        Ok(())
    }

    /// How many times the store has synced its write-ahead log since open,
    /// when it counts them (RocksDB does in test builds). Lets tests prove
    /// that acknowledgements wait for an fsync.
    fn wal_syncs(&self) -> Option<u64> {
        None
    }

    /// Bytes held in memory tables, when the store has them (RocksDB's
    /// memtables: bounded by the write buffer settings, freed by flushes).
    fn memtable_bytes(&self) -> Option<u64> {
        None
    }

    /// Bytes held in the store's block cache, when it has one (RocksDB's:
    /// bounded by its capacity).
    fn block_cache_bytes(&self) -> Option<u64> {
        None
    }

    /// Make everything written so far independent of write-ahead-log replay
    /// (for RocksDB: flush memtables to checksummed table files). Called on
    /// clean close.
    ///
    /// # Errors
    /// Storage errors.
    fn flush(&self) -> Result<()>;
}
