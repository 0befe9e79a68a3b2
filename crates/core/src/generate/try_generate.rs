//! [`try_generate`]: a generator whose body can fail with `?`.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::body::Body;
use super::co::Co;

/// Python's async generator for bodies that can fail: the body returns
/// `Result<(), E>`, so `?` works inside, and an error comes out as one
/// `Err(e)` item followed by the end of the stream.
///
/// Items the body yields come out as `Ok(item)`, in order, one at a time;
/// everything else is as for [`generate`](super::generate()): nothing runs
/// before the first poll, the body is suspended at each `yield_` until the
/// consumer asks for the next item, and dropping the stream drops the body
/// where it is suspended.
///
/// When the body returns `Ok(())` the stream ends (`None`, forever after).
/// When it returns `Err(e)` the stream yields `Some(Err(e))` once and then
/// ends. A panic in the body propagates out of `poll_next`.
///
/// # Errors
/// The body's own error, as the last item.
///
/// # Cancel safety
/// As for [`generate`](super::generate()): dropping the stream drops the body
/// at its suspension point, running the destructors of its locals, like
/// Python's `aclose()`.
///
/// # Examples
/// ```
/// use aiter_core::generate::try_generate;
/// use aiter_core::next;
///
/// # futures::executor::block_on(async {
/// let parse = try_generate(|co| async move {
///     for word in ["1", "2", "x", "4"] {
///         let n: u32 = word.parse()?;
///         co.yield_(n).await;
///     }
///     // Name the error type once, as in any `async` block that uses `?`.
///     Ok::<(), core::num::ParseIntError>(())
/// });
/// let mut numbers = core::pin::pin!(parse);
/// assert_eq!(next(&mut numbers).await, Some(Ok(1)));
/// assert_eq!(next(&mut numbers).await, Some(Ok(2)));
/// assert!(next(&mut numbers).await.unwrap().is_err()); // "x" is no u32
/// assert_eq!(next(&mut numbers).await, None);
/// # });
/// ```
pub fn try_generate<T, E, F, Fut>(body: F) -> TryGenerate<T, E, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    TryGenerate {
        body: Body::new(body),
    }
}

pin_project! {
    /// Stream returned by [`try_generate`].
    ///
    /// `Send` when the closure, the body's future and `T` are; never `Sync`
    /// (its body owns a [`Co`], which is not); `Unpin` when the body's future
    /// is (an `async` block is not: pin the stream with [`core::pin::pin!`]
    /// or `Box::pin`).
    #[must_use = "streams do nothing unless polled"]
    pub struct TryGenerate<T, E, F, Fut> {
        #[pin]
        body: Body<T, F, Fut, Result<(), E>>,
    }
}

impl<T, E, F, Fut> Stream for TryGenerate<T, E, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    type Item = Result<T, E>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        self.project()
            .body
            .poll_next(cx, Ok, |output| output.err().map(Err))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.body.returning() {
            Some(Err(_)) => (1, Some(1)),
            Some(Ok(())) => (0, Some(0)),
            None if self.body.may_yield() => (0, None),
            None => (0, Some(0)),
        }
    }
}

impl<T, E, F, Fut> FusedStream for TryGenerate<T, E, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    fn is_terminated(&self) -> bool {
        self.body.is_finished()
    }
}

impl<T, E, F, Fut> fmt::Debug for TryGenerate<T, E, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGenerate")
            .field("state", &self.body.phase())
            .finish_non_exhaustive()
    }
}
