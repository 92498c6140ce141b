//! Kind tags (stable, numbered from 1 in variant order) and streams.

use strand_projections::codec;
use strand_projections::{DomainEvent, EventKind};

use crate::one_of_each;

#[test]
fn given_every_kind_when_encoded_then_variant_index_is_tag_minus_one() {
    let events = one_of_each();
    let kinds: Vec<EventKind> = events.iter().map(DomainEvent::kind).collect();
    assert_eq!(kinds, EventKind::ALL, "one sample per kind, in kind order");
    for event in &events {
        let tag = event.kind().as_u16();
        let body = codec::encode(event).unwrap();
        assert_eq!(
            body[..4],
            u32::from(tag - 1).to_le_bytes(),
            "{}",
            event.kind()
        );
        assert_eq!(&codec::decode(tag, &body).unwrap(), event);
    }
}

#[test]
fn given_kind_tags_when_listed_then_numbered_from_one_with_unique_snake_case_names() {
    for (expected, kind) in (1..).zip(EventKind::ALL) {
        assert_eq!(kind.as_u16(), expected);
        assert_eq!(EventKind::from_u16(expected), Some(*kind));
        assert!(
            kind.name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
        );
    }
    let mut names: Vec<_> = EventKind::ALL.iter().map(|kind| kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), EventKind::ALL.len());
    assert_eq!(EventKind::from_u16(0), None);
    assert_eq!(EventKind::from_u16(31), None);
    assert_eq!(EventKind::BeadCompleted.name(), "bead_completed");
    assert_eq!(EventKind::BeadTimedOut.to_string(), "bead_timed_out");
}

#[test]
fn given_events_when_asked_for_stream_then_stream_of_their_subject() {
    let streams: Vec<String> = one_of_each().iter().map(DomainEvent::stream).collect();
    let expected = [
        &["workflow/wf"; 12][..],
        &["worker/w"; 2][..],
        &["supervisor/sup"; 7][..],
        &["checkpoint", "ratelimit/k"][..],
        &["supervisor/s"][..],
        &["workflow/wf"; 6][..],
    ]
    .concat();
    assert_eq!(streams, expected);
}

/// Every event is as large as the largest variant, and every bead costs
/// several of them (moved, queued, batched): a variant that holds a large
/// value inline (a DAG, a list of settings) boxes it. 168 bytes was the
/// size before runs; `bench engine` measured what 264 cost.
#[test]
fn given_the_event_enum_when_sized_then_no_larger_than_before_runs() {
    let size = std::mem::size_of::<DomainEvent>();
    assert!(size <= 168, "DomainEvent is {size} bytes");
}
