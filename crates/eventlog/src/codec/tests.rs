use proptest::prelude::*;

use super::*;

fn encode_envelope(env: &EnvelopeRef<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(env, &mut out).unwrap();
    out
}

#[test]
fn given_representative_envelope_when_encoded_then_bytes_are_frozen() {
    // Golden bytes of format version 1. If this test fails, the on-disk
    // format changed: bump FRAME_VERSION and keep old fixtures decoding.
    let env = EnvelopeRef {
        seq: Seq(42),
        stream: "wf/etl",
        at_ms: 1_700_000_000_000,
        kind: 3,
        body: b"\x01\x02",
    };
    let bytes = encode_envelope(&env);
    #[rustfmt::skip]
    let golden: &[u8] = &[
        42, 0, 0, 0, 0, 0, 0, 0,                         // seq u64 LE
        6, 0, 0, 0, 0, 0, 0, 0, b'w', b'f', b'/', b'e', b't', b'l', // stream: len u64 LE + utf8
        0x00, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0, 0,        // at_ms u64 LE
        3, 0,                                            // kind u16 LE
        2, 0, 0, 0, 0, 0, 0, 0, 1, 2,                    // body: len u64 LE + bytes
    ];
    assert_eq!(bytes, golden);
}

#[test]
fn given_encoded_envelope_when_decoded_as_event_then_fields_round_trip() {
    let env = EnvelopeRef {
        seq: Seq(7),
        stream: "s",
        at_ms: 9,
        kind: 1,
        body: b"hello",
    };
    let event = decode_event(&encode_envelope(&env)).unwrap();
    assert_eq!(
        event,
        Event {
            seq: Seq(7),
            stream: "s".into(),
            at_ms: 9,
            kind: 1,
            body: b"hello".to_vec()
        }
    );
}

#[test]
fn given_trailing_bytes_when_decoded_then_refused() {
    let mut bytes = encode_envelope(&EnvelopeRef {
        seq: Seq(1),
        stream: "s",
        at_ms: 0,
        kind: 0,
        body: b"",
    });
    bytes.push(0);
    assert!(decode_event(&bytes).is_err());
}

#[test]
fn given_length_prefix_beyond_limit_when_decoded_then_error_without_allocation() {
    let mut bytes = vec![1, 0, 0, 0, 0, 0, 0, 0];
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(decode_event(&bytes).is_err());
}

proptest! {
    #[test]
    fn prop_envelope_round_trips(
        seq: u64,
        stream in ".{0,40}",
        at_ms: u64,
        kind: u16,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let env = EnvelopeRef { seq: Seq(seq), stream: &stream, at_ms, kind, body: &body };
        let event = decode_event(&encode_envelope(&env)).unwrap();
        prop_assert_eq!(event.seq, Seq(seq));
        prop_assert_eq!(event.stream, stream);
        prop_assert_eq!(event.at_ms, at_ms);
        prop_assert_eq!(event.kind, kind);
        prop_assert_eq!(event.body, body);
    }

    #[test]
    fn prop_arbitrary_payload_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_event(&bytes);
    }
}
