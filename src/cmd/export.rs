//! `harken export`: the tables `exchanges`, `findings`, `tokens` and `events` as hive-partitioned
//! Parquet (or CSV / NDJSON) files for DuckDB, Spark or pandas. Schema: docs/output.md.

use super::code;
use crate::analysis;
pub use crate::cli::{ExportArgs, ExportFormat};
use crate::ingest::IngestOptions;
use crate::report;
use crate::settings::Settings;
use crate::stats::export::{self, SCHEMA_VERSION};
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

impl ExportFormat {
    fn ext(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

/// The file name of one run's part in each partition: the same inputs give the same name (a
/// rerun replaces its files), different shards add files side by side.
fn part_name(files: &[PathBuf], ext: &str) -> String {
    let mut h = Sha256::new();
    for f in files {
        let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        h.update(abs.display().to_string().as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let hex: String = d.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("part-{hex}.{ext}")
}

pub fn run(a: &ExportArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    if cfg!(not(feature = "polars")) && a.format == ExportFormat::Parquet {
        anyhow::bail!("{}", super::stats::NO_PARQUET.replace("json or csv", "csv or ndjson"));
    }
    let (capture, failed) = s.load(IngestOptions::default());
    let analysis = analysis::run(&capture, &s.analysis);
    let name = part_name(&a.input.files, a.format.ext());
    for t in export::tables(&capture, &analysis, &s.analysis.catalog, s.show_secrets, &s.window) {
        let parts = export::partitions(&t, a.partition_host);
        for (dir, rows) in &parts {
            let dir = a.to.join(t.table.name).join(dir);
            std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            let path = dir.join(&name);
            write_part(&path, a.format, &t.table.take(rows), t.table.name)?;
        }
        writeln!(out, "{}: {} rows in {} partitions", t.table.name, t.table.len(), parts.len())?;
    }
    writeln!(
        out,
        "written to {} (schema {SCHEMA_VERSION}, docs/output.md)",
        report::escape::escape(&a.to.display().to_string())
    )?;
    Ok(code(failed))
}

fn write_part(path: &Path, format: ExportFormat, t: &crate::stats::table::Table, table: &str) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    match format {
        #[cfg(feature = "polars")]
        ExportFormat::Parquet => {
            let mut df = t.frame()?;
            report::parquet::write(
                &mut w,
                &mut df,
                &[("harken.export.schema", SCHEMA_VERSION), ("harken.export.table", table)],
            )?;
        }
        #[cfg(not(feature = "polars"))]
        ExportFormat::Parquet => {
            let _ = table;
            anyhow::bail!("{}", super::stats::NO_PARQUET.replace("json or csv", "csv or ndjson"));
        }
        ExportFormat::Csv => {
            let mut c = report::csv::CsvSink::new(&mut w);
            c.record(t.header())?;
            for i in 0..t.len() {
                c.record(t.csv_row(i))?;
            }
            c.flush()?;
        }
        ExportFormat::Ndjson => {
            for i in 0..t.len() {
                report::write_json_line(&mut w, &t.json_row(i))?;
            }
        }
    }
    w.flush().with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}
