//! Invariant 5 on real RocksDB: for random valid histories and any
//! checkpoint position, checkpoint + tail gives the state hash of a full
//! replay; with the newest checkpoint corrupted, the older generation (or a
//! full replay) still gives it.

use std::path::Path;

use proptest::prelude::*;
use strand_eventlog::{Backend, EventLog, LogOptions, NewEvent, OpenMode, RocksBackend, Seq};
use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{EventMeta, Projection, StateManager, codec, fold_in_memory};
use strand_replay::{ReplayEngine, Start};

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn write_history(log: &EventLog, seed: u64, params: &HistoryParams) -> u64 {
    let events: Vec<NewEvent> = history(seed, params)
        .map(|(e, _)| NewEvent::new(e.stream(), e.kind().as_u16(), codec::encode(&e).unwrap()))
        .collect();
    for chunk in events.chunks(64) {
        log.append_blocking(chunk.to_vec()).unwrap();
    }
    events.len() as u64
}

/// The state after `seq`, replayed from the log, checkpointed.
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn checkpoint_at(log: &EventLog, seq: u64) {
    let events = log.read_range(Seq(1), Seq(seq)).unwrap().map(|event| {
        let event = event.unwrap();
        let meta = EventMeta {
            seq: event.seq.get(),
            at_ms: event.at_ms,
        };
        (meta, codec::decode(event.kind, &event.body).unwrap())
    });
    let state = fold_in_memory(StateManager::empty(), events).unwrap();
    ReplayEngine::new(log.clone()).checkpoint(&state).unwrap();
}

#[expect(clippy::unwrap_used, reason = "test fixture")]
fn corrupt_newest(dir: &Path, flip_at: usize) {
    let backend = RocksBackend::open(dir, OpenMode::Existing).unwrap();
    let (id, bytes) = backend.checkpoints(StateManager::NAME).unwrap().remove(0);
    let mut bytes = bytes.into_vec();
    let at = flip_at % bytes.len();
    if let Some(byte) = bytes.get_mut(at) {
        *byte ^= 0x01;
    }
    backend
        .put_checkpoint(StateManager::NAME, id, &bytes, &[])
        .unwrap();
}

fn params() -> impl Strategy<Value = HistoryParams> {
    (1usize..4, 2usize..25, 1usize..4, 0u32..200, 0u32..200).prop_map(
        |(workflows, beads, workers, failure, misc)| HistoryParams {
            workflows,
            beads_per_workflow: beads,
            workers,
            failure_per_mille: failure,
            misc_per_mille: misc,
            ..HistoryParams::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn given_any_history_and_checkpoint_positions_when_rebuilt_then_the_hash_equals_a_full_replay(
        seed in any::<u64>(),
        params in params(),
        older in 0.0f64..1.0,
        newer in 0.0f64..1.0,
        corrupt in any::<bool>(),
        flip_at in any::<usize>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        let n = write_history(&log, seed, &params);
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "a position in 0..=n")]
        let at = |f: f64| ((n as f64) * f) as u64;
        let (older, newer) = (at(older.min(newer)), at(older.max(newer)));
        checkpoint_at(&log, older);
        checkpoint_at(&log, newer);
        let full = ReplayEngine::new(log.clone()).rebuild_from_scratch::<StateManager>(&mut |_| {}).unwrap();
        prop_assert_eq!(full.report.events_replayed, n);
        log.close_blocking().unwrap();
        drop(log);
        if corrupt {
            corrupt_newest(dir.path(), flip_at);
        }

        let engine = ReplayEngine::new(EventLog::open_read_only(dir.path()).unwrap());
        let rebuilt = engine.verify::<StateManager>(&mut |_| {}).unwrap();
        prop_assert_eq!(rebuilt.report.state_hash, full.report.state_hash);
        prop_assert_eq!(rebuilt.report.last_seq, n);
        let used = rebuilt.report.checkpoint.map(|c| c.seq);
        if corrupt {
            prop_assert_eq!(rebuilt.report.start(), Start::OlderCheckpoint);
            prop_assert_eq!(used, Some(older));
        } else {
            prop_assert_eq!(rebuilt.report.start(), Start::NewestCheckpoint);
            prop_assert_eq!(used, Some(newer));
            prop_assert_eq!(rebuilt.report.events_replayed, n - newer);
        }
    }
}
