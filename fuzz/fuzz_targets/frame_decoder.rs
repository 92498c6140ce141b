//! Arbitrary bytes through the frame decoder: never panics, never allocates
//! past the record bound, and what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strand_eventlog::fuzzing::frame_decoder(data);
});
