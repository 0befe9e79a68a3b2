//! A follower's mailbox for change notices: a flag and a waker, set by the
//! watcher thread and taken by the follower.
//!
//! The protocol, checked by loom below (`mod loom`, `RUSTFLAGS="--cfg
//! loom"`): the watcher sets the flag, then wakes; the follower registers
//! its waker, then takes (clears) the flag, and re-checks the file only when
//! it was set. A notice that comes after the follower's check is therefore
//! either in the flag when it takes it, or wakes the waker it registered
//! first: none is lost.

use core::task::Waker;

#[cfg(all(loom, test))]
use ::loom::{
    future::AtomicWaker,
    sync::atomic::{AtomicBool, Ordering},
};

#[cfg(not(all(loom, test)))]
use atomic_waker::AtomicWaker;
#[cfg(not(all(loom, test)))]
use core::sync::atomic::{AtomicBool, Ordering};

/// Set by the watcher thread, taken by the follower.
#[derive(Debug, Default)]
pub(super) struct Slot {
    changed: AtomicBool,
    waker: AtomicWaker,
}

impl Slot {
    /// Something happened to the path: raise the flag, then wake the
    /// follower (which must see the flag once woken). Never blocks.
    pub(super) fn mark(&self) {
        self.changed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Registers `waker`, then takes the flag: `true` if something happened
    /// since the last call. When `false`, the next [`mark`](Self::mark)
    /// wakes `waker`.
    pub(super) fn poll_changed(&self, waker: &Waker) -> bool {
        #[cfg(not(all(loom, test)))]
        self.waker.register(waker);
        #[cfg(all(loom, test))]
        self.waker.register_by_ref(waker);
        self.changed.swap(false, Ordering::AcqRel)
    }
}

#[cfg(all(test, loom))]
mod loom {
    use super::*;
    use ::loom::sync::atomic::AtomicU64;
    use ::loom::sync::Arc;
    use ::loom::thread;
    use core::task::Poll;

    /// A writer appends, then marks the slot, while the follower reads
    /// what is there and waits on the slot when it has read everything it
    /// saw, in any interleaving: it always reaches the append. loom's
    /// `block_on` reports a deadlock if the mark were lost (the follower
    /// `Pending` with no wake to come).
    #[test]
    fn loom_follow_slot_loses_no_wake() {
        ::loom::model(|| {
            let slot = Arc::new(Slot::default());
            let len = Arc::new(AtomicU64::new(0));
            let writer = {
                let (slot, len) = (slot.clone(), len.clone());
                thread::spawn(move || {
                    len.store(1, Ordering::Release);
                    slot.mark();
                })
            };
            let mut read_to = 0;
            ::loom::future::block_on(core::future::poll_fn(|cx| loop {
                // Check: read whatever the file holds now.
                read_to = len.load(Ordering::Acquire);
                if read_to == 1 {
                    return Poll::Ready(());
                }
                // At its end: wait for a notice.
                if !slot.poll_changed(cx.waker()) {
                    return Poll::Pending;
                }
            }));
            assert_eq!(read_to, 1);
            writer.join().unwrap();
        });
    }

    /// The flag alone carries a notice given before the follower first
    /// registers a waker.
    #[test]
    fn loom_follow_slot_keeps_an_early_notice() {
        ::loom::model(|| {
            let slot = Arc::new(Slot::default());
            let early = {
                let slot = slot.clone();
                thread::spawn(move || slot.mark())
            };
            early.join().unwrap();
            let waker = futures::task::noop_waker();
            assert!(slot.poll_changed(&waker));
            assert!(!slot.poll_changed(&waker), "taken once");
        });
    }
}
