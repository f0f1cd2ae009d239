//! `harken serve`: answer HTTP requests with the captured responses, in captured order.

use super::{code, load};
use crate::cli::{Latency, ServeArgs};
use crate::ingest::{BodyPolicy, IngestOptions};
use crate::replay::server::{self, ServeOptions};
use anyhow::{bail, Context};
use std::io::Write;

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
