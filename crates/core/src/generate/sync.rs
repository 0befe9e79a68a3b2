//! The `Arc`, atomics and cell of the hand-over slots: `alloc`'s and
//! `core`'s, or loom's models of them when the lib's tests model-check
//! (`--cfg loom`; loom is a dev-dependency, so only under `test`).

#[cfg(not(all(loom, test)))]
pub(crate) use alloc::sync::Arc;
#[cfg(not(all(loom, test)))]
pub(crate) use core::sync::atomic::{AtomicBool, Ordering};

#[cfg(all(loom, test))]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::Arc;

/// `core`'s `UnsafeCell` behind loom's closure API, so one source serves
/// both.
#[cfg(not(all(loom, test)))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(all(loom, test)))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the value; what `f` may do with it is
    /// the caller's proof.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
