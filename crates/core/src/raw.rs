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
//! - **One writer**: only an [`Armed`] sender writes, and at most one `Armed`
//!   exists at a time. `Sender::arm` checks and sets the `armed` flag with a
//!   plain load and store; that is race-free because `Sender` is `!Sync` and
//!   not `Clone`, so `arm` calls never run concurrently, and the only other
//!   store to the flag is the single live `Armed` clearing it on drop
//!   (release), which the next `arm` reads (acquire).
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
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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
    /// `true` while an [`Armed`] sender exists.
    armed: AtomicBool,
    /// Initialised exactly when the writer stored `FULL` and the reader has
    /// not yet read it (see the module docs).
    item: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the only non-`Sync` field is `item`. It is accessed by at most one
// writer (the single live `Armed`) and one reader (the `Receiver`), never at
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
        armed: AtomicBool::new(false),
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
/// `Clone`: [`Sender::arm`] relies on never running concurrently.
pub(crate) struct Sender<T> {
    slot: Arc<Slot<T>>,
    not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// Reserves the right to write one item.
    ///
    /// Returns `None` if another [`Armed`] of this sender is still alive.
    #[inline]
    pub(crate) fn arm(&self) -> Option<Armed<'_, T>> {
        // Plain load + store: `self` is `!Sync`, so no other `arm` runs now,
        // and the flag is only cleared by the single live `Armed`.
        if self.slot.armed.load(Ordering::Acquire) {
            return None;
        }
        self.slot.armed.store(true, Ordering::Relaxed);
        Some(Armed { slot: &self.slot })
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The right to write one item; at most one exists per slot at a time.
pub(crate) struct Armed<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Armed<'_, T> {
    /// Moves the item out of `src` into the slot if the receiver is polling
    /// the body and the slot is empty; otherwise leaves `src` as it is and
    /// returns the state found.
    ///
    /// `src` must be `Some` (else this returns `Ok` and does nothing).
    /// Taking `&mut Option<T>` rather than `T` lets the payload move with one
    /// copy of `T` and no copy of the whole `Option`.
    #[inline]
    pub(crate) fn send_from(&mut self, src: &mut Option<T>) -> Result<(), SlotState> {
        let state = self.slot.state.load(Ordering::Acquire);
        if state != RUNNING {
            return Err(SlotState::from_u8(state));
        }
        let Some(payload) = src.as_mut() else {
            return Ok(());
        };
        // SAFETY: `payload` is a valid, initialised `T`; it is read once and
        // `src` is overwritten with `None` right after without dropping it, so
        // the value is moved, not duplicated (nothing in between can panic).
        let value = unsafe { core::ptr::read(payload) };
        // SAFETY: `src` is a valid `&mut`; its old payload was moved out above,
        // so writing without dropping it is correct.
        unsafe { core::ptr::write(src, None) };
        // SAFETY: this `Armed` is the only writer (module docs); it loaded
        // `RUNNING` with acquire ordering, so the reader is not reading the
        // cell and any earlier read happened before. The previous item, if a
        // misuse left one there, is overwritten without drop (a leak).
        unsafe { (*self.slot.item.get()).write(value) };
        self.slot.state.store(FULL, Ordering::Release);
        Ok(())
    }

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

    /// The state now, for `Debug`.
    fn state(&self) -> SlotState {
        SlotState::from_u8(self.slot.state.load(Ordering::Acquire))
    }
}

impl<T> Drop for Armed<'_, T> {
    fn drop(&mut self) {
        self.slot.armed.store(false, Ordering::Release);
    }
}

impl<T> fmt::Debug for Armed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Armed")
            .field("state", &self.state())
            .finish()
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
