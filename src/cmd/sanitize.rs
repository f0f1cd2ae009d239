//! `harken sanitize`: write a HAR 1.2 that can be shared (see [`crate::sanitize`]).

use super::{report_errors, EXIT_ERROR, EXIT_OK};
use crate::cli::SanitizeArgs;
use crate::ingest::{self, BodyPolicy, IngestOptions};
use crate::sanitize::{self, pseudo, Options};
use std::io::Write;

pub fn run(a: &SanitizeArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let key = match &a.key {
        Some(k) if k.is_empty() => {
            anyhow::bail!("--key is empty; give a secret string, or leave --key out for a random one")
        }
        Some(k) => k.clone(),
        None => {
            let k = pseudo::random_key()?;
            eprintln!(
                "harken: sanitize key (shown once; pass it as --key to sanitize more captures with the same pseudonyms): {k}"
            );
            k
        }
    };
    // Everything is kept: a shared capture should hold every body the source had.
    let capture = ingest::load(&a.files, IngestOptions { bodies: BodyPolicy::All, ..Default::default() });
    let failed = report_errors(&capture.inputs);
    let unrecorded = capture.exchanges.iter().filter(|e| !e.unrecorded.is_empty()).count();
    if unrecorded > 0 {
        eprintln!(
            "harken: warning: {unrecorded} exchange(s) come from access logs, which never record headers, bodies or \
             credentials; HAR cannot say so, so analysing the sanitized HAR may report missing credentials the log \
             simply did not record"
        );
    }
    let result = sanitize::sanitize(&capture, &Options { key: key.into_bytes(), pii: a.pii })?;
    if a.output.as_os_str() == "-" {
        out.write_all(&result.bytes)?;
    } else {
        std::fs::write(&a.output, &result.bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.output.display()))?;
    }
    let s = &result.summary;
    eprintln!(
        "harken: wrote {} entries to {}; replaced {} distinct value(s):",
        s.entries,
        crate::redact::escape(&a.output.display().to_string()),
        s.distinct
    );
    if s.counts.is_empty() {
        eprintln!("  (nothing: no credential, cookie or secret was found)");
    }
    for (kind, n) in &s.counts {
        eprintln!("  {n:>6}  {kind}");
    }
    eprintln!(
        "harken: self-scan: none of the {} original secret(s) of {}+ characters is left in the output",
        s.scanned,
        sanitize::MIN_SWEEP
    );
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}
