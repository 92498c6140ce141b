//! Golden bytes: the encoding of representative events is frozen.

use strand_projections::codec;
use strand_projections::{BeadId, DomainEvent, RunId, TaskAction, TaskSpec};

use crate::small_dag;

#[test]
fn given_bead_completed_when_encoded_then_bytes_are_frozen() {
    // Golden bytes of log format version 1. If this fails, the format
    // changed: that needs a new format version, not a new golden.
    let event = DomainEvent::BeadCompleted {
        workflow: RunId::from("wf"),
        bead: BeadId::from("b"),
        attempt: 2,
        output: "ok".into(),
    };
    #[rustfmt::skip]
    let golden: &[u8] = &[
        7, 0, 0, 0,                                   // variant index u32 LE (kind 8 - 1)
        2, 0, 0, 0, 0, 0, 0, 0, b'w', b'f',           // workflow: len u64 LE + utf8
        1, 0, 0, 0, 0, 0, 0, 0, b'b',                 // bead
        2, 0, 0, 0,                                   // attempt u32 LE
        2, 0, 0, 0, 0, 0, 0, 0, b'o', b'k',           // output
    ];
    assert_eq!(codec::encode(&event).unwrap(), golden);
    assert_eq!(codec::decode(8, golden).unwrap(), event);
}

#[test]
fn given_workflow_submitted_when_encoded_then_bytes_are_frozen() {
    let event = DomainEvent::WorkflowSubmitted {
        workflow: RunId::from("w"),
        name: "n".into(),
        dag: Box::new(small_dag()),
        tasks: vec![TaskSpec {
            id: BeadId::from("a"),
            action: TaskAction::Run("x".into()),
            priority: -1,
            retries: 3,
            timeout_ms: Some(5),
            affinity: None,
        }],
    };
    #[rustfmt::skip]
    let golden: &[u8] = &[
        0, 0, 0, 0,                                   // variant index (kind 1 - 1)
        1, 0, 0, 0, 0, 0, 0, 0, b'w',                 // workflow
        1, 0, 0, 0, 0, 0, 0, 0, b'n',                 // name
        2, 0, 0, 0, 0, 0, 0, 0,                       // dag.nodes: 2, sorted by id
        1, 0, 0, 0, 0, 0, 0, 0, b'a',
        1, 0, 0, 0, 0, 0, 0, 0, b'b',
        1, 0, 0, 0, 0, 0, 0, 0,                       // dag.edges: 1, sorted by (from, to)
        1, 0, 0, 0, 0, 0, 0, 0, b'a',                 //   from
        1, 0, 0, 0, 0, 0, 0, 0, b'b',                 //   to
        0, 0, 0, 0,                                   //   kind: Blocking
        1, 0, 0, 0, 0, 0, 0, 0,                       // tasks: 1
        1, 0, 0, 0, 0, 0, 0, 0, b'a',                 //   id
        0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, b'x',     //   action: Run("x")
        0xFF, 0xFF, 0xFF, 0xFF,                       //   priority i32 LE (-1)
        3, 0, 0, 0,                                   //   retries u32 LE
        1, 5, 0, 0, 0, 0, 0, 0, 0,                    //   timeout_ms: Some(5)
        0,                                            //   affinity: None
    ];
    assert_eq!(codec::encode(&event).unwrap(), golden);
    assert_eq!(codec::decode(1, golden).unwrap(), event);
}
