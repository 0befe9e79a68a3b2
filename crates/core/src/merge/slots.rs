//! The engine shared by [`Merge`](super::Merge) and
//! [`MergeMap`](super::MergeMap): input slots, a round-robin queue of the
//! ready ones, and the budget.
//!
//! Each input lives in a node of [`Nodes`] (inline, pinned where it lies),
//! and the node is the input's waker. An input is *ready* when its waker
//! was called or when it just yielded an item (it must be asked again; no
//! wake is owed). Ready slots wait in a local FIFO queue, each at most once
//! (the node's `SCHEDULED` bit); wakes arrive on the nodes' atomic wake
//! stack and are appended to the queue whenever the stack is not empty
//! (checked before every input poll: one relaxed load).
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

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::Stream;

use super::node::Nodes;

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
    /// Slots to poll, in round-robin order; each at most once. An entry
    /// whose slot was freed meanwhile is skipped.
    ready: Ring,
    budget: usize,
    /// Input polls since the last `Pending`.
    polls: usize,
}

impl<E, T> Slots<E, T> {
    pub(crate) fn new() -> Self {
        Self {
            nodes: Nodes::new(),
            used: 0,
            vacant: Vec::new(),
            live: 0,
            ready: Ring::new(),
            budget: DEFAULT_BUDGET,
            polls: 0,
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
    /// If the nodes could not fit in the address space (each takes at
    /// least a 64-byte cache line), as `Vec::reserve` panics: a huge
    /// capacity or a false `size_hint` fails at once instead of allocating
    /// until memory runs out.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let fresh = additional.saturating_sub(self.vacant.len());
        let wanted = self.used.saturating_add(fresh);
        assert!(
            wanted <= isize::MAX as usize / 64,
            "merge: capacity overflow ({wanted} inputs)"
        );
        while self.nodes.capacity() < wanted {
            self.grow();
        }
    }

    /// One more chunk of nodes, and room for them in the queue: polling
    /// never allocates.
    fn grow(&mut self) {
        self.nodes.grow();
        self.ready.reserve(self.nodes.capacity());
    }

    /// Adds an input, queued to be polled (after the inputs already
    /// queued); returns its slot index.
    pub(crate) fn insert(&mut self, value: E, tag: T) -> usize {
        let index = if let Some(index) = self.vacant.pop() {
            index
        } else {
            if self.used == self.nodes.capacity() {
                self.grow();
            }
            self.used += 1;
            self.used - 1
        };
        self.nodes.put(index, value, tag);
        self.live += 1;
        self.enqueue(index);
        index
    }

    /// Puts `value` in place of the live input in slot `index`; returns the
    /// old one. The new input is queued.
    pub(crate) fn replace(&mut self, index: usize, value: E) -> E
    where
        E: Unpin,
    {
        let old = self.nodes.replace(index, value);
        self.enqueue(index);
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

    /// Appends slot `index` to the ready queue unless it is queued already.
    #[inline]
    fn enqueue(&mut self, index: usize) {
        if self.nodes.schedule(index) {
            self.ready.push_back(index);
        }
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
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Polled<E::Item, T> {
        loop {
            if self.polls >= self.budget || self.nodes.has_wakes() || self.ready.is_empty() {
                if let Some(done) = self.make_ready(cx) {
                    return done;
                }
            }
            let Some(index) = self.ready.pop_front() else {
                continue;
            };
            // If the input panics, it goes back to the front of the queue
            // (it stays scheduled, so nothing else would queue it).
            let requeue = Requeue {
                ready: &mut self.ready,
                index,
            };
            let polled = self.nodes.poll_next(index);
            core::mem::forget(requeue);
            let Some(polled) = polled else {
                // Freed after it was queued.
                self.nodes.release(index);
                continue;
            };
            self.polls += 1;
            match polled {
                Poll::Ready(Some(item)) => {
                    // It must be asked again: back of the queue, still
                    // scheduled.
                    self.ready.push_back(index);
                    return Polled::Item { index, item };
                }
                Poll::Ready(None) => {
                    return Polled::Ended {
                        tag: self.end(index),
                    }
                }
                Poll::Pending => {
                    if !self.nodes.idle(index) {
                        // Woken while it was polled: poll it again.
                        self.ready.push_back(index);
                    }
                }
            }
        }
    }

    /// Before a poll, when the budget is spent, wakes arrived or nothing is
    /// queued: yields, takes the wakes in, or finds nothing to do. `None`
    /// when an input is queued and may be polled.
    #[cold]
    fn make_ready(&mut self, cx: &mut Context<'_>) -> Option<Polled<E::Item, T>> {
        loop {
            if self.polls >= self.budget {
                return Some(self.yield_to_executor(cx));
            }
            if self.nodes.has_wakes() {
                self.drain_wakes();
            }
            if !self.ready.is_empty() {
                return None;
            }
            if self.live == 0 {
                self.polls = 0;
                return Some(Polled::Empty);
            }
            // Register, then look again: a wake between the last drain and
            // the registration is not lost.
            self.nodes.register(cx.waker());
            if !self.nodes.has_wakes() {
                self.polls = 0;
                return Some(Polled::Pending);
            }
        }
    }

    /// Frees slot `index`, whose input just ended; returns its tag.
    #[cold]
    fn end(&mut self, index: usize) -> T {
        self.nodes.release(index);
        self.live -= 1;
        self.vacant.push(index);
        self.nodes.end(index)
    }

    /// Appends every woken slot to the ready queue.
    #[cold]
    fn drain_wakes(&mut self) {
        let ready = &mut self.ready;
        self.nodes.drain(|index| ready.push_back(index));
    }

    /// Cooperative yield: lets the executor run other tasks.
    #[cold]
    fn yield_to_executor(&mut self, cx: &mut Context<'_>) -> Polled<E::Item, T> {
        self.polls = 0;
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

/// Puts a slot back at the front of the queue if its input panics.
struct Requeue<'a> {
    ready: &'a mut Ring,
    index: usize,
}

impl Drop for Requeue<'_> {
    fn drop(&mut self) {
        self.ready.push_front(self.index);
    }
}

/// The ready queue: a FIFO of slot indices in a ring whose size is a power
/// of two at least the number of nodes. Every node is queued at most once,
/// so it never fills up: a push is a store and an increment.
struct Ring {
    buf: Vec<usize>,
    /// Positions of the front and one past the back, counted without
    /// wrapping around the ring (`head <= tail`, `tail - head <= len`).
    head: usize,
    tail: usize,
}

impl Ring {
    fn new() -> Self {
        Self {
            buf: Vec::new(),
            head: 0,
            tail: 0,
        }
    }

    /// Room for `nodes` entries.
    fn reserve(&mut self, nodes: usize) {
        if nodes <= self.buf.len() {
            return;
        }
        let mut buf = vec![0; nodes.next_power_of_two()];
        let mut len = 0;
        while let Some(index) = self.pop_front() {
            buf[len] = index;
            len += 1;
        }
        *self = Self {
            buf,
            head: 0,
            tail: len,
        };
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buf.len().wrapping_sub(1)
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    #[inline]
    fn pop_front(&mut self) -> Option<usize> {
        if self.head == self.tail {
            return None;
        }
        let index = self.buf[self.head & self.mask()];
        self.head = self.head.wrapping_add(1);
        Some(index)
    }

    #[inline]
    fn push_back(&mut self, index: usize) {
        debug_assert!(self.tail.wrapping_sub(self.head) < self.buf.len());
        let at = self.tail & self.mask();
        self.buf[at] = index;
        self.tail = self.tail.wrapping_add(1);
    }

    /// Puts back the entry just popped.
    fn push_front(&mut self, index: usize) {
        self.head = self.head.wrapping_sub(1);
        let at = self.head & self.mask();
        self.buf[at] = index;
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
