//! The merge's local run queue: a hierarchical bit set of the inputs to poll.
//!
//! Level 0 holds one bit per input slot; each word of level `k + 1` holds one
//! bit per word of level `k`, set exactly when that word is non-zero. Finding
//! the first set bit at or after a position walks up until a summary word has
//! a bit to the right, then down by `trailing_zeros`: O(log_W N) word reads
//! for W-bit words, independent of how many bits are set. It is not atomic:
//! only the merge touches it; wakes arrive through [`super::wake_set`] and are
//! moved in here in bulk.

use alloc::vec;
use alloc::vec::Vec;

/// Bits per word.
pub(crate) const BITS: usize = usize::BITS as usize;

/// A set of slot indices in `0..capacity` with O(log N) "next at or after".
#[derive(Debug)]
pub(crate) struct ReadySet {
    /// `levels[0]` has one bit per slot; the last level is a single word.
    levels: Vec<Vec<usize>>,
}

impl ReadySet {
    /// An empty set of capacity 0 (it grows with [`ReadySet::grow`]).
    pub(crate) fn new() -> Self {
        Self {
            levels: vec![vec![0]],
        }
    }

    /// Number of slots the set can hold.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.levels[0].len() * BITS
    }

    /// Makes room for slots `0..capacity` (rounded up to whole words),
    /// keeping every bit.
    pub(crate) fn grow(&mut self, capacity: usize) {
        let words = capacity.div_ceil(BITS).max(1);
        if words <= self.levels[0].len() {
            return;
        }
        let mut level0 = core::mem::take(&mut self.levels[0]);
        level0.resize(words, 0);
        self.levels.clear();
        self.levels.push(level0);
        // Rebuild every summary level from the one below.
        while self.levels[self.levels.len() - 1].len() > 1 {
            let below = &self.levels[self.levels.len() - 1];
            let mut above = vec![0usize; below.len().div_ceil(BITS)];
            for (i, &word) in below.iter().enumerate() {
                if word != 0 {
                    above[i / BITS] |= 1 << (i % BITS);
                }
            }
            self.levels.push(above);
        }
    }

    /// Whether no bit is set.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.levels[self.levels.len() - 1][0] == 0
    }

    /// Whether `index` is in the set.
    #[cfg(test)]
    pub(crate) fn contains(&self, index: usize) -> bool {
        self.levels[0][index / BITS] & (1 << (index % BITS)) != 0
    }

    /// Word `w` of level 0 (slots `w * BITS ..`); 0 past the capacity.
    #[inline]
    pub(crate) fn word(&self, w: usize) -> usize {
        self.levels[0].get(w).copied().unwrap_or(0)
    }

    /// Adds `index` (which must be below the capacity).
    pub(crate) fn insert(&mut self, mut index: usize) {
        for level in &mut self.levels {
            let word = &mut level[index / BITS];
            let was_empty = *word == 0;
            *word |= 1 << (index % BITS);
            if !was_empty {
                return;
            }
            index /= BITS;
        }
    }

    /// Adds every slot `w * BITS + i` for the bits `i` set in `bits` (`w`
    /// must be below the capacity in words).
    #[inline]
    pub(crate) fn insert_word(&mut self, w: usize, bits: usize) {
        let word = &mut self.levels[0][w];
        let was_empty = *word == 0;
        *word |= bits;
        if was_empty && bits != 0 && self.levels.len() > 1 {
            self.insert_summary(w);
        }
    }

    /// Marks word `w` of level 0 non-empty in the levels above.
    fn insert_summary(&mut self, mut index: usize) {
        for level in &mut self.levels[1..] {
            let word = &mut level[index / BITS];
            let was_empty = *word == 0;
            *word |= 1 << (index % BITS);
            if !was_empty {
                return;
            }
            index /= BITS;
        }
    }

    /// Removes `index` (which must be below the capacity).
    #[inline]
    pub(crate) fn remove(&mut self, mut index: usize) {
        for level in &mut self.levels {
            let word = &mut level[index / BITS];
            *word &= !(1 << (index % BITS));
            if *word != 0 {
                return;
            }
            index /= BITS;
        }
    }

    /// The smallest index in the set that is `>= from`, if any.
    pub(crate) fn next_at_or_after(&self, from: usize) -> Option<usize> {
        let mut level = 0;
        let mut index = from;
        // Up: find a level whose word has a set bit at or after `index`.
        let found = loop {
            let words = &self.levels[level];
            let w = index / BITS;
            let word = *words.get(w)?;
            let bits = word & (usize::MAX << (index % BITS));
            if bits != 0 {
                break w * BITS + bits.trailing_zeros() as usize;
            }
            // Nothing left in this word: continue from the next word, one
            // level up (that word's summary bit).
            level += 1;
            if level == self.levels.len() {
                return None;
            }
            index = w + 1;
        };
        Some(self.first_under(level, found))
    }

    /// The smallest index in the set that is `>= from`, or else the smallest
    /// one (searching from 0), if any.
    #[inline]
    pub(crate) fn next_cyclic(&self, from: usize) -> Option<usize> {
        self.next_at_or_after(from).or_else(|| {
            let top = self.levels.len() - 1;
            let word = self.levels[top][0];
            (word != 0).then(|| self.first_under(top, word.trailing_zeros() as usize))
        })
    }

    /// The smallest slot index under bit `index` of `level` (which is set).
    fn first_under(&self, mut level: usize, mut index: usize) -> usize {
        // Down: the first set bit of each word below.
        while level > 0 {
            level -= 1;
            let word = self.levels[level][index];
            debug_assert_ne!(word, 0, "summary bit set over an empty word");
            index = index * BITS + word.trailing_zeros() as usize;
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use proptest::prelude::*;

    #[test]
    fn empty_set_finds_nothing() {
        let mut set = ReadySet::new();
        assert!(set.is_empty());
        assert_eq!(set.next_at_or_after(0), None);
        set.grow(10_000);
        assert!(set.capacity() >= 10_000);
        assert_eq!(set.next_at_or_after(0), None);
        assert_eq!(set.next_at_or_after(9_999), None);
        assert_eq!(set.next_at_or_after(1 << 40), None);
    }

    #[test]
    fn finds_across_words_and_levels() {
        let mut set = ReadySet::new();
        let n = BITS * BITS * 3;
        set.grow(n);
        for i in [0, BITS - 1, BITS * BITS + 5, n - 1] {
            set.insert(i);
        }
        assert_eq!(set.next_at_or_after(0), Some(0));
        assert_eq!(set.next_at_or_after(1), Some(BITS - 1));
        assert_eq!(set.next_at_or_after(BITS), Some(BITS * BITS + 5));
        assert_eq!(set.next_at_or_after(BITS * BITS + 6), Some(n - 1));
        assert_eq!(set.next_at_or_after(n), None);
        set.remove(n - 1);
        assert_eq!(set.next_at_or_after(BITS * BITS + 6), None);
        for i in [0, BITS - 1, BITS * BITS + 5] {
            set.remove(i);
        }
        assert!(set.is_empty());
    }

    #[test]
    fn grow_keeps_bits() {
        let mut set = ReadySet::new();
        set.grow(BITS);
        set.insert(3);
        set.grow(BITS * BITS * 2);
        assert!(set.contains(3));
        assert_eq!(set.next_at_or_after(4), None);
        assert_eq!(set.next_at_or_after(0), Some(3));
        set.insert(BITS * BITS + 1);
        assert_eq!(set.next_at_or_after(4), Some(BITS * BITS + 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 4 } else { 256 },
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The set agrees with a `BTreeSet` under random inserts and removes.
        #[test]
        fn matches_a_btree_set(
            cap in 1usize..(BITS * BITS * 2),
            ops in proptest::collection::vec((any::<bool>(), any::<usize>()), 0..200),
            probes in proptest::collection::vec(any::<usize>(), 0..50),
        ) {
            let mut set = ReadySet::new();
            set.grow(cap);
            let mut model = BTreeSet::new();
            for (add, i) in ops {
                let i = i % cap;
                if add && i % 3 == 0 {
                    // A whole word at once: `i` and its neighbour in the word.
                    let (w, bit) = (i / BITS, i % BITS);
                    let bits = (1 << bit) | (1 << ((bit + 1) % BITS));
                    set.insert_word(w, bits);
                    model.insert(i);
                    let j = w * BITS + (bit + 1) % BITS;
                    if j < set.capacity() {
                        model.insert(j);
                    }
                } else if add {
                    set.insert(i);
                    model.insert(i);
                } else {
                    set.remove(i);
                    model.remove(&i);
                }
                prop_assert_eq!(set.is_empty(), model.is_empty());
            }
            for p in probes {
                let p = p % (cap + 10);
                prop_assert_eq!(set.next_at_or_after(p), model.range(p..).next().copied());
                let cyclic = model.range(p..).next().or_else(|| model.iter().next()).copied();
                prop_assert_eq!(set.next_cyclic(p), cyclic);
            }
        }
    }
}
