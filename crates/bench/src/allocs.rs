//! Heap allocations counted while a sample's clock runs.
//!
//! [`CountingAlloc`] forwards to the system allocator and, while counting is
//! switched on for the calling thread ([`probe`]`(true)` … [`probe`]`(false)`),
//! counts the allocations (and reallocations) that thread makes. The
//! `aiter-bench` binary and the criterion merge bench install it as their
//! `#[global_allocator]`; elsewhere (the library's tests) nothing counts and
//! [`installed`] says so, so workloads leave the metric out.
//!
//! The counter and the switch are `const`-initialised thread locals without
//! destructors: reading them never allocates, and counting costs a thread-local
//! increment per allocation, not an atomic. Work a sample hands to other
//! threads is not counted; every workload that reports allocations runs its
//! timed work on the measuring thread.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Whether this thread counts its allocations now.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Allocations counted on this thread since the last `probe(true)`.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    /// What the last `probe(false)` counted.
    static LAST: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting this thread's allocations while switched
/// on (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

fn count() {
    COUNTING.with(|on| {
        if on.get() {
            COUNT.with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` unchanged; the bookkeeping only
// touches `const`-initialised thread-local cells without destructors, which
// neither allocate nor re-enter the allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above; `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Switches counting on (`true`: the count restarts from zero) or off
/// (`false`: the count is kept for [`last`]) for the calling thread. Has the
/// shape of the merge workload's clock probe.
pub fn probe(clock_running: bool) {
    if clock_running {
        COUNT.with(|n| n.set(0));
        COUNTING.with(|on| on.set(true));
    } else {
        COUNTING.with(|on| on.set(false));
        LAST.with(|last| last.set(COUNT.with(Cell::get)));
    }
}

/// The allocations the calling thread made between its last `probe(true)`
/// and `probe(false)`.
pub fn last() -> u64 {
    LAST.with(Cell::get)
}

/// Whether [`CountingAlloc`] is the global allocator (an allocation made
/// while counting is counted).
pub fn installed() -> bool {
    probe(true);
    drop(std::hint::black_box(Box::new(0u64)));
    probe(false);
    let counted = last() > 0;
    LAST.with(|last| last.set(0));
    counted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_counts_without_the_global_allocator() {
        // The library's tests run on the default allocator.
        assert!(!installed());
        probe(true);
        let v: Vec<u8> = Vec::with_capacity(10);
        probe(false);
        drop(v);
        assert_eq!(last(), 0);
    }
}
