//! The payload codec: the one module that knows about bincode.
//!
//! Every payload in the log is the bincode 2.0.1 (serde) encoding of a value
//! under one pinned configuration: little-endian, fixed-width integers, and a
//! decode limit equal to the record bound, so that no length prefix inside a
//! payload can make the decoder allocate past [`MAX_PAYLOAD_LEN`]. Moving to
//! another codec means bumping [`crate::frame::FRAME_VERSION`] and teaching
//! this module to read both.

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use serde::{Deserialize, Serialize};

use crate::frame::MAX_PAYLOAD_LEN;
use crate::types::{Event, Seq};

/// The pinned bincode configuration of frame version 1.
type Config = Configuration<LittleEndian, Fixint, Limit<MAX_PAYLOAD_LEN>>;

const CONFIG: Config = config::standard()
    .with_little_endian()
    .with_fixed_int_encoding()
    .with_limit::<MAX_PAYLOAD_LEN>();

/// The envelope as written: borrows from the event being appended so that
/// encoding copies each byte once, straight into the frame buffer.
///
/// Field order and types must match [`Event`], which is what reads it back.
#[derive(Serialize)]
pub(crate) struct EnvelopeRef<'a> {
    pub seq: Seq,
    pub stream: &'a str,
    pub at_ms: u64,
    pub kind: u16,
    #[serde(with = "serde_bytes")]
    pub body: &'a [u8],
}

/// Encode any value with the pinned configuration, appending to `out`.
///
/// # Errors
/// The encoder's error (in practice: a value over the size limit).
pub fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), bincode::error::EncodeError> {
    bincode::serde::encode_into_std_write(value, out, CONFIG).map(|_| ())
}

/// Decode a value that must fill `bytes` exactly.
///
/// # Errors
/// The decoder's error, or [`bincode::error::DecodeError::OtherString`] when
/// bytes are left over (a payload is exactly one value).
pub fn decode_exact<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<T, bincode::error::DecodeError> {
    let (value, read) = bincode::serde::decode_from_slice(bytes, CONFIG)?;
    if read != bytes.len() {
        return Err(bincode::error::DecodeError::OtherString(format!(
            "{} trailing bytes after the value",
            bytes.len() - read
        )));
    }
    Ok(value)
}

/// Decode a value from the start of `bytes`, ignoring what follows (a
/// header's leading field, read to tell its version).
///
/// # Errors
/// The decoder's error.
pub fn decode_prefix<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<T, bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(bytes, CONFIG).map(|(value, _)| value)
}

/// Decode an event envelope from a frame payload.
///
/// # Errors
/// As [`decode_exact`].
pub fn decode_event(payload: &[u8]) -> Result<Event, bincode::error::DecodeError> {
    decode_exact(payload)
}

#[cfg(test)]
mod tests;
