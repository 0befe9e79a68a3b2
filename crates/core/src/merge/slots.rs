//! The engine shared by [`Merge`](super::Merge) and
//! [`MergeMap`](super::MergeMap): which slots are used, the budget, and
//! the poll loop over [`Nodes`] (the inputs, their wakers and the
//! round-robin queue of the ready ones).
//!
//! Each input lives in a node of [`Nodes`] (inline, pinned where it lies),
//! and each node has its own waker. An input is *ready* when its waker
//! was called or when it just yielded an item (it must be asked again; no
//! wake is owed). Ready nodes wait in the nodes' FIFO queue, each at most
//! once; wakes arrive on the nodes' atomic wake stack and are appended to
//! the queue whenever the stack is not empty (checked before every input
//! poll: one relaxed load).
//!
//! Fairness: the queue is served front to back, and an input that yields an
//! item goes to the back. So between two polls of one ready input, every
//! other input is polled at most once, and an input woken while `L` inputs
//! are live is polled within the next `L` polls.
//!
//! Cost per item: a pop and a push on the queue and the poll itself, no
//! atomic operation while the input stays ready; no search, whatever the
//! number of inputs. The queue never holds more entries than there are
//! nodes, and room for them is reserved when nodes are made, so no item
//! allocates.

use alloc::vec::Vec;
use core::fmt;
use core::pin::Pin;
use core::task::Context;

use futures_core::Stream;

use super::node::{Nodes, Step};

/// Input polls allowed between two `Pending` returns, unless configured
/// (the trade-off is documented on the public constant).
pub(crate) const DEFAULT_BUDGET: usize = 2048;

/// The outcome of [`Slots::poll_next`].
pub(crate) enum Polled<I, T> {
    /// Slot `index` yielded `item`; it stays ready.
    Item { index: usize, item: I },
    /// An input ended; its slot was freed and the input dropped. `tag` is
    /// what was stored with it.
    Ended { tag: T },
    /// Nothing ready (the task will be woken), or the budget is spent (the
    /// task was woken already).
    Pending,
    /// No inputs left.
    Empty,
}

/// Input slots `E` with tags `T`, per-slot wakers, a ready queue and the
/// budget.
pub(crate) struct Slots<E, T> {
    nodes: Nodes<E, T>,
    /// Slots handed out so far (`0..used`); the rest of the nodes are fresh.
    used: usize,
    /// Indices of vacant slots below `used`, reused last-in first-out.
    vacant: Vec<usize>,
    live: usize,
    budget: usize,
    /// The queue's pop count at the last `Pending`: every input poll pops
    /// the queue once, so the polls since then are `nodes.popped() - mark`
    /// (no counter to update per item).
    mark: usize,
}

impl<E, T> Slots<E, T> {
    pub(crate) fn new() -> Self {
        Self {
            nodes: Nodes::new(),
            used: 0,
            vacant: Vec::new(),
            live: 0,
            budget: DEFAULT_BUDGET,
            mark: 0,
        }
    }

    pub(crate) fn set_budget(&mut self, budget: usize) {
        assert!(budget > 0, "merge budget must be at least 1");
        self.budget = budget;
    }

    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// Number of live inputs.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Makes room for `additional` more inputs.
    ///
    /// # Panics
    /// If the nodes could not fit in the address space, as `Vec::reserve`
    /// panics: a huge capacity or a false `size_hint` fails at once instead
    /// of allocating until memory runs out.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let fresh = additional.saturating_sub(self.vacant.len());
        let wanted = self.used.saturating_add(fresh);
        self.nodes.reserve(wanted);
        while self.nodes.capacity() < wanted {
            self.nodes.grow();
        }
    }

    /// Adds an input, queued to be polled (after the inputs already
    /// queued); returns its slot index.
    pub(crate) fn insert(&mut self, value: E, tag: T) -> usize {
        let index = if let Some(index) = self.vacant.pop() {
            index
        } else {
            if self.used == self.nodes.capacity() {
                self.nodes.grow();
            }
            self.used += 1;
            self.used - 1
        };
        self.nodes.put(index, value, tag);
        self.live += 1;
        self.nodes.schedule(index);
        index
    }

    /// Puts `value` in place of the live input in slot `index`; returns the
    /// old one. The new input is queued.
    pub(crate) fn replace(&mut self, index: usize, value: E) -> E
    where
        E: Unpin,
    {
        let old = self.nodes.replace(index, value);
        self.nodes.schedule(index);
        old
    }

    /// Removes the live input in slot `index`.
    pub(crate) fn remove(&mut self, index: usize) -> (E, T)
    where
        E: Unpin,
    {
        let removed = self.nodes.take(index);
        self.live -= 1;
        self.vacant.push(index);
        // A queue entry of this slot stays: it is skipped while the slot is
        // vacant, or serves the next input placed here. A wake still in
        // flight causes at most one extra poll of that input.
        removed
    }

    /// Every live input with its tag, in slot order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&T, Pin<&mut E>)> {
        self.nodes.iter_mut().map(|(_, tag, value)| (tag, value))
    }

    /// The tag of the live input in slot `index`.
    pub(crate) fn tag(&self, index: usize) -> &T {
        self.nodes.tag(index)
    }
}

impl<E: Stream, T> Slots<E, T> {
    /// Polls queued inputs in order until one yields an item or ends,
    /// nothing is queued, or the budget is spent.
    ///
    /// The loop is the common case (budget left, no wake to take in, an
    /// input queued); the rest is in [`Slots::make_ready`], out of line.
    ///
    /// When an input ends, `forget` is called with its tag before the input
    /// is dropped, so that whatever refers to the slot by its tag is gone
    /// even if that `drop` panics.
    #[inline]
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        forget: impl FnOnce(&T),
    ) -> Polled<E::Item, T> {
        loop {
            if self.budget_spent() || self.nodes.has_wakes() || self.nodes.queue_is_empty() {
                if let Some(done) = self.make_ready(cx) {
                    return done;
                }
            }
            match self.nodes.poll_front() {
                Step::Item { index, item } => return Polled::Item { index, item },
                Step::Ended { index } => {
                    return Polled::Ended {
                        tag: self.end(index, forget),
                    }
                }
                // `Pending` (a wake during the poll is taken in before the
                // next poll and queues it again), or freed after it was
                // queued.
                Step::Idle => {}
            }
        }
    }

    /// Whether `budget` input polls were made since the last `Pending`
    /// (an entry of a freed slot, popped and skipped, counts as a poll).
    #[inline]
    fn budget_spent(&self) -> bool {
        self.nodes.popped().wrapping_sub(self.mark) >= self.budget
    }

    /// Before a poll, when the budget is spent, wakes arrived or nothing is
    /// queued: yields, takes the wakes in, or finds nothing to do. `None`
    /// when an input is queued and may be polled.
    #[cold]
    fn make_ready(&mut self, cx: &mut Context<'_>) -> Option<Polled<E::Item, T>> {
        loop {
            if self.budget_spent() {
                return Some(self.yield_to_executor(cx));
            }
            if self.nodes.has_wakes() {
                self.nodes.drain();
            }
            if !self.nodes.queue_is_empty() {
                return None;
            }
            if self.live == 0 {
                self.mark = self.nodes.popped();
                return Some(Polled::Empty);
            }
            // Register, then look again: a wake between the last drain and
            // the registration is not lost.
            self.nodes.register(cx.waker());
            if !self.nodes.has_wakes() {
                self.mark = self.nodes.popped();
                return Some(Polled::Pending);
            }
        }
    }

    /// Frees slot `index`, whose input just ended: calls `forget` with its
    /// tag, drops the input and returns the tag.
    #[cold]
    fn end(&mut self, index: usize, forget: impl FnOnce(&T)) -> T {
        forget(self.nodes.tag(index));
        self.live -= 1;
        self.vacant.push(index);
        self.nodes.end(index)
    }

    /// Cooperative yield: lets the executor run other tasks.
    #[cold]
    fn yield_to_executor(&mut self, cx: &mut Context<'_>) -> Polled<E::Item, T> {
        self.mark = self.nodes.popped();
        cx.waker().wake_by_ref();
        Polled::Pending
    }

    /// Sum of the live inputs' size hints, saturating; `None` as the upper
    /// bound if any input has none or the sum overflows. O(N).
    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let mut lower = 0usize;
        let mut upper = Some(0usize);
        for value in self.nodes.iter() {
            let (lo, hi) = value.size_hint();
            lower = lower.saturating_add(lo);
            upper = match (upper, hi) {
                (Some(a), Some(b)) => a.checked_add(b),
                _ => None,
            };
        }
        (lower, upper)
    }
}

impl<E, T: fmt::Debug> fmt::Debug for Slots<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.live)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}
