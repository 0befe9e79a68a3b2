use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

/// Python's `aiter()` over a plain iterable: a stream that is always ready.
///
/// The stream is fused even when the iterator is not: after the first `None`
/// it returns `None` forever. `size_hint` is the iterator's, so it is exact
/// whenever the iterator's is.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next, Stream};
///
/// # futures::executor::block_on(async {
/// let mut s = iter(vec![1, 2, 3]);
/// assert_eq!(s.size_hint(), (3, Some(3)));
/// assert_eq!(next(&mut s).await, Some(1));
/// assert_eq!(s.size_hint(), (2, Some(2)));
/// # });
/// ```
pub fn iter<I: IntoIterator>(iterable: I) -> Iter<I::IntoIter> {
    Iter {
        iter: Some(iterable.into_iter()),
    }
}

/// Stream returned by [`iter`].
#[must_use = "streams do nothing unless polled"]
#[derive(Clone)]
pub struct Iter<I> {
    /// `None` once the iterator has returned `None` (it is dropped then).
    iter: Option<I>,
}

impl<I> Unpin for Iter<I> {}

impl<I: Iterator> Stream for Iter<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let item = self.iter.as_mut().and_then(Iterator::next);
        if item.is_none() {
            self.iter = None;
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.as_ref().map_or((0, Some(0)), Iterator::size_hint)
    }
}

impl<I: Iterator> FusedStream for Iter<I> {
    fn is_terminated(&self) -> bool {
        self.iter.is_none()
    }
}

impl<I: fmt::Debug> fmt::Debug for Iter<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("iter", &self.iter).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::next;
    use futures::executor::block_on;

    /// An iterator that yields again after returning `None`.
    struct Flaky(u8);
    impl Iterator for Flaky {
        type Item = u8;
        fn next(&mut self) -> Option<u8> {
            self.0 += 1;
            self.0.is_multiple_of(2).then_some(self.0)
        }
    }

    #[test]
    fn fused_even_over_an_unfused_iterator() {
        let mut s = iter(Flaky(1));
        block_on(async {
            assert_eq!(next(&mut s).await, Some(2));
            assert_eq!(next(&mut s).await, None);
            assert_eq!(next(&mut s).await, None);
            assert_eq!(next(&mut s).await, None);
        });
    }

    #[test]
    fn size_hint_is_exact_and_shrinks() {
        let mut s = iter(0..5);
        assert_eq!(Stream::size_hint(&s), (5, Some(5)));
        block_on(next(&mut s));
        assert_eq!(Stream::size_hint(&s), (4, Some(4)));
        while block_on(next(&mut s)).is_some() {}
        assert_eq!(Stream::size_hint(&s), (0, Some(0)));
        assert!(s.is_terminated());
    }

    #[test]
    fn auto_traits() {
        fn send_sync_unpin<T: Send + Sync + Unpin>() {}
        send_sync_unpin::<Iter<core::ops::Range<u32>>>();
    }
}
