//! The `strand` command line. See `strand --help` and DESIGN.md's CLI contract.

use std::process::ExitCode;

fn main() -> ExitCode {
    strand::cli::main()
}
