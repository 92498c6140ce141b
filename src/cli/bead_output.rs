//! `strand output RUN BEAD`: one bead's output, raw, on stdout, for
//! scripts (`-o json` shows it as `{ content_type, size, encoding, data }`
//! instead, whole). Reads the log; never writes.

use std::io::Write as _;

use clap::Args;
use serde_json::json;
use strand_projections::{BeadId, RunId};

use super::status::replayed_state;
use super::{CliError, Context, Status};

/// `strand output` arguments.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The run.
    pub run: String,
    /// The bead.
    pub bead: String,
}

/// Run `strand output`.
///
/// # Errors
/// An unknown run or bead (exit 2); a bead not completed (exit 1); the log
/// cannot be read.
pub fn run(args: &OutputArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let replayed = replayed_state(ctx)?;
    let record = replayed
        .projection
        .workflow(&RunId::from(args.run.as_str()))
        .ok_or_else(|| CliError::UnknownWorkflow {
            id: args.run.clone(),
        })?;
    let bead = record
        .bead(&BeadId::from(args.bead.as_str()))
        .ok_or_else(|| CliError::UnknownBead {
            run: args.run.clone(),
            bead: args.bead.clone(),
        })?;
    let Some(output) = bead.output.as_deref() else {
        return Err(CliError::NoOutput {
            run: args.run.clone(),
            bead: args.bead.clone(),
            state: bead.state,
        });
    };
    if ctx.json() {
        let doc = json!({ "run": args.run, "bead": args.bead, "output": output });
        ctx.emit(&doc, "")?;
    } else {
        ctx.stdout.write_all(&output.bytes)?;
        ctx.stdout.flush()?;
    }
    Ok(Status::Ok)
}
