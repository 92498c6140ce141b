use serde_json::json;
use strand_dag::{DagError, WorkflowDag};

use crate::{diamond, mixed};

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

#[test]
fn given_graph_when_round_tripping_through_json_then_equal() -> Result<(), serde_json::Error> {
    let dag = mixed(&["a", "b", "c"], &[("a", "b")], &[("b", "c")]);
    let text = serde_json::to_string(&dag)?;
    let back: WorkflowDag = serde_json::from_str(&text)?;
    assert_eq!(back, dag);
    Ok(())
}

#[test]
fn given_graph_when_serialized_then_plain_node_and_edge_lists() -> Result<(), serde_json::Error> {
    let value = serde_json::to_value(mixed(&["b", "a"], &[], &[("b", "a")]))?;
    assert_eq!(
        value,
        json!({
            "nodes": ["a", "b"],
            "edges": [{"from": "b", "to": "a", "kind": "preferred_order"}],
        })
    );
    Ok(())
}

#[test]
fn given_graph_when_round_tripping_through_bincode_serde_then_equal() {
    let dag = diamond();
    let bytes = bincode::serde::encode_to_vec(&dag, bincode_config()).unwrap();
    let (back, read): (WorkflowDag, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode_config()).unwrap();
    assert_eq!(read, bytes.len());
    assert_eq!(back, dag);
}

#[test]
fn given_same_graph_built_differently_when_encoded_then_same_bytes() {
    let one = mixed(&["a", "b", "c"], &[("a", "b"), ("a", "c")], &[]);
    let two = mixed(&["c", "b", "a"], &[("a", "c"), ("a", "b")], &[]);
    let encode = |dag: &WorkflowDag| bincode::serde::encode_to_vec(dag, bincode_config()).unwrap();
    assert_eq!(encode(&one), encode(&two));
}

fn decode(value: serde_json::Value) -> Result<WorkflowDag, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

#[test]
fn given_duplicate_node_when_deserializing_then_refused() {
    let err = decode(json!({"nodes": ["a", "a"], "edges": []})).unwrap_err();
    assert_eq!(err, DagError::NodeAlreadyExists("a".into()).to_string());
}

#[test]
fn given_edge_to_unknown_node_when_deserializing_then_refused() {
    let err = decode(json!({
        "nodes": ["a"],
        "edges": [{"from": "a", "to": "ghost", "kind": "blocking"}],
    }))
    .unwrap_err();
    assert_eq!(err, DagError::NodeNotFound("ghost".into()).to_string());
}

#[test]
fn given_self_loop_when_deserializing_then_refused() {
    let err = decode(json!({
        "nodes": ["a"],
        "edges": [{"from": "a", "to": "a", "kind": "blocking"}],
    }))
    .unwrap_err();
    assert_eq!(err, DagError::SelfLoopDetected("a".into()).to_string());
}

#[test]
fn given_duplicate_edge_when_deserializing_then_refused() {
    let err = decode(json!({
        "nodes": ["a", "b"],
        "edges": [
            {"from": "a", "to": "b", "kind": "blocking"},
            {"from": "a", "to": "b", "kind": "preferred_order"},
        ],
    }))
    .unwrap_err();
    assert_eq!(
        err,
        DagError::EdgeAlreadyExists("a".into(), "b".into()).to_string()
    );
}

#[test]
fn given_cycle_when_deserializing_then_refused_naming_the_cycle() {
    let err = decode(json!({
        "nodes": ["a", "b"],
        "edges": [
            {"from": "a", "to": "b", "kind": "blocking"},
            {"from": "b", "to": "a", "kind": "blocking"},
        ],
    }))
    .unwrap_err();
    assert_eq!(err, "dependency cycle: a -> b -> a");
}

#[test]
fn given_truncated_bincode_when_decoding_then_error_not_panic() {
    let bytes = bincode::serde::encode_to_vec(diamond(), bincode_config()).unwrap();
    for cut in 0..bytes.len() {
        let result: Result<(WorkflowDag, usize), _> =
            bincode::serde::decode_from_slice(&bytes[..cut], bincode_config());
        assert!(result.is_err(), "prefix of {cut} bytes decoded");
    }
}
