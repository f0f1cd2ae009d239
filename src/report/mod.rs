//! Renderers. Each writes to a `&mut dyn Write`; none prints captured text without
//! [`crate::redact::escape`], and none prints a secret unless asked.

pub mod table;

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 with microseconds, UTC (`2024-05-01T12:00:00.123456Z`).
pub fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Short time for tables (`2024-05-01 12:00:00.123`).
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Write one value as a JSON document followed by a newline.
pub fn write_json(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Write one value as one JSON line.
pub fn write_json_line(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}
