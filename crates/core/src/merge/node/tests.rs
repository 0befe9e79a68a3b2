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

fn drained<E, T>(nodes: &Nodes<E, T>) -> Vec<usize> {
    let mut out = vec![];
    nodes.drain(|i| out.push(i));
    out
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

    fn grown(n: usize) -> Nodes<Droppy, ()> {
        let mut nodes = Nodes::new();
        while nodes.capacity() < n {
            nodes.grow();
        }
        nodes
    }

    #[test]
    fn wakes_queue_a_node_once_and_wake_the_task_once_per_batch() {
        let nodes = grown(3 * CHUNK);
        let (task, waker) = counter();
        nodes.register(&waker);
        let picks = [0, CHUNK - 1, CHUNK, 3 * CHUNK - 1];
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
        // Last woken first.
        assert_eq!(drained(&nodes), [3 * CHUNK - 1, CHUNK, CHUNK - 1, 0]);
        assert!(!nodes.has_wakes());
        // Scheduled nodes are not queued again by wakes...
        wakers[0].wake_by_ref();
        assert!(drained(&nodes).is_empty());
        // ...but that wake is owed a poll: going idle fails once.
        assert!(!nodes.idle(0));
        assert!(nodes.idle(0));
        // Idle: queued again by the next wake, which wakes the task again.
        nodes.register(&waker);
        wakers[0].wake_by_ref();
        assert_eq!(task.0.load(SeqCst), 2);
        assert_eq!(drained(&nodes), [0]);
        for &i in &picks {
            nodes.release(i);
        }
    }

    #[test]
    fn schedule_queues_only_an_unscheduled_node() {
        let nodes = grown(1);
        assert!(nodes.schedule(5));
        assert!(!nodes.schedule(5));
        nodes.waker(5).wake();
        assert!(drained(&nodes).is_empty(), "scheduled: not pushed");
        assert!(!nodes.idle(5), "the wake is owed a poll");
        assert!(nodes.idle(5));
        nodes.waker(5).wake();
        assert!(!nodes.schedule(5), "pushed by the wake");
        assert_eq!(drained(&nodes), [5]);
    }

    #[test]
    fn inputs_are_dropped_once_by_the_merge_and_wakers_outlive_it() {
        let mut nodes = grown(2 * CHUNK);
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
        assert_eq!(nodes.poll_next(1), Some(Poll::Pending));
        assert_eq!(nodes.poll_next(2), None, "ended: vacant");
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
        let nodes = grown(n);
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
            // The merge: take woken nodes, "poll" them, let them go idle
            // (or poll again if woken meanwhile).
            for _ in 0..200 {
                for i in drained(&nodes) {
                    polls[i] += 1;
                    while !nodes.idle(i) {
                        polls[i] += 1;
                    }
                }
            }
        });
        for i in drained(&nodes) {
            polls[i] += 1;
            // Woken again while it waited on the stack: one more poll.
            if !nodes.idle(i) {
                assert!(nodes.idle(i), "the notification was cleared");
            }
        }
        for t in 0..2 {
            for k in 0..per_thread.min(n) {
                assert!(polls[woken(t, k)] > 0, "a wake was lost");
            }
        }
        // Every node is idle now: a wake queues it.
        wakers[0].wake_by_ref();
        assert_eq!(drained(&nodes), [0]);
        nodes.release(0);
    }
}

/// Loom models of the nodes' races: a wake against the merge letting the
/// node go idle, against the merge queuing it itself, wakes racing each
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

    fn one_chunk() -> Nodes<(), ()> {
        let mut nodes = Nodes::new();
        nodes.grow();
        nodes
    }

    /// The merge polled the node and got `Pending` while another thread
    /// wakes it: either going idle fails (the merge polls again) or the wake
    /// finds it idle and queues it; never both, never neither.
    #[test]
    fn loom_wake_against_going_idle() {
        model(|| {
            let nodes = one_chunk();
            assert!(nodes.schedule(0));
            let w = nodes.waker(0);
            let t = thread::spawn(move || w.wake());
            let idle = nodes.idle(0);
            t.join().unwrap();
            let queued = drained(&nodes);
            assert_eq!(usize::from(!idle) + queued.len(), 1, "{idle} {queued:?}");
            if !idle {
                assert!(nodes.idle(0), "the notification was cleared");
            }
        });
    }

    /// No double enqueue: while the merge holds the node (it yielded an item
    /// and sits in the local queue) a wake does not push it; and a wake of a
    /// vacant node racing the merge queuing a new input there queues it once.
    #[test]
    fn loom_a_node_is_queued_once() {
        model(|| {
            let nodes = one_chunk();
            assert!(nodes.schedule(0));
            let (w0, w1) = (nodes.waker(0), nodes.waker(1));
            let t = thread::spawn(move || {
                w0.wake();
                w1.wake();
            });
            // Node 0 yielded an item: requeued locally, no atomics; a wake
            // must not push it meanwhile.
            let early = drained(&nodes);
            assert!(!early.contains(&0), "pushed while queued locally");
            // Node 1: a new input arrives while a stale waker wakes it.
            let local = nodes.schedule(1);
            // Node 0 polled again: `Pending`.
            let idle = nodes.idle(0);
            t.join().unwrap();
            let mut queued = early;
            queued.extend(drained(&nodes));
            let ones = queued.iter().filter(|&&i| i == 1).count();
            assert_eq!(usize::from(local) + ones, 1, "node 1 queued once");
            let zeros = queued.iter().filter(|&&i| i == 0).count();
            assert_eq!(usize::from(!idle) + zeros, 1, "node 0 polled once more");
        });
    }

    /// Two threads wake three nodes (one of them both) while the merge
    /// drains, registers and looks again before sleeping, as `poll_next`
    /// does: every woken node is taken, none twice while scheduled, and a
    /// wake the merge did not see before sleeping wakes its task.
    #[test]
    fn loom_concurrent_wakes_are_never_lost() {
        model(|| {
            let nodes = StdArc::new(one_chunk());
            let threads: Vec<_> = [[1, 2], [2, 3]]
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
                for i in drained(&nodes) {
                    polled.push(i);
                    while !nodes.idle(i) {
                        polled.push(i);
                    }
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
            let late = drained(&nodes);
            if !late.is_empty() {
                assert!(task.0.load(SeqCst) > 0, "the merge slept through {late:?}");
            }
            polled.extend(late);
            for i in [1, 2, 3] {
                assert!(polled.contains(&i), "node {i} never polled: {polled:?}");
            }
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
