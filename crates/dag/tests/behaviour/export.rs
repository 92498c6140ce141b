use serde_json::json;
use strand_dag::{CriticalPath, NodeLayout, WorkflowDag};

use crate::{dag, diamond, id, ids, mixed};

#[test]
fn given_mixed_graph_when_exporting_dot_then_solid_and_dashed_edges() {
    let dot = mixed(&["a", "b", "c"], &[("a", "b")], &[("b", "c")]).to_dot();
    assert!(dot.starts_with("digraph workflow {\n"), "{dot}");
    assert!(dot.contains("    \"a\";\n"), "{dot}");
    assert!(dot.contains("    \"a\" -> \"b\";\n"), "{dot}");
    assert!(
        dot.contains("    \"b\" -> \"c\" [style=dashed];\n"),
        "{dot}"
    );
    assert!(dot.ends_with("}\n"));
}

#[test]
fn given_awkward_ids_when_exporting_dot_then_they_are_escaped() {
    let dot = dag(&["say \"hi\"", "back\\slash"], &[]).to_dot();
    assert!(dot.contains(r#""say \"hi\"";"#), "{dot}");
    assert!(dot.contains(r#""back\\slash";"#), "{dot}");
}

#[test]
fn given_critical_path_when_exporting_dot_then_path_is_coloured_and_listed() {
    let path = CriticalPath {
        path: ids(&["a", "b", "d"]),
        total_weight: 12,
    };
    let dot = diamond().to_dot_with_critical_path(&path);
    assert!(
        dot.starts_with("// critical path (total weight 12): a -> b -> d\n"),
        "{dot}"
    );
    assert!(
        dot.contains("\"b\" [color=\"#d62728\", penwidth=2];"),
        "{dot}"
    );
    assert!(dot.contains("\"c\";"), "{dot}");
    assert!(
        dot.contains("\"a\" -> \"b\" [color=\"#d62728\", penwidth=2];"),
        "{dot}"
    );
    assert!(dot.contains("\"a\" -> \"c\";"), "{dot}");
}

#[test]
fn given_mixed_graph_when_exporting_mermaid_then_numbered_nodes_and_arrows() {
    let text = mixed(&["a", "b", "c"], &[("a", "b")], &[("b", "c")]).to_mermaid();
    let expected = "flowchart TD\n    n0[\"a\"]\n    n1[\"b\"]\n    n2[\"c\"]\n    n0 --> n1\n    n1 -.-> n2\n";
    assert_eq!(text, expected);
}

#[test]
fn given_awkward_ids_when_exporting_mermaid_then_labels_are_escaped() {
    let text = dag(&["a\"<b>#"], &[]).to_mermaid();
    assert!(text.contains("n0[\"a#quot;#lt;b#gt;#35;\"]"), "{text}");
}

#[test]
fn given_critical_path_when_exporting_mermaid_then_classes_link_styles_and_listing() {
    let path = CriticalPath {
        path: ids(&["a", "c", "d"]),
        total_weight: 3,
    };
    let text = diamond().to_mermaid_with_critical_path(&path);
    // Edges sorted: 0 a->b, 1 a->c, 2 b->d, 3 c->d.
    assert!(text.contains("    class n0,n2,n3 critical\n"), "{text}");
    assert!(
        text.contains("    linkStyle 1,3 stroke:#d62728,stroke-width:3px\n"),
        "{text}"
    );
    assert!(
        text.ends_with("%% critical path (total weight 3): a -> c -> d\n"),
        "{text}"
    );
}

#[test]
fn given_diamond_when_exporting_json_then_nodes_edges_and_layers() {
    let value = diamond().to_json();
    assert_eq!(
        value,
        json!({
            "nodes": [
                {"id": "a", "layer": 0, "position": 0},
                {"id": "b", "layer": 1, "position": 0},
                {"id": "c", "layer": 1, "position": 1},
                {"id": "d", "layer": 2, "position": 0},
            ],
            "edges": [
                {"from": "a", "to": "b", "type": "blocking"},
                {"from": "a", "to": "c", "type": "blocking"},
                {"from": "b", "to": "d", "type": "blocking"},
                {"from": "c", "to": "d", "type": "blocking"},
            ],
            "layers": 3,
        })
    );
}

#[test]
fn given_critical_path_when_exporting_json_then_flags_and_listing() {
    let path = CriticalPath {
        path: ids(&["a", "b"]),
        total_weight: 7,
    };
    let value = dag(&["a", "b", "c"], &[("a", "b")]).to_json_with_critical_path(&path);
    assert_eq!(
        value["critical_path"],
        json!({"path": ["a", "b"], "total_weight": 7})
    );
    assert_eq!(value["nodes"][0]["critical"], json!(true));
    // Sorted by (layer, position): a and c on layer 0, b on layer 1.
    assert_eq!(value["nodes"][1]["id"], json!("c"));
    assert_eq!(value["nodes"][1]["critical"], json!(false));
    assert_eq!(value["nodes"][2]["critical"], json!(true));
    assert_eq!(value["edges"][0]["critical"], json!(true));
}

#[test]
fn given_long_and_short_chains_when_laying_out_then_layer_is_longest_blocking_depth() {
    let dag = mixed(
        &["a", "b", "c", "x", "p"],
        &[("a", "b"), ("b", "c"), ("x", "c")],
        &[("c", "p")],
    );
    let layout = dag.layout();
    let layer = |name: &str| layout.iter().find(|n| n.id == id(name)).unwrap().layer;
    assert_eq!(layer("a"), 0);
    assert_eq!(layer("x"), 0);
    assert_eq!(layer("b"), 1);
    assert_eq!(layer("c"), 2);
    assert_eq!(layer("p"), 0, "preferred edges do not deepen the layer");
}

#[test]
fn given_crossing_prone_graph_when_laying_out_then_children_follow_parent_positions() {
    // Parents a (pos 0) and b (pos 1); b's child "a2" sorts before a's child "z1"
    // by id, but the barycenter puts z1 under a.
    let layout = dag(&["a", "b", "z1", "a2"], &[("a", "z1"), ("b", "a2")]).layout();
    assert_eq!(
        layout,
        vec![
            NodeLayout {
                id: id("a"),
                layer: 0,
                position: 0
            },
            NodeLayout {
                id: id("b"),
                layer: 0,
                position: 1
            },
            NodeLayout {
                id: id("z1"),
                layer: 1,
                position: 0
            },
            NodeLayout {
                id: id("a2"),
                layer: 1,
                position: 1
            },
        ]
    );
}

#[test]
fn given_blocking_cycle_when_laying_out_then_cycle_beads_go_on_an_extra_layer() {
    let layout = dag(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "b")]).layout();
    let layers: Vec<(String, usize)> = layout.iter().map(|n| (n.id.to_string(), n.layer)).collect();
    assert_eq!(
        layers,
        vec![("a".into(), 0), ("b".into(), 1), ("c".into(), 1)]
    );
}

#[test]
fn given_empty_dag_when_exporting_then_empty_pictures() {
    let dag = WorkflowDag::new();
    assert_eq!(
        dag.to_json(),
        json!({"nodes": [], "edges": [], "layers": 0})
    );
    assert_eq!(dag.to_mermaid(), "flowchart TD\n");
    assert!(dag.to_dot().contains("digraph workflow {"));
}
