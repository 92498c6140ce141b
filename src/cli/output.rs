//! Output formats and the per-invocation context commands write through.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::CliError;

/// `-o text|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Human-readable text.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// What a command that ran to completion found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success: exit 0.
    Ok,
    /// The command ran and found a problem (corruption, failed workflow): exit 1.
    Problem,
}

impl Status {
    /// The process exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Status::Ok => ExitCode::SUCCESS,
            Status::Problem => ExitCode::from(1),
        }
    }
}

/// Everything a command needs from the invocation.
pub struct Context {
    /// `--data`.
    pub data: PathBuf,
    /// `-o`.
    pub output: Output,
    /// `-q`.
    pub quiet: bool,
    /// Where results go (stdout in the binary; a buffer in tests).
    pub stdout: Box<dyn Write>,
}

impl Context {
    /// A context writing to the process's stdout.
    pub fn new(data: PathBuf, output: Output, quiet: bool) -> Self {
        Self {
            data,
            output,
            quiet,
            stdout: Box::new(std::io::stdout().lock()),
        }
    }

    /// True when results should be JSON.
    pub fn json(&self) -> bool {
        self.output == Output::Json
    }

    /// Print a result: `json` as one document with `-o json`, else `text`.
    ///
    /// # Errors
    /// Output errors.
    pub fn emit(&mut self, json: &serde_json::Value, text: &str) -> Result<(), CliError> {
        match self.output {
            Output::Json => writeln!(self.stdout, "{json}")?,
            Output::Text => {
                write!(self.stdout, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(self.stdout)?;
                }
            }
        }
        self.stdout.flush()?;
        Ok(())
    }

    /// Report an error (stderr, and a JSON document on stdout with `-o json`)
    /// and return its exit code.
    pub fn fail(&mut self, error: &CliError) -> ExitCode {
        eprintln!("strand: error: {error}");
        if self.json() {
            let doc = serde_json::json!({ "error": error.to_string() });
            let _ = writeln!(self.stdout, "{doc}");
            let _ = self.stdout.flush();
        }
        ExitCode::from(error.exit_code())
    }

    /// True when a progress bar may be drawn: stderr is a terminal and not `-q`.
    pub fn progress_enabled(&self) -> bool {
        use std::io::IsTerminal;
        !self.quiet && std::io::stderr().is_terminal()
    }
}
