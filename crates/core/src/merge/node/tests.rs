//! The nodes' protocol on its own: unit tests (run under Miri too) and loom
//! models of the races between wakers and the merge.

use super::*;
use alloc::vec;

/// An input that counts its drops; polled, it is always pending.
struct Droppy(alloc::sync::Arc<core::sync::atomic::AtomicUsize>);

impl Drop for Droppy {
    fn drop(&mut self) {
        self.0.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
    }
}

impl Stream for Droppy {
    type Item = ();
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<()>> {
        Poll::Pending
    }
}

fn droppy() -> (Droppy, alloc::sync::Arc<core::sync::atomic::AtomicUsize>) {
    let drops = alloc::sync::Arc::new(core::sync::atomic::AtomicUsize::new(0));
    (Droppy(alloc::sync::Arc::clone(&drops)), drops)
}

/// Takes the wakes in and the queue's entries off (they stay queued, as
/// while a merge polls them).
fn drained<E, T>(nodes: &mut Nodes<E, T>) -> Vec<usize> {
    nodes.drain();
    nodes.take_queue()
}

#[cfg(not(loom))]
mod unit {
    use super::*;
    use alloc::sync::Arc as StdArc;
    use alloc::task::Wake;
    use core::sync::atomic::{AtomicUsize as StdUsize, Ordering::SeqCst};

    /// A task waker that counts its wakes.
    struct Counter(StdUsize);
    impl Wake for Counter {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counter() -> (StdArc<Counter>, Waker) {
        let c = StdArc::new(Counter(StdUsize::new(0)));
        (StdArc::clone(&c), Waker::from(c))
    }

    /// `n` nodes, the first `live` of them holding an input.
    fn grown(n: usize, live: usize) -> Nodes<Droppy, ()> {
        let mut nodes = Nodes::new();
        while nodes.capacity() < n {
            nodes.grow();
        }
        for i in 0..live {
            nodes.put(i, droppy().0, ());
        }
        nodes
    }

    #[test]
    fn wakes_queue_a_node_once_and_wake_the_task_once_per_batch() {
        let mut nodes = grown(3 * CHUNK, 3 * CHUNK);
        let (task, waker) = counter();
        nodes.register(&waker);
        let picks = [0, CHUNK - 1, 1, CHUNK, 3 * CHUNK - 1];
        let wakers: Vec<Waker> = picks.iter().map(|&i| nodes.waker(i)).collect();
        assert!(!nodes.has_wakes());
        for w in &wakers {
            w.wake_by_ref();
            // A clone, consumed by its wake.
            let owned = w.clone();
            owned.wake();
        }
        assert!(nodes.has_wakes());
        assert_eq!(task.0.load(SeqCst), 1, "one task wake per batch");
        // Chunks last woken first; a chunk's nodes in index order.
        assert_eq!(drained(&mut nodes), [3 * CHUNK - 1, CHUNK, 0, 1, CHUNK - 1]);
        assert!(!nodes.has_wakes());
        // Queued nodes are not queued again by wakes: their queued poll
        // serves the wake.
        wakers[0].wake_by_ref();
        assert!(drained(&mut nodes).is_empty());
        // Polled to `Pending`: out of the queue, and queued again by the
        // next wake, which wakes the task again.
        nodes.idle(0);
        nodes.register(&waker);
        wakers[0].wake_by_ref();
        assert_eq!(task.0.load(SeqCst), 2);
        assert_eq!(drained(&mut nodes), [0]);
    }

    #[test]
    fn a_wake_during_a_poll_queues_the_node_after_it() {
        let mut nodes = grown(CHUNK, 6);
        nodes.schedule(5);
        nodes.schedule(5);
        assert_eq!(nodes.take_queue(), [5], "queued once");
        // Woken while it is polled...
        nodes.waker(5).wake();
        // ...then `Pending`: the wake queues it again.
        nodes.idle(5);
        assert_eq!(drained(&mut nodes), [5]);
        nodes.schedule(5);
        assert!(nodes.take_queue().is_empty(), "queued by the drain");
    }

    /// An input that yields items, then ends.
    struct Count(u8);

    impl Stream for Count {
        type Item = u8;
        fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u8>> {
            if self.0 == 0 {
                return Poll::Ready(None);
            }
            self.0 -= 1;
            Poll::Ready(Some(self.0))
        }
    }

    #[test]
    fn poll_front_requeues_items_and_lets_pending_ended_and_vacant_nodes_go() {
        let mut nodes: Nodes<Count, ()> = Nodes::new();
        nodes.grow();
        nodes.grow();
        for (i, n) in [(0, 1), (CHUNK + 2, 2)] {
            nodes.put(i, Count(n), ());
            nodes.schedule(i);
        }
        // Queued, then freed: skipped, and no longer queued.
        nodes.put(3, Count(9), ());
        nodes.schedule(3);
        let _ = nodes.take(3);
        let mut steps = vec![];
        loop {
            match nodes.poll_front() {
                Step::Item { index, item } => steps.push((index, Some(item))),
                Step::Ended { index } => {
                    steps.push((index, None));
                    nodes.end(index);
                }
                Step::Idle if nodes.queue_is_empty() => break,
                Step::Idle => {}
            }
        }
        let c = CHUNK + 2;
        assert_eq!(
            steps,
            [
                (0, Some(0)),
                (c, Some(1)),
                (0, None),
                (c, Some(0)),
                (c, None)
            ]
        );
        assert_eq!(nodes.popped(), 6, "every poll and skip pops once");
        // Nothing stays queued: scheduling queues them again.
        nodes.put(3, Count(1), ());
        nodes.schedule(3);
        assert_eq!(nodes.take_queue(), [3]);
    }

    #[test]
    fn wakes_of_vacant_nodes_are_dropped() {
        let mut nodes = grown(2 * CHUNK, 2);
        for i in [1, 2, CHUNK + 3] {
            nodes.waker(i).wake();
        }
        assert_eq!(drained(&mut nodes), [1]);
        assert!(!nodes.has_wakes());
        // An input put into a woken node later is queued by whoever puts
        // it, not by the stale wake.
        nodes.waker(2).wake();
        nodes.put(2, droppy().0, ());
        nodes.schedule(2);
        assert_eq!(drained(&mut nodes), [2], "queued once");
    }

    #[test]
    fn inputs_are_dropped_once_by_the_merge_and_wakers_outlive_it() {
        let mut nodes = grown(2 * CHUNK, 0);
        let (a, a_drops) = droppy();
        let (b, b_drops) = droppy();
        let (c, c_drops) = droppy();
        nodes.put(1, a, ());
        nodes.put(CHUNK + 1, b, ());
        nodes.put(2, c, ());
        let (task, waker) = counter();
        nodes.register(&waker);
        nodes.end(2);
        assert_eq!(c_drops.load(SeqCst), 1);
        let kept = nodes.waker(1);
        let other = nodes.waker(CHUNK + 1);
        nodes.schedule(1);
        nodes.schedule(2);
        assert!(matches!(nodes.poll_front(), Step::Idle), "pending");
        assert!(matches!(nodes.poll_front(), Step::Idle), "ended: vacant");
        assert!(nodes.take_queue().is_empty());
        drop(nodes);
        assert_eq!((a_drops.load(SeqCst), b_drops.load(SeqCst)), (1, 1));
        // The merge's task was released with the merge.
        assert_eq!(StdArc::strong_count(&task), 2);
        drop(waker);
        // Wakes after the merge is gone touch only the wakers' memory.
        kept.wake_by_ref();
        let again = kept.clone();
        drop(kept);
        again.wake();
        other.wake();
        assert_eq!(task.0.load(SeqCst), 0);
        assert_eq!(StdArc::strong_count(&task), 1);
    }

    #[test]
    fn take_replace_and_iterate_live_nodes() {
        let mut nodes: Nodes<Vec<u8>, char> = Nodes::new();
        nodes.grow();
        nodes.put(3, vec![1], 'a');
        nodes.put(7, vec![2, 2], 'b');
        assert!(nodes.is_live(3) && !nodes.is_live(4));
        assert_eq!(*nodes.tag(7), 'b');
        assert_eq!(nodes.replace(3, vec![9]), [1]);
        let seen: Vec<(usize, char, usize)> =
            nodes.iter_mut().map(|(i, t, v)| (i, *t, v.len())).collect();
        assert_eq!(seen, [(3, 'a', 1), (7, 'b', 2)]);
        assert_eq!(nodes.iter().map(Vec::len).sum::<usize>(), 3);
        assert_eq!(nodes.take(7), (vec![2, 2], 'b'));
        assert!(!nodes.is_live(7));
        nodes.put(7, vec![], 'c');
        assert_eq!(*nodes.tag(7), 'c');
    }

    #[test]
    #[cfg(feature = "std")]
    fn wakes_from_other_threads_are_never_lost() {
        let per_thread = if cfg!(miri) { 30 } else { 20_000 };
        let n = 2 * CHUNK;
        let mut nodes = grown(n, n);
        let wakers: Vec<Waker> = (0..n).map(|i| nodes.waker(i)).collect();
        let woken = |t: usize, k: usize| (k * 7 + t * 131) % n;
        let mut polls = vec![0usize; n];
        std::thread::scope(|scope| {
            for t in 0..2 {
                let wakers = &wakers;
                scope.spawn(move || {
                    for k in 0..per_thread {
                        wakers[woken(t, k)].wake_by_ref();
                    }
                });
            }
            // The merge: take woken nodes, "poll" them, let them go idle.
            for _ in 0..200 {
                for i in drained(&mut nodes) {
                    polls[i] += 1;
                    nodes.idle(i);
                }
            }
        });
        for i in drained(&mut nodes) {
            polls[i] += 1;
            nodes.idle(i);
        }
        assert!(drained(&mut nodes).is_empty());
        for t in 0..2 {
            for k in 0..per_thread.min(n) {
                assert!(polls[woken(t, k)] > 0, "a wake was lost");
            }
        }
        // Every node is idle now: a wake queues it.
        wakers[0].wake_by_ref();
        assert_eq!(drained(&mut nodes), [0]);
    }
}

#[cfg(all(not(loom), feature = "std"))]
#[test]
fn growing_while_other_threads_wake_is_race_free() {
    let wakes = if cfg!(miri) { 20 } else { 10_000 };
    let mut nodes: Nodes<(), ()> = Nodes::new();
    nodes.grow();
    for i in 0..4 {
        nodes.put(i, (), ());
    }
    let wakers: Vec<Waker> = (0..4).map(|i| nodes.waker(i)).collect();
    let mut taken = vec![];
    std::thread::scope(|scope| {
        for t in 0..2 {
            let wakers = &wakers;
            scope.spawn(move || {
                for k in 0..wakes {
                    wakers[(k + t) % 4].wake_by_ref();
                }
            });
        }
        // The merge grows (and fills) while the wakes land, taking them in.
        for chunk in 1..4 {
            nodes.grow();
            nodes.put(chunk * CHUNK, (), ());
            for i in drained(&mut nodes) {
                taken.push(i);
                nodes.idle(i);
            }
        }
    });
    for i in drained(&mut nodes) {
        taken.push(i);
        nodes.idle(i);
    }
    for i in 0..4 {
        assert!(taken.contains(&i), "the wakes of node {i} were lost");
    }
}

/// Loom models of the nodes' races: a wake during a poll, a stale wake
/// against the merge queuing a new input, wakes of two chunks racing each
/// other onto the stack while the merge drains and sleeps, and a waker
/// that outlives the merge.
#[cfg(loom)]
mod loom {
    use super::*;
    use ::loom::sync::atomic::AtomicUsize as LoomUsize;
    use ::loom::thread;
    use alloc::sync::Arc as StdArc;
    use alloc::task::Wake;
    use core::sync::atomic::Ordering::SeqCst;

    /// A task waker that counts its wakes.
    struct Counter(LoomUsize);
    impl Wake for Counter {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = ::loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(f);
    }

    /// `chunks` chunks; the nodes in `live` hold an input.
    fn nodes_with(chunks: usize, live: &[usize]) -> Nodes<(), ()> {
        let mut nodes = Nodes::new();
        for _ in 0..chunks {
            nodes.grow();
        }
        for &i in live {
            nodes.put(i, (), ());
        }
        nodes
    }

    /// Another thread wakes node 0 while the merge holds it (queued, then
    /// polled to `Pending`) and takes wakes in: the wake is taken either
    /// before the poll (which serves it) or after (it queues the node once),
    /// and the wake state is clean afterwards.
    #[test]
    fn loom_a_wake_during_a_poll_is_not_lost() {
        model(|| {
            let mut nodes = nodes_with(1, &[0]);
            nodes.schedule(0);
            assert_eq!(nodes.take_queue(), [0]);
            let w = nodes.waker(0);
            let t = thread::spawn(move || w.wake());
            let early = drained(&mut nodes);
            assert!(early.is_empty(), "queued: not queued again");
            // The poll returns `Pending`.
            nodes.idle(0);
            t.join().unwrap();
            let late = drained(&mut nodes);
            assert!(late.is_empty() || late == [0], "{late:?}");
            assert!(!nodes.has_wakes());
            // Idle, with no wake pending: the next wake queues it.
            if late == [0] {
                nodes.idle(0);
            }
            nodes.waker(0).wake();
            assert_eq!(drained(&mut nodes), [0]);
        });
    }

    /// No double enqueue: a stale waker of a vacant node races the merge
    /// putting a new input there and queuing it; a woken node that is
    /// queued is not queued again.
    #[test]
    fn loom_a_node_is_queued_once() {
        model(|| {
            let mut nodes = nodes_with(1, &[0]);
            nodes.schedule(0);
            let (w0, w1) = (nodes.waker(0), nodes.waker(1));
            let t = thread::spawn(move || {
                w0.wake();
                w1.wake();
            });
            let early = drained(&mut nodes);
            assert_eq!(early, [0], "queued by the merge, not again by the wake");
            // A new input in node 1, queued by the merge.
            nodes.put(1, (), ());
            nodes.schedule(1);
            t.join().unwrap();
            let late = drained(&mut nodes);
            assert_eq!(late, [1], "queued once");
        });
    }

    /// Two threads wake nodes of two chunks (one node from both threads)
    /// while the merge drains, registers and looks again before sleeping,
    /// as `poll_next` does: every woken node is taken, and a wake the merge
    /// did not see before sleeping wakes its task.
    #[test]
    fn loom_concurrent_wakes_are_never_lost() {
        model(|| {
            let (a, b) = (1, CHUNK + 1);
            let mut nodes = nodes_with(2, &[a, b, 2]);
            let threads: Vec<_> = [[a, b], [b, 2]]
                .iter()
                .map(|picks| {
                    let wakers: Vec<Waker> = picks.iter().map(|&i| nodes.waker(i)).collect();
                    thread::spawn(move || {
                        for w in wakers {
                            w.wake();
                        }
                    })
                })
                .collect();
            let mut polled = vec![];
            let task = loop {
                for i in drained(&mut nodes) {
                    polled.push(i);
                    nodes.idle(i);
                }
                let task = StdArc::new(Counter(LoomUsize::new(0)));
                nodes.register(&Waker::from(StdArc::clone(&task)));
                if !nodes.has_wakes() {
                    break task;
                }
            };
            for t in threads {
                t.join().unwrap();
            }
            let late = drained(&mut nodes);
            if !late.is_empty() {
                assert!(task.0.load(SeqCst) > 0, "the merge slept through {late:?}");
            }
            polled.extend(late);
            for i in [a, b, 2] {
                assert!(polled.contains(&i), "node {i} never polled: {polled:?}");
            }
        });
    }

    /// The whole poll path: `Slots::poll_next` polls a real input, which
    /// clones the node's borrowed waker into a slot and returns `Pending`
    /// until another thread makes it ready and wakes the clone. Either the
    /// poll sees the input ready, or it returns `Pending` and the wake
    /// reaches the merge's task (through the stack, the registration and
    /// the look after it); the next poll then yields the item. The clone
    /// outlives the merge.
    #[test]
    fn loom_a_wake_during_a_real_poll_reaches_the_task() {
        use crate::merge::slots::{Polled, Slots};
        use ::loom::sync::atomic::AtomicBool as LoomBool;
        use ::loom::sync::Mutex as LoomMutex;

        struct Input {
            ready: StdArc<LoomBool>,
            waker: StdArc<LoomMutex<Option<Waker>>>,
            done: bool,
        }

        impl Stream for Input {
            type Item = u8;
            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u8>> {
                if self.done {
                    return Poll::Ready(None);
                }
                *self.waker.lock().unwrap() = Some(cx.waker().clone());
                if self.ready.load(SeqCst) {
                    self.done = true;
                    return Poll::Ready(Some(7));
                }
                Poll::Pending
            }
        }

        model(|| {
            let ready = StdArc::new(LoomBool::new(false));
            let slot = StdArc::new(LoomMutex::new(None::<Waker>));
            let mut slots: Slots<Input, ()> = Slots::new();
            slots.insert(
                Input {
                    ready: StdArc::clone(&ready),
                    waker: StdArc::clone(&slot),
                    done: false,
                },
                (),
            );
            let t = {
                let slot = StdArc::clone(&slot);
                thread::spawn(move || {
                    ready.store(true, SeqCst);
                    let waker = slot.lock().unwrap().take();
                    waker.map(|w| {
                        let kept = w.clone();
                        w.wake();
                        kept
                    })
                })
            };
            let task = StdArc::new(Counter(LoomUsize::new(0)));
            let waker = Waker::from(StdArc::clone(&task));
            let mut cx = Context::from_waker(&waker);
            let first = slots.poll_next(&mut cx, |()| {});
            let kept = t.join().unwrap();
            match first {
                Polled::Item { item, .. } => assert_eq!(item, 7),
                Polled::Pending => {
                    assert!(task.0.load(SeqCst) > 0, "the wake was lost");
                    assert!(matches!(
                        slots.poll_next(&mut cx, |()| {}),
                        Polled::Item { item: 7, .. }
                    ));
                }
                _ => panic!("neither an item nor pending"),
            }
            drop(slots);
            // Wakes after the merge is gone touch only the wakers' memory.
            if let Some(kept) = kept {
                kept.wake();
            }
            drop(slot);
        });
    }

    /// A waker used and dropped on another thread while the merge is
    /// dropped: the input is dropped once, by the merge, and the memory is
    /// freed by whichever side lets go last (loom reports a leaked `Arc`).
    #[test]
    fn loom_a_waker_outlives_the_merge() {
        model(|| {
            let mut nodes: Nodes<Droppy, ()> = Nodes::new();
            nodes.grow();
            let (input, drops) = droppy();
            nodes.put(0, input, ());
            let w = nodes.waker(0);
            let t = thread::spawn(move || {
                w.wake_by_ref();
                drop(w.clone());
                w.wake();
            });
            drop(nodes);
            t.join().unwrap();
            assert_eq!(drops.load(SeqCst), 1);
        });
    }
}
