//! Credential uses folded as exchanges are read: one record per distinct credential value, not
//! one per request, so the analysis does not keep the exchanges to count them.
//!
//! Uses arrive in any order (inputs and batches are read in parallel). Everything a use adds
//! to its token is either order-free (counts, first and last use) or kept with the position
//! of the use that added it (`(time, origin, n-th credential of the request)`, the order of a
//! pass over the capture sorted by time), so [`Uses::apply`] gives the [`TokenIndex`] exactly
//! what counting each use in capture order would: the same tokens, in the same order, with the
//! same carriers, regions, malformations and client ids.

use super::{jwt, Credential, CredentialKind, TokenIndex};
use crate::intern::{Str, Strs};
use crate::model::Exchange;
use crate::names::Names;
use crate::redact::FingerprintKeys;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a use stands in capture order: request start, input, entry, n-th credential of the
/// request (an input and entry name one exchange). 32 bytes: one is kept for the first use,
/// and for each carrier and region, of every distinct value.
type Pos = (DateTime<Utc>, u32, u64, u32);

/// A few values, the first inline: nearly every credential travels in one carrier to one
/// region, so most records need no allocation of their own.
#[derive(Default)]
struct Few<T> {
    first: Option<T>,
    rest: Vec<T>,
}

impl<K: PartialEq> Few<(Pos, K)> {
    /// Note a use of `k` at `at`: keep its earliest.
    fn first_at(&mut self, at: Pos, k: K) {
        if let Some((p, _)) = self.first.iter_mut().chain(self.rest.iter_mut()).find(|(_, x)| *x == k) {
            if at < *p {
                *p = at;
            }
        } else if self.first.is_none() {
            self.first = Some((at, k));
        } else {
            self.rest.push((at, k));
        }
    }
}

impl<T: Ord> Few<T> {
    /// In order; no allocation for one value (nearly always).
    fn into_sorted(self) -> impl Iterator<Item = T> {
        let (mut first, mut rest) = (self.first, self.rest);
        if !rest.is_empty() {
            rest.extend(first.take());
            rest.sort();
        }
        first.into_iter().chain(rest)
    }
}

/// Every use of one credential value. Kept for each distinct value while the capture is
/// read, so it holds no allocation of its own in the common case: the fingerprint as a
/// number, the carriers by their number in [`Uses::carriers`].
struct Agg {
    /// The fingerprint as a number ([`FingerprintKeys`]).
    key: u64,
    /// The first use (any, counted or not): where a pass in capture order creates the token.
    first: Pos,
    /// The kind and value of that first use.
    kind: CredentialKind,
    secret: String,
    guest: bool,
    shape: Option<Arc<jwt::Shape>>,
    /// Carriers (by number) and regions with their first use, in no order until
    /// [`Uses::apply`].
    carriers: Few<(Pos, u32)>,
    regions: Few<(Pos, &'static str)>,
    uses: usize,
    refused: usize,
    first_use: Option<DateTime<Utc>>,
    last_use: Option<DateTime<Utc>>,
    /// The earliest counted use that said the value is malformed (boxed: rare, and one
    /// record per distinct value adds up).
    malformed: Option<Box<(Pos, String)>>,
    /// The earliest counted Basic use with a user name (the client id of a token request).
    principal: Option<Box<(Pos, String)>>,
}

/// Credential uses, folded.
#[derive(Default)]
pub struct Uses {
    /// Drop a value once its shape is known (no output will show it).
    forget: bool,
    by_key: crate::redact::ByFingerprint<usize>,
    all: Vec<Agg>,
    /// Carrier names by number (a capture has a handful: `authorization: bearer`, …).
    carriers: Names,
    fps: FingerprintKeys,
}

/// `n` as a u32, saturated (positions past 2^32 are not reached: each is an allocation).
fn sat(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn earlier<T>(slot: &mut Option<Box<(Pos, T)>>, at: Pos, v: impl FnOnce() -> T) {
    if slot.as_ref().is_none_or(|b| at < b.0) {
        *slot = Some(Box::new((at, v())));
    }
}

impl Uses {
    /// `forget`: values are not kept once their shape is known (outputs without
    /// `--show-secrets` and without `--jwks`).
    pub fn new(forget: bool) -> Uses {
        Uses { forget, ..Default::default() }
    }

    /// Fold the credentials one request carried ([`super::request_credentials`], in order),
    /// sent to a host of Genesys region `region`.
    pub fn observe(&mut self, ex: &Exchange, creds: &[Credential], region: Option<&'static str>) {
        let refused = matches!(ex.status(), Some(401 | 403));
        for (n, c) in creds.iter().enumerate() {
            let at: Pos = (ex.started, sat(ex.origin.input), ex.origin.index as u64, sat(n));
            // The same value in two places of one request is one use, with both carriers.
            let count = !creds[..n].iter().any(|p| p.fingerprint == c.fingerprint);
            let key = self.fps.key(&c.fingerprint);
            let carrier = self.carriers.id(&c.carrier);
            let i = match self.by_key.get(&key) {
                Some(&i) => i,
                None => {
                    self.by_key.insert(key, self.all.len());
                    self.all.push(Agg {
                        key,
                        first: at,
                        kind: c.kind,
                        secret: String::new(),
                        guest: false,
                        shape: None,
                        carriers: Few::default(),
                        regions: Few::default(),
                        uses: 0,
                        refused: 0,
                        first_use: None,
                        last_use: None,
                        malformed: None,
                        principal: None,
                    });
                    self.all.len() - 1
                }
            };
            let a = &mut self.all[i];
            if at < a.first {
                a.first = at;
                a.kind = c.kind;
            }
            a.guest |= c.kind == CredentialKind::GuestJwt;
            if a.shape.is_none() {
                a.shape.clone_from(&c.shape);
            }
            // The value is needed when no shape says what it is (opaque tokens, cookies,
            // keys: the index reads them at the end) or an output shows it.
            if a.shape.is_some() && self.forget {
                a.secret = String::new();
            } else if a.secret.is_empty() {
                a.secret.clone_from(&c.secret);
            }
            a.carriers.first_at(at, carrier);
            if !count {
                continue;
            }
            a.uses += 1;
            a.refused += refused as usize;
            if a.first_use.is_none_or(|f| ex.started < f) {
                a.first_use = Some(ex.started);
            }
            if a.last_use.is_none_or(|l| ex.started > l) {
                a.last_use = Some(ex.started);
            }
            if let Some(m) = &c.malformed {
                earlier(&mut a.malformed, at, || m.clone());
            }
            if let Some(r) = region {
                a.regions.first_at(at, r);
            }
            if c.kind == CredentialKind::Basic {
                if let Some(p) = &c.principal {
                    earlier(&mut a.principal, at, || p.clone());
                }
            }
        }
    }

    /// Add every use to the index (after [`super::learn::learn`]), the values in order of
    /// their first use.
    pub(super) fn apply(mut self, idx: &mut TokenIndex) {
        let mut all = std::mem::take(&mut self.all);
        // Not needed past this point; the index's own map is made whole at once (growing it
        // by doubling holds both tables for a moment).
        self.by_key = Default::default();
        idx.by_fp.reserve(all.len());
        // Latest first, taken from the end: the records give their memory back as the tokens
        // take theirs (both at once were the peak of a capture with hundreds of thousands of
        // tokens), an eighth at a time while the vector stays mapped (src/alloc.rs: shrinking
        // it unmaps its tail, no copy). Below [`crate::alloc::MAPPED`] bytes the records stay
        // where they are: shrinking there copies them (mimalloc shrinks by copying, and so
        // does leaving the mapped side), into fresh pages the kernel zeroes first; by halves
        // that was 0.1 s of the one thread on the 1 GB HAR (28 MB of records). What the
        // records held is given back on the same cadence, by halves below that size.
        // Positions are distinct: the order is that of their first use.
        all.sort_unstable_by_key(|a| std::cmp::Reverse(a.first));
        idx.tokens.reserve_exact(all.len());
        let mut alone: HashMap<u32, Strs> = HashMap::new();
        let record = std::mem::size_of::<Agg>();
        let mut mark = all.len();
        while let Some(mut a) = all.pop() {
            let stays_mapped = all.len().saturating_mul(record) >= crate::alloc::MAPPED;
            let slack = if stays_mapped { mark / 8 } else { mark / 2 };
            if mark > 4096 && all.len() < mark - slack {
                if stays_mapped {
                    all.shrink_to_fit();
                }
                // What the records held was allocated by the threads that read the capture:
                // given back, not kept in their heaps.
                crate::alloc::release();
                mark = all.len();
            }
            let fingerprint = self.fps.text(a.key);
            let i = idx.entry_index(&fingerprint, &a.secret, a.kind);
            if a.guest {
                // What `entry_index` does for each guest use.
                idx.entry_index(&fingerprint, &a.secret, CredentialKind::GuestJwt);
            }
            let forget = idx.forget;
            let t = &mut idx.tokens[i];
            if t.shape.is_none() && t.jwt.is_none() && a.shape.is_some() {
                t.shape = a.shape.take();
                if forget {
                    // finish() reads the shape, not the value.
                    t.secret = String::new();
                }
            }
            // One shared list for every token that travelled the same ways; a new token that
            // travelled one way (nearly all) takes the list made for the first such token.
            match (&a.carriers.first, a.carriers.rest.is_empty()) {
                (Some((_, c)), true) if t.carriers.is_empty() => {
                    let text = self.carriers.text(*c);
                    t.carriers = alone.entry(*c).or_insert_with(|| Strs::interned([text])).clone();
                }
                _ => {
                    let mut carriers: Vec<&str> = t.carriers.iter().map(Str::as_str).collect();
                    let known = carriers.len();
                    for (_, c) in a.carriers.into_sorted() {
                        let c = self.carriers.text(c);
                        if !carriers.contains(&c) {
                            carriers.push(c);
                        }
                    }
                    if carriers.len() > known {
                        t.carriers = Strs::interned(carriers);
                    }
                }
            }
            t.uses += a.uses;
            t.refused += a.refused;
            if let Some(f) = a.first_use {
                if t.first_use.is_none_or(|x| f < x) {
                    t.first_use = Some(f);
                }
            }
            if let Some(l) = a.last_use {
                if t.last_use.is_none_or(|x| l > x) {
                    t.last_use = Some(l);
                }
            }
            if let (None, Some(m)) = (&t.rare().malformed, a.malformed) {
                t.rare_mut().malformed = Some(m.1);
            }
            for (_, r) in a.regions.into_sorted() {
                if !t.used_regions.contains(&r) {
                    t.used_regions.push(r);
                }
            }
            if t.client_id.is_none() {
                t.client_id = a.principal.map(|b| Str::interned(&b.1));
            }
        }
    }
}
