//! The stored value of a stream-index chunk: the gaps between its seqs.
//!
//! The key (`u16 BE stream length | stream bytes | u64 BE first seq`) names
//! the first seq; the value lists each later seq as its gap from the one
//! before, an unsigned LEB128 varint of at least 1. A one-seq chunk has an
//! empty value: exactly the entry data-directory format 1 wrote for every
//! record, so a format-1 index reads as one-seq chunks.

use crate::types::Seq;

/// Longest LEB128 encoding of a u64.
const MAX_VARINT_LEN: usize = 10;

/// Append the value of the chunk `seqs` (ascending, non-empty) to `out`.
pub(super) fn encode_gaps(seqs: &[Seq], out: &mut Vec<u8>) {
    for pair in seqs.windows(2) {
        if let [prev, next] = pair {
            let mut gap = next.0.saturating_sub(prev.0);
            loop {
                let byte = gap.to_le_bytes()[0] & 0x7F;
                gap >>= 7;
                if gap == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
    }
}

/// The seqs of the chunk keyed by `first` whose value is `value`; `None`
/// when the value is malformed (a cut or overlong varint, a gap of 0, a seq
/// past `u64::MAX`). Never allocates more than one seq per value byte.
pub(super) fn decode_gaps(first: Seq, value: &[u8]) -> Option<Vec<Seq>> {
    let mut seqs = Vec::with_capacity(1 + value.len());
    seqs.push(first);
    let mut last = first.0;
    let mut bytes = value.iter();
    while bytes.len() > 0 {
        let mut gap = 0u64;
        let mut shift = 0u32;
        let mut len = 0;
        loop {
            let byte = *bytes.next()?;
            len += 1;
            if len > MAX_VARINT_LEN {
                return None;
            }
            gap |= u64::from(byte & 0x7F).checked_shl(shift)?;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        if gap == 0 {
            return None;
        }
        last = last.checked_add(gap)?;
        seqs.push(Seq(last));
    }
    Some(seqs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn given_one_seq_when_encoded_then_value_is_empty_as_in_format_1() {
        let mut out = Vec::new();
        encode_gaps(&[Seq(9)], &mut out);
        assert!(out.is_empty());
        assert_eq!(decode_gaps(Seq(9), &out), Some(vec![Seq(9)]));
    }

    #[test]
    fn given_gaps_when_encoded_then_bytes_are_leb128() {
        let mut out = Vec::new();
        encode_gaps(&[Seq(1), Seq(2), Seq(130), Seq(130 + 300)], &mut out);
        assert_eq!(out, [0x01, 0x80, 0x01, 0xAC, 0x02]);
    }

    #[test]
    fn given_malformed_values_when_decoded_then_none() {
        // A cut varint, a zero gap, an overlong varint, a seq past u64::MAX.
        assert_eq!(decode_gaps(Seq(1), &[0x80]), None);
        assert_eq!(decode_gaps(Seq(1), &[0x00]), None);
        assert_eq!(decode_gaps(Seq(1), &[0x81; 11]), None);
        assert_eq!(decode_gaps(Seq(u64::MAX), &[0x01]), None);
    }

    proptest! {
        #[test]
        fn given_ascending_seqs_when_encoded_then_decoded_back(
            first in 1u64..u64::MAX / 2,
            gaps in proptest::collection::vec(1u64..(1 << 40), 0..64),
        ) {
            let mut seqs = vec![Seq(first)];
            for gap in gaps {
                let next = seqs.last().unwrap().0 + gap;
                seqs.push(Seq(next));
            }
            let mut out = Vec::new();
            encode_gaps(&seqs, &mut out);
            prop_assert_eq!(decode_gaps(Seq(first), &out), Some(seqs));
        }

        #[test]
        fn given_arbitrary_bytes_when_decoded_then_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Some(seqs) = decode_gaps(Seq(1), &bytes) {
                prop_assert!(seqs.len() <= 1 + bytes.len());
                prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
