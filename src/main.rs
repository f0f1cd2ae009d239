//! The `harken` binary: parse the command line, run the command, exit with its code.
//! Exit codes: 0 ok, 1 findings when `--fail-on` asked for it, 2 error.

/// mimalloc instead of the system allocator: reading builds and drops millions of small strings
/// from several rayon threads, where glibc's malloc spent a quarter of the time (benches/har.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(harken::cmd::main());
}
