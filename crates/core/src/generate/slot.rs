//! The core's one module with `unsafe` code: the one-item hand-over slot
//! between a generator's body (its [`Co`](super::Co), holding a [`Sender`])
//! and its stream (holding the [`Receiver`]).
//!
//! Everything here has a **safe** API that is sound however it is called: a
//! `Co` moved to another thread, task or generator, kept after its generator
//! is gone, or used twice in one poll can only get an `Err` back, never touch
//! a slot it does not own. The stream calls [`Receiver::poll_with`] around
//! every poll of the body; the body calls [`Sender::send`] and
//! `Waiter::taken` from inside that poll.
//!
//! Two implementations share this API:
//! - with `std`, `local`: an `Arc`-shared `Option<T>` touched only by the
//!   thread polling the generator, which a thread-local names; no atomic
//!   operation per item, and misuse is caught at once, by the `Co`.
//! - without `std`, `atomic`: an `Arc`-shared cell guarded by a `full` flag
//!   (single-producer single-consumer hand-over); misuse from outside the
//!   poll is caught by the stream's next poll.
//!
//! Miri runs the generator tests; loom model-checks both implementations
//! (`mod loom`, `RUSTFLAGS="--cfg loom"`).

#[cfg(any(not(feature = "std"), all(loom, test)))]
#[cfg_attr(all(feature = "std", loom, test), allow(dead_code))]
mod atomic;
#[cfg(feature = "std")]
mod local;
#[cfg(all(test, loom))]
mod loom;

#[cfg(not(feature = "std"))]
pub(crate) use self::atomic::{slot, Receiver, Sender, Waiter};
#[cfg(feature = "std")]
pub(crate) use self::local::{slot, Receiver, Sender, Waiter};

/// How a `Co` was misused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misuse {
    /// An item was handed over while the previous one was still waiting.
    NotTaken,
    /// Used outside its generator's poll (another thread, task or
    /// generator).
    Outside,
    /// Used after its generator was dropped or finished.
    Closed,
}
