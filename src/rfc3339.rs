//! Times written as chrono's `Serialize` writes a `DateTime<Utc>`, faster: the rows of
//! `tokens`, findings and the timeline name [`serialize`] and [`serialize_opt`] in
//! `#[serde(serialize_with = ...)]`. A leaf module (chrono and serde only), so the rows of any
//! module may use it.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Serialize a time exactly as chrono's `Serialize` for `DateTime<Utc>` writes it (RFC 3339,
/// `AutoSi`: no fraction or 3, 6 or 9 digits; `Z`), built in a stack buffer and handed over
/// as one string: chrono's formatter writes it in a dozen small pieces, each through the
/// escaping writer (3% of `analyze --format json` on the 1 GB HAR, one token row per
/// request). Years outside 0..=9999 and leap seconds take chrono's own path.
pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match auto_si(t, &mut buf) {
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => t.serialize(s),
    }
}

/// [`serialize`] for an optional time (`#[serde(serialize_with = ...)]`): `None` as
/// chrono's `Option` writes it.
pub fn serialize_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    struct Time<'a>(&'a DateTime<Utc>);
    impl Serialize for Time<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self.0, s)
        }
    }
    match t {
        Some(t) => s.serialize_some(&Time(t)),
        None => s.serialize_none(),
    }
}

/// `2024-05-01T12:00:00.123Z` into `buf`: its length, or `None` where chrono's path is needed.
fn auto_si(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, v: u32, digits: usize| {
        let mut v = v;
        for k in (at..at + digits).rev() {
            buf[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    let (frac, digits) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1000) {
        (nanos / 1000, 6)
    } else {
        (nanos, 9)
    };
    if digits > 0 {
        put(20, frac, digits);
    }
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    let mut n = 19;
    if digits > 0 {
        buf[19] = b'.';
        n = 20 + digits;
    }
    buf[n] = b'Z';
    Some(n + 1)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    #[test]
    fn serialize_time_is_chronos_serialize() {
        // Every fraction form, both ends of the fast path's years, a leap second, and years
        // chrono writes with a sign; through serde_json as a value and inside an option.
        let base = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap();
        let mut times: Vec<DateTime<Utc>> =
            [0i64, 1, 10, 999, 1000, 1_000_000, 120_000_000, 999_999_999, 1_500_000_000]
                .iter()
                .map(|n| base + chrono::Duration::nanoseconds(*n))
                .collect();
        times.push(DateTime::UNIX_EPOCH);
        times.push(DateTime::UNIX_EPOCH - chrono::Duration::milliseconds(500));
        times.push(Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::nanoseconds(7));
        times.push(Utc.with_ymd_and_hms(12000, 5, 6, 7, 8, 9).unwrap());
        times.push(Utc.with_ymd_and_hms(-3, 5, 6, 7, 8, 9).unwrap());
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_250_000_000);
        times.push(leap.unwrap().and_utc());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 400_000_000_000) as i64 - 62_000_000_000;
            let nanos = [
                0,
                (x >> 40) as u32 % 1000 * 1_000_000,
                (x >> 40) as u32 % 1_000_000 * 1000,
                (x >> 34) as u32 % 1_000_000_000,
            ][(x >> 60) as usize % 4];
            times.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        struct Via<'a>(&'a Option<DateTime<Utc>>);
        impl serde::Serialize for Via<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::serialize_opt(self.0, s)
            }
        }
        for t in times {
            let chrono = serde_json::to_string(&t).unwrap();
            let mut ours = Vec::new();
            super::serialize(&t, &mut serde_json::Serializer::new(&mut ours)).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), chrono, "{t:?}");
            assert_eq!(serde_json::to_string(&Via(&Some(t))).unwrap(), chrono);
        }
        assert_eq!(serde_json::to_string(&Via(&None)).unwrap(), "null");
    }
}
