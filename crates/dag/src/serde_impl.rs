//! Serde for [`WorkflowDag`]: a plain node list and edge list.
//!
//! Format: `{ nodes: [BeadId], edges: [{ from: BeadId, to: BeadId, kind: DependencyType }] }`,
//! nodes sorted by id and edges by `(from, to)`, so equal graphs serialize to
//! equal bytes. Petgraph's internal indices never appear. Deserialization
//! rebuilds the graph through `add_node`/`add_edge` and then runs
//! [`WorkflowDag::validate`], so whatever comes off the wire (or out of the
//! log) is a valid DAG: a duplicate node, an edge to an unknown node, a
//! self-loop, a duplicate edge or a cycle is refused. A cyclic graph can be
//! serialized (for diagnostics) but not read back.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{BeadId, DagError, DependencyType, WorkflowDag};

/// The borrowed form written by `serialize`.
#[derive(Serialize)]
struct DagRef<'a> {
    nodes: Vec<&'a BeadId>,
    edges: Vec<EdgeRef<'a>>,
}

#[derive(Serialize)]
struct EdgeRef<'a> {
    from: &'a BeadId,
    to: &'a BeadId,
    kind: DependencyType,
}

/// The owned form read by `deserialize`; same shape as [`DagRef`].
#[derive(Deserialize)]
struct DagOwned {
    nodes: Vec<BeadId>,
    edges: Vec<EdgeOwned>,
}

#[derive(Deserialize)]
struct EdgeOwned {
    from: BeadId,
    to: BeadId,
    kind: DependencyType,
}

impl Serialize for WorkflowDag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DagRef {
            nodes: self.nodes().collect(),
            edges: self
                .edges()
                .into_iter()
                .map(|(from, to, kind)| EdgeRef { from, to, kind })
                .collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WorkflowDag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = DagOwned::deserialize(deserializer)?;
        WorkflowDag::try_from(raw).map_err(D::Error::custom)
    }
}

impl TryFrom<DagOwned> for WorkflowDag {
    type Error = DagError;

    fn try_from(raw: DagOwned) -> Result<Self, DagError> {
        let mut dag = WorkflowDag::new();
        for id in raw.nodes {
            dag.add_node(id)?;
        }
        for edge in raw.edges {
            dag.add_edge(&edge.from, &edge.to, edge.kind)?;
        }
        dag.validate()?;
        Ok(dag)
    }
}
