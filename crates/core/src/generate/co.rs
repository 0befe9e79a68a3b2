//! The body's handle, [`Co`], and the future its `yield_` returns.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::slot::{Misuse, Sender, Waiter};

/// Panic message when an item is yielded before the previous one was taken.
pub(crate) const NOT_TAKEN: &str = "aiter: `Co::yield_` called while the previous item is still \
     waiting to be taken; await each `yield_` future before calling `yield_` again";
/// Panic message when a `Co` is used outside its generator's poll (moved out
/// of the body and used elsewhere): by `yield_` with `std`, by the stream's
/// next poll without.
pub(crate) const OUTSIDE: &str = "aiter: `Co::yield_` used outside its generator's poll; the \
     `Co` must stay inside the generator's body";
/// Panic message when `yield_` is used after the generator was dropped or
/// finished (the `Co` was moved out of the body).
pub(crate) const CLOSED: &str = "aiter: `Co::yield_` used after its generator was dropped or \
     finished; the `Co` must stay inside the generator's body";

/// The handle a generator's body yields through: Python's `yield`, spelled
/// `co.yield_(item).await`.
///
/// A body gets its `Co` as the closure's argument (see
/// [`generate`](super::generate()) and [`try_generate`](super::try_generate())).
/// It is `Send` when the item is, so a generator whose body is `Send` is
/// `Send` too; it is not `Sync` and not `Clone`: one body owns it.
///
/// # Panics
/// The `Co` belongs inside its body. Misuse is caught at run time, never
/// unsound:
/// - calling `yield_` while the previous item is still waiting (two `yield_`
///   calls without awaiting the first, or a `yield_` future dropped unawaited)
///   panics with "`Co::yield_` called while the previous item is still waiting
///   to be taken";
/// - once the generator was dropped or finished, `yield_` (and polling a
///   `yield_` future) panics with "`Co::yield_` used after its generator was
///   dropped or finished";
/// - with the `std` feature, `yield_` (or polling a `yield_` future) anywhere
///   but inside its own generator's poll — after moving the `Co` into another
///   task or thread, or into another generator's body — panics there with
///   "`Co::yield_` used outside its generator's poll", and nothing is handed
///   over. Without `std` there is no thread-local to check: such an item makes
///   the generator's next `poll_next` panic with that message instead (and if
///   the other task runs on another thread at the very moment the generator
///   is being polled, the item may be delivered; either way nothing unsound
///   happens).
pub struct Co<T> {
    tx: Sender<T>,
}

impl<T> Co<T> {
    pub(super) fn new(tx: Sender<T>) -> Self {
        Self { tx }
    }

    /// Hands `item` to the consumer and returns a future that waits until
    /// the consumer asks for the next one: Python's `yield item` in an async
    /// generator.
    ///
    /// The item goes to the stream at once (the call must happen inside the
    /// body, while the generator polls it); the stream's `poll_next` returns
    /// it as soon as the body is suspended at the `.await`, and the body stays
    /// there until the stream is polled again.
    ///
    /// # Panics
    /// If the previous item was not taken yet (await each `yield_` before the
    /// next), after the generator was dropped or finished, and (with `std`)
    /// outside its generator's poll: see [`Co`].
    ///
    /// # Cancel safety
    /// The item belongs to the stream once `yield_` returns; dropping the
    /// future does not take it back (and the next `yield_` then panics if the
    /// stream has not taken it yet).
    #[inline]
    #[track_caller]
    pub fn yield_(&self, item: T) -> Yield<'_, T> {
        match self.tx.send(item) {
            Ok(waiter) => Yield { waiter },
            Err((item, misuse)) => {
                drop(item);
                misused(misuse)
            }
        }
    }
}

impl<T> fmt::Debug for Co<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

/// Future returned by [`Co::yield_`]; completes when the consumer asks for
/// the item after the yielded one.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Yield<'a, T> {
    waiter: Waiter<'a, T>,
}

impl<T> Unpin for Yield<'_, T> {}

impl<T> Future for Yield<'_, T> {
    type Output = ();

    /// `Pending` while the item waits in the slot (the generator's `poll_next`
    /// returns it right after this poll, and its next call polls this future
    /// again, so no waker is registered); `Ready(())` once the stream took it
    /// (which it does at the end of the poll that returns it, so inside the
    /// body this future is next polled when the consumer asks for more).
    ///
    /// # Panics
    /// When the generator was dropped or finished, or (with `std`) when
    /// polled outside its generator's poll: see [`Co`].
    #[inline]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        match self.waiter.taken() {
            Ok(true) => Poll::Ready(()),
            Ok(false) => Poll::Pending,
            Err(misuse) => misused(misuse),
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
pub(super) fn misused(misuse: Misuse) -> ! {
    match misuse {
        Misuse::NotTaken => panic!("{}", NOT_TAKEN),
        Misuse::Outside => panic!("{}", OUTSIDE),
        Misuse::Closed => panic!("{}", CLOSED),
    }
}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("taken", &matches!(self.waiter.taken(), Ok(true)))
            .finish()
    }
}
