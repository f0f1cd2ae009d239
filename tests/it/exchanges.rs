//! `harken exchanges` and the CLI contract: filters, formats, merging, exit codes.

#[allow(unused_imports)]
use crate::common::*;
