//! Per-input wakers and the atomic set of woken inputs they write to.
//!
//! Every input slot owns one [`Waker`] for its whole life (made once, reused
//! for every poll, so `will_wake` holds and children never re-clone). Waking
//! it sets the slot's bit in a hierarchical atomic bit set and, only when the
//! set goes from "nothing new" to "something new", wakes the merge's task
//! through an [`AtomicWaker`]. No allocation, no lock, O(log N) atomics at
//! worst and one atomic when the slot is already marked.
//!
//! The set grows without moving anything a waker points to: slots live in
//! *segments* of `W, W, 2W, 4W, …` slots (`W` = bits per word), each with its
//! own bit hierarchy, and a root word with one bit per segment. The merge
//! drains the root, then only the segments and words whose summary bits are
//! set: the cost of a drain is proportional to the number of woken slots,
//! not to N.
//!
//! # Protocol
//! A waker sets its bit at level 0, then the parent bits up to the root,
//! stopping at the first word that was already non-zero: whoever made that
//! word non-zero is propagating (or has propagated) the same summary bits,
//! and the drain always swaps a parent word *before* the child words it
//! names, so a child word that is non-zero when the drain swaps its parent
//! is read afterwards. Only the waker that made the root non-zero wakes the
//! merge's task. The merge registers its task waker and then re-reads the
//! root before returning `Pending`, so no wake is lost.

use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use core::task::Waker;

#[cfg(not(all(test, loom)))]
use atomic_waker::AtomicWaker;
#[cfg(not(all(test, loom)))]
use core::sync::atomic::AtomicUsize;
#[cfg(all(test, loom))]
use loom_model::{AtomicUsize, AtomicWaker};

/// Bits per word.
pub(crate) const BITS: usize = usize::BITS as usize;

/// State shared by the merge and every input waker.
#[derive(Debug)]
struct Root {
    /// One bit per segment with woken slots.
    summary: AtomicUsize,
    /// The merge's task.
    waker: AtomicWaker,
}

/// The atomic bit hierarchy of one segment of slots.
#[derive(Debug)]
struct Segment {
    root: Arc<Root>,
    /// This segment's bit in `root.summary`.
    bit: usize,
    /// `levels[0]`: one bit per slot; the last level is one word.
    levels: Vec<Vec<AtomicUsize>>,
}

/// The waker of one input slot.
#[derive(Debug)]
struct InputWaker {
    segment: Arc<Segment>,
    /// The slot's index inside its segment.
    offset: usize,
}

impl Wake for InputWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let segment = &self.segment;
        let mut index = self.offset;
        for level in &segment.levels {
            let prev = level[index / BITS].fetch_or(1 << (index % BITS), Ordering::AcqRel);
            if prev != 0 {
                // Already marked, or another waker is carrying this word's
                // summary bit up (see the module docs).
                return;
            }
            index /= BITS;
        }
        if segment.root.summary.fetch_or(segment.bit, Ordering::AcqRel) == 0 {
            segment.root.waker.wake();
        }
    }
}

/// The merge's side: makes wakers, drains woken slots.
#[derive(Debug)]
pub(crate) struct WakeSet {
    root: Arc<Root>,
    segments: Vec<Arc<Segment>>,
}

/// First slot index of segment `s`.
fn segment_base(s: usize) -> usize {
    if s == 0 {
        0
    } else {
        BITS << (s - 1)
    }
}

impl WakeSet {
    pub(crate) fn new() -> Self {
        Self {
            root: Arc::new(Root {
                summary: AtomicUsize::new(0),
                waker: AtomicWaker::new(),
            }),
            segments: Vec::new(),
        }
    }

    /// Number of slots that have wakers available.
    pub(crate) fn capacity(&self) -> usize {
        segment_base(self.segments.len())
    }

    /// Adds the next segment, doubling the capacity (after the first two).
    pub(crate) fn grow(&mut self) {
        let s = self.segments.len();
        assert!(s < BITS, "merge: too many inputs");
        let slots = if s == 0 { BITS } else { BITS << (s - 1) };
        let mut levels = Vec::new();
        let mut words = slots / BITS;
        loop {
            levels.push((0..words).map(|_| AtomicUsize::new(0)).collect());
            if words == 1 {
                break;
            }
            words = words.div_ceil(BITS);
        }
        self.segments.push(Arc::new(Segment {
            root: Arc::clone(&self.root),
            bit: 1 << s,
            levels,
        }));
    }

    /// A new waker for slot `index` (below [`WakeSet::capacity`]).
    pub(crate) fn waker(&self, index: usize) -> Waker {
        let q = index / BITS;
        let s = (usize::BITS - q.leading_zeros()) as usize;
        Waker::from(Arc::new(InputWaker {
            segment: Arc::clone(&self.segments[s]),
            offset: index - segment_base(s),
        }))
    }

    /// Whether some slot may have been woken since the last drain (a cheap
    /// relaxed read: a wake in flight may be missed, and is then delivered
    /// through the registered task waker).
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        self.root.summary.load(Ordering::Relaxed) != 0
    }

    /// Calls `f` with the index of every woken slot (in index order within
    /// a segment) and clears its wake bit.
    pub(crate) fn drain(&self, mut f: impl FnMut(usize)) {
        let mut segments = self.root.summary.swap(0, Ordering::AcqRel);
        while segments != 0 {
            let s = segments.trailing_zeros() as usize;
            segments &= segments - 1;
            let segment = &self.segments[s];
            drain_word(
                segment,
                segment.levels.len() - 1,
                0,
                segment_base(s),
                &mut f,
            );
        }
    }

    /// Registers the task to wake when a slot is woken.
    pub(crate) fn register(&self, waker: &Waker) {
        self.root.waker.register(waker);
    }
}

/// Swaps out word `word` of `level` and drains the words (or slots) it names;
/// a level-0 word's slots go to `f`. `base` is the segment's first slot.
fn drain_word(
    segment: &Segment,
    level: usize,
    word: usize,
    base: usize,
    f: &mut impl FnMut(usize),
) {
    let mut bits = segment.levels[level][word].swap(0, Ordering::AcqRel);
    while bits != 0 {
        let child = word * BITS + bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if level == 0 {
            f(base + child);
        } else {
            drain_word(segment, level - 1, child, base, f);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use alloc::vec;
    use core::sync::atomic::AtomicUsize;

    /// A waker that counts its wakes.
    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn drained(set: &WakeSet) -> Vec<usize> {
        let mut out = vec![];
        set.drain(|i| out.push(i));
        out.sort_unstable();
        out
    }

    fn grown_to(n: usize) -> WakeSet {
        let mut set = WakeSet::new();
        while set.capacity() < n {
            set.grow();
        }
        set
    }

    #[test]
    fn segments_double() {
        let mut set = WakeSet::new();
        assert_eq!(set.capacity(), 0);
        set.grow();
        assert_eq!(set.capacity(), BITS);
        set.grow();
        assert_eq!(set.capacity(), 2 * BITS);
        set.grow();
        assert_eq!(set.capacity(), 4 * BITS);
    }

    #[test]
    fn wakes_are_drained_once_and_wake_the_task_once() {
        let n = if cfg!(miri) {
            3 * BITS
        } else {
            BITS * BITS * 4
        };
        let set = grown_to(n);
        let task = Arc::new(Counter(AtomicUsize::new(0)));
        set.register(&Waker::from(Arc::clone(&task)));
        let picks = [0, 1, BITS - 1, BITS, 2 * BITS + 3, n - 1];
        let wakers: Vec<Waker> = picks.iter().map(|&i| set.waker(i)).collect();
        assert!(!set.has_wakes());
        for w in &wakers {
            w.wake_by_ref();
            w.wake_by_ref();
        }
        assert!(set.has_wakes());
        // One task wake for the whole batch: the root went non-zero once.
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert_eq!(drained(&set), picks);
        assert!(!set.has_wakes());
        assert_eq!(drained(&set), Vec::<usize>::new());
        // Wakes after a drain are seen again and wake the (re-registered) task.
        set.register(&Waker::from(Arc::clone(&task)));
        let owned = wakers[3].clone();
        owned.wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 2);
        assert_eq!(drained(&set), [BITS]);
    }

    #[test]
    #[cfg(feature = "std")]
    fn concurrent_wakes_are_never_lost() {
        let per_thread = if cfg!(miri) { 20 } else { 20_000 };
        let set = grown_to(4 * BITS);
        let wakers: Vec<Waker> = (0..4 * BITS).map(|i| set.waker(i)).collect();
        let seen = std::thread::scope(|scope| {
            for t in 0..2 {
                let wakers = &wakers;
                scope.spawn(move || {
                    for k in 0..per_thread {
                        wakers[(k * 7 + t * 131) % wakers.len()].wake_by_ref();
                    }
                });
            }
            // Drain while the threads wake.
            let mut seen = vec![false; 4 * BITS];
            for _ in 0..100 {
                for i in drained(&set) {
                    seen[i] = true;
                }
            }
            seen
        });
        let mut seen = seen;
        for i in drained(&set) {
            seen[i] = true;
        }
        for t in 0..2 {
            for k in 0..per_thread.min(4 * BITS) {
                assert!(seen[(k * 7 + t * 131) % (4 * BITS)], "a wake was lost");
            }
        }
    }
}

/// What the wake set is built of when loom model-checks it: loom's atomics,
/// and a task-waker slot behind a loom mutex (the `atomic-waker` crate's
/// atomics are invisible to loom; a mutex gives the same guarantee a
/// registration needs: a wake after it is delivered to it).
#[cfg(all(test, loom))]
mod loom_model {
    use core::task::Waker;

    pub(super) use ::loom::sync::atomic::AtomicUsize;

    #[derive(Debug, Default)]
    pub(super) struct AtomicWaker(::loom::sync::Mutex<Option<Waker>>);

    impl AtomicWaker {
        pub(super) fn new() -> Self {
            Self::default()
        }

        pub(super) fn register(&self, waker: &Waker) {
            *self.0.lock().unwrap() = Some(waker.clone());
        }

        pub(super) fn wake(&self) {
            let waker = self.0.lock().unwrap().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// Loom models of the wake set: wakes from other threads racing the merge's
/// drains and its register-then-check before `Pending`.
#[cfg(all(test, loom))]
mod loom {
    use super::*;
    use ::loom::sync::atomic::AtomicUsize as LoomUsize;
    use alloc::vec;

    /// A task waker that counts its wakes.
    struct Counter(LoomUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The woken slots a drain finds.
    fn drained(set: &WakeSet, _capacity: usize) -> Vec<usize> {
        let mut out = vec![];
        set.drain(|i| out.push(i));
        out.sort_unstable();
        out
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = ::loom::model::Builder::new();
        // Enough to interleave every step of two wakes with a drain and a
        // registration; keeps the run short.
        builder.preemption_bound = Some(3);
        builder.check(f);
    }

    /// Two threads wake slots (in two segments, one of them two levels
    /// deep, two of them in the same word) while the merge drains, registers
    /// and checks once more, as `poll_next` does before returning `Pending`:
    /// every wake is drained exactly when it is new, and a wake the merge
    /// did not see before sleeping wakes the registered task.
    #[test]
    fn loom_concurrent_wakes_are_never_lost() {
        model(|| {
            let capacity = 4 * BITS;
            let mut set = WakeSet::new();
            while set.capacity() < capacity {
                set.grow();
            }
            let set = Arc::new(set);
            let picks = [[1, 3 * BITS + 5], [3, BITS]];
            let threads: Vec<_> = picks
                .iter()
                .map(|slots| {
                    let wakers: Vec<Waker> = slots.iter().map(|&i| set.waker(i)).collect();
                    ::loom::thread::spawn(move || {
                        for w in wakers {
                            w.wake();
                        }
                    })
                })
                .collect();
            // The merge: drain, register, look again; sleep if nothing new.
            let mut seen = vec![];
            let task = loop {
                seen.extend(drained(&set, capacity));
                let task = Arc::new(Counter(LoomUsize::new(0)));
                set.register(&Waker::from(Arc::clone(&task)));
                if !set.has_wakes() {
                    break task;
                }
            };
            for t in threads {
                t.join().unwrap();
            }
            let late = drained(&set, capacity);
            if !late.is_empty() {
                assert!(
                    task.0.load(Ordering::SeqCst) > 0,
                    "the merge slept through wakes of {late:?}"
                );
            }
            seen.extend(late);
            seen.sort_unstable();
            assert_eq!(seen, [1, 3, BITS, 3 * BITS + 5], "every wake drained once");
            assert!(!set.has_wakes());
        });
    }

    /// A slot woken again while the merge drains it is either drained in
    /// this drain or left marked for the next (never dropped), and the
    /// task is woken for it if the merge went to sleep.
    #[test]
    fn loom_a_rewake_during_a_drain_is_kept() {
        model(|| {
            let capacity = 2 * BITS;
            let mut set = WakeSet::new();
            while set.capacity() < capacity {
                set.grow();
            }
            let set = Arc::new(set);
            let w = set.waker(BITS + 7);
            w.wake_by_ref();
            let t = ::loom::thread::spawn(move || w.wake());
            let first = drained(&set, capacity);
            let task = Arc::new(Counter(LoomUsize::new(0)));
            set.register(&Waker::from(Arc::clone(&task)));
            let again = set.has_wakes();
            t.join().unwrap();
            assert_eq!(first, [BITS + 7]);
            let second = drained(&set, capacity);
            // The re-wake either merged into the first drain (nothing
            // left) or is found now, after a task wake or a "look again".
            assert!(second.is_empty() || second == [BITS + 7]);
            if !second.is_empty() && !again {
                assert!(task.0.load(Ordering::SeqCst) > 0, "a lost wake-up");
            }
        });
    }
}
