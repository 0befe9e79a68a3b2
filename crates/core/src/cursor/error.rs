use core::fmt;

/// A page fetch failed: the fetch function's error, and the position of the
/// page that could not be fetched.
///
/// A [`Cursor`](super::Cursor) yields this once, in the place of the page
/// that failed (after every item of the pages before it), and then ends. The
/// position is exactly where a new cursor should start to continue:
/// [`Cursor::resume`](super::Cursor::resume)`(err.from().cloned(), fetch)`.
/// It is `None` when the first page of a cursor built with
/// [`Cursor::new`](super::Cursor::new) failed.
///
/// # Examples
/// ```
/// use aiter_core::cursor::{Cursor, Page};
/// use aiter_core::next;
///
/// # futures::executor::block_on(async {
/// // The second page (from position 1) fails.
/// let fetch = |from: Option<u32>| async move {
///     match from {
///         None => Ok(Page::more(["a"], 1)),
///         Some(_) => Err("connection reset"),
///     }
/// };
/// let mut cursor = core::pin::pin!(Cursor::new(fetch));
/// assert_eq!(next(&mut cursor).await.unwrap(), Ok("a"));
/// let err = next(&mut cursor).await.unwrap().unwrap_err();
/// assert_eq!(err.from(), Some(&1));
/// assert_eq!(*err.error(), "connection reset");
/// assert_eq!(err.to_string(), "fetching the page at 1 failed: connection reset");
/// assert!(next(&mut cursor).await.is_none());
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FetchError<E, P> {
    error: E,
    from: Option<P>,
}

impl<E, P> FetchError<E, P> {
    pub(super) fn new(error: E, from: Option<P>) -> Self {
        FetchError { error, from }
    }

    /// The fetch function's error.
    pub fn error(&self) -> &E {
        &self.error
    }

    /// The position of the page that failed (the argument its fetch got):
    /// where to resume.
    pub fn from(&self) -> Option<&P> {
        self.from.as_ref()
    }

    /// The fetch function's error, dropping the position.
    pub fn into_error(self) -> E {
        self.error
    }

    /// The error and the position.
    pub fn into_parts(self) -> (E, Option<P>) {
        (self.error, self.from)
    }
}

impl<E: fmt::Debug, P: fmt::Debug> fmt::Debug for FetchError<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchError")
            .field("error", &self.error)
            .field("from", &self.from)
            .finish()
    }
}

/// `fetching the first page failed: ERROR` or
/// `fetching the page at POSITION failed: ERROR` (the position in `Debug`
/// form).
impl<E: fmt::Display, P: fmt::Debug> fmt::Display for FetchError<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            None => write!(f, "fetching the first page failed: {}", self.error),
            Some(from) => write!(f, "fetching the page at {from:?} failed: {}", self.error),
        }
    }
}

/// The message includes the fetch function's error, so `source` skips it
/// and returns that error's own source.
impl<E: core::error::Error, P: fmt::Debug> core::error::Error for FetchError<E, P> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.error.source()
    }
}
