//! The body's handle, [`Co`], and the future its `yield_` returns.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::raw::{Armed, Sender, SlotState};

/// Panic message when a second `yield_` future is created while one is alive.
pub(crate) const TWO_YIELDS: &str = "aiter: `Co::yield_` called while another `yield_` future \
     of the same generator is alive; await each `yield_` before calling the next";
/// Panic message when a `yield_` future is polled while its generator is not
/// polling the body (the `Co` was moved out of the body).
pub(crate) const OUTSIDE: &str = "aiter: a `yield_` future was polled outside its generator's \
     poll; the `Co` must stay inside the generator's body";
/// Panic message when a `yield_` future is polled after its generator was
/// dropped or finished (the `Co` was moved out of the body).
pub(crate) const CLOSED: &str = "aiter: a `yield_` future was polled after its generator was \
     dropped or finished; the `Co` must stay inside the generator's body";
/// Panic message when an item is handed over before the previous one was
/// taken (a `yield_` future was dropped after its first poll).
pub(crate) const NOT_TAKEN: &str = "aiter: `yield_` polled while the previous item is still \
     waiting to be taken; a `yield_` future was dropped after its first poll, before it completed";

/// The handle a generator's body yields through: Python's `yield`, spelled
/// `co.yield_(item).await`.
///
/// A body gets its `Co` as the closure's argument (see
/// [`generate`](super::generate) and [`try_generate`](super::try_generate)).
/// It is `Send` when the item is, so a generator whose body is `Send` is
/// `Send` too; it is not `Sync` and not `Clone`: one body owns it.
///
/// # Panics
/// The `Co` belongs inside its body. Misuse is caught at run time, never
/// unsound:
/// - calling `yield_` while an earlier `yield_` future of the same generator
///   is still alive panics with "`Co::yield_` called while another `yield_`
///   future of the same generator is alive";
/// - polling a `yield_` future anywhere but inside the generator's own poll
///   (after moving the `Co` into another task, say) panics with "a `yield_`
///   future was polled outside its generator's poll", or, once the generator
///   was dropped or finished, "… polled after its generator was dropped or
///   finished". (If that other task runs on another thread at the very moment
///   the generator is being polled, the item may be delivered or lost instead;
///   either way nothing unsound happens.)
/// - handing over an item while the previous one is still waiting (a `yield_`
///   future polled once, then dropped, then another polled within the same
///   poll) panics with "`yield_` polled while the previous item is still
///   waiting to be taken".
pub struct Co<T> {
    tx: Sender<T>,
}

impl<T> Co<T> {
    pub(super) fn new(tx: Sender<T>) -> Self {
        Self { tx }
    }

    /// Hands `item` to the consumer and waits until the consumer asks for the
    /// next one: Python's `yield item` in an async generator.
    ///
    /// The returned future does nothing until awaited. Its first poll moves
    /// the item out to the stream's `poll_next`, which returns it; the body
    /// stays suspended there until the stream is polled again.
    ///
    /// # Panics
    /// If another `yield_` future of this generator is still alive, and when
    /// polled outside the generator's poll: see [`Co`].
    ///
    /// # Cancel safety
    /// Dropping the future before its first poll drops the item; after its
    /// first poll the item belongs to the stream.
    #[inline]
    pub fn yield_(&self, item: T) -> Yield<'_, T> {
        match self.tx.arm() {
            Some(armed) => Yield {
                armed,
                item: Some(item),
            },
            None => panic!("{}", TWO_YIELDS),
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
    armed: Armed<'a, T>,
    /// `Some` until the first poll hands the item over.
    item: Option<T>,
}

impl<T> Unpin for Yield<'_, T> {}

impl<T> Future for Yield<'_, T> {
    type Output = ();

    /// - First poll: hands the item over and returns `Pending` without
    ///   registering the waker: the generator's `poll_next` returns the item
    ///   at once, and its next call polls this future again.
    /// - Later polls: `Ready(())` once the stream has taken the item (it is
    ///   being polled again), `Pending` while the item still waits.
    #[inline]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.item.is_some() {
            return match this.armed.send_from(&mut this.item) {
                Ok(()) => Poll::Pending,
                Err(state) => misuse(state),
            };
        }
        match this.armed.taken() {
            Ok(true) => Poll::Ready(()),
            Ok(false) => Poll::Pending,
            Err(state) => misuse(state),
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn misuse(state: SlotState) -> ! {
    match state {
        SlotState::Idle => panic!("{}", OUTSIDE),
        SlotState::Closed => panic!("{}", CLOSED),
        SlotState::Full | SlotState::Running => panic!("{}", NOT_TAKEN),
    }
}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("handed_over", &self.item.is_none())
            .finish_non_exhaustive()
    }
}
