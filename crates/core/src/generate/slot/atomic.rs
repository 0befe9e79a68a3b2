//! The hand-over slot without a thread-local (no `std`): one item cell
//! shared through one `Arc`, guarded by a `full` flag.
//!
//! # The protocol
//! One [`Slot`] is shared by one [`Sender`] (held by the generator's body as
//! its `Co`) and one [`Receiver`] (held by the stream). `full` says who may
//! touch the item cell: the sender while it is `false`, the receiver while it
//! is `true`.
//!
//! - **One writer**: only [`Sender::send`] writes. `Sender` is `!Sync` and
//!   not `Clone`, so `send` calls never run concurrently (they happen on one
//!   thread at a time, ordered by whatever moved the `Sender`), and `send`
//!   runs no user code while it writes.
//! - **One reader**: only the `Receiver` (not `Clone`, every method takes
//!   `&mut self`) reads the cell, and the `Slot`'s own `Drop` (`&mut`, so
//!   alone) drops an item nobody took.
//! - The writer writes the cell only after loading `full == false` (acquire)
//!   and then stores `true` (release); the reader reads the cell only after
//!   loading `true` (acquire) and then stores `false` (release). So a writer
//!   that sees `false` also sees the end of the read before it, and a reader
//!   that sees `true` sees the whole write: the classic single-producer
//!   single-consumer hand-over, with no read-modify-write instruction at all.
//!
//! There is no "the stream is polling the body" state (two more stores per
//! item). A `Co` used outside its generator's poll is caught on the rare path
//! instead: the stream finds the slot full *before* polling the body.
//!
//! The receiver's `Drop` only sets `closed`, which the sender reads to word
//! its misuse panic; an item still in the slot (misuse, or a body that
//! panicked after yielding) is dropped with the slot, by whichever end goes
//! last. So misuse cannot break the protocol, nor leak.

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::super::sync::{Arc, AtomicBool, Ordering, UnsafeCell};
use super::Misuse;

/// The shared one-item cell.
struct Slot<T> {
    /// Whether `item` holds an item (see the module docs).
    full: AtomicBool,
    /// Set when the receiver is dropped.
    closed: AtomicBool,
    /// Initialised exactly when the writer stored `full = true` and the
    /// reader has not yet read it.
    item: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the only non-`Sync` field is `item`. It is accessed by at most one
// writer (the one `Sender`) and one reader (the `Receiver`), never at the
// same time: the writer only after loading `full == false`, the reader only
// after loading `full == true`, with acquire/release ordering between them
// (module docs). Items move between threads through it, hence `T: Send`.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        if self.full.load(Ordering::Acquire) {
            // SAFETY: `&mut self`: no other access exists (the last `Arc`
            // is going, after the acquire fence of its count). `full` means
            // the writer initialised the item and the reader did not read it.
            self.item
                .with_mut(|item| unsafe { (*item).assume_init_drop() });
        }
    }
}

/// Creates the connected pair, with one allocation.
pub(crate) fn slot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        full: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        item: UnsafeCell::new(MaybeUninit::uninit()),
    });
    (
        Sender {
            slot: Arc::clone(&slot),
            not_sync: PhantomData,
        },
        Receiver { slot },
    )
}

impl<T> Slot<T> {
    /// What a full slot means to a sender: its generator is gone, or the
    /// previous item still waits.
    #[cold]
    #[inline(never)]
    fn misuse(&self) -> Misuse {
        if self.closed.load(Ordering::Relaxed) {
            Misuse::Closed
        } else {
            Misuse::NotTaken
        }
    }
}

/// The writing end. `Send` (for `T: Send`) but deliberately `!Sync` and not
/// `Clone`: [`Sender::send`] relies on never running concurrently.
pub(crate) struct Sender<T> {
    slot: Arc<Slot<T>>,
    not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// Moves `item` into the slot if it is empty, and returns the handle
    /// that watches for it being taken; otherwise gives it back with what
    /// went wrong. (After the receiver is gone an empty slot still takes the
    /// item, to be dropped with the slot; the handle then reports `Closed`.)
    #[inline(always)]
    pub(crate) fn send(&self, item: T) -> Result<Waiter<'_, T>, (T, Misuse)> {
        let slot: &Slot<T> = &self.slot;
        if slot.full.load(Ordering::Acquire) {
            return Err((item, slot.misuse()));
        }
        // SAFETY: this is the only writer (`Sender` is `!Sync` and not
        // `Clone`, so no other `send` runs now; module docs). It loaded
        // `full == false` with acquire ordering: the reader stored it
        // (release) after its last read of the cell, or it is the initial
        // state, and the reader reads again only after loading the `true`
        // stored below.
        slot.item.with_mut(|cell| unsafe { (*cell).write(item) });
        slot.full.store(true, Ordering::Release);
        Ok(Waiter { slot })
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Reads the flags only; `Send` when `T` is (unlike `&Sender`), so the
/// `yield_` future holding it can move with the body.
pub(crate) struct Waiter<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Waiter<'_, T> {
    /// Whether the item sent last was taken: `Ok(true)` once the slot is
    /// empty again, `Ok(false)` while the item still waits, and
    /// `Err(Closed)` when it waits for a receiver that is gone.
    #[inline(always)]
    pub(crate) fn taken(&self) -> Result<bool, Misuse> {
        // Relaxed: the answer only decides `Ready`/`Pending`; no access to
        // the cell depends on it.
        if !self.slot.full.load(Ordering::Relaxed) {
            Ok(true)
        } else if self.slot.closed.load(Ordering::Relaxed) {
            Err(Misuse::Closed)
        } else {
            Ok(false)
        }
    }
}

/// The reading end, held by the stream.
pub(crate) struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Receiver<T> {
    /// Polls the body once and takes the item it handed over, if any.
    /// `Err(Outside)`, without polling, when an item waits *before* the poll:
    /// it was handed over while the stream was not polling the body (a `Co`
    /// used outside its generator's poll).
    #[inline(always)]
    pub(crate) fn poll_with<F: Future>(
        &mut self,
        body: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Result<(Poll<F::Output>, Option<T>), Misuse> {
        // Relaxed: only decides whether to fail; the cell is not touched.
        if self.slot.full.load(Ordering::Relaxed) {
            return Err(Misuse::Outside);
        }
        let polled = body.poll(cx);
        Ok((polled, self.take()))
    }

    #[inline(always)]
    fn take(&mut self) -> Option<T> {
        if !self.slot.full.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `true` was stored (release) by the only writer after it
        // initialised the cell, and we loaded it with acquire ordering. The
        // writer does not touch the cell again until it loads the `false`
        // stored below, after this read (module docs).
        let item = self
            .slot
            .item
            .with_mut(|cell| unsafe { (*cell).assume_init_read() });
        self.slot.full.store(false, Ordering::Release);
        Some(item)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // An item still waiting is dropped with the slot (module docs).
        self.slot.closed.store(true, Ordering::Relaxed);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
