//! [`DefinitionHash`]: the content hash of a workflow definition, frozen in
//! a run's submission so that a changed definition is told apart from the
//! one a run was started with.

use std::fmt;

use serde::{Serialize, Serializer};
use strand_dag::WorkflowDag;

use crate::codec;
use crate::event::{RunSettings, TaskSpec};
use crate::hash::StateHasher;

/// The version of the hashed form. A new form (another encoding, more
/// fields) is a new version, and hashes of different versions never match.
const HASHED_FORM: u32 = 1;

/// The hashed form of a definition with settings: `(2, name, dag, tasks,
/// settings)`.
const HASHED_FORM_WITH_SETTINGS: u32 = 2;

/// SHA-256 of a definition's canonical form: the codec encoding of
/// `(HASHED_FORM, name, dag, tasks sorted by bead id)`.
///
/// The order tasks are listed in does not change it; anything a run would
/// do differently (a command, a dependency, a retry count) does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DefinitionHash(pub [u8; 32]);

impl DefinitionHash {
    /// The hash of the definition `(name, dag, tasks)` with default
    /// settings (the form of every definition from before run settings).
    pub fn of(name: &str, dag: &WorkflowDag, tasks: &[TaskSpec]) -> Self {
        Self::of_run(name, dag, tasks, &RunSettings::default())
    }

    /// The hash of the definition `(name, dag, tasks, settings)`. Default
    /// settings hash as [`of`](Self::of) did before settings existed, so a
    /// definition that sets none keeps its hash.
    pub fn of_run(
        name: &str,
        dag: &WorkflowDag,
        tasks: &[TaskSpec],
        settings: &RunSettings,
    ) -> Self {
        let mut sorted: Vec<&TaskSpec> = tasks.iter().collect();
        // Files list tasks in any order, code often in id order already.
        if !sorted.is_sorted_by(|a, b| a.id <= b.id) {
            sorted.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let mut hasher = StateHasher::default();
        // Writing into a hasher cannot fail and every list has a known
        // length; were encoding ever to fail, the partial digest would
        // still be a deterministic function of the definition.
        if *settings == RunSettings::default() {
            let _ = codec::write_snapshot(HASHED_FORM, &(name, dag, sorted), &mut hasher);
        } else {
            let form = (name, dag, sorted, settings);
            let _ = codec::write_snapshot(HASHED_FORM_WITH_SETTINGS, &form, &mut hasher);
        }
        Self(hasher.finish().0)
    }

    /// The hash in lower-case hex (64 characters).
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// The first 12 hex characters, for messages.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(12);
        hex
    }
}

impl fmt::Display for DefinitionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DefinitionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DefinitionHash({})", self.short())
    }
}

/// Hex in JSON; the 32 bytes in the log.
impl Serialize for DefinitionHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> serde::Deserialize<'de> for DefinitionHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let hex = String::deserialize(deserializer)?;
            let mut out = [0_u8; 32];
            if hex.len() != 64 {
                return Err(serde::de::Error::custom(
                    "a definition hash is 64 hex digits",
                ));
            }
            for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
                let pair = std::str::from_utf8(pair).map_err(serde::de::Error::custom)?;
                *byte = u8::from_str_radix(pair, 16).map_err(serde::de::Error::custom)?;
            }
            Ok(Self(out))
        } else {
            Ok(Self(<[u8; 32]>::deserialize(deserializer)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use strand_dag::BeadId;

    use super::*;
    use crate::event::TaskAction;

    fn task(id: &str, command: &str) -> TaskSpec {
        TaskSpec {
            id: BeadId::from(id),
            action: TaskAction::Run(command.to_owned()),
            priority: 0,
            retries: 0,
            timeout_ms: None,
            affinity: None,
        }
    }

    fn dag(ids: &[&str]) -> WorkflowDag {
        let mut dag = WorkflowDag::new();
        for id in ids {
            dag.add_node(BeadId::from(*id)).unwrap();
        }
        dag
    }

    #[test]
    fn given_tasks_in_another_order_when_hashed_then_the_hash_is_the_same() {
        let dag = dag(&["a", "b"]);
        let one = DefinitionHash::of("wf", &dag, &[task("a", "x"), task("b", "y")]);
        let two = DefinitionHash::of("wf", &dag, &[task("b", "y"), task("a", "x")]);
        assert_eq!(one, two);
    }

    #[test]
    fn given_a_changed_command_when_hashed_then_the_hash_differs() {
        let dag = dag(&["a"]);
        let one = DefinitionHash::of("wf", &dag, &[task("a", "x")]);
        let two = DefinitionHash::of("wf", &dag, &[task("a", "z")]);
        assert_ne!(one, two);
        assert_eq!(one.to_hex().len(), 64);
        let json = serde_json::to_string(&one).unwrap();
        assert_eq!(serde_json::from_str::<DefinitionHash>(&json).unwrap(), one);
    }
}
