/// What a [`MergeMap`](super::MergeMap) reports through
/// [`MergeMap::events`](super::MergeMap::events): an item, or the end of an
/// input, each with the input's key.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next};
/// use aiter_core::merge::{Event, MergeMap};
///
/// # futures::executor::block_on(async {
/// let mut map = MergeMap::new();
/// map.insert("a", iter([1]));
/// assert_eq!(next(&mut map.events()).await, Some(Event::Item("a", 1)));
/// assert_eq!(next(&mut map.events()).await, Some(Event::End("a")));
/// assert_eq!(next(&mut map.events()).await, None);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event<K, T> {
    /// The input under this key yielded an item.
    Item(K, T),
    /// The input under this key ended; it has been dropped and its key
    /// removed from the map.
    End(K),
}
