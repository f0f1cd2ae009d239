//! The `harken` binary: parse the command line, run the command, exit with its code.
//! Exit codes: 0 ok, 1 findings when `--fail-on` asked for it, 2 error.

fn main() {
    std::process::exit(harken::cmd::main());
}
