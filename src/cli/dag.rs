//! `strand dag FILE --format dot|json|mermaid [--critical-path]`: the
//! picture of a workflow's dependency graph. Reads only the workflow file.
//!
//! With `-o text` the picture is printed as is (JSON pretty-printed). With
//! `-o json` one document: the JSON picture itself for `--format json`, else
//! `{"workflow", "format", "picture", "critical_path"?}` with the DOT or
//! Mermaid text in `picture`. `--critical-path` marks the heaviest chain of
//! blocking dependencies, each task weighing its `estimate` (in ms; a task
//! without one weighs zero, and among equal weights the longer chain wins),
//! and lists it with its total: in a comment of the DOT/Mermaid text and in a
//! `critical_path` member of JSON output.
//!
//! Exit 0 with the picture; 2 when the file cannot be read or is refused (the
//! error names the file and line).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use strand_dag::CriticalPath;

use super::{CliError, Context, Status};
use crate::workflow::Workflow;

/// `strand dag` arguments.
#[derive(Debug, Args)]
pub struct DagArgs {
    /// The workflow file (TOML).
    pub file: PathBuf,
    /// The picture's format.
    #[arg(long, value_enum, default_value_t = DagFormat::Dot)]
    pub format: DagFormat,
    /// Mark the critical path (task weights: their `estimate`) and list it
    /// with its total.
    #[arg(long)]
    pub critical_path: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DagFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// JSON: nodes with layer/position hints, edges with their type.
    Json,
    /// A Mermaid flowchart.
    Mermaid,
}

impl DagFormat {
    fn name(self) -> &'static str {
        match self {
            Self::Dot => "dot",
            Self::Json => "json",
            Self::Mermaid => "mermaid",
        }
    }
}

/// Print the picture.
///
/// # Errors
/// [`CliError::Workflow`] (exit 2) for an unreadable or refused workflow
/// file; output errors.
pub fn run(args: &DagArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let workflow = Workflow::from_file(&args.file)?;
    let dag = workflow.dag();
    let path: Option<CriticalPath> = if args.critical_path {
        // The loader refused cycles, so this cannot fail; say so if it does.
        Some(
            dag.critical_path(&workflow.estimates_ms())
                .map_err(|source| CliError::Dag {
                    file: workflow.source_name().to_owned(),
                    source,
                })?,
        )
    } else {
        None
    };
    let picture = match (args.format, &path) {
        (DagFormat::Dot, None) => Picture::Text(dag.to_dot()),
        (DagFormat::Dot, Some(p)) => Picture::Text(dag.to_dot_with_critical_path(p)),
        (DagFormat::Mermaid, None) => Picture::Text(dag.to_mermaid()),
        (DagFormat::Mermaid, Some(p)) => Picture::Text(dag.to_mermaid_with_critical_path(p)),
        (DagFormat::Json, None) => Picture::Json(dag.to_json()),
        (DagFormat::Json, Some(p)) => Picture::Json(dag.to_json_with_critical_path(p)),
    };
    let (document, text) = match picture {
        Picture::Json(mut value) => {
            if let Some(object) = value.as_object_mut() {
                object.insert("workflow".to_owned(), json!(workflow.name()));
            }
            let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
            (value, text)
        }
        Picture::Text(text) => {
            let mut document = json!({
                "workflow": workflow.name(),
                "format": args.format.name(),
                "picture": text,
            });
            if let (Some(p), Some(object)) = (&path, document.as_object_mut()) {
                object.insert(
                    "critical_path".to_owned(),
                    json!({ "path": p.path, "total_weight": p.total_weight }),
                );
            }
            (document, text)
        }
    };
    ctx.emit(&document, &text)?;
    Ok(Status::Ok)
}

/// A rendered picture: text (DOT, Mermaid) or a JSON document.
enum Picture {
    Text(String),
    Json(Value),
}
