//! `captoken`: issue and verify capability tokens from the shell, through the
//! same WebAssembly module that every other captoken host runs.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Nothing is left to report a failure to if stderr is gone too.
            let _ = writeln!(std::io::stderr(), "error: {}: {err}", err.code());
            ExitCode::from(err.exit_code())
        }
    }
}
