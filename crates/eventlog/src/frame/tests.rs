use proptest::prelude::*;

use super::*;

fn framed(chain: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out, chain, payload).unwrap();
    out
}

#[test]
fn given_payload_when_encoded_then_header_matches_the_documented_layout() {
    let bytes = framed(0xDEAD_BEEF, b"abc");
    assert_eq!(bytes.len(), HEADER_LEN + 3);
    assert_eq!(bytes[0], MAGIC);
    assert_eq!(bytes[1], FRAME_VERSION);
    assert_eq!(bytes[2], 0);
    assert_eq!(&bytes[3..7], &3u32.to_le_bytes());
    assert_eq!(&bytes[7..11], &0xDEAD_BEEFu32.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[..11]);
    h.update(b"abc");
    assert_eq!(&bytes[11..15], &h.finalize().to_le_bytes());
    assert_eq!(&bytes[15..], b"abc");
}

#[test]
fn given_golden_frame_when_encoded_then_bytes_are_frozen() {
    // Freezes format version 1: changing any byte here is a format change.
    let bytes = framed(7, b"strand");
    assert_eq!(
        bytes,
        [
            0xA7, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0xb2, 0xa6, 0x42,
            0x71, b's', b't', b'r', b'a', b'n', b'd'
        ]
    );
}

#[test]
fn given_empty_payload_when_encoded_then_zero_length_is_refused_and_buffer_untouched() {
    let mut out = vec![1, 2, 3];
    assert_eq!(encode(&mut out, 0, b""), Err(FrameError::ZeroLength));
    assert_eq!(out, vec![1, 2, 3]);
}

#[test]
fn given_oversized_payload_when_encoded_then_too_large() {
    let mut out = Vec::new();
    let big = vec![0u8; MAX_PAYLOAD_LEN + 1];
    assert_eq!(
        encode(&mut out, 0, &big),
        Err(FrameError::TooLarge {
            len: MAX_PAYLOAD_LEN + 1,
            max: MAX_PAYLOAD_LEN
        })
    );
    assert!(out.is_empty());
}

#[test]
fn given_header_claiming_huge_length_when_decoded_then_too_large_without_allocating() {
    let mut bytes = framed(0, b"x");
    bytes[3..7].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode_prefix(&bytes),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn given_two_frames_when_decoded_as_prefix_then_first_is_returned_and_exact_refuses() {
    let mut bytes = framed(0, b"one");
    let first_crc = decode_exact(&bytes).unwrap().crc;
    encode(&mut bytes, first_crc, b"two").unwrap();
    let first = decode_prefix(&bytes).unwrap();
    assert_eq!(first.payload, b"one");
    let second = decode_prefix(&bytes[first.encoded_len()..]).unwrap();
    assert_eq!(second.payload, b"two");
    assert_eq!(second.chain, first.crc);
    assert_eq!(
        decode_exact(&bytes),
        Err(FrameError::TrailingBytes { extra: 18 })
    );
}

#[test]
fn given_each_header_field_damaged_when_decoded_then_typed_error_names_it() {
    let good = framed(0, b"payload");
    let mut bad = good.clone();
    bad[0] = 0;
    assert_eq!(
        decode_exact(&bad),
        Err(FrameError::BadMagic {
            expected: MAGIC,
            found: 0
        })
    );
    let mut bad = good.clone();
    bad[1] = 9;
    assert_eq!(
        decode_exact(&bad),
        Err(FrameError::UnsupportedVersion {
            expected: FRAME_VERSION,
            found: 9
        })
    );
    let mut bad = good.clone();
    bad[2] = 0x80;
    assert_eq!(
        decode_exact(&bad),
        Err(FrameError::UnknownFlags { found: 0x80 })
    );
    let mut bad = good.clone();
    bad[3..7].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(decode_exact(&bad), Err(FrameError::ZeroLength));
    let mut bad = good;
    bad[20] ^= 1;
    assert!(matches!(
        decode_exact(&bad),
        Err(FrameError::ChecksumMismatch { .. })
    ));
}

proptest! {
    #[test]
    fn prop_frame_round_trips(chain: u32, payload in proptest::collection::vec(any::<u8>(), 1..512)) {
        let bytes = framed(chain, &payload);
        let frame = decode_exact(&bytes).unwrap();
        prop_assert_eq!(frame.chain, chain);
        prop_assert_eq!(frame.payload, &payload[..]);
        prop_assert_eq!(frame.encoded_len(), bytes.len());
    }

    #[test]
    fn prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_prefix(&bytes);
        let _ = decode_exact(&bytes);
    }

    #[test]
    fn prop_any_single_bit_flip_is_detected(
        chain: u32,
        payload in proptest::collection::vec(any::<u8>(), 1..128),
        bit in any::<proptest::sample::Index>(),
    ) {
        let mut bytes = framed(chain, &payload);
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(decode_exact(&bytes).is_err());
    }

    #[test]
    fn prop_any_truncation_is_incomplete(
        chain: u32,
        payload in proptest::collection::vec(any::<u8>(), 1..128),
        cut in any::<proptest::sample::Index>(),
    ) {
        let bytes = framed(chain, &payload);
        let cut = cut.index(bytes.len());
        let err = decode_prefix(&bytes[..cut]).unwrap_err();
        prop_assert!(err.is_incomplete(), "cut at {} gave {:?}", cut, err);
    }
}
