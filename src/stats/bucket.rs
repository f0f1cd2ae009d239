//! Fixed logarithmic latency buckets, the same on every machine, so that partial statistics
//! from many shards add up exactly and percentiles can be recomputed from the merged buckets.
//!
//! Latencies are counted in whole microseconds. Bucket `b` (`b >= 1`) holds latencies `us` with
//! `2^((b-1)/16) <= us < 2^(b/16)`, i.e. `b = floor(16 * log2(us)) + 1`; bucket 0 holds `us = 0`.
//! Consecutive bounds differ by a factor 2^(1/16) (4.4%), so a bucket is at most 4.4% wide,
//! and one hour is bucket 508. The numbering is part of the Parquet contract (docs/output.md,
//! `latency_bucket`): never change it without bumping the stats schema version.

/// Buckets per doubling.
pub const PER_OCTAVE: i32 = 16;

/// Relative width of a bucket: `2^(1/16) - 1`.
pub const WIDTH: f64 = 0.044_273_782_427_413_84;

/// The bucket of a latency in microseconds.
pub fn of_us(us: i64) -> i32 {
    if us <= 0 {
        return 0;
    }
    // Exact on bucket bounds: start from the float estimate, then correct with integer checks.
    let mut b = ((us as f64).log2() * PER_OCTAVE as f64).floor() as i32 + 1;
    while b > 1 && lower_us(b) > us as f64 {
        b -= 1;
    }
    while lower_us(b + 1) <= us as f64 {
        b += 1;
    }
    b
}

/// Lower bound (inclusive) of a bucket, in microseconds.
pub fn lower_us(b: i32) -> f64 {
    if b <= 0 {
        0.0
    } else {
        2f64.powf((b - 1) as f64 / PER_OCTAVE as f64)
    }
}

/// Upper bound (exclusive) of a bucket, in microseconds.
pub fn upper_us(b: i32) -> f64 {
    if b < 0 {
        0.0
    } else {
        2f64.powf(b as f64 / PER_OCTAVE as f64)
    }
}

/// A latency in milliseconds (as the model keeps it) as whole microseconds; `None` for values
/// that are not a duration (negative, NaN, infinite).
pub fn ms_to_us(ms: f64) -> Option<i64> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    let us = (ms * 1000.0).round();
    (us < i64::MAX as f64).then_some(us as i64)
}

/// The nearest-rank percentile from bucket counts sorted by bucket: the maximum latency seen in
/// the bucket holding the value of rank `ceil(permille * n / 1000)` (integer arithmetic, as SQL's
/// `ceil(0.90 * n)` on decimals). It is an observed latency, never below the exact percentile
/// and at most one bucket (4.4%) above it. `buckets` are `(bucket, count, max_us)`; returns
/// microseconds.
pub fn percentile(buckets: &[(i32, i64, i64)], permille: i64) -> Option<i64> {
    let n: i64 = buckets.iter().map(|b| b.1).sum();
    if n <= 0 {
        return None;
    }
    let rank = (permille.saturating_mul(n).saturating_add(999) / 1000).clamp(1, n);
    let mut seen = 0;
    for &(_, count, max) in buckets {
        seen += count;
        if seen >= rank {
            return Some(max);
        }
    }
    buckets.last().map(|b| b.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_consistent() {
        assert_eq!(of_us(0), 0);
        assert_eq!(of_us(1), 1);
        assert_eq!(of_us(2), 17);
        assert_eq!(of_us(4), 33);
        for us in [1i64, 2, 3, 7, 100, 999, 1000, 1001, 65_536, 3_600_000_000, i64::MAX / 2] {
            let b = of_us(us);
            assert!(lower_us(b) <= us as f64 && (us as f64) < upper_us(b), "{us} in {b}");
        }
        assert_eq!(of_us(3_600_000_000), 508);
        assert!((upper_us(10) / lower_us(10) - 1.0 - WIDTH).abs() < 1e-12);
    }

    #[test]
    fn percentile_is_an_observed_value_within_a_bucket() {
        let mut values: Vec<i64> = (1..=1000).map(|i| i * 137 % 100_003).collect();
        let mut b: std::collections::BTreeMap<i32, (i64, i64)> = Default::default();
        for &v in &values {
            let e = b.entry(of_us(v)).or_insert((0, 0));
            e.0 += 1;
            e.1 = e.1.max(v);
        }
        let buckets: Vec<(i32, i64, i64)> = b.into_iter().map(|(k, (c, m))| (k, c, m)).collect();
        values.sort();
        for p in [500, 900, 990, 1000] {
            let exact = values[(p as usize).clamp(1, 1000) - 1];
            let got = percentile(&buckets, p).unwrap();
            assert!(got >= exact && got as f64 <= exact as f64 * (1.0 + WIDTH), "p{p}: {got} vs {exact}");
        }
        assert_eq!(percentile(&buckets, 1000), Some(*values.last().unwrap()));
        assert_eq!(percentile(&[], 500), None);
    }

    #[test]
    fn ms_conversion() {
        assert_eq!(ms_to_us(1.5), Some(1500));
        assert_eq!(ms_to_us(-1.0), None);
        assert_eq!(ms_to_us(f64::NAN), None);
    }
}
