//! Unit, poll-level and property tests of `merge` and `MergeMap`.

use super::*;
use crate::test_support::counting;
use crate::{iter, next};
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::task::Waker;
use futures::executor::block_on;
use proptest::prelude::*;

fn poll<St: Stream + Unpin>(s: &mut St, waker: &Waker) -> Poll<Option<St::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(waker))
}

/// A hand-fed input: items are pushed by the test; the waker an empty
/// poll leaves behind is *not* woken by `push` but handed back, so the
/// test decides when (and in which order) wakes are delivered.
#[derive(Default)]
struct ChanState<T> {
    queue: VecDeque<T>,
    closed: bool,
    waker: Option<Waker>,
    polls: usize,
}

struct Chan<T>(Shared<T>);

/// The state of a [`Chan`], shared with the test that feeds it.
type Shared<T> = Rc<RefCell<ChanState<T>>>;

impl<T> Chan<T> {
    fn new() -> (Self, Shared<T>) {
        let state = Rc::new(RefCell::new(ChanState {
            queue: VecDeque::new(),
            closed: false,
            waker: None,
            polls: 0,
        }));
        (Self(Rc::clone(&state)), state)
    }
}

impl<T> ChanState<T> {
    /// Queues an item; returns the waker to deliver, if one is owed.
    fn push(&mut self, item: T) -> Option<Waker> {
        self.queue.push_back(item);
        self.waker.take()
    }

    fn close(&mut self) -> Option<Waker> {
        self.closed = true;
        self.waker.take()
    }

    /// Queues an item and wakes at once.
    fn send(&mut self, item: T) {
        if let Some(w) = self.push(item) {
            w.wake();
        }
    }
}

impl<T> Stream for Chan<T> {
    type Item = T;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.0.borrow_mut();
        state.polls += 1;
        if let Some(item) = state.queue.pop_front() {
            Poll::Ready(Some(item))
        } else if state.closed {
            Poll::Ready(None)
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Sets its flag when dropped.
struct DropFlag<S>(S, Rc<Cell<bool>>);
impl<S> Drop for DropFlag<S> {
    fn drop(&mut self) {
        self.1.set(true);
    }
}
impl<S: Stream + Unpin> Stream for DropFlag<S> {
    type Item = S::Item;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

pin_project_lite::pin_project! {
    /// An `!Unpin` input: yields `next..end`.
    struct NotUnpin {
        next: u32,
        end: u32,
        #[pin]
        _pin: core::marker::PhantomPinned,
    }
}
impl Stream for NotUnpin {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        let this = self.project();
        if *this.next == *this.end {
            return Poll::Ready(None);
        }
        *this.next += 1;
        Poll::Ready(Some(*this.next - 1))
    }
}

#[test]
fn round_robin_over_ready_inputs() {
    let merged = merge([iter(vec![1, 2, 3]), iter(vec![10, 20]), iter(vec![100])]);
    let got: Vec<i32> = block_on(futures::StreamExt::collect(merged));
    assert_eq!(got, [1, 10, 100, 2, 20, 3]);
}

#[test]
fn empty_merge_ends_at_once_and_stays_ended() {
    let mut merged = merge(Vec::<crate::Iter<core::ops::Range<u8>>>::new());
    assert!(merged.is_terminated());
    let (_, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(None));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(None));
}

#[test]
fn fused_after_the_end() {
    let mut merged = merge([iter(0..2), iter(5..6)]);
    assert!(!merged.is_terminated());
    block_on(async {
        let mut n = 0;
        while next(&mut merged).await.is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
        for _ in 0..3 {
            assert_eq!(next(&mut merged).await, None);
        }
    });
    assert!(merged.is_terminated());
    assert_eq!(merged.size_hint(), (0, Some(0)));
}

#[test]
fn pending_then_woken_then_ready() {
    let (a, a_state) = Chan::new();
    let (b, b_state) = Chan::new();
    let mut merged = merge([a, b]);
    let (task, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    assert_eq!(task.count(), 0);
    b_state.borrow_mut().send(7);
    assert_eq!(task.count(), 1, "an input wake wakes the merge's task");
    a_state.borrow_mut().send(8);
    assert_eq!(task.count(), 1, "one task wake per batch of input wakes");
    let polls_before = (a_state.borrow().polls, b_state.borrow().polls);
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(8)));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(7)));
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    // Each woken input: one poll for its item, one that found it empty.
    assert_eq!(a_state.borrow().polls, polls_before.0 + 2);
    assert_eq!(b_state.borrow().polls, polls_before.1 + 2);
    a_state.borrow_mut().close().unwrap().wake();
    assert_eq!(task.count(), 2);
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    assert_eq!(merged.len(), 1);
    b_state.borrow_mut().close().unwrap().wake();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(None));
}

#[test]
fn only_woken_inputs_are_polled() {
    let n = if cfg!(miri) { 70 } else { 5000 };
    let (inputs, states): (Vec<_>, Vec<_>) = (0..n).map(|_| Chan::new()).unzip();
    let mut merged = merge(inputs);
    let (task, waker) = counting();
    // The first polls look at every input (all start ready), in budget-
    // sized steps, each ending with a self-wake.
    let mut yields = 0;
    loop {
        assert_eq!(poll(&mut merged, &waker), Poll::Pending);
        if task.count() == yields {
            break;
        }
        yields = task.count();
    }
    assert_eq!(yields, n / DEFAULT_BUDGET);
    assert!(states.iter().all(|s| s.borrow().polls == 1));
    for round in 0..3 {
        let i = (round * 1237 + 11) % n;
        states[i].borrow_mut().send(round);
        assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(round)));
        assert_eq!(poll(&mut merged, &waker), Poll::Pending);
        let polled: usize = states.iter().map(|s| s.borrow().polls).sum();
        assert_eq!(
            polled,
            n + 2 * (round + 1),
            "only the woken input was polled"
        );
    }
}

#[test]
fn budget_yields_after_that_many_polls_and_wakes_itself() {
    let mut merged = merge([iter(0u32..), iter(100..)]).with_budget(3);
    let (task, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(0)));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(100)));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(1)));
    assert_eq!(task.count(), 0);
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    assert_eq!(task.count(), 1, "a cooperative yield wakes the task");
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(101)));
}

#[test]
fn budget_caps_polls_of_inputs_that_keep_waking_themselves() {
    let polls = Rc::new(Cell::new(0));
    let spinner = {
        let polls = Rc::clone(&polls);
        futures::stream::poll_fn(move |cx| -> Poll<Option<u8>> {
            polls.set(polls.get() + 1);
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    };
    let mut merged = merge([spinner]).with_budget(5);
    let (task, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    assert_eq!(polls.get(), 5);
    assert_eq!(task.count(), 1);
}

#[test]
#[should_panic(expected = "at least 1")]
fn zero_budget_is_refused() {
    let _ = merge([iter(0..1)]).with_budget(0);
}

#[test]
fn an_occasional_input_is_served_within_one_round() {
    // Three always-ready inputs and one that gets an item now and then:
    // L = 4 live inputs, so its item is among the next 4 merge items.
    let (occasional, state) = Chan::new();
    let mut map = MergeMap::new();
    for k in 0..3u32 {
        map.insert(
            k,
            futures::stream::StreamExt::left_stream(iter(core::iter::repeat(k))),
        );
    }
    map.insert(99, futures::stream::StreamExt::right_stream(occasional));
    let (_, waker) = counting();
    let mut worst = 0;
    for round in 0..200 {
        for _ in 0..(round % 7) {
            let _ = poll(&mut map, &waker);
        }
        state.borrow_mut().send(u32::MAX);
        let mut waited = 0;
        loop {
            match poll(&mut map, &waker) {
                Poll::Ready(Some((99, _))) => break,
                Poll::Ready(Some(_)) => waited += 1,
                Poll::Pending => {} // budget yield
                Poll::Ready(None) => unreachable!(),
            }
        }
        worst = worst.max(waited);
    }
    assert!(worst <= 3, "waited {worst} items (bound: L - 1 = 3)");
}

#[test]
fn always_ready_inputs_share_evenly() {
    let n = 5;
    let mut merged = merge((0..n).map(|k| iter(core::iter::repeat(k))));
    let (_, waker) = counting();
    let mut counts = vec![0usize; n];
    let mut got = 0;
    while got < 1000 {
        if let Poll::Ready(Some(k)) = poll(&mut merged, &waker) {
            counts[k] += 1;
            got += 1;
        }
    }
    assert!(counts.iter().all(|&c| c == 200), "{counts:?}");
}

#[cfg(feature = "std")]
#[test]
#[cfg_attr(miri, ignore)]
fn a_sibling_task_runs_while_the_merge_drains_an_infinite_ready_input() {
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    let budget = 16;
    let ticks = Rc::new(Cell::new(0usize));
    let done = Rc::new(Cell::new(false));
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    {
        let (ticks, done) = (Rc::clone(&ticks), Rc::clone(&done));
        spawner
            .spawn_local(async move {
                while !done.get() {
                    ticks.set(ticks.get() + 1);
                    yield_now().await;
                }
            })
            .unwrap();
    }
    let worst_run = Rc::new(Cell::new(0usize));
    {
        let (ticks, done, worst_run) = (Rc::clone(&ticks), Rc::clone(&done), Rc::clone(&worst_run));
        spawner
            .spawn_local(async move {
                let mut merged =
                    merge([iter(core::iter::repeat(1u8)), iter(core::iter::repeat(2u8))])
                        .with_budget(budget);
                let (mut last_ticks, mut run) = (ticks.get(), 0);
                for _ in 0..10_000 {
                    next(&mut merged).await.unwrap();
                    if ticks.get() == last_ticks {
                        run += 1;
                        worst_run.set(worst_run.get().max(run));
                    } else {
                        (last_ticks, run) = (ticks.get(), 1);
                    }
                }
                done.set(true);
            })
            .unwrap();
    }
    pool.run();
    assert!(
        ticks.get() >= 10_000 / budget - 1,
        "sibling ran {} times",
        ticks.get()
    );
    assert!(
        worst_run.get() <= budget,
        "{} items in a row without the sibling",
        worst_run.get()
    );
}

/// Returns `Pending` once after waking its task.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

#[test]
fn an_ended_input_is_dropped_at_once() {
    let dropped = Rc::new(Cell::new(false));
    let short = DropFlag(iter(vec![1]), Rc::clone(&dropped));
    let long = DropFlag(iter(vec![10, 20, 30]), Rc::new(Cell::new(false)));
    let mut merged = merge([short, long]);
    let (_, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(1)));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(10)));
    assert!(!dropped.get());
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(20)));
    assert!(dropped.get(), "the ended input was dropped when it ended");
    assert_eq!(merged.len(), 1);
}

#[cfg(feature = "std")]
#[test]
fn a_panic_in_an_input_propagates() {
    let boom = futures::stream::poll_fn(|_| -> Poll<Option<u8>> { panic!("input failed") });
    let mut merged = merge([
        futures::StreamExt::boxed_local(iter(vec![1u8])),
        futures::StreamExt::boxed_local(boom),
    ]);
    let (_, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(1)));
    let err = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| poll(&mut merged, &waker)))
        .expect_err("the panic propagates");
    assert_eq!(err.downcast_ref::<&str>(), Some(&"input failed"));
}

#[cfg(feature = "std")]
#[test]
fn an_input_that_panicked_is_still_queued() {
    let calls = Rc::new(Cell::new(0));
    let flaky = {
        let calls = Rc::clone(&calls);
        futures::stream::poll_fn(move |_| -> Poll<Option<u8>> {
            calls.set(calls.get() + 1);
            match calls.get() {
                1 => panic!("input failed once"),
                2 => Poll::Ready(Some(5)),
                _ => Poll::Ready(None),
            }
        })
    };
    let mut merged = merge([flaky]);
    let (_, waker) = counting();
    let caught =
        std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| poll(&mut merged, &waker)));
    assert!(caught.is_err());
    // No wake is owed: the merge polls it again by itself.
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(5)));
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(None));
    assert_eq!(calls.get(), 3);
}

#[cfg(feature = "std")]
#[test]
fn a_map_input_that_panics_when_dropped_at_its_end_leaves_keys_and_inputs_in_agreement() {
    use futures::stream::{BoxStream, StreamExt};

    /// An input that ends at once, and panics when it is dropped.
    struct PanicsOnDrop;

    impl Stream for PanicsOnDrop {
        type Item = u8;
        fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u8>> {
            Poll::Ready(None)
        }
    }

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("drop failed");
            }
        }
    }

    let mut map: MergeMap<u8, BoxStream<'static, u8>> = MergeMap::new();
    map.insert(1, PanicsOnDrop.boxed());
    map.insert(2, iter(vec![20, 21]).boxed());
    let (_, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        map.poll_next_event(&mut cx)
    }));
    assert!(caught.is_err());
    // Key 1 is gone with its input; its slot is free for the next insert,
    // which must not disturb key 2.
    assert_eq!((map.len(), map.contains_key(&1)), (1, false));
    assert!(map.remove(&1).is_none());
    map.insert(3, iter(vec![30]).boxed());
    let mut rest = vec![];
    while let Poll::Ready(Some(event)) = map.poll_next_event(&mut cx) {
        rest.push(event);
    }
    assert_eq!(
        rest,
        [
            Event::Item(2, 20),
            Event::Item(3, 30),
            Event::Item(2, 21),
            Event::End(3),
            Event::End(2)
        ]
    );
}

#[test]
fn size_hint_is_the_saturating_sum() {
    let merged = merge([iter(0..3), iter(0..4)]);
    assert_eq!(merged.size_hint(), (7, Some(7)));
    let huge = merge([iter(0..usize::MAX), iter(0..usize::MAX)]);
    assert_eq!(huge.size_hint(), (usize::MAX, None));
    let (chan, _state) = Chan::<u8>::new();
    assert_eq!(merge([chan]).size_hint(), (0, None));
}

#[test]
fn not_unpin_inputs_are_merged() {
    let pinned = (0..2).map(|k| NotUnpin {
        next: k * 10,
        end: k * 10 + 2,
        _pin: core::marker::PhantomPinned,
    });
    let got: Vec<u32> = block_on(futures::StreamExt::collect(merge(pinned)));
    assert_eq!(got, [0, 10, 1, 11]);
    let inputs = (0..3).map(|k| {
        futures::stream::unfold(0u32, move |n| async move {
            // An async block is `!Unpin`.
            (n < 2).then_some((k * 10 + n, n + 1))
        })
    });
    let merged = merge(inputs);
    let mut got: Vec<u32> = block_on(futures::StreamExt::collect(merged));
    got.sort_unstable();
    assert_eq!(got, [0, 1, 10, 11, 20, 21]);
}

#[test]
fn debug_output() {
    let merged = merge([iter(0..1)]).with_budget(9);
    assert_eq!(
        alloc::format!("{merged:?}"),
        "Merge { len: 1, budget: 9, .. }"
    );
    let mut map = MergeMap::new();
    map.insert("k", iter(0..1));
    assert_eq!(
        alloc::format!("{map:?}"),
        alloc::format!("MergeMap {{ keys: [\"k\"], budget: {DEFAULT_BUDGET} }}")
    );
}

#[test]
fn auto_traits() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    type In = crate::Iter<core::ops::Range<u32>>;
    send_sync_unpin::<Merge<In>>();
    send_sync_unpin::<MergeMap<u8, In>>();
    send_sync_unpin::<Events<'static, u8, In>>();
    send_sync_unpin::<Event<u8, u32>>();
    // Unpin even over `!Unpin` inputs: they live in nodes that never move.
    fn unpin<T: Unpin>() {}
    unpin::<Merge<NotUnpin>>();
}

#[test]
fn map_insert_remove_and_replace_while_merging() {
    let mut map = MergeMap::new();
    let (a, a_state) = Chan::new();
    assert!(map.insert("a", a).is_none());
    let (_, waker) = counting();
    assert_eq!(poll(&mut map, &waker), Poll::Pending);
    // Inserted after a `Pending`: seen by the next poll, no wake needed.
    let (b, b_state) = Chan::new();
    b_state.borrow_mut().send(1);
    assert!(map.insert("b", b).is_none());
    assert_eq!(map.len(), 2);
    assert_eq!(poll(&mut map, &waker), Poll::Ready(Some(("b", 1))));
    // Replacing a key returns the old stream; the new one is polled.
    let (b2, b2_state) = Chan::new();
    b2_state.borrow_mut().send(2);
    let old = map.insert("b", b2).expect("the replaced stream");
    assert!(Rc::ptr_eq(&old.0, &b_state));
    assert_eq!(map.len(), 2);
    assert_eq!(poll(&mut map, &waker), Poll::Ready(Some(("b", 2))));
    // A wake of the replaced stream only causes a harmless extra poll.
    b_state.borrow_mut().send(99);
    assert_eq!(poll(&mut map, &waker), Poll::Pending);
    // Remove: no more items from it, even if it is woken later.
    let removed = map.remove("a").expect("live");
    assert!(Rc::ptr_eq(&removed.0, &a_state));
    assert!(map.remove("a").is_none());
    assert!(!map.contains_key("a"));
    a_state.borrow_mut().send(5);
    assert_eq!(poll(&mut map, &waker), Poll::Pending);
    // The freed slot is reused; a stale wake of the old input there is
    // one spurious poll of the new one.
    let (c, c_state) = Chan::new();
    map.insert("c", c);
    assert_eq!(poll(&mut map, &waker), Poll::Pending);
    let c_polls = c_state.borrow().polls;
    a_state.borrow_mut().send(6); // nobody holds a's waker any more
    drop(removed);
    c_state.borrow_mut().send(3);
    assert_eq!(poll(&mut map, &waker), Poll::Ready(Some(("c", 3))));
    assert!(c_state.borrow().polls <= c_polls + 2);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["b", "c"]);
}

#[test]
fn map_events_report_each_end_once_and_the_map_revives() {
    let mut map: MergeMap<u8, crate::Iter<vec::IntoIter<u8>>> =
        [(1, iter(vec![10])), (2, iter(vec![]))]
            .into_iter()
            .collect();
    block_on(async {
        let mut events = vec![];
        while let Some(e) = next(&mut map.events()).await {
            events.push(e);
        }
        assert_eq!(events, [Event::Item(1, 10), Event::End(2), Event::End(1)]);
        assert!(map.is_terminated());
        assert_eq!(next(&mut map).await, None);
        assert_eq!(next(&mut map.events()).await, None);
        map.insert(3, iter(vec![30]));
        assert!(!map.is_terminated());
        assert_eq!(next(&mut map).await, Some((3, 30)));
        // The plain stream drops the end silently.
        assert_eq!(next(&mut map).await, None);
    });
}

#[test]
fn push_while_merging_is_polled_next_and_revives_an_ended_merge() {
    let (a, a_state) = Chan::new();
    let mut merged = merge([a]);
    let (task, waker) = counting();
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    // Pushed after a `Pending`: the next poll sees it without a wake.
    let (b, b_state) = Chan::new();
    b_state.borrow_mut().send(1);
    merged.push(b);
    assert_eq!(merged.len(), 2);
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(1)));
    assert_eq!(task.count(), 0);
    a_state.borrow_mut().send(2);
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(2)));
    assert_eq!(poll(&mut merged, &waker), Poll::Pending);
    a_state.borrow_mut().close().unwrap().wake();
    b_state.borrow_mut().close().unwrap().wake();
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(None));
    assert!(merged.is_terminated());
    // A push after the end revives the merge; the freed slots are reused.
    merged.push(Chan::new().0);
    let (c, c_state) = Chan::new();
    merged.push(c);
    assert!(!merged.is_terminated());
    c_state.borrow_mut().send(3);
    assert_eq!(poll(&mut merged, &waker), Poll::Ready(Some(3)));
    assert_eq!(merged.len(), 2);
}

#[test]
fn extend_and_collect_make_the_same_merge_as_merge() {
    let mut merged: Merge<_> = [iter(vec![1, 2]), iter(vec![10])].into_iter().collect();
    merged.extend([iter(vec![100, 200])]);
    assert_eq!(merged.len(), 3);
    let got: Vec<i32> = block_on(futures::StreamExt::collect(merged));
    assert_eq!(got, [1, 10, 100, 2, 200]);
}

#[test]
fn map_hands_back_unpin_streams_by_value() {
    let mut map = MergeMap::with_capacity(4);
    assert!(map.insert("a", iter(0..3)).is_none());
    let old: crate::Iter<core::ops::Range<i32>> = map.insert("a", iter(5..6)).unwrap();
    assert_eq!(old.size_hint(), (3, Some(3)));
    let (_, waker) = counting();
    assert_eq!(poll(&mut map, &waker), Poll::Ready(Some(("a", 5))));
    map.insert("b", iter(7..9));
    let mut b = map.remove("b").expect("live");
    assert_eq!(poll(&mut b, &waker), Poll::Ready(Some(7)), "untouched");
    assert!(map.remove("b").is_none());
    assert_eq!(map.len(), 1);
}

#[test]
fn map_takes_not_unpin_streams_with_the_pinned_methods() {
    let input = |k: u32| NotUnpin {
        next: k * 10,
        end: k * 10 + 2,
        _pin: core::marker::PhantomPinned,
    };
    let mut map = MergeMap::new();
    assert!(map.insert_pinned(1, input(1)).is_none());
    assert!(map.insert_pinned(2, input(2)).is_none());
    let mut old = map.insert_pinned(1, input(3)).expect("replaced");
    assert_eq!(old.next, 10);
    let (_, waker) = counting();
    assert_eq!(
        old.as_mut().poll_next(&mut Context::from_waker(&waker)),
        Poll::Ready(Some(10))
    );
    let removed = map.remove_pinned(&2).expect("live");
    assert_eq!(removed.next, 20);
    assert!(map.remove_pinned(&2).is_none());
    let got: Vec<(u32, u32)> = block_on(futures::StreamExt::collect(map));
    assert_eq!(got, [(1, 30), (1, 31)]);
}

#[test]
fn map_iter_mut_values_mut_and_clear() {
    let dropped = Rc::new(Cell::new(0));
    let flagged = |v: Vec<u32>| DropCount(iter(v), Rc::clone(&dropped));
    let mut map = MergeMap::new();
    for k in 0..4u32 {
        map.insert(k, flagged(vec![k; 3]));
    }
    map.remove(&1);
    assert_eq!(dropped.get(), 1);
    let mut seen: Vec<(u32, usize)> = map.iter_mut().map(|(&k, s)| (k, s.size_hint().0)).collect();
    seen.sort_unstable();
    assert_eq!(seen, [(0, 3), (2, 3), (3, 3)]);
    // `values_mut` reaches each input: take one item out of each directly.
    let (_, waker) = counting();
    let mut firsts: Vec<u32> = map
        .values_mut()
        .map(|mut s| match poll(&mut *s, &waker) {
            Poll::Ready(Some(x)) => x,
            other => panic!("{other:?}"),
        })
        .collect();
    firsts.sort_unstable();
    assert_eq!(firsts, [0, 2, 3]);
    assert_eq!(map.size_hint(), (6, Some(6)));
    map.clear();
    assert_eq!(dropped.get(), 4, "clear drops every input");
    assert!(map.is_empty() && map.is_terminated());
    assert_eq!(map.iter_mut().count(), 0);
    assert_eq!(poll(&mut map, &waker), Poll::Ready(None));
    // Usable again; the cleared slots are reused.
    map.insert(9, flagged(vec![1]));
    assert_eq!(poll(&mut map, &waker), Poll::Ready(Some((9, 1))));
    assert_eq!(poll(&mut map, &waker), Poll::Ready(None));
}

/// Counts drops.
struct DropCount<S>(S, Rc<Cell<usize>>);
impl<S> Drop for DropCount<S> {
    fn drop(&mut self) {
        self.1.set(self.1.get() + 1);
    }
}
impl<S: Stream + Unpin> Stream for DropCount<S> {
    type Item = S::Item;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Push an item into input `i` (wake deferred).
    Push(usize),
    /// Close input `i` (wake deferred).
    Close(usize),
    /// Deliver the `j`-th deferred wake.
    Deliver(usize),
    /// Wake input `i`'s last waker again (a spurious wake).
    Spurious(usize),
    /// Poll the merge once.
    Poll,
    /// Insert a new input (map only).
    Insert,
    /// Remove input `i` (map only).
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8usize).prop_map(Op::Push),
        1 => (0..8usize).prop_map(Op::Close),
        3 => any::<usize>().prop_map(Op::Deliver),
        1 => (0..8usize).prop_map(Op::Spurious),
        4 => Just(Op::Poll),
        1 => Just(Op::Insert),
        1 => (0..8usize).prop_map(Op::Remove),
    ]
}

/// The model: what each input was sent, whether it is still in the
/// merge, and what came out.
struct Model {
    states: Vec<Shared<(usize, u32)>>,
    sent: Vec<Vec<(usize, u32)>>,
    got: Vec<Vec<(usize, u32)>>,
    ended: Vec<bool>,
    removed: Vec<bool>,
    last_waker: Vec<Option<Waker>>,
    deferred: Vec<Waker>,
}

impl Model {
    fn new_input(&mut self) -> Chan<(usize, u32)> {
        let (chan, state) = Chan::new();
        self.states.push(state);
        self.sent.push(vec![]);
        self.got.push(vec![]);
        self.ended.push(false);
        self.removed.push(false);
        self.last_waker.push(None);
        chan
    }

    fn defer(&mut self, i: usize, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.last_waker[i] = Some(w.clone());
            self.deferred.push(w);
        }
    }

    fn apply(&mut self, op: &Op) -> bool {
        let n = self.states.len();
        match *op {
            Op::Push(i) if i < n && !self.states[i].borrow().closed => {
                let item = (i, self.sent[i].len() as u32);
                self.sent[i].push(item);
                let w = self.states[i].borrow_mut().push(item);
                self.defer(i, w);
            }
            Op::Close(i) if i < n => {
                let w = self.states[i].borrow_mut().close();
                self.defer(i, w);
            }
            Op::Deliver(j) if !self.deferred.is_empty() => {
                let len = self.deferred.len();
                self.deferred.swap_remove(j % len).wake();
            }
            Op::Spurious(i) if i < n => {
                if let Some(w) = &self.last_waker[i] {
                    w.wake_by_ref();
                }
            }
            _ => return false,
        }
        true
    }

    fn record(&mut self, item: (usize, u32)) -> Result<(), TestCaseError> {
        let i = item.0;
        prop_assert!(!self.removed[i], "item from a removed input");
        prop_assert!(!self.ended[i], "item after the end");
        let k = self.got[i].len();
        prop_assert_eq!(
            Some(&item),
            self.sent[i].get(k),
            "order kept, nothing twice"
        );
        self.got[i].push(item);
        Ok(())
    }

    /// Closes every input, delivers every wake, then drains; a
    /// `Pending` must come with a task wake (no lost wake-up).
    fn finish<St: Stream + Unpin>(
        &mut self,
        s: &mut St,
        mut on: impl FnMut(&mut Self, St::Item) -> Result<(), TestCaseError>,
    ) -> Result<(), TestCaseError> {
        for i in 0..self.states.len() {
            let w = self.states[i].borrow_mut().close();
            self.defer(i, w);
        }
        while let Some(w) = self.deferred.pop() {
            w.wake();
        }
        let (task, waker) = counting();
        for _ in 0..10_000 {
            let before = task.count();
            match poll(s, &waker) {
                Poll::Ready(Some(x)) => on(self, x)?,
                Poll::Ready(None) => return Ok(()),
                Poll::Pending => prop_assert!(task.count() > before, "Pending without a wake"),
            }
        }
        prop_assert!(false, "never ended");
        Ok(())
    }
}

fn new_model() -> Model {
    Model {
        states: vec![],
        sent: vec![],
        got: vec![],
        ended: vec![],
        removed: vec![],
        last_waker: vec![],
        deferred: vec![],
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    /// `merge`: every item exactly once, per-input order kept, under
    /// random pushes, closes and wake orders (wakes delivered late, out
    /// of order, spuriously).
    #[test]
    fn merge_matches_the_model(
        n in 1usize..8,
        budget in 1usize..6,
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let mut m = new_model();
        let inputs: Vec<_> = (0..n).map(|_| m.new_input()).collect();
        let mut merged = merge(inputs).with_budget(budget);
        let (_, waker) = counting();
        for op in &ops {
            if matches!(op, Op::Poll) {
                match poll(&mut merged, &waker) {
                    Poll::Ready(Some(item)) => m.record(item)?,
                    Poll::Ready(None) => {
                        prop_assert!(m.states.iter().all(|s| s.borrow().closed && s.borrow().queue.is_empty()));
                    }
                    Poll::Pending => {}
                }
            } else {
                m.apply(op);
            }
        }
        m.finish(&mut merged, |m, item| m.record(item))?;
        prop_assert_eq!(&m.got, &m.sent);
        prop_assert!(merged.is_terminated());
    }

    /// `MergeMap` with events: the same, plus inserts and removes while
    /// merging, and exactly one `End` per input that ended in the map.
    #[test]
    fn map_events_match_the_model(
        n in 0usize..6,
        budget in 1usize..6,
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let mut m = new_model();
        let mut map = MergeMap::new().with_budget(budget);
        for i in 0..n {
            let chan = m.new_input();
            map.insert(i, chan);
        }
        let (_, waker) = counting();
        let on_event = |m: &mut Model, event: Event<usize, (usize, u32)>| -> Result<(), TestCaseError> {
            match event {
                Event::Item(k, item) => {
                    prop_assert_eq!(k, item.0);
                    m.record(item)?;
                }
                Event::End(k) => {
                    prop_assert!(!m.removed[k] && !m.ended[k], "one end, only for live inputs");
                    prop_assert!(m.states[k].borrow().closed);
                    prop_assert_eq!(&m.got[k], &m.sent[k], "end after every item");
                    m.ended[k] = true;
                }
            }
            Ok(())
        };
        for op in &ops {
            match *op {
                Op::Poll => match map.poll_next_event(&mut Context::from_waker(&waker)) {
                    Poll::Ready(Some(event)) => on_event(&mut m, event)?,
                    Poll::Ready(None) => prop_assert!(map.is_empty()),
                    Poll::Pending => {}
                },
                Op::Insert => {
                    let i = m.states.len();
                    let chan = m.new_input();
                    prop_assert!(map.insert(i, chan).is_none());
                }
                Op::Remove(i) if i < m.states.len() => {
                    let live = !m.removed[i] && !m.ended[i];
                    prop_assert_eq!(map.remove(&i).is_some(), live);
                    m.removed[i] = true;
                }
                _ => {
                    m.apply(op);
                }
            }
            prop_assert_eq!(map.len(), (0..m.states.len()).filter(|&i| !m.removed[i] && !m.ended[i]).count());
        }
        let mut events = map.events();
        m.finish(&mut events, on_event)?;
        for i in 0..m.states.len() {
            if m.removed[i] {
                prop_assert!(m.sent[i].starts_with(&m.got[i]));
            } else {
                prop_assert!(m.ended[i]);
                prop_assert_eq!(&m.got[i], &m.sent[i]);
            }
        }
    }
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn a_capacity_beyond_the_address_space_panics_at_once() {
    let _map: MergeMap<u8, iter::Iter<vec::IntoIter<u8>>> = MergeMap::with_capacity(usize::MAX);
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn a_false_size_hint_panics_at_once() {
    let mut merge = Merge::from_iter([iter(vec![1u8])]);
    merge.extend(core::iter::repeat_with(|| iter(vec![2u8])).take(usize::MAX));
}
