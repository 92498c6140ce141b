//! The record frame: a fixed header, then the payload.
//!
//! Format (all integers little-endian; see docs/format.md):
//!
//! ```text
//! offset size field
//!      0    1 magic        0xA7
//!      1    1 version      1
//!      2    1 flags        0 (reserved: any set bit is corruption)
//!      3    4 payload_len  1 ..= MAX_PAYLOAD_LEN
//!      7    4 chain        crc of the previous record in the log (0 for seq 1)
//!     11    4 crc          crc32 (IEEE) of bytes 0..11 followed by the payload
//!     15  len payload
//! ```
//!
//! Decoding borrows from the input: it never allocates, never panics, and
//! tells an incomplete (torn) frame from a corrupt one.

/// First byte of every frame.
pub const MAGIC: u8 = 0xA7;
/// The frame format version this build writes and reads.
pub const FRAME_VERSION: u8 = 1;
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 15;
/// Largest payload a frame may carry (16 MiB): the record bound.
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024 * 1024;
/// Offset of the crc field: the crc covers the bytes before it, then the payload.
const CRC_OFFSET: usize = 11;

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The input ends before the frame does: a torn write or a truncated file.
    #[error("incomplete frame: need {needed} bytes, have {available}")]
    Incomplete {
        /// Bytes the frame needs (header, or header plus declared payload).
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// Wrong magic byte.
    #[error("bad magic byte: expected {expected:#04x}, found {found:#04x}")]
    BadMagic {
        /// [`MAGIC`].
        expected: u8,
        /// What was there.
        found: u8,
    },
    /// A frame version this build does not read.
    #[error("unsupported frame version: expected {expected}, found {found}")]
    UnsupportedVersion {
        /// [`FRAME_VERSION`].
        expected: u8,
        /// What was there.
        found: u8,
    },
    /// Reserved flag bits are set.
    #[error("unknown flags {found:#04x}")]
    UnknownFlags {
        /// The flags byte.
        found: u8,
    },
    /// A zero payload length (never written: every payload is non-empty).
    #[error("zero payload length")]
    ZeroLength,
    /// The declared payload length exceeds the record bound.
    #[error("payload length {len} exceeds the maximum {max}")]
    TooLarge {
        /// Declared length.
        len: usize,
        /// [`MAX_PAYLOAD_LEN`].
        max: usize,
    },
    /// The checksum does not match the header and payload.
    #[error("checksum mismatch: stored {expected:#010x}, computed {actual:#010x}")]
    ChecksumMismatch {
        /// The crc stored in the frame.
        expected: u32,
        /// The crc computed over the bytes.
        actual: u32,
    },
    /// Bytes follow a complete frame where exactly one frame was expected.
    #[error("{extra} unexpected bytes after the frame")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl FrameError {
    /// True when the input was cut short rather than damaged.
    pub const fn is_incomplete(&self) -> bool {
        matches!(self, FrameError::Incomplete { .. })
    }
}

/// A decoded frame, borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The predecessor's crc recorded in this frame.
    pub chain: u32,
    /// This frame's crc.
    pub crc: u32,
    /// The payload bytes.
    pub payload: &'a [u8],
}

impl Frame<'_> {
    /// Total encoded size of the frame.
    pub const fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
}

/// Append one frame to `out`, with the payload written by `write_payload`
/// straight into `out` (no intermediate buffer). Returns the frame's crc.
///
/// On error `out` is restored to its previous length.
///
/// # Errors
/// Whatever `write_payload` returns; [`FrameError::ZeroLength`] and
/// [`FrameError::TooLarge`] (mapped through `E: From<FrameError>`) when the
/// payload is empty or over the bound.
pub fn encode_with<E: From<FrameError>>(
    out: &mut Vec<u8>,
    chain: u32,
    write_payload: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<u32, E> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    if let Err(e) = write_payload(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - HEADER_LEN;
    let checked_len = match u32::try_from(len) {
        Ok(_) if len == 0 => Err(FrameError::ZeroLength),
        Ok(l) if len <= MAX_PAYLOAD_LEN => Ok(l),
        _ => Err(FrameError::TooLarge {
            len,
            max: MAX_PAYLOAD_LEN,
        }),
    };
    let len32 = match checked_len {
        Ok(l) => l,
        Err(e) => {
            out.truncate(start);
            return Err(e.into());
        }
    };
    let mut header = [0u8; CRC_OFFSET];
    header[0] = MAGIC;
    header[1] = FRAME_VERSION;
    header[2] = 0;
    header[3..7].copy_from_slice(&len32.to_le_bytes());
    header[7..11].copy_from_slice(&chain.to_le_bytes());
    let (_, frame) = out.split_at_mut(start);
    let (head, payload) = frame.split_at_mut(HEADER_LEN);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header);
    hasher.update(payload);
    let crc = hasher.finalize();
    let (fixed, crc_field) = head.split_at_mut(CRC_OFFSET);
    fixed.copy_from_slice(&header);
    crc_field.copy_from_slice(&crc.to_le_bytes());
    Ok(crc)
}

/// Encode `payload` as one frame appended to `out`; returns the frame's crc.
///
/// # Errors
/// [`FrameError::ZeroLength`] or [`FrameError::TooLarge`].
pub fn encode(out: &mut Vec<u8>, chain: u32, payload: &[u8]) -> Result<u32, FrameError> {
    encode_with(out, chain, |buf| {
        buf.extend_from_slice(payload);
        Ok::<(), FrameError>(())
    })
}

fn u32_at(header: &[u8; HEADER_LEN], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(bytes) = header.get(offset..offset + 4) {
        word.copy_from_slice(bytes);
    }
    u32::from_le_bytes(word)
}

/// Decode the frame at the start of `buf`; bytes after it are left alone
/// (see [`Frame::encoded_len`]).
///
/// # Errors
/// [`FrameError::Incomplete`] when `buf` ends inside the frame (with a header
/// that is otherwise plausible); any other variant when the bytes are damaged.
pub fn decode_prefix(buf: &[u8]) -> Result<Frame<'_>, FrameError> {
    let Some((header, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
        return Err(FrameError::Incomplete {
            needed: HEADER_LEN,
            available: buf.len(),
        });
    };
    let [magic, version, flags, ..] = *header;
    if magic != MAGIC {
        return Err(FrameError::BadMagic {
            expected: MAGIC,
            found: magic,
        });
    }
    if version != FRAME_VERSION {
        return Err(FrameError::UnsupportedVersion {
            expected: FRAME_VERSION,
            found: version,
        });
    }
    if flags != 0 {
        return Err(FrameError::UnknownFlags { found: flags });
    }
    let len = usize::try_from(u32_at(header, 3)).unwrap_or(usize::MAX);
    if len == 0 {
        return Err(FrameError::ZeroLength);
    }
    if len > MAX_PAYLOAD_LEN {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_PAYLOAD_LEN,
        });
    }
    let Some(payload) = rest.get(..len) else {
        return Err(FrameError::Incomplete {
            needed: HEADER_LEN + len,
            available: buf.len(),
        });
    };
    let chain = u32_at(header, 7);
    let stored = u32_at(header, CRC_OFFSET);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header.get(..CRC_OFFSET).unwrap_or_default());
    hasher.update(payload);
    let actual = hasher.finalize();
    if actual != stored {
        return Err(FrameError::ChecksumMismatch {
            expected: stored,
            actual,
        });
    }
    Ok(Frame {
        chain,
        crc: stored,
        payload,
    })
}

/// Decode `buf` as exactly one frame (as stored under one key).
///
/// # Errors
/// As [`decode_prefix`], plus [`FrameError::TrailingBytes`].
pub fn decode_exact(buf: &[u8]) -> Result<Frame<'_>, FrameError> {
    let frame = decode_prefix(buf)?;
    let extra = buf.len() - frame.encoded_len();
    if extra != 0 {
        return Err(FrameError::TrailingBytes { extra });
    }
    Ok(frame)
}

#[cfg(test)]
mod tests;
