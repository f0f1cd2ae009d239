//! `harken serve`: answer HTTP requests with the captured responses, in captured order.

use super::{code, load};
use crate::cli::InputArgs;
use crate::ingest::{BodyPolicy, IngestOptions};
use crate::replay::server::{self, ServeOptions};
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use std::io::Write;

const AFTER_HELP: &str = "\
Requests are matched by method, path and query (parameters in any order). A route answers its
captured responses in captured order and then repeats the last one, so a client run against
it meets the customer's 401 at the same step. Unmatched requests get a 404 whose JSON body
names the closest captured routes. One line is logged per request. Ctrl-C stops it.

Examples:
  harken serve capture.har --listen 127.0.0.1:8080
  curl -i http://127.0.0.1:8080/api/v2/users/me
  harken serve capture.har --listen 127.0.0.1:0 --latency original --ignore-param _";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Latency {
    /// Answer at once.
    None,
    /// Wait the captured response time before answering.
    Original,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ServeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Address to listen on (port 0 picks a free port; the bound address is printed first).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Leave this query parameter out of matching (repeatable), e.g. a cache-buster `_`.
    #[arg(long, value_name = "NAME")]
    pub ignore_param: Vec<String>,

    /// Do not serve this captured response header (repeatable), e.g. set-cookie.
    #[arg(long, value_name = "NAME")]
    pub ignore_header: Vec<String>,

    /// Also match the request body (JSON compared as values, other bodies as bytes).
    #[arg(long)]
    pub match_body: bool,

    /// `original` waits the captured response time before each answer.
    #[arg(long, value_enum, default_value_t = Latency::None)]
    pub latency: Latency,
}

pub fn run(a: &ServeArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let listen: std::net::SocketAddr = a
        .listen
        .parse()
        .with_context(|| format!("--listen {:?}: expected ADDR:PORT, e.g. 127.0.0.1:8080", a.listen))?;
    let (capture, failed) = load(&a.input, IngestOptions { bodies: BodyPolicy::All, ..Default::default() });
    if capture.exchanges.is_empty() {
        bail!("nothing to serve: the inputs hold no exchanges");
    }
    let opts = ServeOptions {
        ignore_params: a.ignore_param.clone(),
        ignore_headers: a.ignore_header.iter().map(|h| h.to_ascii_lowercase()).collect(),
        match_body: a.match_body,
        latency_original: a.latency == Latency::Original,
        show_secrets: a.input.show_secrets,
    };
    server::run(&capture, opts, listen, out)?;
    Ok(code(failed))
}
