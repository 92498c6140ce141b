//! Bytes that are not what their envelope says: typed errors, never a panic.

use strand_projections::codec::{self, MAX_EVENT_LEN};
use strand_projections::{BeadId, DependencyType, DomainEvent, EventKind, ProjectionError, RunId};

use crate::{one_of_each, small_dag};

#[test]
fn given_body_of_one_kind_when_decoded_as_another_then_kind_mismatch() {
    let body = codec::encode(&DomainEvent::RateLimited { key: "k".into() }).unwrap();
    let error = codec::decode(EventKind::CheckpointTaken.as_u16(), &body).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::KindMismatch {
                kind: EventKind::CheckpointTaken,
                decoded: EventKind::RateLimited
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_unknown_kind_when_decoded_then_unknown_kind() {
    for kind in [0, 31, u16::MAX] {
        let error = codec::decode(kind, &[]).unwrap_err();
        assert!(
            matches!(error, ProjectionError::UnknownKind { kind: k } if k == kind),
            "{error:?}"
        );
    }
}

#[test]
fn given_trailing_bytes_when_decoded_then_refused() {
    let mut body = codec::encode(&DomainEvent::RateLimited { key: "k".into() }).unwrap();
    body.extend_from_slice(&[0, 0]);
    let error = codec::decode(EventKind::RateLimited.as_u16(), &body).unwrap_err();
    assert!(
        matches!(error, ProjectionError::TrailingBytes { len: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn given_truncated_body_when_decoded_then_decode_error() {
    let body = codec::encode(&one_of_each()[0]).unwrap();
    for len in 0..body.len() {
        let error = codec::decode(1, &body[..len]).unwrap_err();
        assert!(
            matches!(error, ProjectionError::Decode { .. }),
            "len {len}: {error:?}"
        );
    }
}

#[test]
fn given_length_prefix_beyond_bound_when_decoded_then_error_without_allocating() {
    // RateLimited { key } whose key claims u64::MAX, then MAX_EVENT_LEN + 1, bytes.
    for claimed in [u64::MAX, MAX_EVENT_LEN as u64 + 1] {
        let mut body = 22_u32.to_le_bytes().to_vec();
        body.extend_from_slice(&claimed.to_le_bytes());
        let error = codec::decode(23, &body).unwrap_err();
        assert!(matches!(error, ProjectionError::Decode { .. }), "{error:?}");
    }
}

#[test]
fn given_cyclic_graph_in_submission_when_decoded_then_decode_error() {
    let mut dag = small_dag();
    dag.add_edge(
        &BeadId::from("b"),
        &BeadId::from("a"),
        DependencyType::Blocking,
    )
    .unwrap();
    let event = DomainEvent::WorkflowSubmitted {
        workflow: RunId::from("w"),
        name: "n".into(),
        dag: Box::new(dag),
        tasks: vec![],
    };
    let body = codec::encode(&event).unwrap();
    let error = codec::decode(1, &body).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::Decode {
                kind: EventKind::WorkflowSubmitted,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn given_output_over_bound_when_encoded_then_too_large_and_buffer_untouched() {
    let event = DomainEvent::BeadCompleted {
        workflow: RunId::from("w"),
        bead: BeadId::from("b"),
        attempt: 1,
        output: "x".repeat(MAX_EVENT_LEN),
    };
    let mut out = vec![1, 2, 3];
    let error = codec::encode_into(&event, &mut out).unwrap_err();
    assert!(
        matches!(
            error,
            ProjectionError::EventTooLarge {
                max: MAX_EVENT_LEN,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(out, [1, 2, 3]);
}
