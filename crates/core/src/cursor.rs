//! A lazy, paged, prefetching cursor: [`Cursor`].
//!
//! You supply a fetch function: given the position to continue from
//! (`None` for the start) it returns a future of a [`Page`]: the page's
//! items and an explicit [`Continuation`], `More(position)` or `Done`. The
//! cursor hands out the items one by one as a [`Stream`], or whole pages
//! ([`Cursor::pages`]), fetching the next page while the current one is
//! consumed if asked to ([`Cursor::prefetch`]).
//!
//! | Python | aiter-core |
//! |---|---|
//! | `cursor.execute(sql)` then `async for row in cursor` | `Cursor::new(fetch)`, then `next(&mut cursor)` |
//! | `cursor.fetchmany(n)` | [`Cursor::pages`] (page size lives in the fetch function) |
//!
//! The cursor runs no task and needs no runtime, nor `alloc` unless it
//! prefetches more than one page.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

mod ahead;
mod error;
mod page;
mod pager;
mod pages;

pub use self::error::FetchError;
pub use self::page::{Continuation, Page, PageFuture};
pub use self::pages::Pages;

use self::pager::Pager;

/// How many exhausted pages one `poll_next` may go through before yielding
/// to the executor (a long run of empty pages that are ready at once must
/// not starve other tasks).
const PAGES_PER_POLL: usize = 32;

pin_project! {
    /// A lazy, paged cursor: the items of the pages a fetch function
    /// returns, one by one, optionally fetching ahead.
    ///
    /// Built from a fetch function `FnMut(Option<P>) -> Fut`, where `Fut`
    /// resolves to `Result<Page<I, P>, E>`. The function is first called
    /// with `None` ([`new`](Cursor::new)) or a saved position
    /// ([`resume`](Cursor::resume)), then with the position from each
    /// page's [`Continuation::More`], until a page says
    /// [`Done`](Continuation::Done). Nothing is called before the first
    /// poll: building and dropping a cursor does nothing.
    ///
    /// Items come out as `Ok(item)`, in page order and, within a page, in
    /// the page's order. A page with no items that says `More` is not the
    /// end: the cursor fetches the next one.
    ///
    /// # Prefetch
    /// [`prefetch(k)`](Cursor::prefetch) keeps up to `k` pages fetched or
    /// being fetched beyond the page being consumed, so at most `1 + k`
    /// pages are held. Pages are fetched one at a time (the next position
    /// comes with each page): when page `N` arrives, the fetch of `N + 1`
    /// starts at once if fewer than `k` pages are waiting, and so on. With
    /// `k = 1` the fetch of the next page overlaps the consumption of the
    /// current one; a larger `k` absorbs uneven fetch or consumer times
    /// but cannot make fetches themselves overlap.
    ///
    /// The fetch future is polled inside the cursor's own `poll_next` (no
    /// task is spawned, so any executor works): before each item is
    /// returned, the fetch in flight is polled once. It therefore makes
    /// progress only while the cursor is polled, unless the future does its
    /// work elsewhere: a runtime timer, a job on a blocking pool
    /// (`Blocking::unblock`), or a spawned task all run while the consumer
    /// is busy between polls. To fetch truly in the background, return such
    /// a future from the fetch function (see the `sqlite_cursor` example).
    ///
    /// # Limits
    /// [`max_items`](Cursor::max_items) ends the stream after that many
    /// items (and drops any fetch in flight);
    /// [`max_pages`](Cursor::max_pages) stops fetching after that many
    /// fetches.
    ///
    /// # Errors
    /// If a fetch fails, the cursor first yields every item of the pages
    /// fetched before it, then one `Err(`[`FetchError`]`)` holding the
    /// error and the position the failed page was fetched from, then ends
    /// (`None` forever). A new cursor built with
    /// [`resume`](Cursor::resume) from that position continues exactly
    /// where the items stopped. Retrying is the fetch function's business.
    ///
    /// # Cancel safety
    /// Dropping a `next` future loses nothing: items and pages stay in the
    /// cursor. Dropping the cursor drops the fetch in flight (at most one)
    /// and the queued pages; no fetch is ever started after a page said
    /// `Done`.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::cursor::{Cursor, Page};
    /// use aiter_core::next;
    ///
    /// # futures::executor::block_on(async {
    /// // Pages of three numbers from a "service"; the position is an offset.
    /// let fetch = |from: Option<u32>| async move {
    ///     let start = from.unwrap_or(0);
    ///     let items: Vec<u32> = (start..10).take(3).collect();
    ///     let end = start + items.len() as u32;
    ///     Ok::<_, &str>(if end < 10 { Page::more(items, end) } else { Page::done(items) })
    /// };
    /// let mut cursor = core::pin::pin!(Cursor::new(fetch).prefetch(1));
    /// let mut sum = 0;
    /// while let Some(n) = next(&mut cursor).await {
    ///     sum += n?;
    /// }
    /// assert_eq!(sum, 45);
    /// # Ok::<(), aiter_core::cursor::FetchError<&str, u32>>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Cursor<F, Fut: PageFuture> {
        #[pin]
        pager: Pager<F, Fut>,
        // The page being consumed.
        current: Option<<Fut::Items as IntoIterator>::IntoIter>,
        // Items still allowed by `max_items`; `None`: no limit.
        items_left: Option<usize>,
    }
}

impl<F, Fut> Cursor<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    /// A cursor whose first page is fetched with `fetch(None)`.
    ///
    /// Without prefetch and limits; see the builder methods.
    pub const fn new(fetch: F) -> Self {
        Cursor {
            pager: Pager::new(None, fetch),
            current: None,
            items_left: None,
        }
    }

    /// A cursor whose first page is fetched with `fetch(from)`: continues
    /// from a position saved from a page's [`Continuation`] or a
    /// [`FetchError::from`]. `resume(None, f)` is `new(f)`.
    ///
    /// # Examples
    /// ```
    /// use aiter_core::cursor::{Cursor, Page};
    /// use aiter_core::next;
    ///
    /// # futures::executor::block_on(async {
    /// let fetch = |from: Option<u32>| async move {
    ///     let n = from.unwrap_or(0);
    ///     Ok::<_, ()>(if n < 3 { Page::more([n], n + 1) } else { Page::done([n]) })
    /// };
    /// let mut cursor = core::pin::pin!(Cursor::resume(Some(2), fetch));
    /// assert_eq!(next(&mut cursor).await, Some(Ok(2)));
    /// assert_eq!(next(&mut cursor).await, Some(Ok(3)));
    /// assert_eq!(next(&mut cursor).await, None);
    /// # });
    /// ```
    pub const fn resume(from: Option<Fut::Position>, fetch: F) -> Self {
        Cursor {
            pager: Pager::new(from, fetch),
            current: None,
            items_left: None,
        }
    }

    /// Keeps up to `pages` pages fetched or being fetched beyond the page
    /// being consumed (default 0: the next page is fetched when the current
    /// one is used up). See [Prefetch](Cursor#prefetch).
    ///
    /// # Panics
    /// Without the `alloc` feature, if `pages` is more than 1 (the queue
    /// of pages is then a single inline slot).
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.pager.set_prefetch(pages);
        self
    }

    /// Ends the stream after `items` items, dropping the fetch in flight.
    ///
    /// While the page being consumed holds enough items to reach the limit
    /// (by its iterator's `size_hint`), no further page is prefetched.
    pub fn max_items(mut self, items: usize) -> Self {
        self.items_left = Some(items);
        self
    }

    /// Fetches at most `pages` pages (failed fetches count). The stream
    /// ends after the items of the last one.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.pager.set_max_pages(pages);
        self
    }

    /// This cursor as a stream of whole pages; see [`Pages`].
    ///
    /// Keeps `prefetch` and `max_pages`; `max_items` does not apply to
    /// pages. Call it before polling the cursor: items of a page already
    /// being consumed are dropped.
    pub fn pages(self) -> Pages<F, Fut> {
        Pages::from_pager(self.pager)
    }
}

impl<F, Fut> Stream for Cursor<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    type Item = Result<<Fut::Items as IntoIterator>::Item, FetchError<Fut::Error, Fut::Position>>;

    /// - `Ready(Some(Ok(item)))`: the next item. Before returning it, the
    ///   fetch in flight (if any) is polled once and further fetches are
    ///   started up to the prefetch depth; their wakers are registered.
    /// - `Ready(Some(Err(e)))`: a fetch failed; every earlier item was
    ///   yielded before.
    /// - `Ready(None)`: the last page was used up, a limit was reached, or
    ///   an error was yielded; `None` forever after.
    /// - `Pending`: the next page is being fetched and its future registered
    ///   the waker; or `PAGES_PER_POLL` (32) empty pages in a row were
    ///   skipped in this call, and the waker was woken at once.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.items_left == Some(0) {
            // `max_items(0)`: nothing to fetch.
            this.pager.close();
            return Poll::Ready(None);
        }
        let mut pages_used_up = 0;
        loop {
            if let Some(items) = this.current.as_mut() {
                if let Some(item) = items.next() {
                    let covered = match this.items_left {
                        None => false,
                        Some(left) => {
                            *left -= 1;
                            if *left == 0 {
                                *this.current = None;
                                this.pager.close();
                                return Poll::Ready(Some(Ok(item)));
                            }
                            *left <= items.size_hint().0
                        }
                    };
                    if !covered {
                        let target = this.pager.prefetch();
                        this.pager.as_mut().fill(cx, target);
                    }
                    return Poll::Ready(Some(Ok(item)));
                }
                *this.current = None;
                pages_used_up += 1;
                if pages_used_up == PAGES_PER_POLL {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            match core::task::ready!(this.pager.as_mut().poll_pop(cx)) {
                Some(Ok(page)) => *this.current = Some(page.items.into_iter()),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }

    /// Lower bound: the items left in the page being consumed (by its
    /// iterator). Upper bound: known once no page is queued or will be
    /// fetched, or from `max_items`.
    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.is_terminated() {
            return (0, Some(0));
        }
        let (mut low, mut high) = self
            .current
            .as_ref()
            .map_or((0, Some(0)), Iterator::size_hint);
        if !self.pager.is_finished() {
            high = None;
        }
        if let Some(left) = self.items_left {
            low = low.min(left);
            high = Some(high.map_or(left, |high| high.min(left)));
        }
        (low, high)
    }
}

impl<F, Fut> FusedStream for Cursor<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    fn is_terminated(&self) -> bool {
        self.current.is_none() && self.pager.is_finished()
    }
}

impl<F, Fut: PageFuture> fmt::Debug for Cursor<F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cursor")
            .field("pager", &self.pager)
            .field("consuming_a_page", &self.current.is_some())
            .field("items_left", &self.items_left)
            .finish()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests;
