//! Replay: re-send captured requests safely ([`client`], planned by [`plan`], routed and
//! allow-listed by [`target`], compared by [`diff`]) and serve captured responses
//! ([`server`]). The async runtime (tokio) lives only inside these two commands.
//!
//! The safety model (docs/replay.md): a dry run by default that opens no socket; only hosts
//! named by `--target`, `--map` or `--allow-host` are contacted, each redirect hop checked;
//! unsafe methods need `--allow-unsafe`; captured credentials are never sent unless
//! `--use-captured-credentials`.

pub mod client;
pub mod diff;
pub mod plan;
pub mod server;
pub mod target;
