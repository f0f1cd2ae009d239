//! `harken completions SHELL` and `harken man`: generated from the command line's definition,
//! so they never drift from it.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "harken", out);
    Ok(super::EXIT_OK)
}

pub fn man(out: &mut dyn Write) -> anyhow::Result<i32> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    Ok(super::EXIT_OK)
}
