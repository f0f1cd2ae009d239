//! The built-in engine (without the cargo feature `polars`): the same partial statistics in a
//! hash map keyed by (group, latency bucket). Same semantics as the polars engine: counts add,
//! maxima take the max, so partials merge exactly.

use super::{bucket, counts_of, Dim, GroupStats, Record};
use anyhow::bail;
use std::collections::HashMap;

type Key = (Vec<Option<String>>, Option<i32>);

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    counts: [i64; 9],
    latency_max_us: Option<i64>,
}

impl Acc {
    fn add(&mut self, counts: &[i64; 9], lmax: Option<i64>) {
        for (a, b) in self.counts.iter_mut().zip(counts) {
            *a = a.saturating_add(*b);
        }
        self.latency_max_us = match (self.latency_max_us, lmax) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Folds records into a [`Partial`].
pub struct Aggregator {
    dims: Vec<Dim>,
    map: HashMap<Key, Acc>,
}

impl Aggregator {
    pub fn new(dims: &[Dim]) -> Aggregator {
        Aggregator { dims: dims.to_vec(), map: HashMap::new() }
    }

    pub fn push(&mut self, r: Record) -> anyhow::Result<()> {
        let counts = counts_of(&r);
        let b = r.latency_us.map(bucket::of_us);
        self.map.entry((r.keys, b)).or_default().add(&counts, r.latency_us);
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<Partial> {
        Ok(Partial { dims: self.dims, map: self.map })
    }
}

/// Aggregated statistics, one entry per (group, latency bucket).
pub struct Partial {
    pub dims: Vec<Dim>,
    map: HashMap<Key, Acc>,
}

impl Partial {
    /// Merge partials with the same dimensions (e.g. one per input read in parallel).
    pub fn merge(parts: Vec<Partial>) -> anyhow::Result<Partial> {
        let mut it = parts.into_iter();
        let Some(mut first) = it.next() else { bail!("no statistics to merge") };
        for p in it {
            if p.dims != first.dims {
                bail!("statistics with different dimensions cannot be merged");
            }
            for (k, a) in p.map {
                first.map.entry(k).or_default().add(&a.counts, a.latency_max_us);
            }
        }
        Ok(first)
    }

    /// The same statistics grouped by fewer dimensions (`keep`, a subset of `dims`, in its
    /// order); `&[]` gives the grand total.
    pub fn rollup(&self, keep: &[Dim]) -> anyhow::Result<Partial> {
        let mut idx = Vec::with_capacity(keep.len());
        for d in keep {
            match self.dims.iter().position(|x| x == d) {
                Some(i) => idx.push(i),
                None => bail!("cannot roll up by {}: not a dimension of these statistics", d.name()),
            }
        }
        let mut map: HashMap<Key, Acc> = HashMap::new();
        for ((keys, b), a) in &self.map {
            let k: Vec<Option<String>> = idx.iter().map(|&i| keys.get(i).cloned().flatten()).collect();
            map.entry((k, *b)).or_default().add(&a.counts, a.latency_max_us);
        }
        Ok(Partial { dims: keep.to_vec(), map })
    }

    /// Per-group totals, rates and percentiles.
    pub fn finish(&self) -> anyhow::Result<Vec<GroupStats>> {
        Ok(super::finish_rows(self.map.iter().map(|((k, b), a)| (k.clone(), *b, a.counts, a.latency_max_us))))
    }
}
