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

/// A hasher that produces a [`StateHash`]; bytes are written to it through
/// [`std::io::Write`].
#[derive(Default)]
pub(crate) struct StateHasher(Sha256);

impl StateHasher {
    /// The digest of everything written so far.
    pub(crate) fn finish(self) -> StateHash {
        StateHash(self.0.finalize().into())
    }
}

impl std::io::Write for StateHasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
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
