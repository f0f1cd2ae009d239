//! The `harken` binary: parse the command line, run the command, exit with its code.
//! Exit codes: 0 ok, 1 findings when `--fail-on` asked for it, 2 error.

/// mimalloc, with the largest blocks mapped and grown by the kernel (src/alloc.rs).
#[global_allocator]
static GLOBAL: harken::alloc::Allocator = harken::alloc::Allocator;

fn main() {
    harken::alloc::init();
    std::process::exit(harken::cmd::main());
}
