use super::*;

#[test]
fn given_named_key_when_split_then_name_and_number_round_trip() {
    let key = named_key("wf/etl", 42);
    assert_eq!(split_named_key(&key), Some(("wf/etl".to_string(), 42)));
    assert_eq!(split_named_key(&key[..5]), None);
}

#[test]
fn given_seqs_when_keyed_then_byte_order_is_seq_order() {
    assert!(seq_key(Seq(255)) < seq_key(Seq(256)));
    assert_eq!(seq_from_key(&seq_key(Seq(9))), Some(Seq(9)));
    assert_eq!(seq_from_key(&[1, 2, 3]), None);
}

/// Add a record whose "frame" is `bytes` (the store keeps frames opaque).
fn push(batch: &mut RecordBatch, seq: u64, bytes: &[u8]) {
    batch
        .push_with(Seq(seq), "s", |arena| {
            arena.extend_from_slice(bytes);
            Ok::<u32, ()>(0)
        })
        .unwrap();
}

/// Every stored record as `(seq, bytes)`.
fn stored(backend: &RocksBackend) -> Vec<(u64, Vec<u8>)> {
    backend
        .scan(Seq(1), Seq(u64::MAX))
        .unwrap()
        .map(|record| {
            let (seq, bytes) = record.unwrap();
            (seq.0, bytes.into_vec())
        })
        .collect()
}

#[test]
fn given_records_added_after_staging_when_appended_then_every_record_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RocksBackend::open(dir.path(), OpenMode::Create).unwrap();
    let mut batch = RecordBatch::default();
    push(&mut batch, 1, b"one");
    push(&mut batch, 2, b"two");
    backend.stage(&mut batch);
    push(&mut batch, 3, b"three");
    backend.stage(&mut batch);
    push(&mut batch, 4, b"four");

    backend.append(&mut batch).unwrap();

    assert_eq!(
        stored(&backend),
        [
            (1, b"one".to_vec()),
            (2, b"two".to_vec()),
            (3, b"three".to_vec()),
            (4, b"four".to_vec())
        ]
    );
}

#[test]
fn given_staged_records_rolled_back_when_appended_then_only_the_kept_ones_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RocksBackend::open(dir.path(), OpenMode::Create).unwrap();
    let mut batch = RecordBatch::default();
    push(&mut batch, 1, b"kept");
    let mark = batch.mark();
    push(&mut batch, 2, b"refused");
    push(&mut batch, 3, b"refused");
    backend.stage(&mut batch);
    batch.rollback(mark);
    // As many records as were staged, so a stale staged form would pass
    // for complete.
    push(&mut batch, 2, b"two");
    push(&mut batch, 3, b"three");
    backend.stage(&mut batch);

    backend.append(&mut batch).unwrap();

    assert_eq!(
        stored(&backend),
        [
            (1, b"kept".to_vec()),
            (2, b"two".to_vec()),
            (3, b"three".to_vec())
        ]
    );
}
