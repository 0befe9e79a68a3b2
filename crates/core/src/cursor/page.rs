use core::future::Future;

/// One page from a [`Cursor`](super::Cursor)'s fetch function: its items and
/// where the next page starts.
///
/// The continuation is explicit, so "no items" and "no more pages" are
/// different answers: a page with no items that says
/// [`More`](Continuation::More) is not the end, the cursor asks again.
///
/// # Examples
/// ```
/// use aiter_core::cursor::{Continuation, Page};
///
/// let first = Page::more(vec![1, 2], 2u64);
/// assert_eq!(first.next, Continuation::More(2));
/// let last: Page<Vec<i32>, u64> = Page::done(vec![]);
/// assert!(last.next.is_done());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Page<I, P> {
    /// The page's items, in order.
    pub items: I,
    /// Whether another page follows, and where it starts.
    pub next: Continuation<P>,
}

impl<I, P> Page<I, P> {
    /// A page followed by the page starting at `next`.
    pub fn more(items: I, next: P) -> Self {
        Page {
            items,
            next: Continuation::More(next),
        }
    }

    /// The last page.
    pub fn done(items: I) -> Self {
        Page {
            items,
            next: Continuation::Done,
        }
    }
}

/// What follows a [`Page`]: more pages from a position, or nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Continuation<P> {
    /// Another page follows; fetch it from this position (a page token, an
    /// offset, the last key seen: whatever the fetch function understands).
    More(P),
    /// This was the last page.
    #[default]
    Done,
}

impl<P> Continuation<P> {
    /// `true` for [`Done`](Continuation::Done).
    pub fn is_done(&self) -> bool {
        matches!(self, Continuation::Done)
    }

    /// The position of the next page, if there is one.
    pub fn position(&self) -> Option<&P> {
        match self {
            Continuation::More(position) => Some(position),
            Continuation::Done => None,
        }
    }
}

/// A future that resolves to a [`Page`] or an error: what a
/// [`Cursor`](super::Cursor)'s fetch function returns.
///
/// Implemented for every `Future<Output = Result<Page<I, P>, E>>`; it only
/// names `I`, `P` and `E` so that the cursor types need no more generic
/// parameters than the fetch function and its future. The position must be
/// `Clone`: the cursor keeps a copy of each page's start to report it in a
/// [`FetchError`](super::FetchError).
pub trait PageFuture:
    Future<Output = Result<Page<Self::Items, Self::Position>, Self::Error>>
{
    /// The page's items.
    type Items: IntoIterator;
    /// Where a page starts.
    type Position: Clone;
    /// Why a fetch failed.
    type Error;
}

impl<Fut, I, P, E> PageFuture for Fut
where
    Fut: Future<Output = Result<Page<I, P>, E>>,
    I: IntoIterator,
    P: Clone,
{
    type Items = I;
    type Position = P;
    type Error = E;
}
