//! Parquet output (polars-io's writer): whole frames, or frames written batch by batch into one
//! file. Zstandard-compressed, column statistics on; every file carries the key-value metadata
//! its caller names (the schema version, docs/output.md). Parquet is binary: it is written to a
//! file, or to standard output only when that is not a terminal.

use polars::prelude::{DataFrame, Schema};
use polars_io::parquet::write::{BatchedWriter, KeyValueMetadata, ParquetWriter};
use std::io::Write;

fn metadata(meta: &[(&str, &str)]) -> Option<KeyValueMetadata> {
    (!meta.is_empty())
        .then(|| KeyValueMetadata::from_static(meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
}

/// Write one frame as one Parquet file.
pub fn write<W: Write>(out: W, df: &mut DataFrame, meta: &[(&str, &str)]) -> anyhow::Result<()> {
    ParquetWriter::new(out).with_key_value_metadata(metadata(meta)).finish(df)?;
    Ok(())
}

/// A Parquet file written in batches (one row group per batch).
pub struct Batched<W: Write> {
    writer: BatchedWriter<W>,
}

impl<W: Write> Batched<W> {
    pub fn new(out: W, schema: &Schema, meta: &[(&str, &str)]) -> anyhow::Result<Self> {
        let writer = ParquetWriter::new(out).with_key_value_metadata(metadata(meta)).batched(schema)?;
        Ok(Batched { writer })
    }

    pub fn write(&mut self, df: &DataFrame) -> anyhow::Result<()> {
        self.writer.write_batch(df)?;
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<()> {
        self.writer.finish()?;
        Ok(())
    }
}
