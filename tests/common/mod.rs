//! Helpers shared by the root test binaries.

#![allow(dead_code, reason = "each test binary uses part of it")]

/// A small deterministic generator (xorshift), so a failing run repeats
/// with the same kills at the same moments.
pub struct Rng(pub u64);

impl Rng {
    /// The next value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    /// The next index into a slice of `len` (> 0) elements.
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }
}
pub mod cli;
pub mod runs;
