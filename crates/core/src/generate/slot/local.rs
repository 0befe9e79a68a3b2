//! The hand-over slot with `std`: a plain `Option<T>` shared by the pair,
//! touched only by the thread polling the generator, which a thread-local
//! names.
//!
//! # The protocol
//! For the length of one poll of the body, [`Receiver::poll_with`] sets this
//! thread's [`CURRENT`] to the pair's id, the address of its shared slot; a
//! guard puts the previous value back when the poll returns or unwinds, so
//! the values nest like the polls do. After the poll it takes the item out of
//! the slot. The [`Sender`] (the body's `Co`) and its [`Waiter`] touch the
//! slot only after finding their own id in `CURRENT`.
//!
//! - **The id proves the poll is running here**: `CURRENT` holds this id only
//!   inside this pair's `poll_with`, on the thread running it. So a sender
//!   that finds it runs on that thread, inside that poll: its accesses and the
//!   receiver's (after the poll, same thread) never overlap. A sender on any
//!   other thread, task or generator finds another id and touches nothing.
//! - **Ids are unique among live pairs**: the id is the address of the pair's
//!   one shared allocation, which lives as long as either end. A `Sender`
//!   kept after its generator is gone still holds that allocation, so no new
//!   generator gets its id.
//! - Nothing is atomic: per item, two thread-local stores around the poll,
//!   one load and compare per `Co` call, and plain accesses to the slot.
//!
//! The shared allocation also tells a misused `Co` which message to give:
//! the receiver sets its `closed` flag when the generator is dropped.

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use super::super::sync::{Arc, AtomicBool, Ordering, UnsafeCell};
use super::Misuse;

#[cfg(not(all(loom, test)))]
std::thread_local! {
    /// The id of the generator being polled on this thread, or 0 (ids are
    /// addresses).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}
#[cfg(all(loom, test))]
loom::thread_local! {
    static CURRENT: Cell<usize> = Cell::new(0);
}

/// The slot, shared by the pair; its address is the pair's id.
pub(crate) struct Shared<T> {
    /// Touched only by the thread whose `CURRENT` holds this pair's id, and
    /// by the receiver right after its poll (module docs).
    slot: UnsafeCell<Option<T>>,
    /// Set when the receiver is dropped; read only to word a misuse panic.
    closed: AtomicBool,
}

// SAFETY: the only non-`Sync` field is `slot` (`closed` is atomic), and only the thread running
// this pair's `poll_with` touches it, one access at a time (module docs). A
// leftover item (the body panicked after yielding) may be dropped with the
// allocation on another thread, hence `T: Send`.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The pair's id: the address of its shared allocation.
    #[inline(always)]
    fn id(&self) -> usize {
        ptr::from_ref(self).addr()
    }

    /// `Ok` when this thread is polling the pair.
    #[inline(always)]
    fn polled_here(&self) -> Result<(), Misuse> {
        if CURRENT.with(Cell::get) == self.id() {
            Ok(())
        } else {
            Err(self.not_polled())
        }
    }

    /// Why the pair is not being polled on this thread.
    #[cold]
    #[inline(never)]
    fn not_polled(&self) -> Misuse {
        if self.closed.load(Ordering::Relaxed) {
            Misuse::Closed
        } else {
            Misuse::Outside
        }
    }
}

/// Creates the connected pair, with one allocation (which names it).
pub(crate) fn slot<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        slot: UnsafeCell::new(None),
        closed: AtomicBool::new(false),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
            not_sync: PhantomData,
        },
        Receiver {
            id: shared.id(),
            shared,
        },
    )
}

/// The writing end. `Send` when `T` is, `!Sync` and not `Clone`.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
    not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// Moves `item` into the slot if this pair's generator is being polled
    /// on this thread and the slot is empty, and returns the handle that
    /// watches for it being taken; otherwise gives it back with what went
    /// wrong.
    #[inline(always)]
    pub(crate) fn send(&self, item: T) -> Result<Waiter<'_, T>, (T, Misuse)> {
        let shared: &Shared<T> = &self.shared;
        if let Err(misuse) = shared.polled_here() {
            return Err((item, misuse));
        }
        shared.slot.with_mut(|slot| {
            // SAFETY: this thread is inside this pair's poll (checked just
            // above), so it alone touches the slot now (module docs). No user
            // code runs between the check and the write (dropping the `None`
            // runs nothing).
            unsafe {
                if (*slot).is_some() {
                    return Err((item, Misuse::NotTaken));
                }
                *slot = Some(item);
            }
            Ok(Waiter { shared })
        })
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Watches the slot; `Send` when `T` is (unlike `&Sender`), so the `yield_`
/// future holding it can move with the body.
pub(crate) struct Waiter<'a, T> {
    shared: &'a Shared<T>,
}

impl<T> Waiter<'_, T> {
    /// Whether the item sent last was taken: `Ok(true)` once the slot is
    /// empty (in a later poll of the body), `Ok(false)` while the item still
    /// waits (in the poll that sent it), and `Err` outside this generator's
    /// poll.
    #[inline(always)]
    pub(crate) fn taken(&self) -> Result<bool, Misuse> {
        self.shared.polled_here()?;
        // SAFETY: as in `Sender::send`: inside this pair's poll, on its
        // thread; only read here.
        Ok(self
            .shared
            .slot
            .with_mut(|slot| unsafe { (*slot).is_none() }))
    }
}

/// The reading end, held by the stream.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// `shared.id()`, kept to save an addition per poll.
    id: usize,
}

/// Puts the previous `CURRENT` back, also when the poll unwinds.
struct Restore(usize);

impl Drop for Restore {
    #[inline(always)]
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

impl<T> Receiver<T> {
    /// Polls the body once with this pair's id current on this thread, and
    /// takes the item it handed over, if any. Never fails: misuse is caught
    /// by the `Sender`.
    #[inline(always)]
    pub(crate) fn poll_with<F: Future>(
        &mut self,
        body: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Result<(Poll<F::Output>, Option<T>), Misuse> {
        let restore = Restore(CURRENT.with(|current| current.replace(self.id)));
        let polled = body.poll(cx);
        drop(restore);
        // SAFETY: the poll is over and `CURRENT` no longer holds this id on
        // any thread (only this `poll_with` sets it, and `&mut self` means no
        // other runs), so no sender touches the slot now (module docs).
        let item = self.shared.slot.with_mut(|slot| unsafe { (*slot).take() });
        Ok((polled, item))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
