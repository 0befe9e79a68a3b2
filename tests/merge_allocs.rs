//! Zero heap allocations per item once warmed up: `merge` and `MergeMap`,
//! with always-ready inputs and with sparse, channel-fed inputs woken a few
//! at a time in random order (the wake path included).
//!
//! A counting global allocator counts per thread, so tests running in
//! parallel do not disturb each other.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use aiter::merge::{merge, MergeMap};
use aiter::{iter, Stream};

mod support;

use support::counting_alloc::{allocations_in, Counting};
use support::CountingWaker;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A channel that allocates nothing per item once its queue has capacity
/// (unlike `futures::channel::mpsc`, which allocates a node per message).
struct Shared {
    queue: VecDeque<u64>,
    waker: Option<Waker>,
}

struct Receiver(Rc<RefCell<Shared>>);

impl Stream for Receiver {
    type Item = u64;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        let mut shared = self.0.borrow_mut();
        match shared.queue.pop_front() {
            Some(item) => Poll::Ready(Some(item)),
            None => {
                match &mut shared.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

fn send(shared: &RefCell<Shared>, item: u64) {
    let mut shared = shared.borrow_mut();
    shared.queue.push_back(item);
    if let Some(w) = &shared.waker {
        w.wake_by_ref();
    }
}

fn channels(n: usize) -> (Vec<Rc<RefCell<Shared>>>, Vec<Receiver>) {
    (0..n)
        .map(|_| {
            let shared = Rc::new(RefCell::new(Shared {
                queue: VecDeque::with_capacity(16),
                waker: None,
            }));
            (Rc::clone(&shared), Receiver(shared))
        })
        .unzip()
}

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Feeds `batches` batches of 8 items to random inputs, draining the stream
/// after each batch; returns the number of items received.
fn run_sparse<S: Stream + Unpin>(
    senders: &[Rc<RefCell<Shared>>],
    stream: &mut S,
    rng: &mut Rng,
    batches: usize,
    waker: &Waker,
) -> usize {
    let mut cx = Context::from_waker(waker);
    let mut got = 0;
    for _ in 0..batches {
        for _ in 0..8 {
            send(&senders[rng.below(senders.len())], 1);
        }
        // All 8 are available: `Pending` here can only be a budget yield.
        let (target, mut pendings) = (got + 8, 0);
        while got < target {
            match Pin::new(&mut *stream).poll_next(&mut cx) {
                Poll::Ready(Some(_)) => got += 1,
                Poll::Ready(None) => unreachable!("the inputs never end"),
                Poll::Pending => {
                    pendings += 1;
                    assert!(pendings < 100, "items sent but not delivered");
                }
            }
        }
    }
    got
}

#[test]
fn ready_merge_allocates_nothing_per_item() {
    for n in [2, 64, 1024, 65_536] {
        let mut merged = merge((0..n).map(|_| iter(0u64..)));
        let waker = Waker::from(Arc::new(CountingWaker::default()));
        let mut cx = Context::from_waker(&waker);
        let mut take = |items: usize| {
            let mut got = 0;
            while got < items {
                if let Poll::Ready(Some(_)) = Pin::new(&mut merged).poll_next(&mut cx) {
                    got += 1;
                }
            }
        };
        take(2 * n); // warm-up
        let (allocs, ()) = allocations_in(|| take(200_000));
        assert_eq!(allocs, 0, "N = {n}: {allocs} allocations for 200,000 items");
    }
}

#[test]
fn sparse_merge_allocates_nothing_per_item_including_wakes() {
    for n in [2, 64, 1024, 65_536] {
        let (senders, receivers) = channels(n);
        let mut merged = merge(receivers);
        let task = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // Warm-up: every input registers its waker once.
        let _ = Pin::new(&mut merged).poll_next(&mut Context::from_waker(&waker));
        while task.take() > 0 {
            let _ = Pin::new(&mut merged).poll_next(&mut Context::from_waker(&waker));
        }
        run_sparse(&senders, &mut merged, &mut rng, 100, &waker);
        let (allocs, got) =
            allocations_in(|| run_sparse(&senders, &mut merged, &mut rng, 5_000, &waker));
        assert_eq!(got, 40_000);
        assert_eq!(allocs, 0, "N = {n}: {allocs} allocations for {got} items");
        assert!(task.count() > 0, "the task was woken by input wakes");
    }
}

#[test]
fn sparse_map_events_allocate_nothing_per_item() {
    let n = 1024;
    let (senders, receivers) = channels(n);
    let mut map: MergeMap<u32, Receiver> = (0..).zip(receivers).collect();
    let waker = Waker::from(Arc::new(CountingWaker::default()));
    let mut rng = Rng(42);
    // Keys are `u32`: cloning one per item allocates nothing.
    let mut events = map.events();
    run_sparse(&senders, &mut events, &mut rng, 300, &waker);
    let (allocs, got) =
        allocations_in(|| run_sparse(&senders, &mut events, &mut rng, 2_000, &waker));
    assert_eq!(got, 16_000);
    assert_eq!(allocs, 0, "{allocs} allocations for {got} items");
    // And through the plain `(key, item)` stream.
    let (allocs, got) = allocations_in(|| run_sparse(&senders, &mut map, &mut rng, 2_000, &waker));
    assert_eq!(got, 16_000);
    assert_eq!(allocs, 0);
}
