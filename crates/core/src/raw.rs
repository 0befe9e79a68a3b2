//! The core's one module with `unsafe` code: the one-slot hand-over cell
//! behind [`generate`](crate::generate::generate).
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
//! | state     | item cell   | set by                                    |
//! |-----------|-------------|-------------------------------------------|
//! | `IDLE`    | empty*      | receiver, after each poll of the body     |
//! | `RUNNING` | empty*      | receiver, before each poll of the body    |
//! | `FULL`    | initialised | the sender, after writing the item        |
//! | `CLOSED`  | empty*      | receiver, when dropped                    |
//!
//! (*) or an item leaked by misuse, see below.
//!
//! - **One writer**: only [`Sender::send`] writes. `Sender` is `!Sync` and
//!   not `Clone`, so `send` calls never run concurrently (they happen on one
//!   thread at a time, ordered by whatever moved the `Sender`), and `send`
//!   runs no user code while it writes. The [`Waiter`]s a `Sender` hands out
//!   may travel to other threads, but they only read the state.
//! - **One reader**: only the `Receiver` (not `Clone`, every method takes
//!   `&mut self`) reads the cell.
//! - The writer writes the cell only after loading `RUNNING` (acquire) and
//!   then stores `FULL` (release); the reader reads the cell only after
//!   loading `FULL` (acquire) and then stores `IDLE` (release). Every store of
//!   the reader is a release store, so a writer that sees `RUNNING` also sees
//!   the end of any earlier read; a reader that sees `FULL` sees the whole
//!   write. This is the classic single-producer single-consumer hand-over and
//!   needs no read-modify-write instruction.
//!
//! Misuse (a `Co` moved to another thread and used while the stream is being
//! polled there) can make the reader's `RUNNING`/`IDLE` store overwrite a
//! `FULL`: the item is then never read and the next write overwrites it
//! without dropping it — a leak, never a data race, since both sides still
//! touch the cell only after the loads above.
#![cfg(feature = "alloc")]

use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

const IDLE: u8 = 0;
const RUNNING: u8 = 1;
const FULL: u8 = 2;
const CLOSED: u8 = 3;

/// What a sender found when it tried to hand over an item, or checked
/// whether its item was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// The receiver is not polling the body right now.
    Idle,
    /// The receiver is polling the body and the slot is empty.
    Running,
    /// An item waits in the slot for the receiver.
    Full,
    /// The receiver is gone.
    Closed,
}

impl SlotState {
    fn from_u8(state: u8) -> Self {
        match state {
            IDLE => Self::Idle,
            RUNNING => Self::Running,
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
// the same time: the writer only after loading `RUNNING`, the reader only after
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
        state: AtomicU8::new(IDLE),
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
    /// Moves `item` into the slot if the receiver is polling the body and the
    /// slot is empty; otherwise gives it back with the state found.
    #[inline]
    pub(crate) fn send(&self, item: T) -> Result<(), (T, SlotState)> {
        let state = self.slot.state.load(Ordering::Acquire);
        if state != RUNNING {
            return Err((item, SlotState::from_u8(state)));
        }
        // SAFETY: this is the only writer (`Sender` is `!Sync` and not
        // `Clone`, so no other `send` runs now; module docs). It loaded
        // `RUNNING` with acquire ordering, so the reader is not reading the
        // cell and any earlier read happened before. An item a misuse left
        // there is overwritten without drop (a leak).
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
    /// Whether the item sent earlier was taken: `Ok(true)` when the receiver
    /// is polling the body again with the slot empty, `Ok(false)` while the
    /// item still waits, and otherwise the state found.
    #[inline]
    pub(crate) fn taken(&self) -> Result<bool, SlotState> {
        match self.slot.state.load(Ordering::Acquire) {
            RUNNING => Ok(true),
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
    /// Opens the slot for one poll of the body.
    #[inline]
    pub(crate) fn begin(&mut self) {
        self.slot.state.store(RUNNING, Ordering::Release);
    }

    /// Closes the slot after a poll of the body and returns the item the body
    /// handed over during it, if any.
    #[inline]
    pub(crate) fn end(&mut self) -> Option<T> {
        let item = if self.slot.state.load(Ordering::Acquire) == FULL {
            // SAFETY: `FULL` was stored (release) by the only writer after it
            // initialised the cell, and we loaded it with acquire ordering.
            // The writer does not touch the cell again until it sees a store
            // of ours that follows this read (module docs).
            Some(unsafe { (*self.slot.item.get()).assume_init_read() })
        } else {
            None
        };
        self.slot.state.store(IDLE, Ordering::Release);
        item
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // An item still waiting (only after a panic in the body, or misuse)
        // is dropped here, then the sender learns the receiver is gone.
        drop(self.end());
        self.slot.state.store(CLOSED, Ordering::Release);
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
