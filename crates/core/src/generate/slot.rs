//! The core's one module with `unsafe` code: the one-item hand-over slot
//! between a generator's body and its stream.
//!
//! Everything here has a **safe** API that is sound however it is called:
//! the invariants below are enforced by the types and the state atomic, not
//! by the callers. Miri runs the generator tests in CI.
//!
//! # The protocol
//! One [`Slot`] is shared (through one `Arc`) by one [`Sender`] (held by the
//! generator's body as its `Co`) and one [`Receiver`] (held by the stream).
//! The state atomic says who may touch the item cell:
//!
//! | state    | item cell   | set by                                          |
//! |----------|-------------|-------------------------------------------------|
//! | `EMPTY`  | empty       | receiver, after reading the item (and at start) |
//! | `FULL`   | initialised | the sender, after writing the item              |
//! | `CLOSED` | empty       | receiver, when dropped                          |
//!
//! - **One writer**: only [`Sender::send`] writes. `Sender` is `!Sync` and
//!   not `Clone`, so `send` calls never run concurrently (they happen on one
//!   thread at a time, ordered by whatever moved the `Sender`), and `send`
//!   runs no user code while it writes. The [`Waiter`]s a `Sender` hands out
//!   may travel to other threads, but they only read the state.
//! - **One reader**: only the `Receiver` (not `Clone`, every method takes
//!   `&mut self`) reads the cell.
//! - The writer writes the cell only after loading `EMPTY` (acquire) and then
//!   stores `FULL` (release); the reader reads the cell only after loading
//!   `FULL` (acquire) and then stores `EMPTY` (release). So a writer that sees
//!   `EMPTY` also sees the end of the read before it, and a reader that sees
//!   `FULL` sees the whole write. This is the classic single-producer
//!   single-consumer hand-over and needs no read-modify-write instruction on
//!   the per-item path.
//!
//! There is no "the stream is polling the body" state: storing one before and
//! after every poll of the body cost a quarter of the per-item time (see the
//! generators benchmark). A `Co` used outside its generator's poll is caught
//! on the rare path instead: the stream finds `FULL` *before* polling the body
//! ([`Receiver::holds_stale_item`]).
//!
//! Misuse cannot break the protocol, nor leak: no store overwrites `FULL`
//! except the receiver's `CLOSED`, a swap that drops the item it finds; a
//! writer on another thread racing with it may store `FULL` over `CLOSED`,
//! and that item is then dropped with the slot ([`Slot`]'s `Drop`).
use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const CLOSED: u8 = 2;

/// What a sender found when it tried to hand over an item, or checked
/// whether its item was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// The slot is empty: the sender may write.
    Empty,
    /// An item waits in the slot for the receiver.
    Full,
    /// The receiver is gone.
    Closed,
}

impl SlotState {
    fn from_u8(state: u8) -> Self {
        match state {
            EMPTY => Self::Empty,
            FULL => Self::Full,
            _ => Self::Closed,
        }
    }
}

/// The shared one-item cell.
struct Slot<T> {
    state: AtomicU8,
    /// Initialised exactly when the writer stored `FULL` and the reader has
    /// not yet read it (see the module docs).
    item: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the only non-`Sync` field is `item`. It is accessed by at most one
// writer (the one `Sender`) and one reader (the `Receiver`), never at
// the same time: the writer only after loading `EMPTY`, the reader only after
// loading `FULL`, with acquire/release ordering between them (module docs).
// Items move between threads through it, hence `T: Send`.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() == FULL {
            // SAFETY: `&mut self`: no other access exists. `FULL` means the
            // writer initialised the item and the reader did not read it.
            unsafe { self.item.get_mut().assume_init_drop() }
        }
    }
}

/// Creates the connected pair, with one allocation.
pub(crate) fn slot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(EMPTY),
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

/// The writing end. `Send` (for `T: Send`) but deliberately `!Sync` and not
/// `Clone`: [`Sender::send`] relies on never running concurrently.
pub(crate) struct Sender<T> {
    slot: Arc<Slot<T>>,
    not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// Moves `item` into the slot if it is empty; otherwise gives it back
    /// with the state found.
    #[inline]
    pub(crate) fn send(&self, item: T) -> Result<(), (T, SlotState)> {
        let state = self.slot.state.load(Ordering::Acquire);
        if state != EMPTY {
            return Err((item, SlotState::from_u8(state)));
        }
        // SAFETY: this is the only writer (`Sender` is `!Sync` and not
        // `Clone`, so no other `send` runs now; module docs). It loaded
        // `EMPTY` with acquire ordering: the reader stored it (release) after
        // its last read of the cell, or it is the initial state, and the
        // reader reads again only after loading the `FULL` stored below.
        unsafe { (*self.slot.item.get()).write(item) };
        self.slot.state.store(FULL, Ordering::Release);
        Ok(())
    }

    /// A handle that watches for the item just sent being taken.
    #[inline]
    pub(crate) fn waiter(&self) -> Waiter<'_, T> {
        Waiter { slot: &self.slot }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Reads the state only; `Send` when `T` is, so the future holding it can
/// move with the body.
pub(crate) struct Waiter<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Waiter<'_, T> {
    /// Whether the item sent earlier was taken: `Ok(true)` once the slot is
    /// empty again, `Ok(false)` while the item still waits, and `Err` when
    /// the receiver is gone.
    #[inline]
    pub(crate) fn taken(&self) -> Result<bool, SlotState> {
        // Relaxed: the answer only decides `Ready`/`Pending`; no access to
        // the cell depends on it.
        match self.slot.state.load(Ordering::Relaxed) {
            EMPTY => Ok(true),
            FULL => Ok(false),
            state => Err(SlotState::from_u8(state)),
        }
    }
}

/// The reading end, held by the stream.
pub(crate) struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Receiver<T> {
    /// Whether an item waits in the slot *before* a poll of the body: it was
    /// handed over while the stream was not polling the body (a `Co` used
    /// outside its generator's poll), or left by a body that panicked.
    #[inline]
    pub(crate) fn holds_stale_item(&self) -> bool {
        // Relaxed: only decides whether to panic; the cell is not touched.
        self.slot.state.load(Ordering::Relaxed) == FULL
    }

    /// Takes the item handed over since the last call, if any: called after
    /// each poll of the body.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<T> {
        if self.slot.state.load(Ordering::Acquire) != FULL {
            return None;
        }
        // SAFETY: `FULL` was stored (release) by the only writer after it
        // initialised the cell, and we loaded it with acquire ordering. The
        // writer does not touch the cell again until it loads the `EMPTY`
        // stored below, after this read (module docs).
        let item = unsafe { (*self.slot.item.get()).assume_init_read() };
        self.slot.state.store(EMPTY, Ordering::Release);
        Some(item)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // The sender learns the receiver is gone; an item still waiting
        // (after a panic in the body, or misuse) is dropped here.
        if self.slot.state.swap(CLOSED, Ordering::AcqRel) == FULL {
            // SAFETY: we loaded `FULL` (acquire) and stored `CLOSED`: the
            // writer initialised the cell and writes again only after
            // loading `EMPTY`, which is never stored after `CLOSED`.
            unsafe { (*self.slot.item.get()).assume_init_drop() }
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field(
                "state",
                &SlotState::from_u8(self.slot.state.load(Ordering::Relaxed)),
            )
            .finish()
    }
}
