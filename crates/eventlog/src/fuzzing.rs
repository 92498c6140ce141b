//! Entry points of the fuzz targets in `fuzz/`, kept here so that a stable
//! test can run them over the checked-in corpus without nightly.
//!
//! Each target asserts a property on arbitrary input: decoding never panics,
//! and whatever decodes re-encodes to the same bytes.

use crate::checkpoint;
use crate::codec::{self, EnvelopeRef};
use crate::frame;

/// Fuzz the frame decoder.
///
/// # Panics
/// When a decoded frame does not re-encode to its input bytes (a decoder bug).
pub fn frame_decoder(data: &[u8]) {
    let _ = frame::decode_exact(data);
    if let Ok(decoded) = frame::decode_prefix(data) {
        let mut again = Vec::new();
        let crc = frame::encode(&mut again, decoded.chain, decoded.payload);
        assert_eq!(crc, Ok(decoded.crc), "re-encoded crc differs");
        assert_eq!(
            Some(again.as_slice()),
            data.get(..decoded.encoded_len()),
            "frame does not re-encode to its bytes"
        );
    }
}

/// Fuzz the envelope decoder.
///
/// # Panics
/// When a decoded envelope does not re-encode to its input bytes.
pub fn envelope_decoder(data: &[u8]) {
    if let Ok(event) = codec::decode_event(data) {
        let env = EnvelopeRef {
            seq: event.seq,
            stream: &event.stream,
            at_ms: event.at_ms,
            kind: event.kind,
            body: &event.body,
        };
        let mut again = Vec::new();
        assert!(
            codec::encode_into(&env, &mut again).is_ok(),
            "re-encode failed"
        );
        assert_eq!(again, data, "envelope does not re-encode to its bytes");
    }
}

/// Fuzz the checkpoint decoder (chunked frames, announced lengths).
///
/// # Panics
/// When a decoded checkpoint does not re-encode to its input bytes.
pub fn checkpoint_decoder(data: &[u8]) {
    let name = "state_manager";
    if let Ok(cp) = checkpoint::decode(name, 1, data) {
        let new = checkpoint::NewCheckpoint {
            name: cp.name,
            seq: cp.seq,
            format_version: cp.format_version,
            data: cp.data,
        };
        let again = checkpoint::encode(&new, 1);
        assert!(
            matches!(&again, Ok((bytes, crc)) if bytes == data && *crc == cp.checksum),
            "checkpoint does not re-encode to its bytes"
        );
    }
}

/// Build a valid framed record, for seed corpora and tests.
///
/// # Errors
/// Size limits.
pub fn sample_record(
    seq: u64,
    stream: &str,
    kind: u16,
    body: &[u8],
    chain: u32,
) -> crate::Result<Vec<u8>> {
    let env = EnvelopeRef {
        seq: crate::Seq(seq),
        stream,
        at_ms: 1_700_000_000_000,
        kind,
        body,
    };
    let mut out = Vec::new();
    frame::encode_with(&mut out, chain, |buf| {
        codec::encode_into(&env, buf).map_err(crate::Error::from)
    })?;
    Ok(out)
}
