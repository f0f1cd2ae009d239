//! Shared strings for what many credentials repeat: issuers, audiences, scopes, algorithms,
//! key ids, client ids, carriers.
//!
//! A large capture holds hundreds of thousands of distinct tokens (one per login), and each
//! says the same few things: the same issuer, audience and scopes, `RS256` and the same key.
//! Kept as a `String` each, those were a dozen small allocations per token, most of the
//! token index's memory (about 1.3 KB a token on the 1 GB benchmark HAR, 220,000 tokens).
//! [`Str`] is a reference-counted string: [`Str::interned`] hands out one copy of each value
//! from a pool, so a token holds pointers. A list of them ([`Strs`]) is pooled the same way,
//! so the scopes of every token granted the same scopes are one allocation.
//!
//! The pools are bounded ([`POOL_LIMIT`] values each): a hostile input with a new issuer on
//! every token stops being pooled once the pool is full (each value is then its own
//! allocation, as before), so a pool never grows with the input beyond that.

use serde::{Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

/// How many values each pool keeps at most (across its shards).
pub const POOL_LIMIT: usize = 1 << 16;

const SHARDS: usize = 8;

/// An immutable, cheaply cloned string; serialized as a plain string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Str(Arc<str>);

/// An immutable, cheaply cloned list of [`Str`]; serialized as a plain list.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Strs(Arc<[Str]>);

struct Pool<T: ?Sized> {
    shards: [Mutex<HashSet<Arc<T>, foldhash::fast::FixedState>>; SHARDS],
}

impl<T: ?Sized + Hash + Eq> Pool<T> {
    fn new() -> Pool<T> {
        Pool { shards: std::array::from_fn(|_| Mutex::new(HashSet::with_hasher(Default::default()))) }
    }

    /// The pooled copy of `v`, made by `make` (and pooled) when new.
    fn get(&self, v: &T, make: impl FnOnce(&T) -> Arc<T>) -> Arc<T> {
        let h = foldhash::fast::FixedState::default().hash_one(v);
        let shard = &self.shards[(h as usize) % SHARDS];
        let Ok(mut set) = shard.lock() else { return make(v) };
        if let Some(a) = set.get(v) {
            return a.clone();
        }
        let a = make(v);
        if set.len() < POOL_LIMIT / SHARDS {
            set.insert(a.clone());
        }
        a
    }
}

fn strings() -> &'static Pool<str> {
    static P: OnceLock<Pool<str>> = OnceLock::new();
    P.get_or_init(Pool::new)
}

fn lists() -> &'static Pool<[Str]> {
    static P: OnceLock<Pool<[Str]>> = OnceLock::new();
    P.get_or_init(Pool::new)
}

impl Str {
    /// A string of its own (for values unlikely to repeat: token ids, subjects).
    pub fn new(s: &str) -> Str {
        Str(Arc::from(s))
    }

    /// The pooled copy of `s` (for values many tokens share).
    pub fn interned(s: &str) -> Str {
        Str(strings().get(s, |v| Arc::from(v)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Strs {
    /// The pooled list of these values, each pooled.
    pub fn interned<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Strs {
        let v: Vec<Str> = items.into_iter().map(|s| Str::interned(s.as_ref())).collect();
        if v.is_empty() {
            return Strs::default();
        }
        Strs(lists().get(&v[..], |v| Arc::from(v)))
    }

    pub fn as_slice(&self) -> &[Str] {
        &self.0
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Deref for Strs {
    type Target = [Str];
    fn deref(&self) -> &[Str] {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::new(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str(Arc::from(s))
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0.to_string()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Strs {
    /// [`Strs::interned`].
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> Strs {
        Strs::interned(items)
    }
}

impl From<&Str> for String {
    fn from(s: &Str) -> String {
        s.0.to_string()
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, o: &str) -> bool {
        &*self.0 == o
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, o: &&str) -> bool {
        &*self.0 == *o
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, o: &String) -> bool {
        *self.0 == **o
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Strs {
    fn eq(&self, o: &[&str; N]) -> bool {
        self.0.len() == N && self.0.iter().zip(o).all(|(a, b)| a == b)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Strs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Serialize for Strs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'a> IntoIterator for &'a Strs {
    type Item = &'a Str;
    type IntoIter = std::slice::Iter<'a, Str>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_values_are_one_allocation() {
        let a = Str::interned("https://login.mypurecloud.com");
        let b = Str::interned(&String::from("https://login.mypurecloud.com"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "https://login.mypurecloud.com");
        let own = Str::new("https://login.mypurecloud.com");
        assert!(!Arc::ptr_eq(&a.0, &own.0));
        assert_eq!(a, own);
        let l = Strs::interned(["view", "edit"]);
        let m = Strs::interned(vec!["view".to_string(), "edit".to_string()]);
        assert!(Arc::ptr_eq(&l.0, &m.0));
        assert!(Arc::ptr_eq(&l[0].0, &Str::interned("view").0));
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"["view","edit"]"#);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#""https://login.mypurecloud.com""#);
        assert!(Strs::interned(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn a_full_pool_stops_pooling() {
        // Values past the limit are still right, only no longer shared (a pool of its own:
        // filling the shared one would unshare the other tests' values).
        let pool: Pool<str> = Pool::new();
        for i in 0..2 * POOL_LIMIT {
            let v = format!("issuer-{i}");
            assert_eq!(&*pool.get(&v, |v| Arc::from(v)), v);
        }
        let held: usize = pool.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= POOL_LIMIT);
        let late = "issuer-past-the-limit";
        assert!(!Arc::ptr_eq(&pool.get(late, |v| Arc::from(v)), &pool.get(late, |v| Arc::from(v))));
    }
}
