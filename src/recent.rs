//! The last few values a thread computed from short keys, kept with their keys: for parsers
//! whose input repeats in runs (a log's lines share their second, replies their `Date`, an
//! issuer's tokens their header), so a run pays for one parse. Keys are copied into the slots
//! (no allocation); keys longer than the slots are computed and not kept, which bounds what a
//! hostile input can make a look-up compare.

/// `N` slots of keys up to `MAX` bytes with their values, replaced in turn. Each user keeps
/// one per thread (`thread_local!`), made by the `const` [`Recent::new`].
pub struct Recent<V, const N: usize, const MAX: usize> {
    keys: [[u8; MAX]; N],
    /// Each slot's key length (`usize::MAX`: empty).
    lens: [usize; N],
    values: [Option<V>; N],
    /// The slot the next new key takes.
    next: usize,
}

impl<V: Clone, const N: usize, const MAX: usize> Recent<V, N, MAX> {
    pub const fn new() -> Self {
        Recent { keys: [[0; MAX]; N], lens: [usize::MAX; N], values: [const { None }; N], next: 0 }
    }

    /// The value `make` gives for `key`: remembered when `key` is in a slot, else made (and
    /// kept when `key` fits).
    pub fn get_or(&mut self, key: &[u8], make: impl FnOnce() -> V) -> V {
        let hit = (0..N).find(|&i| self.lens[i] == key.len() && self.keys[i][..key.len()] == *key);
        if let Some(v) = hit.and_then(|i| self.values[i].as_ref()) {
            return v.clone();
        }
        let v = make();
        if key.len() <= MAX && N > 0 {
            let i = self.next;
            self.keys[i][..key.len()].copy_from_slice(key);
            self.lens[i] = key.len();
            self.values[i] = Some(v.clone());
            self.next = (i + 1) % N;
        }
        v
    }
}

impl<V: Clone, const N: usize, const MAX: usize> Default for Recent<V, N, MAX> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_n_keys_that_fit() {
        let mut r: Recent<usize, 2, 4> = Recent::new();
        let mut made = 0;
        let mut get = |r: &mut Recent<usize, 2, 4>, k: &str| {
            r.get_or(k.as_bytes(), || {
                made += 1;
                k.len() * 10
            })
        };
        assert_eq!(get(&mut r, "ab"), 20);
        assert_eq!(get(&mut r, "ab"), 20);
        assert_eq!(get(&mut r, ""), 0);
        assert_eq!(get(&mut r, "ab"), 20);
        // A third key takes the oldest slot ("ab"), which is then made again.
        assert_eq!(get(&mut r, "abc"), 30);
        assert_eq!(get(&mut r, "ab"), 20);
        // Too long to keep: made every time. A prefix of a kept key is not that key.
        assert_eq!(get(&mut r, "abcde"), 50);
        assert_eq!(get(&mut r, "abcde"), 50);
        assert_eq!(get(&mut r, "a"), 10);
        assert_eq!(made, 7);
    }
}
