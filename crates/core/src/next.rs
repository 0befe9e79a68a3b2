use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedFuture, Stream};

/// Python's `anext(it)`: the next item of a stream, or `None` at its end.
///
/// The stream must be [`Unpin`]; a `!Unpin` stream works once pinned, for
/// example with [`core::pin::pin!`] (a `Pin<&mut S>` is itself an `Unpin`
/// stream).
///
/// # Cancel safety
/// Dropping the future before it completes loses nothing: the item, if any,
/// stays in the stream and the next call returns it.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next};
///
/// # futures::executor::block_on(async {
/// let mut s = iter(["a", "b"]);
/// assert_eq!(next(&mut s).await, Some("a"));
/// assert_eq!(next(&mut s).await, Some("b"));
/// assert_eq!(next(&mut s).await, None);
///
/// // A stream that is not Unpin: pin it first.
/// let mut pinned = core::pin::pin!(iter([1]));
/// assert_eq!(next(&mut pinned).await, Some(1));
/// # });
/// ```
pub fn next<S>(stream: &mut S) -> Next<'_, S>
where
    S: Stream + Unpin + ?Sized,
{
    Next {
        stream: Some(stream),
    }
}

/// Future returned by [`next`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Next<'a, S: ?Sized> {
    /// `None` once the future has completed.
    stream: Option<&'a mut S>,
}

impl<S: ?Sized> Unpin for Next<'_, S> {}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let stream = self
            .stream
            .as_mut()
            .expect("`Next` polled after it completed");
        let item = core::task::ready!(Pin::new(&mut **stream).poll_next(cx));
        self.stream = None;
        Poll::Ready(item)
    }
}

impl<S: Stream + Unpin + ?Sized> FusedFuture for Next<'_, S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_none()
    }
}

impl<S: ?Sized> fmt::Debug for Next<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("done", &self.stream.is_none())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iter;
    use futures::executor::block_on;
    use futures::task::noop_waker_ref;

    #[test]
    fn yields_items_then_none_forever() {
        let mut s = iter(0..2);
        block_on(async {
            assert_eq!(next(&mut s).await, Some(0));
            assert_eq!(next(&mut s).await, Some(1));
            for _ in 0..3 {
                assert_eq!(next(&mut s).await, None);
            }
        });
    }

    #[test]
    fn dropping_a_pending_next_loses_nothing() {
        let (mut tx, mut rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut cx = Context::from_waker(noop_waker_ref());
        {
            let mut fut = next(&mut rx);
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        }
        tx.start_send(7).unwrap();
        assert_eq!(block_on(next(&mut rx)), Some(7));
    }

    #[test]
    fn is_terminated_after_completion() {
        let mut s = iter([1]);
        let mut fut = next(&mut s);
        assert!(!fut.is_terminated());
        let mut cx = Context::from_waker(noop_waker_ref());
        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Some(1)));
        assert!(fut.is_terminated());
    }

    #[test]
    fn auto_traits() {
        fn send_sync_unpin<T: Send + Sync + Unpin>() {}
        send_sync_unpin::<Next<'_, crate::Iter<core::ops::Range<u8>>>>();
        send_sync_unpin::<crate::NextOr<'_, crate::Iter<core::ops::Range<u8>>>>();
    }

    #[test]
    fn works_on_pinned_not_unpin_streams() {
        struct NotUnpin(core::marker::PhantomPinned, u8);
        impl Stream for NotUnpin {
            type Item = u8;
            fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u8>> {
                // SAFETY-free: only reads a Copy field through the pin.
                Poll::Ready(Some(self.1))
            }
        }
        let mut s = core::pin::pin!(NotUnpin(core::marker::PhantomPinned, 9));
        assert_eq!(block_on(next(&mut s)), Some(9));
    }
}
