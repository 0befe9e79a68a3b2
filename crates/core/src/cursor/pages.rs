use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::pager::Pager;
use super::{FetchError, Page, PageFuture};

pin_project! {
    /// A [`Cursor`](super::Cursor) page by page: each item is a whole
    /// [`Page`] as the fetch function returned it (its continuation
    /// included), or the [`FetchError`] that ended it.
    ///
    /// Made by [`Cursor::pages`](super::Cursor::pages), which keeps the
    /// cursor's `prefetch` and `max_pages` settings (`max_items` does not
    /// apply: a page is never split).
    ///
    /// Pages come in fetch order. Empty pages are yielded too (the cursor
    /// keeps fetching after them if they say `More`).
    ///
    /// With prefetch `k`, the fetch of the next page is started (and
    /// polled once) before a page is returned, so it proceeds while the
    /// caller works on the page *if its future makes progress without
    /// being polled* (a spawned task, a blocking-pool job, a timer);
    /// otherwise it proceeds whenever this stream is polled. At most `k`
    /// pages are queued or in flight besides the one returned.
    ///
    /// # Errors
    /// A failed fetch is yielded as one `Err(FetchError)` after every page
    /// before it; then the stream ends.
    ///
    /// # Cancel safety
    /// Dropping a `next` future loses nothing: fetched pages stay queued.
    /// Dropping the stream drops the fetch in flight.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::cursor::{Cursor, Page};
    /// use aiter_core::next;
    ///
    /// # futures::executor::block_on(async {
    /// let fetch = |from: Option<u8>| async move {
    ///     let from = from.unwrap_or(0);
    ///     Ok::<_, ()>(if from < 4 {
    ///         Page::more(vec![from, from + 1], from + 2)
    ///     } else {
    ///         Page::done(vec![])
    ///     })
    /// };
    /// let mut pages = core::pin::pin!(Cursor::new(fetch).prefetch(1).pages());
    /// assert_eq!(next(&mut pages).await, Some(Ok(Page::more(vec![0, 1], 2))));
    /// assert_eq!(next(&mut pages).await, Some(Ok(Page::more(vec![2, 3], 4))));
    /// assert_eq!(next(&mut pages).await, Some(Ok(Page::done(vec![]))));
    /// assert_eq!(next(&mut pages).await, None);
    /// # });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Pages<F, Fut: PageFuture> {
        #[pin]
        pager: Pager<F, Fut>,
    }
}

impl<F, Fut> Pages<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    pub(super) fn from_pager(pager: Pager<F, Fut>) -> Self {
        Pages { pager }
    }
}

impl<F, Fut> Stream for Pages<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    type Item = Result<Page<Fut::Items, Fut::Position>, FetchError<Fut::Error, Fut::Position>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut pager = self.project().pager;
        let fetched = core::task::ready!(pager.as_mut().poll_pop(cx));
        if fetched.is_some() {
            // Start the next page's fetch before handing this one out.
            let target = pager.prefetch();
            pager.fill(cx, target);
        }
        Poll::Ready(fetched)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pager.queued(), self.pager.pages_upper_bound())
    }
}

impl<F, Fut> FusedStream for Pages<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    fn is_terminated(&self) -> bool {
        self.pager.is_finished()
    }
}

impl<F, Fut: PageFuture> fmt::Debug for Pages<F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").field("pager", &self.pager).finish()
    }
}
