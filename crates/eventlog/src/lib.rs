//! Strand's durable event log.
//!
//! An append-only log of events on RocksDB that is
//! - **durable**: an append is acknowledged only after it is fsync'd;
//! - **fast under many producers**: one writer thread batches every queued
//!   append into one synced write (group commit);
//! - **verifiable end to end**: every record is framed, crc32-checked, chained
//!   to its predecessor's checksum, and keyed by a contiguous seq from 1.
//!
//! The format is specified byte by byte in `docs/format.md`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand_eventlog::{EventLog, LogOptions, NewCheckpoint, NewEvent, Seq};
//!
//! let dir = tempfile::tempdir()?;
//! let log = EventLog::open(dir.path(), LogOptions::default())?;
//! log.append_blocking(vec![NewEvent::new("counter", 1, vec![1])])?;
//! log.put_checkpoint_blocking(NewCheckpoint {
//!     name: "counter".into(),
//!     seq: Seq(1),
//!     format_version: 1,
//!     data: vec![1],
//! })?;
//! let loaded = log.load_checkpoint("counter", 1)?;
//! assert_eq!(loaded.checkpoint.map(|c| c.seq), Some(Seq(1)));
//! assert!(log.verify(&mut |_| {}).ok);
//! # Ok(())
//! # }
//! ```

mod backend;
pub mod baseline;
mod checkpoint;
pub mod codec;
mod delivery;
mod error;
mod export;
#[cfg(feature = "failpoints")]
pub mod failpoint;
pub mod frame;
pub mod fuzzing;
mod handoff;
mod index;
mod log;
pub mod metrics;
mod options;
mod reader;
pub mod repair;
mod rocks;
mod staging;
mod syncer;
mod trim;
mod types;
mod verify;
mod writer;

pub use backend::{
    Backend, IndexChunk, IndexChunks, NamedCheckpoint, RawCheckpoint, RawRecord, RawRecords,
    RecordBatch, Trim, Truncation,
};
pub use checkpoint::{
    Checkpoint, CheckpointId, CheckpointInfo, CheckpointLoad, CheckpointSummary,
    MAX_CHECKPOINT_LEN, NewCheckpoint, SkippedCheckpoint,
};
pub use error::{CheckpointDefect, Error, ExportDefect, Result};
pub use export::{
    ArchiveSegment, EXPORT_MAGIC, EXPORT_VERSION, SEGMENT_EXTENSION, SegmentInfo, TransferProgress,
    TransferReport, list_segments, segment_name,
};
pub use frame::{FrameError, MAX_PAYLOAD_LEN};
pub use log::{EventLog, FORMAT_VERSION};
pub use options::LogOptions;
pub use reader::{Records, StreamRecords};
pub use rocks::{BLOCK_CACHE_BYTES, MAX_TOTAL_WAL_BYTES, MEMTABLE_BYTES, OpenMode, RocksBackend};
pub use trim::{BASE_CHECKPOINT_PREFIX, LogBase, TrimReport, TrimRequest, base_checkpoint_name};
pub use types::{Appended, Event, MAX_STREAM_LEN, NewEvent, Seq, SeqRange};
pub use verify::VerifyReport;
pub use writer::{LogStatus, WriterStats};
