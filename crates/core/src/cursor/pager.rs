//! The fetching machinery shared by [`Cursor`](super::Cursor) and
//! [`Pages`](super::Pages): at most one fetch in flight, a bounded queue of
//! fetched pages behind it, limits.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::ahead::Ahead;
use super::{Continuation, FetchError, Page, PageFuture};

/// A fetched page, or the error that ended the cursor, in page order.
pub(super) type Fetched<Fut> = Result<
    Page<<Fut as PageFuture>::Items, <Fut as PageFuture>::Position>,
    FetchError<<Fut as PageFuture>::Error, <Fut as PageFuture>::Position>,
>;

pin_project! {
    /// Where fetching stands.
    #[project = FetchProj]
    #[project_replace = FetchTake]
    pub(super) enum Fetch<Fut, P> {
        /// The next page starts at `from`; nobody asked for it yet.
        Idle { from: Option<P> },
        /// The page starting at `from` is being fetched (`from` is kept to
        /// report it if the fetch fails).
        Fetching { #[pin] fut: Fut, from: Option<P> },
        /// No page will be fetched again: the last page said `Done`, a
        /// limit was reached, a fetch failed, or the cursor was closed.
        Finished,
    }
}

pin_project! {
    /// Fetches pages in order, one at a time, keeping up to `prefetch`
    /// fetched-or-in-flight pages ahead of the consumer.
    pub(super) struct Pager<F, Fut: PageFuture> {
        fetch: F,
        #[pin]
        state: Fetch<Fut, Fut::Position>,
        ahead: Ahead<Fetched<Fut>>,
        prefetch: usize,
        // Fetches that may still be started; `None`: no limit.
        fetches_left: Option<usize>,
    }
}

impl<F, Fut> Pager<F, Fut>
where
    F: FnMut(Option<Fut::Position>) -> Fut,
    Fut: PageFuture,
{
    pub(super) const fn new(from: Option<Fut::Position>, fetch: F) -> Self {
        Pager {
            fetch,
            state: Fetch::Idle { from },
            ahead: Ahead::new(),
            prefetch: 0,
            fetches_left: None,
        }
    }

    /// Keeps up to `pages` pages fetched or in flight ahead of the one
    /// being consumed (only before the first poll).
    pub(super) fn set_prefetch(&mut self, pages: usize) {
        #[cfg(not(feature = "alloc"))]
        assert!(
            pages <= Ahead::<Fetched<Fut>>::INLINE_ONLY,
            "aiter cursor: prefetching more than one page needs the `alloc` feature"
        );
        self.prefetch = pages;
    }

    pub(super) fn set_max_pages(&mut self, pages: usize) {
        self.fetches_left = Some(pages);
        if pages == 0 {
            self.state = Fetch::Finished;
        }
    }

    /// The next fetched page or error, in order. If none is queued, fetches
    /// one (polls the fetch in flight, or starts one) and returns it if it
    /// is ready.
    ///
    /// - `Ready(Some(_))`: a page or the error; the queue has one less.
    /// - `Ready(None)`: no page will ever come.
    /// - `Pending`: a fetch is in flight and registered the waker.
    ///
    /// Starts no prefetch after taking the page: the caller decides with
    /// [`fill`](Self::fill).
    pub(super) fn poll_pop(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Fetched<Fut>>> {
        if self.ahead.is_empty() {
            self.as_mut().fill(cx, 1);
        }
        let this = self.project();
        match this.ahead.pop() {
            Some(fetched) => Poll::Ready(Some(fetched)),
            None if matches!(*this.state, Fetch::Finished) => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// Drives fetching without taking anything: polls the fetch in flight;
    /// queues its page; starts the next fetch while fewer than `target`
    /// pages are queued or in flight. Returns when the fetch in flight is
    /// `Pending` (waker registered), when `target` is reached, or when
    /// fetching is finished.
    pub(super) fn fill(self: Pin<&mut Self>, cx: &mut Context<'_>, target: usize) {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                FetchProj::Finished => return,
                FetchProj::Idle { .. } => {
                    if this.ahead.len() >= target {
                        return;
                    }
                    let FetchTake::Idle { from } =
                        this.state.as_mut().project_replace(Fetch::Finished)
                    else {
                        unreachable!("matched `Idle` above")
                    };
                    if let Some(left) = this.fetches_left {
                        *left -= 1;
                    }
                    let fut = (this.fetch)(from.clone());
                    this.state.set(Fetch::Fetching { fut, from });
                }
                FetchProj::Fetching { fut, .. } => {
                    let Poll::Ready(result) = fut.poll(cx) else {
                        return;
                    };
                    let FetchTake::Fetching { from, .. } =
                        this.state.as_mut().project_replace(Fetch::Finished)
                    else {
                        unreachable!("matched `Fetching` above")
                    };
                    match result {
                        Ok(page) => {
                            if let Continuation::More(next) = &page.next {
                                if *this.fetches_left != Some(0) {
                                    this.state.set(Fetch::Idle {
                                        from: Some(next.clone()),
                                    });
                                }
                            }
                            this.ahead.push(Ok(page));
                        }
                        Err(error) => this.ahead.push(Err(FetchError::new(error, from))),
                    }
                }
            }
        }
    }

    /// Stops for good: drops the fetch in flight and every queued page.
    pub(super) fn close(self: Pin<&mut Self>) {
        let mut this = self.project();
        this.state.set(Fetch::Finished);
        this.ahead.clear();
    }
}

impl<F, Fut: PageFuture> Pager<F, Fut> {
    pub(super) fn prefetch(&self) -> usize {
        self.prefetch
    }

    /// Nothing is queued and nothing will be fetched.
    pub(super) fn is_finished(&self) -> bool {
        matches!(self.state, Fetch::Finished) && self.ahead.is_empty()
    }

    /// Pages (or the error) queued.
    pub(super) fn queued(&self) -> usize {
        self.ahead.len()
    }

    /// At most how many more pages (or errors) can be queued, fetched or
    /// not: `None` if unbounded.
    pub(super) fn pages_upper_bound(&self) -> Option<usize> {
        let queued = self.ahead.len();
        match (&self.state, self.fetches_left) {
            (Fetch::Finished, _) => Some(queued),
            (Fetch::Fetching { .. }, Some(left)) => {
                Some(queued.saturating_add(left).saturating_add(1))
            }
            (Fetch::Idle { .. }, Some(left)) => Some(queued.saturating_add(left)),
            (_, None) => None,
        }
    }
}

impl<F, Fut: PageFuture> fmt::Debug for Pager<F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            Fetch::Idle { .. } => "idle",
            Fetch::Fetching { .. } => "fetching",
            Fetch::Finished => "finished",
        };
        f.debug_struct("Pager")
            .field("state", &state)
            .field("queued", &self.ahead.len())
            .field("prefetch", &self.prefetch)
            .field("fetches_left", &self.fetches_left)
            .finish_non_exhaustive()
    }
}
