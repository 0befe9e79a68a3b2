use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use super::{Event, MergeMap};

/// A stream of a [`MergeMap`]'s [`Event`]s: items *and* ends of inputs.
///
/// Returned by [`MergeMap::events`]. It borrows the map, so it is cheap to
/// make one per item and drop it to insert or remove inputs in between.
///
/// # Ordering and fairness
/// As for [`MergeMap`]; an end counts as one input poll of the budget.
///
/// # When an input ends or fails
/// An input that ends is dropped and its key removed, then
/// `Event::End(key)` is returned. `None` when the map is empty.
///
/// # Errors
/// None of its own.
///
/// # Cancel safety
/// Dropping a `next` future on it loses no event.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next};
/// use aiter_core::merge::{Event, MergeMap};
///
/// # futures::executor::block_on(async {
/// let mut map = MergeMap::new();
/// map.insert(1, iter(vec!["x"]));
/// map.insert(2, iter(vec![]));
/// let mut events = vec![];
/// while let Some(event) = next(&mut map.events()).await {
///     events.push(event);
/// }
/// assert_eq!(events, [Event::Item(1, "x"), Event::End(2), Event::End(1)]);
/// # });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Events<'a, K, S> {
    pub(super) map: &'a mut MergeMap<K, S>,
}

impl<K: Ord + Clone, S: Stream> Stream for Events<'_, K, S> {
    type Item = Event<K, S::Item>;

    /// Returns the next item or end as an [`Event`]; `Ready(None)` when the
    /// map is empty; `Pending` as [`MergeMap`]'s `poll_next`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().map.poll_next_event(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, upper) = self.map.size_hint();
        // Plus one end event per live input.
        let len = self.map.len();
        (
            lower.saturating_add(len),
            upper.and_then(|u| u.checked_add(len)),
        )
    }
}

impl<K: Ord + Clone, S: Stream> FusedStream for Events<'_, K, S> {
    fn is_terminated(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: fmt::Debug, S> fmt::Debug for Events<'_, K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("map", &self.map).finish()
    }
}
