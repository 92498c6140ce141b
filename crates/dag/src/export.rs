//! Pictures of the graph: Graphviz DOT, Mermaid, and JSON with layout hints.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::{BeadId, CriticalPath, DependencyType, WorkflowDag};

/// Colour of the critical path in the DOT and Mermaid pictures.
const CRITICAL_COLOUR: &str = "#d62728";

impl WorkflowDag {
    /// Graphviz DOT: one statement per bead and per edge, sorted; blocking
    /// edges solid, preferred-order edges dashed.
    pub fn to_dot(&self) -> String {
        self.render_dot(None)
    }

    /// [`to_dot`](Self::to_dot) with the beads and edges of `path` drawn in
    /// red, and the path and its total weight listed in a leading comment.
    pub fn to_dot_with_critical_path(&self, path: &CriticalPath) -> String {
        self.render_dot(Some(path))
    }

    /// A Mermaid flowchart (top to bottom). Beads are named `n0`, `n1`, ... in
    /// id order and labelled with their id; preferred-order edges are dotted.
    pub fn to_mermaid(&self) -> String {
        self.render_mermaid(None)
    }

    /// [`to_mermaid`](Self::to_mermaid) with the critical path styled in red
    /// and listed, with its total weight, in a trailing comment.
    pub fn to_mermaid_with_critical_path(&self, path: &CriticalPath) -> String {
        self.render_mermaid(Some(path))
    }

    /// A JSON document a front end can draw without a layout engine:
    ///
    /// ```json
    /// { "nodes": [{"id": "a", "layer": 0, "position": 0}, ...],
    ///   "edges": [{"from": "a", "to": "b", "type": "blocking"}, ...],
    ///   "layers": 2 }
    /// ```
    ///
    /// Nodes are sorted by `(layer, position)` (see [`layout`](Self::layout)),
    /// edges by `(from, to)`; `type` is `blocking` or `preferred_order`.
    pub fn to_json(&self) -> Value {
        self.render_json(None)
    }

    /// [`to_json`](Self::to_json) plus a `critical` flag on every node and
    /// edge and a `critical_path` member: `{"path": [...], "total_weight": n}`.
    pub fn to_json_with_critical_path(&self, path: &CriticalPath) -> Value {
        self.render_json(Some(path))
    }

    fn render_dot(&self, critical: Option<&CriticalPath>) -> String {
        let mut out = String::new();
        if let Some(path) = critical {
            let _ = writeln!(out, "// {}", describe(path));
        }
        out.push_str("digraph workflow {\n    rankdir=TB;\n    node [shape=box];\n");
        for id in self.nodes() {
            let on_path = critical.is_some_and(|p| p.contains(id));
            let style = if on_path {
                format!(" [color=\"{CRITICAL_COLOUR}\", penwidth=2]")
            } else {
                String::new()
            };
            let _ = writeln!(out, "    {}{style};", dot_quote(id));
        }
        for (from, to, kind) in self.edges() {
            let mut attributes = Vec::new();
            if kind == DependencyType::PreferredOrder {
                attributes.push("style=dashed".to_owned());
            }
            if critical.is_some_and(|p| p.contains_edge(from, to)) {
                attributes.push(format!("color=\"{CRITICAL_COLOUR}\", penwidth=2"));
            }
            let style = if attributes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attributes.join(", "))
            };
            let _ = writeln!(out, "    {} -> {}{style};", dot_quote(from), dot_quote(to));
        }
        out.push_str("}\n");
        out
    }

    fn render_mermaid(&self, critical: Option<&CriticalPath>) -> String {
        let mut out = String::from("flowchart TD\n");
        let names: std::collections::BTreeMap<&BeadId, String> = self
            .nodes()
            .enumerate()
            .map(|(i, id)| (id, format!("n{i}")))
            .collect();
        let name = |id: &BeadId| names.get(id).cloned().unwrap_or_default();
        for (id, short) in &names {
            let _ = writeln!(out, "    {short}[\"{}\"]", mermaid_escape(id.as_str()));
        }
        let mut critical_links = Vec::new();
        for (link, (from, to, kind)) in self.edges().into_iter().enumerate() {
            let arrow = match kind {
                DependencyType::Blocking => "-->",
                DependencyType::PreferredOrder => "-.->",
            };
            let _ = writeln!(out, "    {} {arrow} {}", name(from), name(to));
            if critical.is_some_and(|p| p.contains_edge(from, to)) {
                critical_links.push(link.to_string());
            }
        }
        if let Some(path) = critical {
            let on_path: Vec<String> = path.path.iter().map(name).collect();
            if !on_path.is_empty() {
                let _ = writeln!(
                    out,
                    "    classDef critical stroke:{CRITICAL_COLOUR},stroke-width:3px"
                );
                let _ = writeln!(out, "    class {} critical", on_path.join(","));
            }
            if !critical_links.is_empty() {
                let _ = writeln!(
                    out,
                    "    linkStyle {} stroke:{CRITICAL_COLOUR},stroke-width:3px",
                    critical_links.join(",")
                );
            }
            let _ = writeln!(out, "%% {}", describe(path));
        }
        out
    }

    fn render_json(&self, critical: Option<&CriticalPath>) -> Value {
        let layout = self.layout();
        let layers = layout.iter().map(|node| node.layer + 1).max().unwrap_or(0);
        let nodes: Vec<Value> = layout
            .iter()
            .map(|node| {
                let mut value = json!({
                    "id": node.id,
                    "layer": node.layer,
                    "position": node.position,
                });
                if let (Some(path), Some(object)) = (critical, value.as_object_mut()) {
                    object.insert("critical".to_owned(), Value::Bool(path.contains(&node.id)));
                }
                value
            })
            .collect();
        let edges: Vec<Value> = self
            .edges()
            .into_iter()
            .map(|(from, to, kind)| {
                let mut value = json!({ "from": from, "to": to, "type": kind.as_str() });
                if let (Some(path), Some(object)) = (critical, value.as_object_mut()) {
                    object.insert(
                        "critical".to_owned(),
                        Value::Bool(path.contains_edge(from, to)),
                    );
                }
                value
            })
            .collect();
        let mut document = json!({ "nodes": nodes, "edges": edges, "layers": layers });
        if let (Some(path), Some(object)) = (critical, document.as_object_mut()) {
            object.insert(
                "critical_path".to_owned(),
                json!({ "path": path.path, "total_weight": path.total_weight }),
            );
        }
        document
    }
}

/// `critical path (total weight 7): a -> b -> c`.
fn describe(path: &CriticalPath) -> String {
    let chain: Vec<&str> = path.path.iter().map(BeadId::as_str).collect();
    format!(
        "critical path (total weight {}): {}",
        path.total_weight,
        if chain.is_empty() {
            "(empty)".to_owned()
        } else {
            chain.join(" -> ")
        }
    )
}

/// A DOT double-quoted id: backslashes, quotes and line breaks escaped.
fn dot_quote(id: &BeadId) -> String {
    let mut out = String::with_capacity(id.as_str().len() + 2);
    out.push('"');
    for c in id.as_str().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a quoted Mermaid label: characters Mermaid would interpret are
/// written as entity codes (`#quot;`, `#35;`, ...).
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}
