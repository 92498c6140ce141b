//! The crate's error type. Callers branch on variants, never on text.

use std::path::PathBuf;

use crate::frame::FrameError;
use crate::types::Seq;

/// Everything that can go wrong in the event log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// RocksDB reported an error during `op`.
    #[error("storage error during {op}: {source}")]
    Storage {
        /// What the log was doing.
        op: &'static str,
        /// RocksDB's error.
        #[source]
        source: rocksdb::Error,
    },
    /// A column family Strand creates at initialisation is missing: the
    /// directory is not a Strand log, or it was damaged.
    #[error("column family {name:?} is missing")]
    MissingColumnFamily {
        /// The column family.
        name: &'static str,
    },
    /// A record stored under `seq` failed its frame checks.
    #[error("corrupt record at seq {seq}: {source}")]
    CorruptRecord {
        /// The sequence number (from the key) of the bad record.
        seq: Seq,
        /// What exactly was wrong.
        #[source]
        source: FrameError,
    },
    /// A record's payload did not decode as an envelope.
    #[error("corrupt envelope at seq {seq}: {source}")]
    CorruptEnvelope {
        /// The sequence number (from the key) of the bad record.
        seq: Seq,
        /// The decoder's error.
        #[source]
        source: bincode::error::DecodeError,
    },
    /// A record's envelope names another seq than its key.
    #[error("record under key seq {key} carries seq {found}")]
    SeqMismatch {
        /// The seq in the key.
        key: Seq,
        /// The seq inside the envelope.
        found: Seq,
    },
    /// A stream index entry names a record that is missing or belongs to
    /// another stream.
    #[error("stream index entry ({stream:?}, seq {seq}) does not match the log")]
    IndexMismatch {
        /// The stream named by the entry.
        stream: String,
        /// The seq named by the entry.
        seq: Seq,
    },
    /// The stored stream index holds another number of entries than there
    /// are records up to its watermark (it must index each exactly once).
    #[error("stream index holds {entries} entries for {records} records")]
    IndexCount {
        /// Records up to the index's watermark.
        records: u64,
        /// Entries in the index.
        entries: u64,
    },
    /// The stored stream index claims records past the log's end.
    #[error("stream index covers seqs up to {upto} but the log ends at {last}")]
    IndexAhead {
        /// The index's watermark.
        upto: Seq,
        /// The last good record.
        last: Seq,
    },
    /// A stored stream-index chunk does not decode, or its seqs are out of
    /// order with the chunk before it.
    #[error("stream index chunk ({stream:?}, first seq {first}) is malformed")]
    BadIndexChunk {
        /// The chunk's stream.
        stream: String,
        /// The seq it is keyed by.
        first: Seq,
    },
    /// A key in the log column family is not an 8-byte big-endian seq.
    #[error("malformed log key of {len} bytes after seq {after}")]
    BadKey {
        /// Last good seq before the bad key.
        after: Seq,
        /// Length of the bad key.
        len: usize,
    },
    /// Sequence numbers are not contiguous.
    #[error("sequence gap: expected seq {expected}, found {found}")]
    Gap {
        /// The seq that should come next.
        expected: Seq,
        /// The seq actually found.
        found: Seq,
    },
    /// A record's chain value does not match its predecessor's checksum.
    #[error("broken checksum chain at seq {seq}: expected {expected:#010x}, found {found:#010x}")]
    ChainMismatch {
        /// The record whose chain is wrong.
        seq: Seq,
        /// The predecessor's checksum.
        expected: u32,
        /// The chain value stored in the record.
        found: u32,
    },
    /// The log ends before a seq it is known to have acknowledged (a clean
    /// close recorded that much), so acknowledged records were lost.
    #[error(
        "log ends at seq {found} but seq {expected_at_least} was acknowledged before the last clean close"
    )]
    LostTail {
        /// The last seq recorded at the last clean close.
        expected_at_least: Seq,
        /// The last seq found.
        found: Seq,
    },
    /// The data directory was written by an unsupported format version.
    #[error("data directory has log format version {found}; this build supports {supported}")]
    UnsupportedFormat {
        /// The version stored in the directory.
        found: u8,
        /// The version this build reads and writes.
        supported: u8,
    },
    /// A metadata value in the directory is malformed.
    #[error("malformed metadata value for key {key:?}")]
    BadMetadata {
        /// The metadata key.
        key: &'static str,
    },
    /// The data directory does not exist (and the log was not asked to create it).
    #[error("no event log at {path}")]
    NotFound {
        /// The directory looked for.
        path: PathBuf,
    },
    /// A previous write or sync failed: nothing further is acknowledged until
    /// the log is reopened (the outcome of the failed write is unknown).
    #[error("the log is poisoned by an earlier failed write; reopen it")]
    Poisoned,
    /// This append's write or sync failed; the log is now poisoned. Every
    /// request of the failed batch receives the same shared cause.
    #[error("write failed; the log is poisoned: {source}")]
    WriteFailed {
        /// The underlying failure.
        #[source]
        source: std::sync::Arc<Error>,
    },
    /// The writer's threads could not be started.
    #[error("cannot start the log writer: {source}")]
    WriterThread {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The log was closed, or its writer thread has stopped.
    #[error("the log is closed")]
    Closed,
    /// The log was opened read-only.
    #[error("the log is open read-only")]
    ReadOnly,
    /// The data directory cannot be written (a read-only file system, an
    /// immutable directory, permissions): only read-only commands work.
    #[error("data directory {path} is not writable ({source}); read-only commands still work")]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// What the probe got.
        #[source]
        source: std::io::Error,
    },
    /// An append with no events.
    #[error("an append must carry at least one event")]
    EmptyAppend,
    /// A stream name longer than [`crate::MAX_STREAM_LEN`] bytes.
    #[error("stream name of {len} bytes exceeds the maximum of {max}")]
    StreamNameTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// An encoded record would exceed [`crate::MAX_PAYLOAD_LEN`].
    #[error("record payload of {len} bytes exceeds the maximum of {max}")]
    RecordTooLarge {
        /// The payload length (at least).
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Encoding a payload failed.
    #[error("encoding failed: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    /// A checkpoint's watermark is beyond the last durable seq.
    #[error("checkpoint at seq {seq} is ahead of the log, which ends at seq {last}")]
    CheckpointAhead {
        /// The checkpoint's watermark.
        seq: Seq,
        /// The log's last seq.
        last: Seq,
    },
    /// A stored checkpoint failed its checks.
    #[error("corrupt checkpoint {name:?} generation {id}: {reason}")]
    CorruptCheckpoint {
        /// The checkpoint's name.
        name: String,
        /// Its generation id.
        id: u64,
        /// What was wrong.
        reason: CheckpointDefect,
    },
    /// An injected fault (test builds only).
    #[cfg(feature = "failpoints")]
    #[error("injected fault at {0:?}")]
    Injected(crate::failpoint::FailPoint),
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An export file is damaged or truncated; nothing was imported.
    #[error(
        "export file damaged at byte offset {offset} (last good seq {last_good_seq}): {defect}"
    )]
    BadExport {
        /// Byte offset in the file where the damage starts.
        offset: u64,
        /// The last record that read back intact (`Seq(0)`: none).
        last_good_seq: Seq,
        /// What was wrong.
        defect: ExportDefect,
    },
    /// `import` writes only into a new or empty data directory.
    #[error("import target {path} is not empty")]
    ImportTargetNotEmpty {
        /// The data directory.
        path: PathBuf,
    },
    /// `export` never overwrites a file.
    #[error("export target {path} already exists")]
    ExportTargetExists {
        /// The file.
        path: PathBuf,
    },
    /// A repair would remove nothing that exists, or was asked something
    /// impossible.
    #[error("cannot truncate after seq {after}: {reason}")]
    BadTruncation {
        /// The requested seq.
        after: Seq,
        /// Why not.
        reason: &'static str,
    },
    /// A trim that cannot be done as asked.
    #[error("cannot trim up to seq {upto}: {reason}")]
    BadTrim {
        /// The requested seq.
        upto: Seq,
        /// Why not.
        reason: &'static str,
    },
    /// Export files given to an import do not follow one another.
    #[error("{path}: it starts at seq {first}, but the log before it ends at seq {expected_after}")]
    ExportsNotContiguous {
        /// The file that does not follow.
        path: std::path::PathBuf,
        /// Its first seq.
        first: Seq,
        /// The last seq of the files before it (0 for none).
        expected_after: Seq,
    },
    /// An export that starts after seq 1 (a trimmed log's) is missing the
    /// base it needs to replay, as the first file of an import.
    #[error(
        "{path}: it starts at seq {first} without a base: import the archived segments before it"
    )]
    ExportWithoutBase {
        /// The file.
        path: std::path::PathBuf,
        /// Its first seq.
        first: Seq,
    },
    /// A configuration value is out of range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
}

/// Why a stored checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointDefect {
    /// The frame failed its checks.
    #[error("{0}")]
    Frame(FrameError),
    /// The payload did not decode.
    #[error("payload does not decode")]
    Payload,
    /// The stored record names another checkpoint than its key.
    #[error("record names {name:?} generation {id}")]
    KeyMismatch {
        /// Name in the record.
        name: String,
        /// Id in the record.
        id: u64,
    },
    /// The checkpoint's data format version is not the one asked for.
    #[error("format version {found}, expected {expected}")]
    Version {
        /// The version stored.
        found: u32,
        /// The version the caller reads.
        expected: u32,
    },
    /// Malformed key in the checkpoint column family.
    #[error("malformed key")]
    BadKey,
    /// The data does not have the length the checkpoint announces (a
    /// continuation frame is missing or extra bytes follow).
    #[error("data length {found}, announced {announced}")]
    Length {
        /// Length in the header.
        announced: u64,
        /// What the frames hold.
        found: u64,
    },
    /// A continuation frame does not chain to its predecessor.
    #[error("continuation frame at byte {offset} breaks the chain")]
    Chain {
        /// Offset of the frame in the stored value.
        offset: usize,
    },
}

/// What is wrong with an export file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportDefect {
    /// The file does not start with the export magic.
    #[error("not a Strand export (bad magic)")]
    BadMagic,
    /// The file ends inside a frame, or before its trailer.
    #[error("file ends early: truncated")]
    Truncated,
    /// A frame failed its checks.
    #[error("{0}")]
    Frame(FrameError),
    /// The header frame's payload is not a header.
    #[error("header does not decode")]
    Header,
    /// The export was written by an unknown export or log format version.
    #[error("export version {export}, log format {log}: not readable by this build")]
    Version {
        /// Export file version found.
        export: u32,
        /// Log format version found.
        log: u8,
    },
    /// A record failed the checks every log read applies.
    #[error("{0}")]
    Record(Box<Error>),
    /// The trailer does not decode or does not match what was read.
    #[error("trailer does not match the records read")]
    Trailer,
    /// Bytes follow the trailer.
    #[error("bytes after the trailer")]
    TrailingBytes,
    /// A base checkpoint carried by the export fails its checks.
    #[error("base checkpoint {name}: {reason}")]
    BaseCheckpoint {
        /// Its name.
        name: String,
        /// What is wrong with it.
        reason: CheckpointDefect,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn storage(op: &'static str) -> impl FnOnce(rocksdb::Error) -> Error {
    move |source| Error::Storage { op, source }
}
