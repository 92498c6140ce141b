//! [`BeadId`], the name of a bead, and [`DependencyType`], the kind of an edge.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The identifier of a bead (a task) within one workflow.
///
/// A newtype over `String` so a bead id cannot be confused with any other
/// string. Ids order lexicographically by their bytes; that order is what makes
/// [`WorkflowDag::topological_order_kahn`](crate::WorkflowDag::topological_order_kahn)
/// and every exported listing deterministic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BeadId(String);

impl BeadId {
    /// Creates a bead id from anything that converts into a `String`.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the id and returns the owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<&str> for BeadId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<String> for BeadId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&String> for BeadId {
    fn from(id: &String) -> Self {
        Self(id.clone())
    }
}

impl fmt::Display for BeadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BeadId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for BeadId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// The kind of a dependency edge `a -> b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyType {
    /// `b` may not become ready before `a` has completed.
    Blocking,
    /// `a` should be started before `b` when both are ready, but `b` does not
    /// wait for `a`. Ignored by readiness and by the critical path; respected
    /// by the topological orders and reported by the cycle checks.
    PreferredOrder,
}

impl DependencyType {
    /// Whether this edge affects readiness.
    pub fn is_blocking(self) -> bool {
        matches!(self, Self::Blocking)
    }

    /// The name used in the JSON export (`blocking`, `preferred_order`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocking => "blocking",
            Self::PreferredOrder => "preferred_order",
        }
    }
}

impl fmt::Display for DependencyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
