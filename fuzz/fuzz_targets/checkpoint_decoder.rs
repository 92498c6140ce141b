//! Arbitrary bytes through the checkpoint decoder (a run of chained frames
//! with an announced length): never panics, never allocates past the
//! checkpoint bound, and what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strand_eventlog::fuzzing::checkpoint_decoder(data);
});
