//! One file per subcommand. Each returns its exit code; [`main`] maps errors to 2.

pub mod analyze;
pub mod completions;
pub mod exchanges;
pub mod export;
pub mod replay;
pub mod report;
pub mod sanitize;
pub mod serve;
pub mod stats;
pub mod timeline;
pub mod tokens;

use crate::cli::{Cli, Command, InputArgs};
use crate::ingest::{self, IngestOptions};
use crate::model::Capture;
use crate::settings::Settings;
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
    // Into a file or a pipe, large writes (an `exchanges` or `analyze` output of gigabytes went
    // out 8 KiB per system call); on a terminal, and for the long-running `serve` and `replay`
    // (which print as they go), the default.
    let streaming = matches!(cli.command, Command::Serve(_) | Command::Replay(_));
    let capacity = if streaming || std::io::IsTerminal::is_terminal(&stdout) { 8 * 1024 } else { 256 * 1024 };
    let mut out = std::io::BufWriter::with_capacity(capacity, stdout.lock());
    // Settings first: a wrong flag fails (exit 2) before any input is read.
    let color = cli.color;
    let result = match &cli.command {
        Command::Analyze(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| analyze::run(a, &s, &mut out)),
        Command::Exchanges(a) => {
            Settings::new(&a.input, &a.shared, color).and_then(|s| exchanges::run(a, &s, &mut out))
        }
        Command::Tokens(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| tokens::run(a, &s, &mut out)),
        Command::Timeline(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| timeline::run(a, &s, &mut out)),
        Command::Sanitize(a) => sanitize::run(a, &mut out),
        Command::Report(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| report::run(a, &s, &mut out)),
        Command::Replay(a) => replay::run(a, crate::settings::color_enabled(color), &mut out),
        Command::Serve(a) => serve::run(a, &mut out),
        Command::Stats(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| stats::run(a, &s, &mut out)),
        Command::Export(a) => Settings::new(&a.input, &a.shared, color).and_then(|s| export::run(a, &s, &mut out)),
        Command::Completions { shell } => completions::completions(*shell, &mut out),
        Command::Man => completions::man(&mut out),
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

/// Whether the error is a closed stdout (`harken … | head -1`): that ends the run quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
            || c.downcast_ref::<csv::Error>()
                .is_some_and(|c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe))
    })
}

/// Read the inputs. Inputs that could not be read (to the end) are reported on stderr, and the
/// returned flag is true; everything that was read is in the capture.
pub fn load(args: &InputArgs, opts: IngestOptions) -> (Capture, bool) {
    let capture = ingest::load(&args.files, opts);
    let failed = report_errors(&capture.inputs);
    (capture, failed)
}

pub use crate::settings::report_errors;

/// The exit code for a run that had (or not) unreadable inputs.
pub fn code(failed: bool) -> i32 {
    if failed {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
