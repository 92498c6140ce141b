//! Arbitrary bytes through the envelope (payload) decoder: never panics, and
//! what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strand_eventlog::fuzzing::envelope_decoder(data);
});
