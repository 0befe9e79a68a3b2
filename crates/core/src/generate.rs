//! Generators: Python's `async def … yield` as a plain function, on any
//! executor, without a macro.
//!
//! | Python | aiter |
//! |---|---|
//! | `async def gen(): … yield x` | [`generate`]`(\|co\| async move { … co.yield_(x).await; … })` |
//! | a generator that raises | [`try_generate()`] (`?` in the body, one `Err` item, then the end) |
//! | `await agen.aclose()` | `drop(stream)` |
//!
//! The body talks to its stream through a one-item slot shared by one `Arc`,
//! allocated when the body starts: one allocation per generator, none per
//! item, no atomic operation per item with `std` (a thread-local names the
//! generator being polled, so a [`Co`] knows whether it runs inside its own
//! generator's poll). Needs the `alloc` feature.
#![cfg(feature = "alloc")]

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

mod body;
mod co;
#[allow(unsafe_code)]
mod slot;
mod sync;
mod try_generate;

use self::body::Body;
pub use self::co::{Co, Yield};
pub use self::try_generate::{try_generate, TryGenerate};

/// Python's async generator: a stream of the items the body yields with
/// `co.yield_(item).await`.
///
/// Items come out in the order they are yielded, one at a time: each
/// `yield_` suspends the body until the consumer asks for the next item, so
/// at most one item is in flight. Nothing runs before the first poll (the
/// closure is called then). The body may await anything between yields —
/// timers, I/O, other streams — and the stream's `poll_next` returns
/// `Pending` while it does.
///
/// When the body returns, the stream ends: `None`, forever after. A panic in
/// the body propagates out of `poll_next`. For bodies that can fail, see
/// [`try_generate()`].
///
/// The stream is `Send` when the closure, the body's future and `T` are, so a
/// body that holds an `Rc` across a yield makes a stream that is not. It is
/// never `Sync`. It is not `Unpin` when the body is an `async` block: pin it
/// with [`core::pin::pin!`] or `Box::pin` before calling [`next`](crate::next()).
///
/// # Errors
/// None: items are whatever the body yields.
///
/// # Panics
/// Only on misuse of the [`Co`] (moving it out of the body, or calling
/// `yield_` again before awaiting the previous one): see [`Co`] for the
/// messages.
///
/// # Cancel safety
/// Dropping the stream drops the body where it is suspended, running the
/// destructors of its locals, like Python's `aclose()`. An item is handed
/// over only when the consumer polls for it, so dropping a pending
/// [`next`](crate::next()) loses nothing.
///
/// # Examples
/// Paging a query, the way a Python async generator does it:
/// ```
/// use aiter_core::generate::generate;
/// use aiter_core::{next, Stream};
///
/// /// Stands in for a database: three pages of rows, then an empty page.
/// async fn fetch_page(page: u32) -> Vec<u32> {
///     if page < 3 { (page * 10..page * 10 + 3).collect() } else { Vec::new() }
/// }
///
/// fn rows() -> impl Stream<Item = u32> {
///     generate(|co| async move {
///         let mut page = 0;
///         loop {
///             let batch = fetch_page(page).await;
///             if batch.is_empty() {
///                 return;
///             }
///             for row in batch {
///                 co.yield_(row).await;
///             }
///             page += 1;
///         }
///     })
/// }
///
/// # futures::executor::block_on(async {
/// let mut rows = core::pin::pin!(rows());
/// let mut seen = Vec::new();
/// while let Some(row) = next(&mut rows).await {
///     seen.push(row);
/// }
/// assert_eq!(seen, [0, 1, 2, 10, 11, 12, 20, 21, 22]);
/// # });
/// ```
pub fn generate<T, F, Fut>(body: F) -> Generate<T, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    Generate {
        body: Body::new(body),
    }
}

pin_project! {
    /// Stream returned by [`generate`].
    ///
    /// `Send` when the closure, the body's future and `T` are; never `Sync`
    /// (its body owns a [`Co`], which is not); `Unpin` when the body's future
    /// is.
    #[must_use = "streams do nothing unless polled"]
    pub struct Generate<T, F, Fut> {
        #[pin]
        body: Body<T, F, Fut, ()>,
    }
}

impl<T, F, Fut> Stream for Generate<T, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    type Item = T;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.project().body.poll_next(cx, |item| item, |()| None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.body.may_yield() {
            (0, None)
        } else {
            (0, Some(0))
        }
    }
}

impl<T, F, Fut> FusedStream for Generate<T, F, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    fn is_terminated(&self) -> bool {
        self.body.is_finished()
    }
}

impl<T, F, Fut> fmt::Debug for Generate<T, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generate")
            .field("state", &self.body.phase())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
