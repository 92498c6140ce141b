//! The event and snapshot codec: the one module of this crate that calls
//! bincode.
//!
//! An event body is the bincode 2.0.1 (serde) encoding of a [`DomainEvent`]
//! under one pinned configuration, the same as the log's envelope codec:
//! little-endian, fixed-width integers, and a decode limit, so that no length
//! prefix inside a body can make the decoder allocate past [`MAX_EVENT_LEN`].
//! A snapshot is the encoding of `(version: u32, state)` under the same
//! configuration with the larger limit [`MAX_SNAPSHOT_LEN`].
//!
//! Format (event body, log format version 1):
//!
//! ```text
//! variant index  u32 LE   (the EventKind tag - 1)
//! fields         in declaration order: integers fixed-width LE, bool 1 byte,
//!                String/Vec as u64 LE length + items, Option as 0 | 1 + value,
//!                enums as u32 LE variant index + fields
//! ```
//!
//! Moving to another codec means a new log format version and teaching this
//! module to read both.

use std::io::Write;

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ProjectionError;
use crate::event::DomainEvent;
use crate::kind::EventKind;

/// The largest event body, in bytes: the log's record bound.
pub const MAX_EVENT_LEN: usize = 16 * 1024 * 1024;

/// The largest snapshot, in bytes: the log's checkpoint bound (1 GiB), so
/// every snapshot that can be stored can be restored.
pub const MAX_SNAPSHOT_LEN: usize = 1024 * 1024 * 1024;

/// The pinned configuration of event bodies.
const EVENT_CONFIG: Configuration<LittleEndian, Fixint, Limit<MAX_EVENT_LEN>> = config::standard()
    .with_little_endian()
    .with_fixed_int_encoding()
    .with_limit::<MAX_EVENT_LEN>();

/// The pinned configuration of snapshots: as events, with a larger limit.
const SNAPSHOT_CONFIG: Configuration<LittleEndian, Fixint, Limit<MAX_SNAPSHOT_LEN>> =
    config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_SNAPSHOT_LEN>();

/// Encodes an event body.
///
/// # Errors
///
/// [`ProjectionError::Encode`] if the encoder fails and
/// [`ProjectionError::EventTooLarge`] if the body is over [`MAX_EVENT_LEN`].
pub fn encode(event: &DomainEvent) -> Result<Vec<u8>, ProjectionError> {
    let mut out = Vec::new();
    encode_into(event, &mut out)?;
    Ok(out)
}

/// Encodes an event body, appending it to `out`. On error `out` is left as
/// it was.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_into(event: &DomainEvent, out: &mut Vec<u8>) -> Result<(), ProjectionError> {
    let start = out.len();
    let written = bincode::serde::encode_into_std_write(event, out, EVENT_CONFIG);
    let len = out.len() - start;
    let result = match written {
        Err(source) => Err(ProjectionError::Encode {
            kind: event.kind(),
            source,
        }),
        Ok(_) if len > MAX_EVENT_LEN => Err(ProjectionError::EventTooLarge {
            kind: event.kind(),
            len,
            max: MAX_EVENT_LEN,
        }),
        Ok(_) => Ok(()),
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Decodes the body of a record whose envelope says `kind`.
///
/// Never panics, whatever the bytes, and never allocates more than
/// [`MAX_EVENT_LEN`] for them.
///
/// # Errors
///
/// [`ProjectionError::UnknownKind`] if `kind` names no event kind,
/// [`ProjectionError::Decode`] if the bytes are not an event,
/// [`ProjectionError::TrailingBytes`] if bytes are left after it, and
/// [`ProjectionError::KindMismatch`] if it is another kind of event.
pub fn decode(kind: u16, body: &[u8]) -> Result<DomainEvent, ProjectionError> {
    let kind = EventKind::from_u16(kind).ok_or(ProjectionError::UnknownKind { kind })?;
    let (event, read): (DomainEvent, usize) = bincode::serde::decode_from_slice(body, EVENT_CONFIG)
        .map_err(|source| ProjectionError::Decode { kind, source })?;
    if read != body.len() {
        return Err(ProjectionError::TrailingBytes {
            kind,
            len: body.len().saturating_sub(read),
        });
    }
    let decoded = event.kind();
    if decoded != kind {
        return Err(ProjectionError::KindMismatch { kind, decoded });
    }
    Ok(event)
}

/// Encodes a snapshot: `version` then `state`.
///
/// # Errors
///
/// [`ProjectionError::SnapshotEncode`] if the encoder fails and
/// [`ProjectionError::SnapshotTooLarge`] if the result is over [`MAX_SNAPSHOT_LEN`].
pub(crate) fn encode_snapshot<T: Serialize>(
    version: u32,
    state: &T,
) -> Result<Vec<u8>, ProjectionError> {
    let mut out = Vec::new();
    write_snapshot(version, state, &mut out)
        .map_err(|source| ProjectionError::SnapshotEncode { source })?;
    if out.len() > MAX_SNAPSHOT_LEN {
        return Err(ProjectionError::SnapshotTooLarge {
            len: out.len(),
            max: MAX_SNAPSHOT_LEN,
        });
    }
    Ok(out)
}

/// Streams the snapshot encoding of `state` into `writer` (a hasher, for
/// [`state_hash`](crate::Projection::state_hash)); the bytes are exactly those
/// of [`encode_snapshot`], with no size bound.
pub(crate) fn write_snapshot<T: Serialize, W: Write>(
    version: u32,
    state: &T,
    mut writer: W,
) -> Result<(), bincode::error::EncodeError> {
    bincode::serde::encode_into_std_write((version, state), &mut writer, SNAPSHOT_CONFIG)
        .map(|_| ())
}

/// Decodes a snapshot written by [`encode_snapshot`] with a version in
/// `accepted` (the current one, and the older ones its restore migrates):
/// the version found, and the state.
///
/// Never panics and never allocates more than [`MAX_SNAPSHOT_LEN`].
///
/// # Errors
///
/// [`ProjectionError::SnapshotVersion`] for another version (`expected`:
/// the newest accepted), [`ProjectionError::Snapshot`] if the bytes do not
/// decode, and [`ProjectionError::SnapshotTrailingBytes`] if bytes are left
/// over.
pub(crate) fn decode_snapshot<T: DeserializeOwned>(
    accepted: std::ops::RangeInclusive<u32>,
    bytes: &[u8],
) -> Result<(u32, T), ProjectionError> {
    let expected = *accepted.end();
    let (found, _): (u32, usize) = bincode::serde::decode_from_slice(bytes, SNAPSHOT_CONFIG)
        .map_err(|_| ProjectionError::SnapshotVersion { found: 0, expected })?;
    if !accepted.contains(&found) {
        return Err(ProjectionError::SnapshotVersion { found, expected });
    }
    let ((_, state), read): ((u32, T), usize) =
        bincode::serde::decode_from_slice(bytes, SNAPSHOT_CONFIG)
            .map_err(|source| ProjectionError::Snapshot { source })?;
    if read != bytes.len() {
        return Err(ProjectionError::SnapshotTrailingBytes {
            len: bytes.len().saturating_sub(read),
        });
    }
    Ok((found, state))
}
