//! Fair, wake-driven merging of many streams: [`merge`] and [`MergeMap`].
//!
//! Both poll **only the inputs that were woken** (each input has its own
//! waker), serve ready inputs **round-robin**, and **yield to the executor**
//! after a budget of input polls, so the cost of an item does not grow with
//! the number of inputs and an always-ready input cannot starve its siblings
//! or the rest of a single-threaded executor.
//!
//! | Python | aiter |
//! |---|---|
//! | one task per stream feeding a queue | [`merge`]`(streams)` |
//! | a dict of streams you add to and remove from while consuming | [`MergeMap`] |
//!
//! # How it works
//! Inputs live inline and densely in chunks of 64 nodes (32 on 32-bit
//! targets) that never move, so an input is pinned where it lies (`!Unpin`
//! inputs are fine; a [`MergeMap`] boxes its inputs to hand them back).
//! Each chunk starts with one cache line that its nodes' wakers share: a
//! waker is that line's address with the node's place in its low bits. A
//! wake sets the node's bit in the chunk's word and, if the word was empty,
//! pushes the chunk on an atomic stack, waking the merge's task only if the
//! stack was empty. The merge takes the whole stack at once and each
//! chunk's word, appends the woken nodes to a local round-robin queue of
//! node addresses and polls the queue front to back: a poll needs no
//! lookup, and an input that yields an item goes to the back without any
//! atomic operation. No search, whatever the number of inputs, and nothing
//! is allocated per item. With 65,536 inputs of 8 bytes (channel
//! receivers), the wakers' lines, the inputs and the queue take about
//! 1 MiB.
#![cfg_attr(docsrs, doc(cfg(feature = "alloc")))]

mod event;
mod events;
mod merge_map;
#[allow(unsafe_code)]
mod node;
mod slots;

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

pub use self::event::Event;
pub use self::events::Events;
pub use self::merge_map::MergeMap;
use self::slots::{Polled, Slots};

/// Merges any number of streams into one: every item of every input, each
/// input's items in their order, until all inputs have ended.
///
/// # Ordering and fairness
/// Items of one input come out in that input's order; items of different
/// inputs interleave as they become ready. Ready inputs are served
/// round-robin, one item per turn: between two items of an input that stays
/// ready, every other input yields at most one item. So an input that is
/// woken while `L` inputs are live has its next item delivered within the
/// next `L` items of the merge (it is polled within that window; if it then
/// has an item, that item is one of them).
///
/// Only woken inputs are polled. After [`DEFAULT_BUDGET`] input polls
/// without returning `Pending` (see [`Merge::with_budget`]), the merge wakes
/// its own task and returns `Pending` once, so a single-threaded executor
/// can run other tasks even when inputs are always ready.
///
/// # When an input ends or fails
/// An input that returns `None` is dropped at once, releasing its resources;
/// the merge ends when the last input has ended, and then returns `None`
/// forever. A panic inside an input's `poll_next` propagates to the caller.
/// Inputs that yield `Result`s are not special: an `Err` is an item like any
/// other.
///
/// # Errors
/// None of its own.
///
/// # Cancel safety
/// Dropping a `next(&mut merge)` future loses no item: items are only taken
/// from an input when `poll_next` returns them.
///
/// # Examples
/// ```
/// use aiter_core::{iter, merge::merge, next};
///
/// # futures::executor::block_on(async {
/// let mut merged = merge([iter(vec![1, 2, 3]), iter(vec![10, 20])]);
/// let mut seen = vec![];
/// while let Some(x) = next(&mut merged).await {
///     seen.push(x);
/// }
/// // Round-robin between ready inputs; each input's order is kept.
/// assert_eq!(seen, [1, 10, 2, 20, 3]);
/// assert_eq!(next(&mut merged).await, None);
/// # });
/// ```
pub fn merge<I>(streams: I) -> Merge<I::Item>
where
    I: IntoIterator,
    I::Item: Stream,
{
    let mut merged = Merge {
        slots: Slots::new(),
    };
    merged.extend(streams);
    merged
}

/// The number of input polls a merge makes before it yields to the executor
/// (returns `Pending` after waking itself), unless set with
/// [`Merge::with_budget`] or [`MergeMap::with_budget`].
///
/// # The trade-off
/// A yield guarantees that the rest of a single-threaded executor (a
/// sibling task, a `select!` branch, a timer) runs even while inputs are
/// always ready, but a yield is not free: the executor re-polls the task,
/// and some look for I/O first. Measured per yield (the criterion bench's
/// `MERGE_BENCH_YIELD` mode): about 20 ns under `futures::executor::block_on`,
/// 30-40 ns under `smol::block_on`, about 100 ns under async-std's
/// `block_on` and a tokio current-thread runtime without drivers, and about
/// 350 ns under a tokio runtime with its I/O and time drivers (one
/// `epoll_wait` per yield), while a merged item costs a few nanoseconds. A
/// budget of 2048 polls keeps the yield below 0.2 ns per item on every
/// executor, so always-ready inputs merge at close to the cost of polling
/// them.
///
/// The price is latency for the others: they wait up to 2048 input polls.
/// With cheap inputs (channels, in-memory streams) that is tens of
/// microseconds; with inputs that do real work per poll (say 1 µs each) it
/// is milliseconds. For such inputs, or to match tokio's own budget of 128
/// operations, set a smaller budget with [`Merge::with_budget`]. The merge
/// also returns `Pending` whenever no input is ready, which resets the count;
/// only a merge that stays busy ever uses up its budget.
pub const DEFAULT_BUDGET: usize = slots::DEFAULT_BUDGET;

/// Stream returned by [`merge`].
#[must_use = "streams do nothing unless polled"]
pub struct Merge<S> {
    slots: Slots<S, ()>,
}

impl<S> Merge<S> {
    /// Sets the cooperative budget: the merge polls at most `budget` inputs
    /// between two `Pending` returns; when it has used them all it wakes its
    /// own task and returns `Pending`. The default is [`DEFAULT_BUDGET`].
    ///
    /// A smaller budget yields to the executor more often (other tasks wait
    /// less); a larger one costs less per item when inputs are always ready.
    ///
    /// # Panics
    /// If `budget` is 0.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::{iter, merge::merge, Stream};
    /// use core::task::{Context, Poll};
    ///
    /// let mut merged = merge([iter(0..), iter(0..)]).with_budget(2);
    /// let waker = futures::task::noop_waker();
    /// let mut cx = Context::from_waker(&waker);
    /// assert!(Stream::poll_next(core::pin::Pin::new(&mut merged), &mut cx).is_ready());
    /// assert!(Stream::poll_next(core::pin::Pin::new(&mut merged), &mut cx).is_ready());
    /// // Two inputs polled: the third call yields (after waking the task).
    /// assert!(Stream::poll_next(core::pin::Pin::new(&mut merged), &mut cx).is_pending());
    /// ```
    pub fn with_budget(mut self, budget: usize) -> Self {
        self.slots.set_budget(budget);
        self
    }

    /// Adds an input while merging: it joins the back of the round-robin
    /// queue, so it is polled after the inputs already waiting (within the
    /// next [`len`](Merge::len) input polls), without a wake. Amortised
    /// O(1); the slot and waker of an ended input are reused.
    ///
    /// A merge that has ended (returned `None` because every input had
    /// ended) yields again after a `push`, like `futures`' `SelectAll`.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::{iter, merge::merge, next};
    ///
    /// # futures::executor::block_on(async {
    /// let mut merged = merge([iter(vec![1, 2])]);
    /// assert_eq!(next(&mut merged).await, Some(1));
    /// merged.push(iter(vec![10]));
    /// assert_eq!(merged.len(), 2);
    /// // Behind the first input, which was waiting for its next turn.
    /// assert_eq!(next(&mut merged).await, Some(2));
    /// assert_eq!(next(&mut merged).await, Some(10));
    /// assert_eq!(next(&mut merged).await, None);
    /// # });
    /// ```
    pub fn push(&mut self, stream: S) {
        self.slots.insert(stream, ());
    }

    /// Number of inputs that have not ended yet.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether every input has ended (or there were none).
    pub fn is_empty(&self) -> bool {
        self.slots.len() == 0
    }
}

impl<S: Stream> Stream for Merge<S> {
    type Item = S::Item;

    /// Polls woken inputs round-robin until one yields an item.
    ///
    /// Returns `Ready(Some(item))` for an item; `Ready(None)` once every input
    /// has ended (and forever after); `Pending` when no input is ready (the
    /// task is woken by the next input wake) or when the budget is spent (the
    /// task was woken already).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let slots = &mut self.get_mut().slots;
        loop {
            match slots.poll_next(cx, |()| {}) {
                Polled::Item { item, .. } => return Poll::Ready(Some(item)),
                Polled::Ended { .. } => {}
                Polled::Pending => return Poll::Pending,
                Polled::Empty => return Poll::Ready(None),
            }
        }
    }

    /// The sum of the live inputs' size hints (saturating); O(N).
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }
}

impl<S: Stream> FusedStream for Merge<S> {
    fn is_terminated(&self) -> bool {
        self.is_empty()
    }
}

impl<S: Stream> FromIterator<S> for Merge<S> {
    /// The same as [`merge`]`(iter)`.
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        merge(iter)
    }
}

impl<S> Extend<S> for Merge<S> {
    /// [`Merge::push`]es each stream in turn.
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.slots.reserve(iter.size_hint().0);
        for stream in iter {
            self.push(stream);
        }
    }
}

impl<S> fmt::Debug for Merge<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merge")
            .field("len", &self.slots.len())
            .field("budget", &self.slots.budget())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
