//! The polars engine (cargo feature `polars`): batches of records become `DataFrame`s folded
//! into the running aggregate with the lazy API (`group_by` the dimensions and the latency
//! bucket, `sum` the counts, `max` the latency). The aggregate is exactly what
//! `harken stats --format parquet` writes.

use super::{bucket, columns, counts_of, Dim, GroupStats, Record, BATCH, COUNTS};
use anyhow::bail;
use polars::prelude::*;

/// The columns of one batch, filled row by row.
struct Batch {
    keys: Vec<Vec<Option<String>>>,
    bucket: Vec<Option<i32>>,
    counts: [Vec<i64>; 9],
    latency: Vec<Option<i64>>,
}

impl Batch {
    fn new(dims: usize) -> Batch {
        Batch { keys: vec![Vec::new(); dims], bucket: Vec::new(), counts: Default::default(), latency: Vec::new() }
    }

    fn len(&self) -> usize {
        self.bucket.len()
    }

    fn push(&mut self, r: Record) {
        let flags = counts_of(&r);
        for (col, k) in self.keys.iter_mut().zip(r.keys) {
            col.push(k);
        }
        for (col, v) in self.counts.iter_mut().zip(flags) {
            col.push(v);
        }
        self.bucket.push(r.latency_us.map(bucket::of_us));
        self.latency.push(r.latency_us);
    }

    fn frame(&mut self, dims: &[Dim]) -> PolarsResult<DataFrame> {
        let names = columns(dims);
        let mut cols: Vec<Column> = Vec::with_capacity(names.len());
        let mut name = names.iter();
        for k in std::mem::take(&mut self.keys) {
            cols.push(Series::new(next(&mut name).into(), k).into_column());
        }
        self.keys = vec![Vec::new(); dims.len()];
        cols.push(Series::new(next(&mut name).into(), std::mem::take(&mut self.bucket)).into_column());
        for c in self.counts.iter_mut() {
            cols.push(Series::new(next(&mut name).into(), std::mem::take(c)).into_column());
        }
        cols.push(Series::new(next(&mut name).into(), std::mem::take(&mut self.latency)).into_column());
        DataFrame::new_infer_height(cols)
    }
}

fn next(it: &mut std::slice::Iter<'_, String>) -> String {
    it.next().cloned().unwrap_or_default()
}

/// Folds records into a [`Partial`], one batch at a time.
pub struct Aggregator {
    dims: Vec<Dim>,
    batch: Batch,
    acc: Option<DataFrame>,
}

impl Aggregator {
    pub fn new(dims: &[Dim]) -> Aggregator {
        Aggregator { dims: dims.to_vec(), batch: Batch::new(dims.len()), acc: None }
    }

    pub fn push(&mut self, r: Record) -> anyhow::Result<()> {
        self.batch.push(r);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> PolarsResult<()> {
        if self.batch.len() == 0 {
            return Ok(());
        }
        let df = self.batch.frame(&self.dims)?;
        let mut frames = vec![df.lazy()];
        if let Some(acc) = self.acc.take() {
            frames.push(acc.lazy());
        }
        self.acc = Some(reaggregate(frames, &self.dims)?);
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<Partial> {
        self.flush()?;
        let df = match self.acc {
            Some(df) => df,
            None => Partial::empty_frame(&self.dims)?,
        };
        Ok(Partial { dims: self.dims, df })
    }
}

/// Concatenate partial frames (same columns) and aggregate them again: counts add, maxima
/// take the max. Associative and commutative, so the order of shards does not matter.
fn reaggregate(frames: Vec<LazyFrame>, dims: &[Dim]) -> PolarsResult<DataFrame> {
    let mut keys: Vec<Expr> = dims.iter().map(|d| col(d.name())).collect();
    keys.push(col("latency_bucket"));
    let mut aggs: Vec<Expr> = COUNTS.iter().map(|c| col(*c).sum()).collect();
    aggs.push(col("latency_max_us").max());
    concat(frames, UnionArgs::default())?.group_by(keys).agg(aggs).collect()
}

/// Aggregated statistics, one row per (group, latency bucket): what `--format parquet` writes.
pub struct Partial {
    pub dims: Vec<Dim>,
    pub df: DataFrame,
}

impl Partial {
    fn empty_frame(dims: &[Dim]) -> PolarsResult<DataFrame> {
        let mut b = Batch::new(dims.len());
        b.frame(dims)
    }

    /// Merge partials with the same dimensions (e.g. one per input read in parallel).
    pub fn merge(parts: Vec<Partial>) -> anyhow::Result<Partial> {
        let mut it = parts.into_iter();
        let Some(first) = it.next() else { bail!("no statistics to merge") };
        let dims = first.dims.clone();
        let mut frames = vec![first.df.lazy()];
        for p in it {
            if p.dims != dims {
                bail!("statistics with different dimensions cannot be merged");
            }
            frames.push(p.df.lazy());
        }
        if frames.len() == 1 {
            return Ok(Partial { dims, df: frames.remove(0).collect()? });
        }
        Ok(Partial { df: reaggregate(frames, &dims)?, dims })
    }

    /// The same statistics grouped by fewer dimensions (`keep`, a subset of `dims`, in its
    /// order); `&[]` gives the grand total.
    pub fn rollup(&self, keep: &[Dim]) -> anyhow::Result<Partial> {
        if let Some(d) = keep.iter().find(|d| !self.dims.contains(d)) {
            bail!("cannot roll up by {}: not a dimension of these statistics", d.name());
        }
        let mut sel: Vec<Expr> = keep.iter().map(|d| col(d.name())).collect();
        sel.push(col("latency_bucket"));
        sel.extend(COUNTS.iter().map(|c| col(*c)));
        sel.push(col("latency_max_us"));
        let df = reaggregate(vec![self.df.clone().lazy().select(sel)], keep)?;
        Ok(Partial { dims: keep.to_vec(), df })
    }

    /// Per-group totals, rates and percentiles.
    pub fn finish(&self) -> anyhow::Result<Vec<GroupStats>> {
        let df = &self.df;
        let key_cols: Vec<&StringChunked> =
            self.dims.iter().map(|d| df.column(d.name()).and_then(|c| c.str())).collect::<PolarsResult<_>>()?;
        let bucket = df.column("latency_bucket")?.i32()?;
        let counts: Vec<&Int64Chunked> =
            COUNTS.iter().map(|c| df.column(c).and_then(|c| c.i64())).collect::<PolarsResult<_>>()?;
        let lmax = df.column("latency_max_us")?.i64()?;
        let rows = (0..df.height()).map(|i| {
            let keys: Vec<Option<String>> = key_cols.iter().map(|c| c.get(i).map(str::to_string)).collect();
            let mut c = [0i64; 9];
            for (slot, col) in c.iter_mut().zip(&counts) {
                *slot = col.get(i).unwrap_or(0);
            }
            (keys, bucket.get(i), c, lmax.get(i))
        });
        Ok(super::finish_rows(rows))
    }

    /// The frame as written to Parquet: the dimensions, `latency_bucket`, its bounds in
    /// milliseconds, the counts, `latency_max_ms` (docs/output.md, "Partial statistics").
    pub fn parquet_frame(&self) -> PolarsResult<DataFrame> {
        let mut sel: Vec<Expr> = self.dims.iter().map(|d| col(d.name())).collect();
        sel.push(col("latency_bucket"));
        sel.extend(COUNTS.iter().map(|c| col(*c)));
        sel.push((col("latency_max_us").cast(DataType::Float64) / lit(1000.0)).alias("latency_max_ms"));
        let mut order: Vec<Expr> = self.dims.iter().map(|d| col(d.name())).collect();
        order.push(col("latency_bucket"));
        let n = order.len();
        self.df
            .clone()
            .lazy()
            .select(sel)
            .sort_by_exprs(
                order,
                SortMultipleOptions::default().with_nulls_last(true).with_order_descending_multi(vec![false; n]),
            )
            .collect()
    }
}
