//! Checkpoint storage: generations, fallback on corruption, never ahead of the log.

use std::sync::Arc;

use strand_eventlog::{
    Backend, CheckpointDefect, Error, EventLog, LogOptions, NewCheckpoint, NewEvent, OpenMode,
    RocksBackend, Seq,
};

fn checkpoint(seq: u64, data: &[u8]) -> NewCheckpoint {
    NewCheckpoint {
        name: "sm".into(),
        seq: Seq(seq),
        format_version: 1,
        data: data.to_vec(),
    }
}

fn log_with_events(dir: &std::path::Path, n: u8) -> Result<EventLog, Error> {
    let log = EventLog::open(dir, LogOptions::default())?;
    for i in 0..n {
        log.append_blocking(vec![NewEvent::new("s", 1, vec![i])])?;
    }
    Ok(log)
}

#[test]
fn given_three_checkpoints_when_loading_then_newest_is_used_and_two_generations_kept()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path(), 3)?;
    for seq in 1..=3 {
        let id = log.put_checkpoint_blocking(checkpoint(seq, &[u8::try_from(seq).unwrap()]))?;
        assert_eq!(id.id, seq);
    }
    let loaded = log.load_checkpoint("sm", 1)?;
    let cp = loaded.checkpoint.unwrap();
    assert_eq!((cp.id, cp.seq, cp.data.as_slice()), (3, Seq(3), &[3u8][..]));
    assert!(loaded.skipped.is_empty());
    let ids: Vec<u64> = log.list_checkpoints()?.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![2, 3]);
    Ok(())
}

#[test]
fn given_checkpoint_ahead_of_log_when_storing_then_refused() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path(), 2)?;
    let err = log
        .put_checkpoint_blocking(checkpoint(3, b"x"))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::CheckpointAhead {
            seq: Seq(3),
            last: Seq(2)
        }
    ));
    assert!(log.load_checkpoint("sm", 1)?.checkpoint.is_none());
    Ok(())
}

#[test]
fn given_newest_checkpoint_corrupt_when_loading_then_older_generation_is_used() -> Result<(), Error>
{
    let dir = tempfile::tempdir().unwrap();
    {
        let log = log_with_events(dir.path(), 2)?;
        log.put_checkpoint_blocking(checkpoint(1, b"old"))?;
        log.put_checkpoint_blocking(checkpoint(2, b"new"))?;
        log.close_blocking()?;
    }
    // Overwrite generation 2 with a frame whose payload is damaged.
    {
        let backend = RocksBackend::open(dir.path(), OpenMode::Existing)?;
        let mut generations = backend.checkpoints("sm")?;
        let (id, bytes) = generations.remove(0);
        assert_eq!(id, 2);
        let mut damaged = bytes.to_vec();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x01;
        backend.put_checkpoint("sm", 2, &damaged, &[])?;
    }
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    let loaded = log.load_checkpoint("sm", 1)?;
    assert_eq!(
        loaded.checkpoint.map(|c| (c.id, c.data)),
        Some((1, b"old".to_vec()))
    );
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].id, 2);
    assert!(matches!(
        loaded.skipped[0].defect,
        CheckpointDefect::Frame(_)
    ));
    let report = log.verify(&mut |_| {});
    assert!(!report.ok, "verify reports the damaged checkpoint");
    assert!(matches!(
        report.error,
        Some(Error::CorruptCheckpoint { id: 2, .. })
    ));
    Ok(())
}

#[test]
fn given_only_unknown_version_checkpoints_when_loading_then_none_with_reasons() -> Result<(), Error>
{
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path(), 1)?;
    log.put_checkpoint_blocking(checkpoint(1, b"v1"))?;
    let loaded = log.load_checkpoint("sm", 2)?;
    assert!(loaded.checkpoint.is_none());
    assert_eq!(
        loaded.skipped[0].defect,
        CheckpointDefect::Version {
            found: 1,
            expected: 2
        }
    );
    Ok(())
}

#[test]
fn given_backend_seam_when_log_opened_over_it_then_it_behaves_as_open() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn Backend> = Arc::new(RocksBackend::open(dir.path(), OpenMode::Create)?);
    let log = EventLog::with_backend(backend, LogOptions::default())?;
    assert_eq!(
        log.append_blocking(vec![NewEvent::new("s", 1, vec![1])])?
            .first,
        Seq(1)
    );
    Ok(())
}

#[test]
fn given_checkpoints_before_reopen_when_storing_another_then_ids_continue_and_oldest_is_dropped()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = log_with_events(dir.path(), 3)?;
        log.put_checkpoint_blocking(checkpoint(1, b"a"))?;
        log.put_checkpoint_blocking(checkpoint(2, b"b"))?;
        log.close_blocking()?;
    }
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    let id = log.put_checkpoint_blocking(checkpoint(3, b"c"))?;
    assert_eq!(
        id.id, 3,
        "generation ids continue from storage after reopen"
    );
    let ids: Vec<u64> = log.list_checkpoints()?.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![2, 3]);
    let id = log.put_checkpoint_blocking(checkpoint(3, b"d"))?;
    assert_eq!(id.id, 4);
    let ids: Vec<u64> = log.list_checkpoints()?.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![3, 4]);
    let loaded = log.load_checkpoint("sm", 1)?.checkpoint.unwrap();
    assert_eq!((loaded.id, loaded.data), (4, b"d".to_vec()));
    Ok(())
}

/// A snapshot larger than the record bound is split over chained frames.
#[test]
fn given_a_snapshot_over_the_record_bound_when_stored_and_loaded_then_it_round_trips()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path(), 2)?;
    let data: Vec<u8> = (0..20 * 1024 * 1024 + 7_u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    log.put_checkpoint_blocking(checkpoint(2, &data))?;
    let loaded = log.load_checkpoint("sm", 1)?.checkpoint.unwrap();
    assert_eq!(loaded.data.len(), data.len());
    assert!(loaded.data == data);
    assert!(log.verify(&mut |_| {}).ok);
    Ok(())
}

/// Guards against a damaged or missing continuation frame yielding a
/// shorter or altered snapshot.
#[test]
fn given_a_large_checkpoint_with_a_damaged_or_missing_chunk_when_loaded_then_it_is_skipped()
-> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![7u8; 17 * 1024 * 1024];
    {
        let log = log_with_events(dir.path(), 2)?;
        log.put_checkpoint_blocking(checkpoint(1, b"small"))?;
        log.put_checkpoint_blocking(checkpoint(2, &data))?;
        log.close_blocking()?;
    }
    let backend = RocksBackend::open(dir.path(), OpenMode::Existing)?;
    let (id, stored) = backend.checkpoints("sm")?.remove(0);
    assert_eq!(id, 2);
    // A flipped byte in the last chunk, then the last chunk cut off.
    let mut flipped = stored.to_vec();
    let at = flipped.len() - 10;
    flipped[at] ^= 1;
    let cut = &stored[..stored.len() - (1024 * 1024 + 15)];
    for bad in [&flipped[..], cut] {
        backend.put_checkpoint("sm", 2, bad, &[])?;
        // A secondary read-only open sees what the primary wrote.
        let log = EventLog::open_read_only(dir.path())?;
        let loaded = log.load_checkpoint("sm", 1)?;
        assert_eq!(loaded.checkpoint.map(|c| c.data), Some(b"small".to_vec()));
        assert_eq!(loaded.skipped.len(), 1);
        assert!(matches!(
            loaded.skipped[0].defect,
            CheckpointDefect::Frame(_) | CheckpointDefect::Length { .. }
        ));
    }
    Ok(())
}
