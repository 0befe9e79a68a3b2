//! Poll-level tests of `generate` and `try_generate` (they run under Miri).

use super::co::{CLOSED, NOT_TAKEN, OUTSIDE};
use super::*;
use crate::next;
use crate::test_support::counting;

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::pin::pin;
use futures::executor::block_on;
use futures::task::noop_waker_ref;

fn noop_cx() -> Context<'static> {
    Context::from_waker(noop_waker_ref())
}

/// Returns `Pending` once (waking the task at once), then `Ready`.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn yields_the_items_in_order_then_ends() {
    let s = generate(|co| async move {
        for i in 0..5 {
            co.yield_(i).await;
        }
    });
    let mut s = pin!(s);
    let mut got = Vec::new();
    block_on(async {
        while let Some(i) = next(&mut s).await {
            got.push(i);
        }
    });
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn the_body_does_not_run_before_the_first_poll() {
    let called = Rc::new(Cell::new(false));
    let started = Rc::new(Cell::new(false));
    let (c, st) = (Rc::clone(&called), Rc::clone(&started));
    let s = generate(move |co| {
        c.set(true);
        async move {
            st.set(true);
            co.yield_(1).await;
        }
    });
    let mut s = pin!(s);
    assert!(!called.get(), "the closure is called on the first poll");
    assert!(!started.get());
    assert_eq!(s.size_hint(), (0, None));
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Ready(Some(1)));
    assert!(called.get() && started.get());
}

#[test]
fn one_item_in_flight_the_body_waits_at_yield() {
    let steps = Rc::new(Cell::new(0));
    let st = Rc::clone(&steps);
    let s = generate(move |co| async move {
        for i in 0..3 {
            st.set(st.get() + 1);
            co.yield_(i).await;
        }
        st.set(st.get() + 1);
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    for i in 0..3 {
        assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(i)));
        // The body ran up to this `yield_` and no further.
        assert_eq!(steps.get(), i + 1);
    }
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(steps.get(), 4);
}

#[test]
fn a_yield_polled_twice_in_one_poll_stays_pending_until_the_item_is_taken() {
    let s = generate(|co| async move {
        let mut y = co.yield_(1);
        let mut polls = 0;
        poll_fn(|cx| {
            polls += 1;
            if polls == 1 {
                // Twice in one poll of the body: the item is still waiting.
                assert_eq!(Pin::new(&mut y).poll(cx), Poll::Pending);
                assert_eq!(Pin::new(&mut y).poll(cx), Poll::Pending);
                Poll::Pending
            } else {
                // The next poll of the body: the stream took the item.
                assert_eq!(Pin::new(&mut y).poll(cx), Poll::Ready(()));
                Poll::Ready(())
            }
        })
        .await;
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn dropping_the_stream_drops_the_body_at_its_suspension_point() {
    let dropped = Rc::new(Cell::new(false));
    let after = Rc::new(Cell::new(false));
    let (d, a) = (Rc::clone(&dropped), Rc::clone(&after));
    let s = generate(move |co| async move {
        let _guard = DropFlag(d);
        co.yield_(1).await;
        a.set(true);
        co.yield_(2).await;
    });
    let mut s = Box::pin(s);
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Ready(Some(1)));
    assert!(!dropped.get());
    drop(s);
    assert!(
        dropped.get(),
        "the body's locals are dropped (Python's aclose)"
    );
    assert!(!after.get(), "the body did not run past its yield");
}

#[test]
fn dropping_an_unpolled_stream_drops_the_closure() {
    let dropped = Rc::new(Cell::new(false));
    let guard = DropFlag(Rc::clone(&dropped));
    let s = generate(move |co: Co<u8>| {
        let _guard = guard;
        async move { drop(co) }
    });
    drop(s);
    assert!(dropped.get());
}

#[test]
fn fused_none_forever_with_an_honest_size_hint() {
    let s = generate(|co| async move { co.yield_(1).await });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert!(!s.is_terminated());
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(s.size_hint(), (0, None));
    for _ in 0..3 {
        assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
        assert!(s.is_terminated());
        assert_eq!(s.size_hint(), (0, Some(0)));
    }
}

#[test]
fn a_body_that_awaits_a_pending_future_between_yields() {
    let (waker, waker_ref) = counting();
    let mut cx = Context::from_waker(&waker_ref);
    let s = generate(|co| async move {
        co.yield_('a').await;
        PendingOnce(false).await;
        co.yield_('b').await;
    });
    let mut s = pin!(s);
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some('a')));
    assert_eq!(waker.count(), 0);
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Pending);
    assert_eq!(
        waker.count(),
        1,
        "the inner future's waker registration reaches the consumer"
    );
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some('b')));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn an_empty_body_ends_at_once() {
    let s = generate(|_co: Co<u8>| async {});
    let mut s = pin!(s);
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Ready(None));
    assert!(s.is_terminated());
}

#[test]
fn items_that_own_memory_are_moved_not_copied_or_leaked() {
    let s = generate(|co| async move {
        for i in 0..4 {
            co.yield_(alloc::format!("item {i}")).await;
        }
    });
    let mut s = pin!(s);
    let got: Vec<_> = block_on(async {
        let mut v = Vec::new();
        while let Some(x) = next(&mut s).await {
            v.push(x);
        }
        v
    });
    assert_eq!(got, ["item 0", "item 1", "item 2", "item 3"]);
}

#[test]
fn an_item_handed_over_as_the_body_returns_still_comes_out() {
    // The body polls a `yield_` once (handing its item over), drops it, and
    // returns, all in one poll: the item goes out, then the end.
    let s = generate(|co| async move {
        let mut y = co.yield_(String::from("last"));
        poll_fn(|cx| {
            assert!(Pin::new(&mut y).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert_eq!(
        s.as_mut().poll_next(&mut cx),
        Poll::Ready(Some(String::from("last")))
    );
    assert_eq!(s.size_hint(), (0, Some(0)));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
    assert!(s.is_terminated());
}

#[test]
fn an_item_waiting_when_the_stream_is_dropped_is_dropped() {
    let dropped = Rc::new(Cell::new(false));
    let d = Rc::clone(&dropped);
    let s = generate(move |co| async move {
        co.yield_(DropFlag(d)).await;
    });
    let mut s = Box::pin(s);
    let item = s.as_mut().poll_next(&mut noop_cx());
    assert!(matches!(item, Poll::Ready(Some(_))));
    assert!(!dropped.get());
    drop(item);
    assert!(dropped.get());
    drop(s);
}

#[test]
fn try_generate_question_mark_gives_one_err_then_none() {
    let s = try_generate(|co| async move {
        for word in ["1", "2", "x", "4"] {
            let n: u32 = word.parse()?;
            co.yield_(n).await;
        }
        Ok::<(), core::num::ParseIntError>(())
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(Ok(1))));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(Ok(2))));
    match s.as_mut().poll_next(&mut cx) {
        Poll::Ready(Some(Err(e))) => assert_eq!(e, "x".parse::<u32>().unwrap_err()),
        other => panic!("expected the parse error, got {other:?}"),
    }
    for _ in 0..3 {
        assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
        assert!(s.is_terminated());
        assert_eq!(s.size_hint(), (0, Some(0)));
    }
}

#[test]
fn try_generate_ok_ends_without_an_error() {
    let s = try_generate(|co| async move {
        co.yield_(7).await;
        Ok::<(), &str>(())
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(Ok(7))));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn try_generate_error_as_the_last_item_is_handed_over_is_kept() {
    let s = try_generate(|co| async move {
        let mut y = co.yield_(1);
        poll_fn(|cx| {
            assert!(Pin::new(&mut y).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        Err("failed")
    });
    let mut s = pin!(s);
    let mut cx = noop_cx();
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(Some(Ok(1))));
    assert_eq!(s.size_hint(), (1, Some(1)));
    assert_eq!(
        s.as_mut().poll_next(&mut cx),
        Poll::Ready(Some(Err("failed")))
    );
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

#[test]
#[should_panic(expected = "called while the previous item is still waiting to be taken")]
fn misuse_two_yield_futures_alive_at_once_panics() {
    let s = generate(|co| async move {
        let a = co.yield_(1);
        let b = co.yield_(2);
        a.await;
        b.await;
    });
    let mut s = pin!(s);
    let _ = s.as_mut().poll_next(&mut noop_cx());
}

#[test]
#[should_panic(expected = "used outside its generator's poll")]
fn misuse_a_co_smuggled_out_and_polled_outside_panics() {
    let stash: Rc<RefCell<Option<Co<u8>>>> = Rc::default();
    let st = Rc::clone(&stash);
    let s = generate(move |co| async move {
        *st.borrow_mut() = Some(co);
        PendingOnce(false).await;
    });
    let mut s = pin!(s);
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Pending);
    let co = stash.borrow_mut().take().expect("the body stashed its co");
    // Handed over while the stream was not polling the body: the stream's
    // next poll finds an item it did not ask for.
    drop(co.yield_(1));
    let _ = s.as_mut().poll_next(&mut noop_cx());
}

#[test]
#[should_panic(expected = "used after its generator was dropped or finished")]
fn misuse_a_co_used_after_its_generator_is_gone_panics() {
    let stash: Rc<RefCell<Option<Co<u8>>>> = Rc::default();
    let st = Rc::clone(&stash);
    let s = generate(move |co| async move {
        *st.borrow_mut() = Some(co);
    });
    let mut s = Box::pin(s);
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Ready(None));
    drop(s);
    let co = stash.borrow_mut().take().expect("the body stashed its co");
    block_on(co.yield_(1));
}

#[test]
#[should_panic(expected = "the previous item is still waiting to be taken")]
fn misuse_a_yield_dropped_unawaited_then_another_panics() {
    let s = generate(|co| async move {
        drop(co.yield_(1));
        co.yield_(2).await;
    });
    let mut s = pin!(s);
    let _ = s.as_mut().poll_next(&mut noop_cx());
}

#[test]
fn the_panic_messages_are_distinct() {
    let all = [OUTSIDE, CLOSED, NOT_TAKEN];
    for (i, a) in all.iter().enumerate() {
        assert!(a.starts_with("aiter: "));
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

/// A `Co` moved to another thread and used while the stream is polled here:
/// the results are unspecified (panics, delivered items) but there is no data
/// race, no leak and no double drop — Miri checks all three (the items own
/// heap memory).
#[cfg(feature = "std")]
#[test]
fn misuse_from_another_thread_is_never_a_data_race() {
    extern crate std;
    use std::sync::mpsc;

    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let (tx, rx) = mpsc::channel::<Co<String>>();
    let s = generate(move |co| async move {
        tx.send(co).unwrap();
        core::future::pending::<()>().await;
    });
    let mut s = Box::pin(s);
    let mut cx = noop_cx();
    assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Pending);
    let co = rx.recv().unwrap();
    let thief = std::thread::spawn(move || {
        for i in 0..rounds {
            let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
                let mut y = co.yield_(alloc::format!("{i}"));
                let _ = Pin::new(&mut y).poll(&mut noop_cx());
            }));
            drop(result);
        }
    });
    for _ in 0..rounds {
        let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            s.as_mut().poll_next(&mut noop_cx())
        }));
        if let Ok(Poll::Ready(Some(item))) = result {
            assert!(item.parse::<u32>().unwrap() < rounds);
        }
    }
    thief.join().unwrap();
    drop(s);
}

/// With `std` the `Co` itself refuses to hand over outside its generator's
/// poll: the thread that stole it panics, the generator never sees the item.
#[cfg(feature = "std")]
#[test]
fn misuse_a_co_moved_to_another_thread_panics_there_and_hands_over_nothing() {
    extern crate std;
    use std::sync::mpsc;

    let (tx, rx) = mpsc::channel::<Co<String>>();
    let s = generate(move |co| async move {
        tx.send(co).unwrap();
        core::future::pending::<()>().await;
    });
    let mut s = Box::pin(s);
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Pending);
    let co = rx.recv().unwrap();
    let thief = std::thread::spawn(move || {
        let panic = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            drop(co.yield_(String::from("stolen")));
        }))
        .expect_err("yield_ outside the generator's poll panics");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert_eq!(message, OUTSIDE);
        co
    });
    let co = thief.join().unwrap();
    assert_eq!(s.as_mut().poll_next(&mut noop_cx()), Poll::Pending);
    drop(s);
    drop(co);
}

/// A generator's `Co` used inside another generator's body (polled inside
/// the first one's poll) is refused too: only the innermost poll counts.
#[cfg(feature = "std")]
#[test]
#[should_panic(expected = "used outside its generator's poll")]
fn misuse_a_co_used_inside_a_nested_generator_panics() {
    let s = generate(|co| async move {
        let inner = generate(|_inner_co: Co<u8>| async {
            co.yield_(1u8).await;
        });
        let mut inner = pin!(inner);
        let _ = next(&mut inner).await;
    });
    let mut s = pin!(s);
    let _ = s.as_mut().poll_next(&mut noop_cx());
}

#[test]
fn debug_does_not_need_debug_closures() {
    let s = generate(|co| async move { co.yield_(1u8).await });
    assert_eq!(
        alloc::format!("{s:?}"),
        "Generate { state: \"Unstarted\", .. }"
    );
    let mut s = pin!(s);
    let _ = s.as_mut().poll_next(&mut noop_cx());
    assert_eq!(
        alloc::format!("{s:?}"),
        "Generate { state: \"Running\", .. }"
    );
    let t = try_generate(|co| async move {
        co.yield_(1u8).await;
        Ok::<(), ()>(())
    });
    assert_eq!(
        alloc::format!("{t:?}"),
        "TryGenerate { state: \"Unstarted\", .. }"
    );
    let c = generate(|co: Co<u8>| async move {
        assert_eq!(alloc::format!("{co:?}"), "Co { .. }");
        let y = co.yield_(1);
        assert_eq!(alloc::format!("{y:?}"), "Yield { taken: false }");
    });
    let mut c = pin!(c);
    // `yield_` hands the item over when called, awaited or not.
    assert_eq!(block_on(crate::next(&mut c)), Some(1));
    assert_eq!(block_on(crate::next(&mut c)), None);
}

/// `AmbiguousIfImpl<_>` resolves only when `T` lacks the trait: the
/// static-assertions trick for "does not implement".
trait AmbiguousIfSend<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

trait AmbiguousIfSync<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

fn assert_send<T: Send>(_: &T) {}
fn assert_not_send<T>(_: &T) {
    let _ = <T as AmbiguousIfSend<_>>::some_item;
}
fn assert_not_sync<T>(_: &T) {
    let _ = <T as AmbiguousIfSync<_>>::some_item;
}

#[test]
fn auto_traits() {
    fn send_unpin<T: Send + Unpin>() {}
    send_unpin::<Co<u32>>();
    send_unpin::<Yield<'static, u32>>();

    // A Send body (its locals across yields are Send): the stream is Send.
    let s = generate(|co| async move {
        let v = alloc::vec![1, 2];
        for x in v {
            co.yield_(x).await;
        }
    });
    assert_send(&s);
    assert_not_sync(&s);
    let t = try_generate(|co| async move {
        co.yield_(1).await;
        Err::<(), _>("e")
    });
    assert_send(&t);
    assert_not_sync(&t);

    // An `Rc` held across a yield: the stream is not Send.
    let r = generate(|co| async move {
        let rc = Rc::new(1);
        co.yield_(*rc).await;
        co.yield_(*rc).await;
    });
    assert_not_send(&r);
    // A `!Send` item: not Send either (and still works).
    let items = generate(|co| async move { co.yield_(Rc::new(5)).await });
    assert_not_send(&items);
    assert_eq!(block_on(next(&mut pin!(items))).as_deref(), Some(&5));

    assert_not_sync(&Co::<u8>::new(super::slot::slot().0));
}
