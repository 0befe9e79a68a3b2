//! A limit on how many blocking jobs run at once: an async semaphore whose
//! waiters get their place in arrival order.
//!
//! Runtimes' blocking pools grow a thread for each job that finds no idle
//! thread (smol's and async-std's up to 500, tokio's up to 512): five
//! hundred followers starting together would each get one. Taking a place
//! here before each job keeps the pool at the limit's size.
//!
//! # Cancel safety
//! Dropping an [`Acquire`] gives up its place in the queue, or passes on the
//! place it was just handed; dropping a [`Permit`] hands its place to the
//! first waiter (or frees it).

use alloc::collections::VecDeque;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

#[cfg(all(loom, test))]
use ::loom::sync::{Mutex, MutexGuard};
#[cfg(not(all(loom, test)))]
use std::sync::{Mutex, MutexGuard};

/// Places for `places` jobs at a time.
pub(crate) struct JobLimit {
    state: Mutex<State>,
}

/// Invariant: `free > 0` only when every queued waiter was handed a place
/// (a freed place goes to the first waiter without one).
struct State {
    free: usize,
    next_id: u64,
    /// Waiters in arrival order; those handed a place (not yet polled to
    /// take it) form a prefix.
    queue: VecDeque<Waiter>,
}

struct Waiter {
    id: u64,
    waker: Option<Waker>,
    granted: bool,
}

impl State {
    /// Hands a freed place to the first waiter without one (returning its
    /// waker, to wake once the lock is released), or frees it.
    fn pass_on(&mut self) -> Option<Waker> {
        match self.queue.iter_mut().find(|w| !w.granted) {
            Some(waiter) => {
                waiter.granted = true;
                waiter.waker.take()
            }
            None => {
                self.free += 1;
                None
            }
        }
    }
}

impl JobLimit {
    /// A limit of `places` jobs at once (at least 1).
    #[cfg(not(all(loom, test)))]
    pub(crate) const fn new(places: usize) -> Self {
        JobLimit {
            state: Mutex::new(State {
                free: if places == 0 { 1 } else { places },
                next_id: 0,
                queue: VecDeque::new(),
            }),
        }
    }

    #[cfg(all(loom, test))]
    pub(crate) fn new(places: usize) -> Self {
        JobLimit {
            state: Mutex::new(State {
                free: places.max(1),
                next_id: 0,
                queue: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock's state is
        // still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a place: resolves to a [`Permit`] holding it.
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire {
            limit: self,
            stage: Stage::Start,
        }
    }

    fn release(&self) {
        let waker = self.lock().pass_on();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Free places and waiters (for tests).
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.free, state.queue.len())
    }
}

impl fmt::Debug for JobLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("JobLimit")
            .field("free", &state.free)
            .field("waiting", &state.queue.len())
            .finish()
    }
}

/// A place held: given back (to the first waiter) on drop.
#[must_use = "the place is given back when the permit drops"]
pub(crate) struct Permit<'a> {
    limit: &'a JobLimit,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limit.release();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    Queued(u64),
    Done,
}

/// Future of [`JobLimit::acquire`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub(crate) struct Acquire<'a> {
    limit: &'a JobLimit,
    stage: Stage,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    /// `Ready` with a permit once a place is free and every earlier waiter
    /// has had one; `Pending` registers `cx`'s waker, woken when a place is
    /// handed to this waiter.
    ///
    /// # Panics
    /// If polled after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let this = self.get_mut();
        let limit = this.limit;
        let mut state = limit.lock();
        match this.stage {
            Stage::Start if state.free > 0 => {
                // No waiter lacks a place (the invariant): nobody is passed.
                state.free -= 1;
            }
            Stage::Start => {
                let id = state.next_id;
                state.next_id += 1;
                state.queue.push_back(Waiter {
                    id,
                    waker: Some(cx.waker().clone()),
                    granted: false,
                });
                this.stage = Stage::Queued(id);
                return Poll::Pending;
            }
            Stage::Queued(id) => {
                let at = state
                    .queue
                    .iter()
                    .position(|w| w.id == id)
                    .expect("a queued waiter stays queued until it leaves");
                let waiter = &mut state.queue[at];
                if !waiter.granted {
                    match &mut waiter.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                state.queue.remove(at);
            }
            Stage::Done => panic!("`Acquire` polled after completion"),
        }
        this.stage = Stage::Done;
        Poll::Ready(Permit { limit })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Stage::Queued(id) = self.stage else {
            return;
        };
        let waker = {
            let mut state = self.limit.lock();
            let at = state.queue.iter().position(|w| w.id == id);
            match at.and_then(|at| state.queue.remove(at)) {
                // Handed a place but gone: pass it on.
                Some(waiter) if waiter.granted => state.pass_on(),
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), Waker::from(count))
    }

    fn poll<'a>(acq: &mut Acquire<'a>, w: &Waker) -> Poll<Permit<'a>> {
        Pin::new(acq).poll(&mut Context::from_waker(w))
    }

    #[test]
    fn places_are_taken_then_waiters_are_served_in_arrival_order() {
        let limit = JobLimit::new(2);
        let (_, w) = waker();
        let a = poll(&mut limit.acquire(), &w);
        let b = poll(&mut limit.acquire(), &w);
        assert!(a.is_ready() && b.is_ready());
        let (c_count, c_waker) = waker();
        let (d_count, d_waker) = waker();
        let mut c = limit.acquire();
        let mut d = limit.acquire();
        assert!(poll(&mut c, &c_waker).is_pending());
        assert!(poll(&mut d, &d_waker).is_pending());
        // A newcomer does not overtake them even when a place frees.
        drop(a);
        assert_eq!(c_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(d_count.0.load(Ordering::SeqCst), 0);
        let mut e = limit.acquire();
        assert!(poll(&mut e, &w).is_pending());
        assert!(poll(&mut d, &d_waker).is_pending());
        let c = poll(&mut c, &c_waker);
        assert!(c.is_ready());
        drop(b);
        assert_eq!(d_count.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut d, &d_waker).is_ready());
        drop(c);
        assert!(poll(&mut e, &w).is_ready());
        assert_eq!(limit.counts(), (2, 0), "every place back");
    }

    #[test]
    fn a_dropped_waiter_leaves_the_queue_or_passes_its_place_on() {
        let limit = JobLimit::new(1);
        let (_, w) = waker();
        let held = poll(&mut limit.acquire(), &w);
        let mut gone_early = limit.acquire();
        let mut handed = limit.acquire();
        let (next_count, next_waker) = waker();
        let mut next = limit.acquire();
        for acq in [&mut gone_early, &mut handed] {
            assert!(poll(acq, &w).is_pending());
        }
        assert!(poll(&mut next, &next_waker).is_pending());
        // Dropped while waiting: out of the queue, nobody woken.
        drop(gone_early);
        assert_eq!(limit.counts(), (0, 2));
        // Handed the place, dropped before taking it: `next` gets it.
        drop(held);
        assert_eq!(next_count.0.load(Ordering::SeqCst), 0);
        drop(handed);
        assert_eq!(next_count.0.load(Ordering::SeqCst), 1);
        let p = poll(&mut next, &next_waker);
        assert!(p.is_ready());
        drop(p);
        assert_eq!(limit.counts(), (1, 0), "the place is back");
    }

    #[test]
    fn many_tasks_never_exceed_the_limit() {
        static LIMIT: JobLimit = JobLimit::new(3);
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let (threads, rounds) = if cfg!(miri) { (4, 10) } else { (8, 200) };
        let threads: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..rounds {
                        let permit = futures::executor::block_on(LIMIT.acquire());
                        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        RUNNING.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(MOST.load(Ordering::SeqCst) <= 3);
        assert_eq!(LIMIT.counts(), (3, 0));
    }
}

#[cfg(all(test, loom))]
mod loom {
    use super::*;
    use ::loom::thread;
    use alloc::boxed::Box;

    /// Two places' worth of contention with one place: a task that gives up
    /// waiting and one that waits never lose the place nor hang.
    #[test]
    fn loom_job_limit_hands_places_on_and_loses_none() {
        ::loom::model(|| {
            let limit: &'static JobLimit = Box::leak(Box::new(JobLimit::new(1)));
            let waiter = thread::spawn(move || {
                let permit = ::loom::future::block_on(limit.acquire());
                drop(permit);
            });
            let quitter = thread::spawn(move || {
                let mut acq = limit.acquire();
                let w = futures::task::noop_waker();
                let got = Pin::new(&mut acq).poll(&mut Context::from_waker(&w));
                drop(got);
                drop(acq);
            });
            let permit = ::loom::future::block_on(limit.acquire());
            drop(permit);
            waiter.join().unwrap();
            quitter.join().unwrap();
            assert_eq!(limit.counts(), (1, 0));
        });
    }
}
