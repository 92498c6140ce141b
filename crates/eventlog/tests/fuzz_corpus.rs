//! Runs every fuzz target over its checked-in seed corpus (fuzz/corpus/<target>),
//! so the targets' properties are exercised on stable Rust by `make test`.

use std::path::PathBuf;

type Inputs = Vec<(PathBuf, Vec<u8>)>;

fn corpus(target: &str) -> std::io::Result<Inputs> {
    // Cargo sets the crate's directory when it runs the test; the compiled-in
    // one may name another clone that shared the target directory.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let dir = manifest.join("../../fuzz/corpus").join(target);
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        inputs.push((path, bytes));
    }
    inputs.sort();
    Ok(inputs)
}

#[test]
fn given_frame_decoder_corpus_when_run_then_no_input_breaks_a_property() -> std::io::Result<()> {
    let inputs = corpus("frame_decoder")?;
    assert!(inputs.len() >= 4, "seed corpus is checked in");
    for (_, bytes) in &inputs {
        strand_eventlog::fuzzing::frame_decoder(bytes);
    }
    Ok(())
}

#[test]
fn given_envelope_decoder_corpus_when_run_then_no_input_breaks_a_property() -> std::io::Result<()> {
    let inputs = corpus("envelope_decoder")?;
    assert!(inputs.len() >= 4, "seed corpus is checked in");
    for (_, bytes) in &inputs {
        strand_eventlog::fuzzing::envelope_decoder(bytes);
    }
    Ok(())
}

#[test]
fn given_checkpoint_decoder_corpus_when_run_then_no_input_breaks_a_property() -> std::io::Result<()>
{
    let inputs = corpus("checkpoint_decoder")?;
    assert!(inputs.len() >= 4, "seed corpus is checked in");
    for (_, bytes) in &inputs {
        strand_eventlog::fuzzing::checkpoint_decoder(bytes);
    }
    Ok(())
}
