//! Parsing and validating a workflow file's text.
//!
//! Three passes over the text, each refusing with a file and line:
//! 1. TOML syntax, and keys the format does not know (on the spanned
//!    document tree, so a typo like `dep` is named, not silently ignored);
//! 2. each task's own settings (types through serde with `toml::Spanned`
//!    values, then ids, the action, priority, retries, durations);
//! 3. the dependencies between tasks, then the graph's cycle check.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use strand_dag::{BeadId, DagError, DependencyType, WorkflowDag};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{MAX_RETRIES, Task, TaskAction, TaskBackoff, Workflow, WorkflowError, duration};

/// Keys allowed at the top of a workflow file.
const WORKFLOW_KEYS: &[&str] = &["name", "input", "timeout", "task"];

/// Keys allowed in a `[[task]]`.
const TASK_KEYS: &[&str] = &[
    "id", "run", "handler", "deps", "after", "priority", "retries", "timeout", "affinity",
    "estimate", "backoff",
];

/// The file as serde sees it; every value keeps its span for error lines.
#[derive(Deserialize)]
struct RawWorkflow {
    name: Spanned<String>,
    /// `[input]`: the defaults of a run's input.
    #[serde(default)]
    input: toml::Table,
    /// `timeout = "1h"`: the run is cancelled this long after it starts.
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    task: Vec<RawTask>,
}

/// One `[[task]]` as serde sees it.
#[derive(Deserialize)]
struct RawTask {
    id: Spanned<String>,
    run: Option<Spanned<String>>,
    handler: Option<Spanned<String>>,
    #[serde(default)]
    deps: Vec<Spanned<String>>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
    priority: Option<Spanned<i64>>,
    retries: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    affinity: Option<Spanned<String>>,
    estimate: Option<Spanned<String>>,
    backoff: Option<Spanned<RawBackoff>>,
}

/// A task's `backoff = { initial = "1s", max = "1m", multiplier = 2 }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackoff {
    initial: String,
    max: String,
    #[serde(default = "default_multiplier")]
    multiplier: i64,
}

fn default_multiplier() -> i64 {
    2
}

/// Byte offset -> line number.
struct Lines {
    /// Offsets of every `\n`.
    newlines: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        Self {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The 1-based line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }

    /// The line where a span starts.
    fn of(&self, span: &Range<usize>) -> usize {
        self.line(span.start)
    }
}

/// The parsing state shared by the passes: the source name and line lookup.
struct Parser<'a> {
    file: &'a str,
    lines: Lines,
}

/// Parses and validates `text`, naming it `file` in errors.
pub(super) fn parse(file: &str, text: &str) -> Result<Workflow, WorkflowError> {
    let parser = Parser {
        file,
        lines: Lines::new(text),
    };
    let document = DeTable::parse(text).map_err(|e| parser.syntax(&e))?;
    parser.check_keys(document.get_ref())?;
    let raw = RawWorkflow::deserialize(toml::de::Deserializer::from(document))
        .map_err(|e| parser.syntax(&e))?;
    let name = parser.name(&raw.name)?;
    if raw.task.is_empty() {
        return Err(WorkflowError::NoTasks {
            file: file.to_owned(),
            line: parser.lines.of(&raw.name.span()),
            name,
        });
    }
    let mut tasks = Vec::with_capacity(raw.task.len());
    let mut by_id = BTreeMap::new();
    for raw_task in &raw.task {
        let task = parser.task(raw_task)?;
        if let Some(first) = by_id.get(&task.id).and_then(|&i: &usize| tasks.get(i)) {
            let first: &Task = first;
            return Err(WorkflowError::DuplicateId {
                file: file.to_owned(),
                line: task.line,
                id: task.id.clone(),
                first_line: first.line,
            });
        }
        by_id.insert(task.id.clone(), tasks.len());
        tasks.push(task);
    }
    let dependency_lines = parser.check_dependencies(&raw.task, &by_id)?;
    let dag = parser.graph(&tasks, &dependency_lines)?;
    let timeout = parser.duration(raw.timeout.as_ref(), "timeout")?;
    if let (Some(limit), Some(raw_timeout)) = (timeout, &raw.timeout)
        && limit.is_zero()
    {
        return Err(parser.invalid(
            &raw_timeout.span(),
            "timeout",
            "a run timeout must be longer than zero",
        ));
    }
    let input = raw
        .input
        .into_iter()
        .map(|(key, value)| (key, json_of(value)))
        .collect();
    Ok(Workflow {
        source: file.to_owned(),
        name,
        input,
        timeout,
        tasks,
        by_id,
        dag,
    })
}

impl Parser<'_> {
    fn syntax(&self, error: &toml::de::Error) -> WorkflowError {
        WorkflowError::Syntax {
            file: self.file.to_owned(),
            line: error.span().map_or(1, |span| self.lines.of(&span)),
            message: error.message().trim().to_owned(),
        }
    }

    fn invalid(
        &self,
        span: &Range<usize>,
        key: &'static str,
        reason: impl Into<String>,
    ) -> WorkflowError {
        WorkflowError::InvalidValue {
            file: self.file.to_owned(),
            line: self.lines.of(span),
            key,
            reason: reason.into(),
        }
    }

    /// Refuses the first key, in file order, that the format does not know.
    fn check_keys(&self, root: &DeTable<'_>) -> Result<(), WorkflowError> {
        // (offset, key, table, allowed keys) of every unknown key.
        let mut unknown: Vec<(usize, String, String, &'static [&'static str])> = Vec::new();
        for (key, value) in root {
            let name: &str = key.get_ref();
            if !WORKFLOW_KEYS.contains(&name) {
                unknown.push((
                    key.span().start,
                    name.to_owned(),
                    "the workflow".to_owned(),
                    WORKFLOW_KEYS,
                ));
            }
            let (true, DeValue::Array(items)) = (name == "task", value.get_ref()) else {
                continue;
            };
            for item in items {
                let DeValue::Table(table) = item.get_ref() else {
                    continue;
                };
                let id = table
                    .iter()
                    .find(|(k, _)| k.get_ref() == "id")
                    .and_then(|(_, v)| v.get_ref().as_str());
                let where_ =
                    id.map_or_else(|| "a [[task]]".to_owned(), |id| format!("task `{id}`"));
                for (task_key, _) in table {
                    let task_key_name: &str = task_key.get_ref();
                    if !TASK_KEYS.contains(&task_key_name) {
                        unknown.push((
                            task_key.span().start,
                            task_key_name.to_owned(),
                            where_.clone(),
                            TASK_KEYS,
                        ));
                    }
                }
            }
        }
        match unknown.into_iter().min_by_key(|entry| entry.0) {
            Some((offset, key, table, expected)) => Err(WorkflowError::UnknownKey {
                file: self.file.to_owned(),
                line: self.lines.line(offset),
                key,
                table,
                expected,
            }),
            None => Ok(()),
        }
    }

    fn name(&self, name: &Spanned<String>) -> Result<String, WorkflowError> {
        if name.get_ref().trim().is_empty() {
            return Err(self.invalid(&name.span(), "name", "the workflow name is empty"));
        }
        Ok(name.get_ref().clone())
    }

    /// One task's own settings, checked and typed (dependencies come later).
    fn task(&self, raw: &RawTask) -> Result<Task, WorkflowError> {
        let line = self.lines.of(&raw.id.span());
        if raw.id.get_ref().trim().is_empty() {
            return Err(self.invalid(&raw.id.span(), "id", "a task id may not be empty"));
        }
        if raw.id.get_ref().contains(['/', '\0']) || raw.id.get_ref().starts_with('.') {
            return Err(self.invalid(
                &raw.id.span(),
                "id",
                "a task id may not contain `/` or start with `.` (it names its output's file \
                 in a dependent's $STRAND_DEPS_DIR)",
            ));
        }
        let id = BeadId::from(raw.id.get_ref().as_str());
        let action = match (&raw.run, &raw.handler) {
            (Some(run), None) => {
                if run.get_ref().trim().is_empty() {
                    return Err(self.invalid(&run.span(), "run", "the command is empty"));
                }
                TaskAction::Run(run.get_ref().clone())
            }
            (None, Some(handler)) => {
                if handler.get_ref().trim().is_empty() {
                    return Err(self.invalid(
                        &handler.span(),
                        "handler",
                        "the handler name is empty",
                    ));
                }
                TaskAction::Handler(handler.get_ref().clone())
            }
            _ => {
                return Err(WorkflowError::Action {
                    file: self.file.to_owned(),
                    line,
                    task: id,
                });
            }
        };
        let priority = match &raw.priority {
            None => 0,
            Some(value) => i32::try_from(*value.get_ref()).map_err(|_| {
                self.invalid(
                    &value.span(),
                    "priority",
                    format!("{} is outside {}..={}", value.get_ref(), i32::MIN, i32::MAX),
                )
            })?,
        };
        let retries = match &raw.retries {
            None => 0,
            Some(value) => u32::try_from(*value.get_ref())
                .ok()
                .filter(|&r| r <= MAX_RETRIES)
                .ok_or_else(|| {
                    self.invalid(
                        &value.span(),
                        "retries",
                        format!("{} is outside 0..={MAX_RETRIES}", value.get_ref()),
                    )
                })?,
        };
        let timeout = self.task_timeout(raw.timeout.as_ref())?;
        let affinity = match &raw.affinity {
            Some(label) if label.get_ref().trim().is_empty() => {
                return Err(self.invalid(&label.span(), "affinity", "the worker label is empty"));
            }
            Some(label) => Some(label.get_ref().clone()),
            None => None,
        };
        let backoff = match &raw.backoff {
            Some(spec) => Some(self.backoff(spec)?),
            None => None,
        };
        Ok(Task {
            id,
            action,
            backoff,
            deps: raw
                .deps
                .iter()
                .map(|d| BeadId::from(d.get_ref().as_str()))
                .collect(),
            after: raw
                .after
                .iter()
                .map(|d| BeadId::from(d.get_ref().as_str()))
                .collect(),
            priority,
            retries,
            timeout,
            affinity,
            estimate: self.duration(raw.estimate.as_ref(), "estimate")?,
            line,
        })
    }

    /// A task's `timeout`: a duration longer than zero.
    fn task_timeout(
        &self,
        raw: Option<&Spanned<String>>,
    ) -> Result<Option<std::time::Duration>, WorkflowError> {
        let timeout = self.duration(raw, "timeout")?;
        if let (Some(timeout), Some(raw_timeout)) = (timeout, raw)
            && timeout.is_zero()
        {
            return Err(WorkflowError::BadDuration {
                file: self.file.to_owned(),
                line: self.lines.of(&raw_timeout.span()),
                key: "timeout",
                value: raw_timeout.get_ref().clone(),
                reason: "a timeout must be longer than zero".to_owned(),
            });
        }
        Ok(timeout)
    }

    /// A task's backoff: durations that parse, `initial <= max`, a
    /// multiplier of at least 1.
    fn backoff(&self, spec: &Spanned<RawBackoff>) -> Result<TaskBackoff, WorkflowError> {
        let span = spec.span();
        let raw = spec.get_ref();
        let parse = |text: &str, key: &'static str| {
            duration::parse(text).map_err(|reason| WorkflowError::BadDuration {
                file: self.file.to_owned(),
                line: self.lines.of(&span),
                key,
                value: text.to_owned(),
                reason,
            })
        };
        let initial = parse(&raw.initial, "backoff.initial")?;
        let max = parse(&raw.max, "backoff.max")?;
        if initial > max {
            return Err(self.invalid(&span, "backoff", "initial is longer than max"));
        }
        let multiplier = u32::try_from(raw.multiplier)
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or_else(|| self.invalid(&span, "backoff", "the multiplier is outside 1..=100"))?;
        Ok(TaskBackoff {
            initial,
            max,
            multiplier,
        })
    }

    fn duration(
        &self,
        value: Option<&Spanned<String>>,
        key: &'static str,
    ) -> Result<Option<std::time::Duration>, WorkflowError> {
        let Some(value) = value else {
            return Ok(None);
        };
        duration::parse(value.get_ref())
            .map(Some)
            .map_err(|reason| WorkflowError::BadDuration {
                file: self.file.to_owned(),
                line: self.lines.of(&value.span()),
                key,
                value: value.get_ref().clone(),
                reason,
            })
    }

    /// Checks every `deps`/`after` entry; returns the line of each
    /// `(task, dependency)` pair, for naming the line of a cycle.
    fn check_dependencies(
        &self,
        raw: &[RawTask],
        known: &BTreeMap<BeadId, usize>,
    ) -> Result<BTreeMap<(BeadId, BeadId), usize>, WorkflowError> {
        let mut lines = BTreeMap::new();
        for task in raw {
            let id = BeadId::from(task.id.get_ref().as_str());
            let mut seen = BTreeSet::new();
            for entry in task.deps.iter().chain(&task.after) {
                let dependency = BeadId::from(entry.get_ref().as_str());
                let line = self.lines.of(&entry.span());
                let file = self.file.to_owned();
                if dependency == id {
                    return Err(WorkflowError::SelfDependency {
                        file,
                        line,
                        task: id,
                    });
                }
                if !seen.insert(dependency.clone()) {
                    return Err(WorkflowError::DuplicateDependency {
                        file,
                        line,
                        task: id,
                        dependency,
                    });
                }
                if !known.contains_key(&dependency) {
                    return Err(WorkflowError::UnknownDependency {
                        file,
                        line,
                        task: id,
                        dependency,
                    });
                }
                lines.insert((id.clone(), dependency), line);
            }
        }
        Ok(lines)
    }

    /// The dependency graph, refused if it has a cycle.
    fn graph(
        &self,
        tasks: &[Task],
        dependency_lines: &BTreeMap<(BeadId, BeadId), usize>,
    ) -> Result<WorkflowDag, WorkflowError> {
        let graph_error = |source| WorkflowError::Graph {
            file: self.file.to_owned(),
            source,
        };
        let mut dag = WorkflowDag::new();
        for task in tasks {
            dag.add_node(task.id.clone()).map_err(graph_error)?;
        }
        for task in tasks {
            for dependency in &task.deps {
                dag.add_edge(dependency, &task.id, DependencyType::Blocking)
                    .map_err(graph_error)?;
            }
            for dependency in &task.after {
                dag.add_edge(dependency, &task.id, DependencyType::PreferredOrder)
                    .map_err(graph_error)?;
            }
        }
        match dag.validate() {
            Ok(()) => Ok(dag),
            Err(DagError::CycleDetected(cycle)) => {
                // The cycle's last task is a dependency of its first: that
                // entry of the first task's deps/after closes the cycle.
                let line = match (cycle.first(), cycle.last()) {
                    (Some(first), Some(last)) => dependency_lines
                        .get(&(first.clone(), last.clone()))
                        .copied(),
                    _ => None,
                };
                let line = line
                    .or_else(|| {
                        cycle
                            .first()
                            .and_then(|id| tasks.iter().find(|t| &t.id == id))
                            .map(|t| t.line)
                    })
                    .unwrap_or(1);
                Err(WorkflowError::Cycle {
                    file: self.file.to_owned(),
                    line,
                    cycle,
                })
            }
            Err(other) => Err(graph_error(other)),
        }
    }
}

/// A TOML value as JSON (a run's input is a JSON object). A date or time
/// becomes its RFC 3339 text.
fn json_of(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(text) => serde_json::Value::String(text),
        toml::Value::Integer(number) => serde_json::Value::from(number),
        toml::Value::Float(number) => serde_json::Value::from(number),
        toml::Value::Boolean(flag) => serde_json::Value::Bool(flag),
        toml::Value::Datetime(at) => serde_json::Value::String(at.to_string()),
        toml::Value::Array(items) => items.into_iter().map(json_of).collect(),
        toml::Value::Table(table) => serde_json::Value::Object(
            table
                .into_iter()
                .map(|(key, value)| (key, json_of(value)))
                .collect(),
        ),
    }
}
