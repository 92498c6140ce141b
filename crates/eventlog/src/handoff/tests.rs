//! The wake protocol: each side signals the other only when it waits, so
//! these tests block one side for real and check that the other wakes it.
//! Then the recycling of delivered batches' buffers.

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use super::*;
use crate::types::Seq;

const EMPTY: Tail = Tail {
    last: Seq(0),
    chain: 0,
};

/// Add one record (seq `seq`) to the open batch.
fn add(handoff: &Handoff, seq: u64) {
    add_sized(handoff, seq, 1);
}

/// Run `side` on its own thread; [`outcome`] awaits what it returns.
fn spawn_side<T: Send + 'static>(side: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(side());
    });
    rx
}

/// What a side returned once woken. A lost wake-up leaves it blocked for
/// good: the bound turns that hang into a failure (it is no timing claim).
fn outcome<T>(side: &mpsc::Receiver<T>) -> T {
    side.recv_timeout(Duration::from_secs(30))
        .expect("the blocked side was never woken")
}

/// Spin until `side` of [`Handoff::waiters`] reports a blocked thread.
fn until_blocked(handoff: &Handoff, side: impl Fn((bool, bool)) -> bool) {
    while !side(handoff.waiters()) {
        thread::yield_now();
    }
}

fn batch_len(stage: Option<Stage>) -> Option<usize> {
    match stage {
        Some(Stage::Append(open)) => Some(open.batch.len()),
        _ => None,
    }
}

#[test]
fn given_a_committer_blocked_on_an_empty_handoff_when_a_record_arrives_then_it_takes_the_batch() {
    let handoff = Arc::new(Handoff::default());
    let committer = spawn_side({
        let handoff = Arc::clone(&handoff);
        move || batch_len(handoff.take())
    });
    until_blocked(&handoff, |(committer, _)| committer);

    add(&handoff, 1);

    assert_eq!(outcome(&committer), Some(1));
    assert_eq!(handoff.waiters(), (false, false));
}

#[test]
fn given_a_busy_committer_when_records_arrive_then_they_join_one_open_batch() {
    let handoff = Handoff::default();

    for seq in 1..=3 {
        add(&handoff, seq);
    }

    assert_eq!(batch_len(handoff.take()), Some(3));
}

#[test]
fn given_an_encoder_blocked_on_a_full_batch_when_the_committer_takes_it_then_the_encoder_resumes() {
    let handoff = Arc::new(Handoff::default());
    let limits = Limits {
        events: 1,
        bytes: usize::MAX,
    };
    add(&handoff, 1);
    let encoder = spawn_side({
        let handoff = Arc::clone(&handoff);
        move || handoff.wait_for_room(limits)
    });
    until_blocked(&handoff, |(_, encoder)| encoder);

    assert_eq!(batch_len(handoff.take()), Some(1));

    outcome(&encoder);
    assert_eq!(handoff.waiters(), (false, false));
}

#[test]
fn given_a_committer_blocked_on_an_empty_handoff_when_the_encoder_finishes_then_take_ends() {
    let handoff = Arc::new(Handoff::default());
    let committer = spawn_side({
        let handoff = Arc::clone(&handoff);
        move || handoff.take().is_none()
    });
    until_blocked(&handoff, |(committer, _)| committer);

    handoff.finish();

    assert!(outcome(&committer));
}

#[test]
fn given_a_committer_blocked_on_an_empty_handoff_when_a_checkpoint_is_pushed_then_it_takes_it() {
    let handoff = Arc::new(Handoff::default());
    let committer = spawn_side({
        let handoff = Arc::clone(&handoff);
        move || matches!(handoff.take(), Some(Stage::Close { .. }))
    });
    until_blocked(&handoff, |(committer, _)| committer);

    let (reply, _answer) = oneshot::channel();
    handoff.push(Stage::Close { reply });

    assert!(outcome(&committer));
}

fn take_batch(handoff: &Handoff) -> AppendBatch {
    match handoff.take() {
        Some(Stage::Append(open)) => open,
        _ => panic!("expected an append batch"),
    }
}

/// Add one record of `bytes` bytes (seq `seq`) to the open batch.
fn add_sized(handoff: &Handoff, seq: u64, bytes: usize) {
    handoff.with_open_batch(
        || 1,
        EMPTY,
        |open| {
            open.batch
                .push_with(Seq(seq), "s", |arena| {
                    arena.resize(arena.len() + bytes, 0xA7);
                    Ok::<u32, ()>(0)
                })
                .unwrap();
        },
    );
}

#[test]
fn given_a_delivered_batch_when_the_next_batch_opens_then_it_refills_those_buffers_empty() {
    let handoff = Handoff::default();
    for seq in 1..=100 {
        add_sized(&handoff, seq, 256);
    }
    let delivered = take_batch(&handoff);
    let grown = delivered.batch.capacity();
    handoff.recycle(delivered.batch, delivered.waiting);

    add_sized(&handoff, 101, 256);
    let next = take_batch(&handoff);

    assert_eq!(next.batch.capacity(), grown);
    let frames: Vec<Seq> = next.batch.frames().map(|(seq, _)| seq).collect();
    assert_eq!(frames, [Seq(101)]);
    assert!(next.waiting.is_empty());
}

#[test]
fn given_a_batch_larger_than_the_spare_bound_when_recycled_then_it_is_not_kept() {
    let handoff = Handoff::default();
    add_sized(&handoff, 1, SPARE_MAX_BYTES + 1);
    let huge = take_batch(&handoff);
    handoff.recycle(huge.batch, huge.waiting);

    add_sized(&handoff, 2, 1);

    assert!(take_batch(&handoff).batch.capacity() < SPARE_MAX_BYTES);
}

#[test]
fn given_more_delivered_batches_than_spares_when_recycled_then_only_the_bound_is_kept() {
    let handoff = Handoff::default();
    for _ in 0..SPARES + 2 {
        handoff.recycle(RecordBatch::default(), Vec::new());
    }

    assert_eq!(handoff.spares.lock().unwrap().len(), SPARES);
}
