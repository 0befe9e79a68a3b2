use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::borrow::Borrow;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use super::slots::{Polled, Slots};
use super::{Event, Events};

/// A keyed, growable merge: streams under keys, merged into one stream of
/// `(key, item)`; insert and remove inputs while consuming it.
///
/// Like tokio-stream's `StreamMap`, but only woken inputs are polled (the
/// cost of an item does not grow with the number of inputs), `insert` and
/// `remove` are O(log N) (a `BTreeMap` from key to slot), inputs may be
/// `!Unpin`, and the end of an input can be observed with
/// [`MergeMap::events`].
///
/// # Ordering and fairness
/// Items of one input come out in that input's order. Ready inputs are served
/// round-robin, one item per turn: between two items of an input that stays
/// ready, every other input yields at most one item, so an input that is
/// woken while `L` inputs are live has its next item delivered within the
/// next `L` items. An inserted input is polled by the next `poll_next` (it
/// takes its turn in the current round). After [`DEFAULT_BUDGET`] input polls
/// without a `Pending` (see [`MergeMap::with_budget`]) the map wakes its own
/// task and returns `Pending` once, so it cannot hog an executor.
///
/// Each item's key is a clone of the key given to `insert`: use cheap keys
/// (integers, `Arc<str>`) if items are many; a `String` key would be copied
/// for every item.
///
/// # When an input ends or fails
/// An input that returns `None` is dropped at once and its key removed.
/// The plain stream says nothing about it; [`MergeMap::events`] yields
/// [`Event::End`]`(key)` at that point. When the map is empty, the stream
/// returns `None` (and [`FusedStream::is_terminated`] is `true`) — until a
/// new input is inserted, after which it yields again. A panic inside an
/// input's `poll_next` propagates to the caller.
///
/// # Errors
/// None of its own.
///
/// # Cancel safety
/// Dropping a `next(&mut map)` future loses no item.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next};
/// use aiter_core::merge::MergeMap;
///
/// # futures::executor::block_on(async {
/// let mut map = MergeMap::new();
/// map.insert("evens", iter(vec![0, 2]));
/// map.insert("odds", iter(vec![1, 3]));
/// assert_eq!(next(&mut map).await, Some(("evens", 0)));
/// // Insert while merging: the next poll sees it.
/// map.insert("tens", iter(vec![10]));
/// assert!(map.remove("odds").is_some());
/// let mut rest = vec![];
/// while let Some(item) = next(&mut map).await {
///     rest.push(item);
/// }
/// assert_eq!(rest, [("tens", 10), ("evens", 2)]);
/// assert!(map.is_empty());
/// # });
/// ```
///
/// [`DEFAULT_BUDGET`]: super::DEFAULT_BUDGET
#[must_use = "streams do nothing unless polled"]
pub struct MergeMap<K, S> {
    keys: BTreeMap<K, usize>,
    slots: Slots<S, K>,
}

impl<K, S> MergeMap<K, S> {
    /// An empty map.
    pub fn new() -> Self {
        Self {
            keys: BTreeMap::new(),
            slots: Slots::new(),
        }
    }

    /// Sets the cooperative budget, as [`Merge::with_budget`](super::Merge::with_budget).
    ///
    /// # Panics
    /// If `budget` is 0.
    pub fn with_budget(mut self, budget: usize) -> Self {
        self.slots.set_budget(budget);
        self
    }

    /// Number of live inputs.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the map holds no input.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys of the live inputs, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.keys.keys()
    }

    /// Whether an input is live under `key`. O(log N).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q> + Ord,
        Q: Ord + ?Sized,
    {
        self.keys.contains_key(key)
    }

    /// A stream of [`Event`]s: every item as `Event::Item(key, item)` and the
    /// end of every input as `Event::End(key)`. It borrows the map; make a new
    /// one whenever you like (e.g. `next(&mut map.events())` in a loop, with
    /// inserts in between): it holds no state of its own.
    pub fn events(&mut self) -> Events<'_, K, S> {
        Events { map: self }
    }
}

impl<K: Ord + Clone, S> MergeMap<K, S> {
    /// Adds `stream` under `key`; it is polled by the next `poll_next`.
    ///
    /// If an input was live under `key`, the new stream takes its place and
    /// the old one is returned (pinned, as it was stored); nothing of the old
    /// input is lost except what it would have yielded. O(log N).
    pub fn insert(&mut self, key: K, stream: S) -> Option<Pin<Box<S>>> {
        if let Some(&index) = self.keys.get(&key) {
            return Some(self.slots.replace(index, stream));
        }
        let index = self.slots.insert(stream, key.clone());
        self.keys.insert(key, index);
        None
    }

    /// Removes the input under `key` and returns it (pinned, as it was
    /// stored); `None` if there is none. No event is reported for it.
    /// O(log N).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<Pin<Box<S>>>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.keys.remove(key)?;
        Some(self.slots.remove(index).0)
    }
}

impl<K: Ord + Clone, S: Stream> MergeMap<K, S> {
    /// Polls for the next [`Event`]: an item or the end of an input.
    ///
    /// Returns `Ready(Some(Event::Item(key, item)))` for an item,
    /// `Ready(Some(Event::End(key)))` when the input under `key` has just
    /// ended (it is dropped and its key removed), `Ready(None)` when the map
    /// is empty, and `Pending` when no input is ready (the task is woken by
    /// the next input wake) or the budget is spent (the task was woken
    /// already).
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event<K, S::Item>>> {
        match self.slots.poll_next(cx) {
            Polled::Item { index, item } => {
                Poll::Ready(Some(Event::Item(self.slots.tag(index).clone(), item)))
            }
            Polled::Ended { tag } => {
                self.keys.remove(&tag);
                Poll::Ready(Some(Event::End(tag)))
            }
            Polled::Pending => Poll::Pending,
            Polled::Empty => Poll::Ready(None),
        }
    }
}

impl<K: Ord + Clone, S: Stream> Stream for MergeMap<K, S> {
    type Item = (K, S::Item);

    /// Polls woken inputs round-robin until one yields an item.
    ///
    /// Returns `Ready(Some((key, item)))` for an item; `Ready(None)` when the
    /// map is empty; `Pending` when no input is ready (the task is woken by
    /// the next input wake) or the budget is spent (the task was woken
    /// already). Inputs that end meanwhile are dropped silently.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.slots.poll_next(cx) {
                Polled::Item { index, item } => {
                    return Poll::Ready(Some((this.slots.tag(index).clone(), item)))
                }
                Polled::Ended { tag } => {
                    this.keys.remove(&tag);
                }
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

impl<K: Ord + Clone, S: Stream> FusedStream for MergeMap<K, S> {
    /// `true` while the map is empty (it revives on `insert`).
    fn is_terminated(&self) -> bool {
        self.is_empty()
    }
}

impl<K, S> Default for MergeMap<K, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, S> FromIterator<(K, S)> for MergeMap<K, S> {
    /// Inserts each pair in turn; a later duplicate key replaces the earlier
    /// stream.
    fn from_iter<I: IntoIterator<Item = (K, S)>>(iter: I) -> Self {
        let mut map = Self::new();
        map.extend(iter);
        map
    }
}

impl<K: Ord + Clone, S> Extend<(K, S)> for MergeMap<K, S> {
    /// Inserts each pair in turn; a duplicate key replaces the live stream.
    fn extend<I: IntoIterator<Item = (K, S)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.slots.reserve(iter.size_hint().0);
        for (key, stream) in iter {
            self.insert(key, stream);
        }
    }
}

impl<K: fmt::Debug, S> fmt::Debug for MergeMap<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergeMap")
            .field("keys", &Keys(&self.keys))
            .field("budget", &self.slots.budget())
            .finish()
    }
}

/// Debug-prints a map's keys as a list.
struct Keys<'a, K>(&'a BTreeMap<K, usize>);

impl<K: fmt::Debug> fmt::Debug for Keys<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
