//! The wake protocol: each side signals the other only when it waits, so
//! these tests block one side for real and check that the other wakes it.

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
    handoff.with_open_batch(
        || 1,
        EMPTY,
        |open| {
            open.batch
                .push_with(Seq(seq), "s", |arena| {
                    arena.push(0xA7);
                    Ok::<u32, ()>(0)
                })
                .unwrap();
        },
    );
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
