//! A counting global allocator for the allocation suites, which install it
//! in their own test binary:
//! `#[global_allocator] static GLOBAL: Counting = Counting;`.
//!
//! Counts are per thread, so tests running in parallel do not disturb each
//! other: run the code measured on the test thread (a current-thread
//! runtime, or polling by hand).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to [`System`], counting allocations and live bytes per thread.
#[derive(Debug)]
pub(crate) struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn note(allocs: u64, bytes: i64) {
    // `try_with`: the thread may be shutting down.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + allocs));
    let _ = LIVE.try_with(|l| {
        let live = l.get() + bytes;
        l.set(live);
        let _ = PEAK.try_with(|p| p.set(p.get().max(live)));
    });
}

/// Allocations (`alloc`, `alloc_zeroed`, `realloc`) on this thread so far.
pub(crate) fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Allocations made on this thread while running `f`.
pub(crate) fn allocations_in<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = allocs();
    let out = f();
    (allocs() - before, out)
}

/// Starts measuring the peak from now: returns the bytes live on this
/// thread now, the base to subtract from [`peak`].
pub(crate) fn start_peak() -> i64 {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    base
}

/// The most bytes live on this thread since [`start_peak`].
pub(crate) fn peak() -> i64 {
    PEAK.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; counting touches only const-initialised
// thread-local `Cell`s (no allocation, no re-entrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as i64));
        // SAFETY: as above; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(1, new_size as i64 - layout.size() as i64);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
