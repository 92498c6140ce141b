//! [`StateHash`]: a portable digest of a projection's state.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest of a projection's canonical snapshot bytes.
///
/// Equal states give equal hashes on every machine and in every run: the
/// snapshot encoding is canonical (sorted, fixed-width, little-endian) and
/// depends on no hasher seed or memory address. Displayed, debugged and
/// serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateHash(pub [u8; 32]);

impl StateHash {
    /// The SHA-256 digest of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

/// Bytes a [`StateHasher`] gathers before it hashes them: an encoder
/// writes a field at a time, and SHA-256 pays per call.
const HASHER_BUFFER: usize = 64 * 1024;

/// A hasher that produces a [`StateHash`]; bytes are written to it through
/// [`std::io::Write`], buffered (the digest is that of the bytes, however
/// they were split).
pub(crate) struct StateHasher {
    digest: Sha256,
    pending: Vec<u8>,
}

impl Default for StateHasher {
    fn default() -> Self {
        Self {
            digest: Sha256::default(),
            pending: Vec::with_capacity(HASHER_BUFFER),
        }
    }
}

impl StateHasher {
    /// The digest of everything written so far.
    pub(crate) fn finish(mut self) -> StateHash {
        self.digest.update(&self.pending);
        StateHash(self.digest.finalize().into())
    }
}

impl std::io::Write for StateHasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.pending.len() + bytes.len() > HASHER_BUFFER {
            self.digest.update(&self.pending);
            self.pending.clear();
        }
        if bytes.len() >= HASHER_BUFFER {
            self.digest.update(bytes);
        } else {
            self.pending.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Display for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateHash({self})")
    }
}

impl Serialize for StateHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A string that is not 64 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a state hash is 64 hex digits")]
pub struct ParseStateHashError;

impl FromStr for StateHash {
    type Err = ParseStateHashError;

    /// Parses 64 hex digits (either case).
    fn from_str(text: &str) -> Result<Self, ParseStateHashError> {
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(ParseStateHashError);
        }
        let mut out = [0_u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let [high, low] = pair else {
                return Err(ParseStateHashError);
            };
            *byte = (hex_value(*high)? << 4) | hex_value(*low)?;
        }
        Ok(Self(out))
    }
}

/// The value of one hex digit.
fn hex_value(digit: u8) -> Result<u8, ParseStateHashError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(ParseStateHashError),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::{HASHER_BUFFER, StateHash, StateHasher};

    #[test]
    fn given_bytes_split_any_way_when_hashed_then_the_digest_is_that_of_the_whole() {
        let bytes: Vec<u8> = (0..3 * HASHER_BUFFER + 17)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let whole = StateHash::of_bytes(&bytes);
        for split in [
            1,
            7,
            4096,
            HASHER_BUFFER - 1,
            HASHER_BUFFER,
            2 * HASHER_BUFFER + 3,
        ] {
            let mut hasher = StateHasher::default();
            for chunk in bytes.chunks(split) {
                hasher.write_all(chunk).unwrap();
            }
            assert_eq!(hasher.finish(), whole, "chunks of {split}");
        }
    }
}
