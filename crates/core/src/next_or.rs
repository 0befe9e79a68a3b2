use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedFuture, Stream};

/// Python's `anext(it, default)`: the next item of a stream, or `default`
/// once the stream has ended.
///
/// # Cancel safety
/// Dropping the future before it completes loses nothing but `default`.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next_or};
///
/// # futures::executor::block_on(async {
/// let mut s = iter([1]);
/// assert_eq!(next_or(&mut s, 0).await, 1);
/// assert_eq!(next_or(&mut s, 0).await, 0);
/// # });
/// ```
pub fn next_or<S>(stream: &mut S, default: S::Item) -> NextOr<'_, S>
where
    S: Stream + Unpin + ?Sized,
{
    NextOr {
        state: Some((stream, default)),
    }
}

/// Future returned by [`next_or`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct NextOr<'a, S: Stream + ?Sized> {
    /// `None` once the future has completed.
    state: Option<(&'a mut S, S::Item)>,
}

impl<S: Stream + ?Sized> Unpin for NextOr<'_, S> {}

impl<S: Stream + Unpin + ?Sized> Future for NextOr<'_, S> {
    type Output = S::Item;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<S::Item> {
        let (stream, _) = self
            .state
            .as_mut()
            .expect("`NextOr` polled after it completed");
        let item = core::task::ready!(Pin::new(&mut **stream).poll_next(cx));
        let (_, default) = self.state.take().expect("state checked above");
        Poll::Ready(item.unwrap_or(default))
    }
}

impl<S: Stream + Unpin + ?Sized> FusedFuture for NextOr<'_, S> {
    fn is_terminated(&self) -> bool {
        self.state.is_none()
    }
}

impl<S: Stream + ?Sized> fmt::Debug for NextOr<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextOr")
            .field("done", &self.state.is_none())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iter;
    use futures::executor::block_on;

    #[test]
    fn default_only_after_the_end() {
        let mut s = iter([10, 20]);
        block_on(async {
            assert_eq!(next_or(&mut s, 0).await, 10);
            assert_eq!(next_or(&mut s, 0).await, 20);
            assert_eq!(next_or(&mut s, 0).await, 0);
            assert_eq!(next_or(&mut s, 5).await, 5);
        });
    }
}
