//! Texts that recur across many records (carrier names, operation keys, hosts), kept once and
//! named by number: state folded while a capture is read holds the numbers, not the strings.

use std::collections::HashMap;

/// Texts named by number, in the order they were first given.
#[derive(Debug, Default)]
pub struct Names {
    all: Vec<String>,
    no: HashMap<String, u32>,
}

impl Names {
    /// The number of `s`, given when `s` is new. Saturated: a hostile capture may name any
    /// number of cookies or parameters, and no number wraps around (more than 2^32 names would
    /// not fit in memory first).
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&n) = self.no.get(s) {
            return n;
        }
        let n = u32::try_from(self.all.len()).unwrap_or(u32::MAX);
        self.all.push(s.to_string());
        self.no.insert(s.to_string(), n);
        n
    }

    /// The number of `s`, if it has one.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.no.get(s).copied()
    }

    /// The text of number `n` (empty for a number never given).
    pub fn text(&self, n: u32) -> &str {
        self.all.get(n as usize).map(String::as_str).unwrap_or("")
    }

    /// How many texts have a number.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_numbered_once_in_order() {
        let mut n = Names::default();
        assert_eq!((n.id("a"), n.id("b"), n.id("a")), (0, 1, 0));
        assert_eq!((n.get("b"), n.get("c"), n.text(1), n.text(7), n.len()), (Some(1), None, "b", "", 2));
    }
}
