//! `strand log verify|dump|stats`: read-only inspection of the event log.
//! None of these commands ever writes to the data directory; `strand log
//! trim` (in `trim.rs`) does, with `--yes`, and `log archive list` reads
//! the archive.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use clap::{Args, Subcommand};
use serde_json::json;
use strand_eventlog::{Error, Event, EventLog, Seq, VerifyReport};

use super::{CliError, Context, Status};

/// `strand log ...`
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check every record (checksum, seq contiguity, checksum chain), the
    /// stream index and the checkpoints. Exit 1 when anything is wrong.
    Verify,
    /// Print events, one per line (JSON lines with `-o json`).
    Dump(DumpArgs),
    /// Counts and sizes of the log.
    Stats,
    /// Remove records from the front of the log, as far as nothing still
    /// needs them, archiving them first (dry run unless --yes).
    Trim(super::trim::TrimArgs),
    /// The archive of trimmed records.
    #[command(subcommand)]
    Archive(super::trim::ArchiveCommand),
}

/// `strand log dump` arguments.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// First seq to print.
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// Last seq to print (default: the end of the log).
    #[arg(long)]
    pub to: Option<u64>,
    /// Only events of this stream.
    #[arg(long)]
    pub stream: Option<String>,
}

/// Run a `log` subcommand.
///
/// # Errors
/// Opening the log; output errors.
pub fn run(command: &LogCommand, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        LogCommand::Verify => verify(ctx),
        LogCommand::Dump(args) => dump(args, ctx),
        LogCommand::Stats => stats(ctx),
        LogCommand::Trim(args) => super::trim::trim(args, ctx),
        LogCommand::Archive(command) => super::trim::archive(command, ctx),
    }
}

fn seq_json(seq: Option<Seq>) -> serde_json::Value {
    seq.map_or(serde_json::Value::Null, |s| json!(s.get()))
}

fn verify(ctx: &mut Context) -> Result<Status, CliError> {
    let report = match EventLog::open_read_only(&ctx.data) {
        Ok(log) => log.verify(&mut |_| {}),
        // Not a log this strand can judge: no log, or another format's.
        Err(e @ (Error::NotFound { .. } | Error::UnsupportedFormat { .. })) => {
            return Err(e.into());
        }
        // The log cannot even be opened (damaged MANIFEST, unknown format...):
        // that is a finding of verify, reported in its own shape.
        Err(e) => VerifyReport::unopenable(e),
    };
    let error = report.error.as_ref().map(ToString::to_string);
    let doc = json!({
        "ok": report.ok,
        "records": report.records,
        "first_seq": seq_json(report.first_seq),
        "last_seq": seq_json(report.last_seq),
        "first_bad_seq": seq_json(report.first_bad_seq),
        "error": error,
        "index_entries": report.index_entries,
        "checkpoints": report.checkpoints,
    });
    let range = match (report.first_seq, report.last_seq) {
        (Some(a), Some(b)) => format!("seq {a}..={b}"),
        _ => "empty".to_owned(),
    };
    let mut text = if report.ok {
        format!(
            "ok: {} records ({range}), {} index entries, {} checkpoints",
            report.records, report.index_entries, report.checkpoints
        )
    } else {
        format!("CORRUPT after {} good records ({range})", report.records)
    };
    if let Some(seq) = report.first_bad_seq {
        let _ = write!(text, "\nfirst bad seq: {seq}");
    }
    if let Some(error) = &error {
        let _ = write!(text, "\nerror: {error}");
    }
    ctx.emit(&doc, &text)?;
    Ok(if report.ok {
        Status::Ok
    } else {
        Status::Problem
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn event_json(event: &Event) -> serde_json::Value {
    json!({
        "seq": event.seq.get(),
        "stream": event.stream,
        "at_ms": event.at_ms,
        "kind": event.kind,
        "len": event.body.len(),
        "body_hex": hex(&event.body),
    })
}

fn dump(args: &DumpArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    // A trimmed log begins after its base.
    let from = Seq(args.from).max(log.first_seq());
    let to = Seq(args.to.unwrap_or(u64::MAX));
    if from > to {
        return Err(CliError::Usage {
            name: "--from",
            reason: format!("{from} is after --to {to}"),
        });
    }
    let events: Box<dyn Iterator<Item = Result<Event, Error>>> = match &args.stream {
        Some(stream) => Box::new(
            log.read_stream(stream, from)?
                .take_while(|e| e.as_ref().map_or(true, |e| e.seq <= to)),
        ),
        None => Box::new(log.read_range(from, to)?),
    };
    let json = ctx.json();
    for event in events {
        let event = event?;
        if json {
            writeln!(ctx.stdout, "{}", event_json(&event))?;
        } else {
            writeln!(
                ctx.stdout,
                "{:>10}  {:<24} kind={:<5} at_ms={} len={}",
                event.seq.get(),
                event.stream,
                event.kind,
                event.at_ms,
                event.body.len()
            )?;
        }
    }
    ctx.stdout.flush()?;
    Ok(Status::Ok)
}

/// Bytes of the files directly in `path` (the store's; not the archive's
/// or the attempts' subdirectories).
pub(crate) fn dir_bytes(path: &Path) -> Result<u64, CliError> {
    let entries = std::fs::read_dir(path).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let mut total = 0;
    for entry in entries.flatten() {
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            total += meta.len();
        }
    }
    Ok(total)
}

fn stats(ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let mut records = 0u64;
    let mut body_bytes = 0u64;
    let mut first = None;
    let mut last = None;
    for event in log.read_range(log.first_seq(), Seq(u64::MAX))? {
        let event = event?;
        records += 1;
        body_bytes += event.body.len() as u64;
        first.get_or_insert(event.seq);
        last = Some(event.seq);
    }
    let streams = log.streams()?;
    let checkpoints = log.list_checkpoints()?.len();
    let disk = dir_bytes(&ctx.data)?;
    let doc = json!({
        "records": records,
        "first_seq": seq_json(first),
        "last_seq": seq_json(last),
        "streams": streams.len(),
        "checkpoints": checkpoints,
        "body_bytes": body_bytes,
        "disk_bytes": disk,
    });
    let text = format!(
        "records:     {records}\nseq range:   {}\nstreams:     {}\ncheckpoints: {checkpoints}\nbody bytes:  {body_bytes}\ndisk bytes:  {disk}",
        match (first, last) {
            (Some(a), Some(b)) => format!("{a}..={b}"),
            _ => "empty".into(),
        },
        streams.len()
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
