//! Rebuilding the StateManager from checkpoints and the log, on real RocksDB
//! with synced writes: checkpoint use, fallback, verify, streams, errors.

use std::path::Path;

use strand_eventlog::{
    Backend, EventLog, LogOptions, NewCheckpoint, NewEvent, OpenMode, RocksBackend, Seq,
};
use strand_projections::{DomainEvent, Projection, StateManager, WorkerId, codec};
use strand_replay::{ReplayEngine, ReplayError, SkipReason, Start};

fn spawned(n: u64) -> DomainEvent {
    DomainEvent::WorkerSpawned {
        worker: WorkerId::from(format!("w{n}")),
        labels: vec![format!("label-{}", n % 3)],
    }
}

fn died(n: u64) -> DomainEvent {
    DomainEvent::WorkerDied {
        worker: WorkerId::from(format!("w{n}")),
        reason: format!("killed {n}"),
    }
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn append(log: &EventLog, events: &[DomainEvent]) {
    let batch = events
        .iter()
        .map(|e| NewEvent::new(e.stream(), e.kind().as_u16(), codec::encode(e).unwrap()))
        .collect();
    log.append_blocking(batch).unwrap();
}

/// 40 workers spawned, then 20 of them die: 60 events.
fn history(log: &EventLog) {
    for n in 0..40 {
        append(log, &[spawned(n)]);
    }
    for n in 0..20 {
        append(log, &[died(n * 2)]);
    }
}

/// Checkpoint the state at `seq` (replayed from the log up to it).
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn checkpoint_at(log: &EventLog, seq: u64) {
    let mut state = StateManager::empty();
    for event in log.read_range(Seq(1), Seq(seq)).unwrap() {
        let event = event.unwrap();
        let domain = codec::decode(event.kind, &event.body).unwrap();
        state
            .apply(
                strand_projections::EventMeta {
                    seq: event.seq.get(),
                    at_ms: event.at_ms,
                },
                domain,
            )
            .unwrap();
    }
    ReplayEngine::new(log.clone()).checkpoint(&state).unwrap();
}

/// Flip one byte in the newest stored generation of `name` (the log must
/// be closed: this opens the store directly).
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn corrupt_newest_checkpoint(dir: &Path, name: &str) {
    let backend = RocksBackend::open(dir, OpenMode::Existing).unwrap();
    let (id, bytes) = backend.checkpoints(name).unwrap().remove(0);
    let mut bytes = bytes.into_vec();
    if let Some(byte) = bytes.last_mut() {
        *byte ^= 0x40;
    }
    backend.put_checkpoint(name, id, &bytes, &[]).unwrap();
}

#[test]
fn given_a_checkpoint_when_rebuilt_then_only_the_tail_is_replayed_and_the_hash_equals_a_full_replay()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    history(&log);
    checkpoint_at(&log, 45);
    let engine = ReplayEngine::new(log);
    let rebuilt = engine.rebuild::<StateManager>(&mut |_| {})?;
    assert_eq!(rebuilt.report.start(), Start::NewestCheckpoint);
    assert_eq!(rebuilt.report.checkpoint.map(|c| c.seq), Some(45));
    assert_eq!(rebuilt.report.events_replayed, 15);
    assert_eq!(rebuilt.report.last_seq, 60);
    let full = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    assert_eq!(full.report.events_replayed, 60);
    assert_eq!(full.report.state_hash, rebuilt.report.state_hash);
    let verified = engine.verify::<StateManager>(&mut |_| {})?;
    assert_eq!(verified.report.verified, Some(true));
    Ok(())
}

/// Guards against a damaged checkpoint being trusted, or failing the
/// rebuild when an older generation would do.
#[test]
fn given_a_corrupt_newest_checkpoint_when_rebuilt_then_the_older_generation_is_used_and_the_skip_is_reported()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(dir.path(), LogOptions::default())?;
        history(&log);
        checkpoint_at(&log, 20);
        checkpoint_at(&log, 50);
        log.close_blocking()?;
    }
    corrupt_newest_checkpoint(dir.path(), StateManager::NAME);
    let engine = ReplayEngine::new(EventLog::open_read_only(dir.path())?);
    let rebuilt = engine.verify::<StateManager>(&mut |_| {})?;
    assert_eq!(rebuilt.report.start(), Start::OlderCheckpoint);
    assert_eq!(
        rebuilt.report.checkpoint.map(|c| (c.id, c.seq)),
        Some((1, 20))
    );
    assert_eq!(rebuilt.report.events_replayed, 40);
    assert_eq!(rebuilt.report.skipped.len(), 1);
    assert_eq!(rebuilt.report.skipped[0].id, 2);
    assert!(matches!(
        rebuilt.report.skipped[0].reason,
        SkipReason::Defect(_)
    ));
    let full = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    assert_eq!(rebuilt.report.state_hash, full.report.state_hash);
    Ok(())
}

#[test]
fn given_only_unusable_checkpoints_when_rebuilt_then_it_falls_back_to_a_full_replay_with_the_right_hash()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    history(&log);
    let expected = ReplayEngine::new(log.clone())
        .rebuild_from_scratch::<StateManager>(&mut |_| {})?
        .report
        .state_hash;
    // An unknown snapshot version, then bytes the projection refuses.
    log.put_checkpoint_blocking(NewCheckpoint {
        name: StateManager::NAME.into(),
        seq: Seq(30),
        format_version: StateManager::SNAPSHOT_VERSION + 1,
        data: vec![1, 2, 3],
    })?;
    log.put_checkpoint_blocking(NewCheckpoint {
        name: StateManager::NAME.into(),
        seq: Seq(40),
        format_version: StateManager::SNAPSHOT_VERSION,
        data: vec![0xFF; 7],
    })?;
    let rebuilt = ReplayEngine::new(log).rebuild::<StateManager>(&mut |_| {})?;
    assert_eq!(rebuilt.report.start(), Start::FullReplay);
    assert_eq!(rebuilt.report.events_replayed, 60);
    let reasons: Vec<_> = rebuilt.report.skipped.iter().map(|s| &s.reason).collect();
    assert!(
        matches!(reasons[..], [SkipReason::Restore(_), SkipReason::Defect(_)]),
        "{reasons:?}"
    );
    assert_eq!(rebuilt.report.state_hash, expected);
    Ok(())
}

/// A checkpoint of the previous snapshot version, which the state
/// manager's restore migrates, is a start like one of the current version:
/// a trimmed log's base may be one, and cannot be skipped.
#[test]
fn given_a_checkpoint_of_the_previous_snapshot_version_when_rebuilt_then_it_is_migrated_and_used()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    history(&log);
    let engine = ReplayEngine::new(log.clone());
    let full = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    let mut at_40 = StateManager::empty();
    for event in log.read_range(Seq(1), Seq(40))? {
        let event = event?;
        let meta = strand_projections::EventMeta {
            seq: event.seq.get(),
            at_ms: event.at_ms,
        };
        at_40
            .apply(meta, codec::decode(event.kind, &event.body).unwrap())
            .unwrap();
    }
    // No run is held, so the two versions' bytes differ only in the
    // version they begin with.
    let mut data = at_40.snapshot().unwrap();
    data[..4].copy_from_slice(&StateManager::OLDEST_SNAPSHOT_VERSION.to_le_bytes());
    const { assert!(StateManager::OLDEST_SNAPSHOT_VERSION < StateManager::SNAPSHOT_VERSION) };
    log.put_checkpoint_blocking(NewCheckpoint {
        name: StateManager::NAME.into(),
        seq: Seq(40),
        format_version: StateManager::OLDEST_SNAPSHOT_VERSION,
        data,
    })?;
    let rebuilt = engine.rebuild::<StateManager>(&mut |_| {})?;
    assert_eq!(rebuilt.report.checkpoint.map(|c| c.seq), Some(40));
    assert!(
        rebuilt.report.skipped.is_empty(),
        "{:?}",
        rebuilt.report.skipped
    );
    assert_eq!(rebuilt.report.state_hash, full.report.state_hash);
    Ok(())
}

/// A checkpoint that decodes but holds another state (a snapshot bug, or
/// a checkpoint from another log) is caught by verify, which names it.
#[test]
fn given_a_checkpoint_of_another_state_when_verified_then_a_hash_mismatch_names_it()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    history(&log);
    let other_dir = tempfile::tempdir().unwrap();
    let other = EventLog::open(other_dir.path(), LogOptions::default())?;
    // The same workers with other labels: the log's tail applies on top of
    // it without error, to a different state.
    for n in 0..30 {
        append(
            &other,
            &[DomainEvent::WorkerSpawned {
                worker: WorkerId::from(format!("w{n}")),
                labels: vec!["elsewhere".into()],
            }],
        );
    }
    let foreign = ReplayEngine::new(other).rebuild::<StateManager>(&mut |_| {})?;
    ReplayEngine::new(log.clone()).checkpoint(&foreign.projection)?;
    match ReplayEngine::new(log).verify::<StateManager>(&mut |_| {}) {
        Err(ReplayError::HashMismatch { id, seq, .. }) => assert_eq!((id, seq), (1, 30)),
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[test]
fn given_one_stream_when_rebuilt_from_its_checkpoint_then_only_its_later_events_are_applied()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    append(&log, &[spawned(1), spawned(2)]);
    let engine = ReplayEngine::new(log.clone());
    let w1 = engine.rebuild_stream::<StateManager>("worker/w1", "stream/worker/w1", &mut |_| {})?;
    assert_eq!((w1.report.events_replayed, w1.report.last_seq), (1, 1));
    engine.checkpoint_named("stream/worker/w1", &w1.projection)?;
    append(&log, &[died(2), died(1)]);
    let again =
        engine.rebuild_stream::<StateManager>("worker/w1", "stream/worker/w1", &mut |_| {})?;
    assert_eq!(again.report.checkpoint.map(|c| c.seq), Some(1));
    assert_eq!(
        (again.report.events_replayed, again.report.last_seq),
        (1, 4)
    );
    Ok(())
}

#[test]
fn given_a_record_that_is_not_a_domain_event_when_rebuilt_then_a_decode_error_names_its_seq()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    append(&log, &[spawned(1)]);
    log.append_blocking(vec![NewEvent::new("x", 999, b"not an event".to_vec())])?;
    let err = ReplayEngine::new(log)
        .rebuild::<StateManager>(&mut |_| {})
        .unwrap_err();
    assert!(matches!(err, ReplayError::Decode { seq: 2, .. }), "{err:?}");
    Ok(())
}

#[test]
fn given_an_impossible_event_when_rebuilt_then_an_apply_error_names_its_seq()
-> Result<(), ReplayError> {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    append(&log, &[spawned(1), died(7)]);
    let err = ReplayEngine::new(log)
        .rebuild::<StateManager>(&mut |_| {})
        .unwrap_err();
    assert!(matches!(err, ReplayError::Apply { seq: 2, .. }), "{err:?}");
    Ok(())
}

#[test]
fn given_a_long_replay_when_rebuilt_then_progress_reaches_the_last_seq() -> Result<(), ReplayError>
{
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default())?;
    history(&log);
    let mut seen = Vec::new();
    ReplayEngine::new(log).rebuild::<StateManager>(&mut |p| seen.push(p))?;
    let last = seen.last().copied().unwrap();
    assert_eq!((last.seq, last.last_seq, last.events), (60, 60, 60));
    Ok(())
}
