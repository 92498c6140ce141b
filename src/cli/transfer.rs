//! `strand export FILE` / `strand import FILE...`: the whole log as one
//! framed, checksummed file (format in docs/format.md); an import of a
//! trimmed log's archive segments then its export rebuilds it whole. Export reads the log
//! read-only and publishes the file only once complete; import fills a new
//! data directory only once the whole file checked out.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use strand_eventlog::{EventLog, TransferReport};

use super::progress::Bar;
use super::{CliError, Context, Status};

/// `strand export` argument.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The export file.
    pub file: PathBuf,
}

/// `strand import` arguments.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export file; or, to rebuild a trimmed log whole, its archive
    /// segments in order (`strand log archive list`) then its export.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
}

fn emit(
    ctx: &mut Context,
    verb: &str,
    file: &std::path::Path,
    report: &TransferReport,
) -> Result<Status, CliError> {
    let doc = json!({
        "file": file.display().to_string(),
        "data": ctx.data.display().to_string(),
        "records": report.records,
        "first_seq": report.first_seq.get(),
        "last_seq": report.last_seq.get(),
        "bytes": report.bytes,
    });
    let text = format!(
        "{verb} {} records (last seq {}, {} bytes): {}",
        report.records,
        report.last_seq,
        report.bytes,
        file.display()
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}

/// Run `strand export FILE`.
///
/// # Errors
/// The log cannot be opened or read; the file exists or cannot be written.
pub fn export(args: &FileArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let bar = Bar::new(ctx, "export", "records");
    let report = log.export_to(&args.file, &mut |done, total| bar.update(done, total))?;
    bar.finish();
    emit(ctx, "exported", &args.file, &report)
}

/// Run `strand import FILE...`.
///
/// # Errors
/// A file is damaged ([`strand_eventlog::Error::BadExport`] names the
/// offset and the last good seq) or does not follow the one before; the
/// data directory is not empty.
pub fn import(args: &ImportArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let bar = Bar::new(ctx, "import", "records");
    let report = EventLog::import_chain(&args.files, &ctx.data, &mut |done, total| {
        bar.update(done, total);
    })?;
    bar.finish();
    let last = args.files.last().cloned().unwrap_or_default();
    emit(ctx, "imported", &last, &report)
}
