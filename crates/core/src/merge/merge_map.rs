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
/// # `Unpin` and `!Unpin` inputs
/// Every input is pinned in a box of its own when it is inserted.
/// [`insert`](MergeMap::insert) and [`remove`](MergeMap::remove) hand a
/// stream back by value, so they need `S: Unpin` (most streams: channel
/// receivers, `iter`, boxed streams); [`insert_pinned`](MergeMap::insert_pinned)
/// and [`remove_pinned`](MergeMap::remove_pinned) take any stream and hand it
/// back as the `Pin<Box<S>>` it was stored in. [`iter_mut`](MergeMap::iter_mut)
/// and [`values_mut`](MergeMap::values_mut) give `Pin<&mut S>`, which for an
/// `Unpin` stream dereferences to `&mut S`.
///
/// # Ordering and fairness
/// Items of one input come out in that input's order. Ready inputs are served
/// round-robin, one item per turn: between two items of an input that stays
/// ready, every other input yields at most one item, so an input that is
/// woken while `L` inputs are live has its next item delivered within the
/// next `L` items. An inserted input joins the back of the round-robin
/// queue: it is polled after the inputs already waiting (or, if it takes
/// the place of an input removed while that one waited in the queue, in
/// the removed input's turn, which is sooner). After [`DEFAULT_BUDGET`] input polls
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
/// // Insert while merging: it takes its turn after the inputs waiting.
/// map.insert("tens", iter(vec![10]));
/// assert!(map.remove("odds").is_some());
/// let mut rest = vec![];
/// while let Some(item) = next(&mut map).await {
///     rest.push(item);
/// }
/// assert_eq!(rest, [("evens", 2), ("tens", 10)]);
/// assert!(map.is_empty());
/// # });
/// ```
///
/// [`DEFAULT_BUDGET`]: super::DEFAULT_BUDGET
#[must_use = "streams do nothing unless polled"]
pub struct MergeMap<K, S> {
    keys: BTreeMap<K, usize>,
    /// Each input boxed, so that it can be handed back pinned.
    slots: Slots<Pin<Box<S>>, K>,
}

impl<K, S> MergeMap<K, S> {
    /// An empty map.
    pub fn new() -> Self {
        Self {
            keys: BTreeMap::new(),
            slots: Slots::new(),
        }
    }

    /// An empty map with room for `capacity` inputs before it reallocates
    /// its slot storage.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut map = Self::new();
        map.slots.reserve(capacity);
        map
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

    /// Every live input with its key, in an unspecified order, pinned as
    /// it is stored: call its methods through the `Pin<&mut S>` (for an
    /// `Unpin` stream the pin dereferences to `&mut S`).
    ///
    /// # Examples
    /// ```
    /// use aiter_core::{iter, merge::MergeMap, Stream};
    ///
    /// let mut map = MergeMap::new();
    /// map.insert("a", iter(0..3));
    /// map.insert("b", iter(0..5));
    /// let mut hints: Vec<_> = map.iter_mut().map(|(k, s)| (*k, s.size_hint().0)).collect();
    /// hints.sort();
    /// assert_eq!(hints, [("a", 3), ("b", 5)]);
    /// ```
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, Pin<&mut S>)> {
        self.slots
            .iter_mut()
            .map(|(key, stream)| (key, stream.get_mut().as_mut()))
    }

    /// Every live input, in the order of [`MergeMap::iter_mut`], pinned as
    /// it is stored.
    pub fn values_mut(&mut self) -> impl Iterator<Item = Pin<&mut S>> {
        self.slots
            .iter_mut()
            .map(|(_, stream)| stream.get_mut().as_mut())
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
    /// Adds `stream` under `key`; it joins the back of the round-robin
    /// queue (no wake is needed).
    ///
    /// If an input was live under `key`, the new stream takes its place and
    /// the old one is returned; nothing of the old input is lost except what
    /// it would have yielded. O(log N).
    ///
    /// This form needs `S: Unpin` to hand the old stream back by value; for
    /// `!Unpin` streams (an `async` block, `unfold`) use
    /// [`MergeMap::insert_pinned`], which takes any stream and hands the old
    /// one back pinned in its box.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::{iter, merge::MergeMap, Stream};
    ///
    /// let mut map = MergeMap::new();
    /// assert!(map.insert("k", iter(0..3)).is_none());
    /// let old = map.insert("k", iter(10..11)).expect("replaced");
    /// assert_eq!(old.size_hint(), (3, Some(3)));
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn insert(&mut self, key: K, stream: S) -> Option<S>
    where
        S: Unpin,
    {
        self.insert_pinned(key, stream)
            .map(|old| *Pin::into_inner(old))
    }

    /// Adds `stream` under `key`, as [`MergeMap::insert`], for any stream
    /// (`Unpin` or not); an old stream under `key` is handed back pinned in
    /// the box it was stored in. O(log N).
    ///
    /// # Examples
    /// ```
    /// use aiter_core::{merge::MergeMap, next};
    ///
    /// # futures::executor::block_on(async {
    /// let countdown = |n: u32| futures::stream::unfold(n, |n| async move { (n > 0).then(|| (n, n - 1)) });
    /// let mut map = MergeMap::new();
    /// map.insert_pinned("a", countdown(1)); // `!Unpin`: an async block inside
    /// assert_eq!(next(&mut map).await, Some(("a", 1)));
    /// # });
    /// ```
    pub fn insert_pinned(&mut self, key: K, stream: S) -> Option<Pin<Box<S>>> {
        if let Some(&index) = self.keys.get(&key) {
            return Some(self.slots.replace(index, Box::pin(stream)));
        }
        let index = self.slots.insert(Box::pin(stream), key.clone());
        self.keys.insert(key, index);
        None
    }

    /// Removes the input under `key` and returns it; `None` if there is
    /// none. No event is reported for it. O(log N).
    ///
    /// This form needs `S: Unpin`; [`MergeMap::remove_pinned`] takes any
    /// stream and hands it back pinned in its box.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<S>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        S: Unpin,
    {
        self.remove_pinned(key).map(|old| *Pin::into_inner(old))
    }

    /// Removes the input under `key`, as [`MergeMap::remove`], for any
    /// stream (`Unpin` or not), and returns it pinned in the box it was
    /// stored in. O(log N).
    pub fn remove_pinned<Q>(&mut self, key: &Q) -> Option<Pin<Box<S>>>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.keys.remove(key)?;
        Some(self.slots.remove(index).0)
    }

    /// Removes and drops every input (no events are reported for them); the
    /// map is then empty and, as a stream, ended until the next insert.
    /// O(N log N).
    pub fn clear(&mut self) {
        // One input at a time, so that a panicking `drop` leaves keys and
        // slots in agreement.
        while let Some((_, index)) = self.keys.pop_first() {
            drop(self.slots.remove(index));
        }
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
        // An ended input's key goes before the input is dropped: if its
        // `drop` panics, keys and slots still agree.
        let keys = &mut self.keys;
        match self.slots.poll_next(cx, |key| {
            keys.remove(key);
        }) {
            Polled::Item { index, item } => {
                Poll::Ready(Some(Event::Item(self.slots.tag(index).clone(), item)))
            }
            Polled::Ended { tag } => Poll::Ready(Some(Event::End(tag))),
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
            // As in `poll_next_event`.
            let keys = &mut this.keys;
            match this.slots.poll_next(cx, |key| {
                keys.remove(key);
            }) {
                Polled::Item { index, item } => {
                    return Poll::Ready(Some((this.slots.tag(index).clone(), item)))
                }
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
            self.insert_pinned(key, stream);
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
