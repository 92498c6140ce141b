//! `strand output RUN BEAD`: one bead's output, raw, on stdout, for
//! scripts (`-o json` shows it as `{ content_type, size, encoding, data }`
//! instead, whole). Asks the engine holding the directory, else reads the
//! log; never writes.

use std::io::Write as _;

use clap::Args;
use serde_json::json;
use strand_projections::{BeadId, BeadState, Output};

use super::status::local_run;
use super::{CliError, Context, Status};

/// `strand output` arguments.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The run.
    pub run: String,
    /// The bead.
    pub bead: String,
}

/// Run `strand output`: asks the engine holding the directory, or replays
/// the log when none does.
///
/// # Errors
/// An unknown run or bead (exit 2); a bead not completed (exit 1); the log
/// cannot be read; the engine refused.
pub fn run(args: &OutputArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let output = match remote(args, ctx)? {
        Some(output) => output,
        None => local(args, ctx)?,
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

/// The output, from the run's events in the log, read-only.
fn local(args: &OutputArgs, ctx: &Context) -> Result<Output, CliError> {
    let (record, _) = local_run(ctx, &args.run)?;
    let bead = record
        .bead(&BeadId::from(args.bead.as_str()))
        .ok_or_else(|| CliError::UnknownBead {
            run: args.run.clone(),
            bead: args.bead.clone(),
        })?;
    match bead.output.as_deref() {
        Some(output) => Ok(output.clone()),
        None => Err(CliError::NoOutput {
            run: args.run.clone(),
            bead: args.bead.clone(),
            state: bead.state,
        }),
    }
}

/// The output, from the engine holding the directory; `None` when no
/// engine answers. Its refusals become the same errors as [`local`]'s.
fn remote(args: &OutputArgs, ctx: &Context) -> Result<Option<Output>, CliError> {
    let url = format!(
        "{}/runs/{}/beads/{}/output",
        strand_server::API_PREFIX,
        crate::socket::escape(&args.run),
        crate::socket::escape(&args.bead)
    );
    let Some(reply) = super::remote::ask(ctx, hyper::Method::GET, &url, None)? else {
        return Ok(None);
    };
    if reply.status.is_success() {
        return Ok(Some(Output {
            bytes: reply.body.to_vec(),
            content_type: reply.content_type.clone(),
        }));
    }
    // The stable codes of the socket's API, documented in `crate::socket`.
    let refusal: Refusal =
        serde_json::from_slice(&reply.body).map_err(|_| super::remote::refusal(&reply))?;
    Err(match (refusal.code.as_str(), refusal.state) {
        ("unknown_run", _) => CliError::UnknownWorkflow {
            id: args.run.clone(),
        },
        ("unknown_bead", _) => CliError::UnknownBead {
            run: args.run.clone(),
            bead: args.bead.clone(),
        },
        ("no_output", Some(state)) => CliError::NoOutput {
            run: args.run.clone(),
            bead: args.bead.clone(),
            state,
        },
        _ => super::remote::refusal(&reply),
    })
}

/// A refusal's body.
#[derive(Debug, serde::Deserialize)]
struct Refusal {
    code: String,
    state: Option<BeadState>,
}
