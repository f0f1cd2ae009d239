//! One file per subcommand. Each returns its exit code; [`main`] maps errors to 2.

pub mod analyze;
pub mod exchanges;
pub mod replay;
pub mod serve;
pub mod timeline;
pub mod tokens;

use crate::cli::{Cli, Command, InputArgs};
use crate::ingest::{self, IngestOptions};
use crate::model::Capture;
use clap::Parser;
use std::io::Write;

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Parse arguments, run the command, return the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match &cli.command {
        Command::Analyze(a) => analyze::run(a, &mut out),
        Command::Exchanges(a) => exchanges::run(a, &mut out),
        Command::Tokens(a) => tokens::run(a, &mut out),
        Command::Timeline(a) => timeline::run(a, &mut out),
        Command::Replay(a) => replay::run(a, &mut out),
        Command::Serve(a) => serve::run(a, &mut out),
    };
    let flushed = out.flush();
    match result {
        Ok(code) => {
            if let Err(e) = flushed {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("harken: error: {e}");
                    return EXIT_ERROR;
                }
            }
            code
        }
        Err(e) => {
            if is_broken_pipe(&e) {
                return EXIT_OK;
            }
            eprintln!("harken: error: {e:#}");
            EXIT_ERROR
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Read the inputs. Inputs that could not be read (to the end) are reported on stderr, and the
/// returned flag is true; everything that was read is in the capture.
pub fn load(args: &InputArgs, opts: IngestOptions) -> (Capture, bool) {
    let capture = ingest::load(&args.files, opts);
    let failed = report_errors(&capture.inputs);
    (capture, failed)
}

/// Say on stderr which inputs could not be read (to the end); true if any.
pub fn report_errors(inputs: &[crate::model::Input]) -> bool {
    let mut failed = false;
    for input in inputs {
        if let Some(err) = &input.error {
            eprintln!("harken: error: {}", crate::redact::escape(err));
            failed = true;
        }
    }
    failed
}

/// The exit code for a run that had (or not) unreadable inputs.
pub fn code(failed: bool) -> i32 {
    if failed {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
