//! Generators on every executor: `generate` and `try_generate`.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_executor, on_every_runtime, Runtime};

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiter::generate::{generate, try_generate};
use aiter::{next, FusedStream, Stream};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn sums_ten_thousand_items() {
    let mut s = pin!(generate(|co| async move {
        for i in 0..10_000u64 {
            co.yield_(i).await;
        }
    }));
    let (mut sum, mut count) = (0u64, 0u64);
    while let Some(i) = next(&mut s).await {
        sum += i;
        count += 1;
    }
    assert_eq!((count, sum), (10_000, 10_000 * 9_999 / 2));
    assert!(s.is_terminated());
    assert_eq!(next(&mut s).await, None, "fused: None forever");
    assert_eq!(s.size_hint(), (0, Some(0)));
}

async fn nothing_runs_before_the_first_next() {
    let started = Arc::new(AtomicBool::new(false));
    let st = Arc::clone(&started);
    let mut s = pin!(generate(move |co| {
        st.store(true, Ordering::SeqCst);
        async move { co.yield_("first").await }
    }));
    assert!(!started.load(Ordering::SeqCst));
    assert_eq!(next(&mut s).await, Some("first"));
    assert!(started.load(Ordering::SeqCst));
}

async fn the_body_waits_at_each_yield_for_the_consumer() {
    let progress = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&progress);
    let mut s = pin!(generate(move |co| async move {
        for i in 0..3 {
            p.store(i + 1, Ordering::SeqCst);
            co.yield_(i).await;
        }
    }));
    for i in 0..3 {
        assert_eq!(next(&mut s).await, Some(i));
        assert_eq!(progress.load(Ordering::SeqCst), i + 1, "one item in flight");
    }
    assert_eq!(next(&mut s).await, None);
}

async fn dropping_the_stream_runs_the_body_destructors() {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = Arc::clone(&dropped);
    let mut s = Box::pin(generate(move |co| async move {
        let _guard = DropFlag(d);
        loop {
            co.yield_(1).await;
        }
    }));
    assert_eq!(next(&mut s).await, Some(1));
    assert_eq!(next(&mut s).await, Some(1));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(s);
    assert!(dropped.load(Ordering::SeqCst), "like Python's aclose()");
}

async fn try_generate_question_mark_gives_one_error_then_the_end() {
    let mut s = pin!(try_generate(|co| async move {
        for word in ["10", "20", "thirty", "40"] {
            co.yield_(word.parse::<u32>()?).await;
        }
        Ok::<(), std::num::ParseIntError>(())
    }));
    assert_eq!(next(&mut s).await, Some(Ok(10)));
    assert_eq!(next(&mut s).await, Some(Ok(20)));
    let err = next(&mut s).await.expect("an item").expect_err("thirty");
    assert_eq!(err.to_string(), "invalid digit found in string");
    assert_eq!(next(&mut s).await, None);
    assert_eq!(next(&mut s).await, None);
    assert!(s.is_terminated());
}

async fn the_body_awaits_items_sent_from_another_thread() {
    let (tx, mut rx) = futures::channel::mpsc::channel::<u32>(1);
    let sender = std::thread::spawn(move || {
        let mut tx = tx;
        for i in 0..50 {
            futures::executor::block_on(futures::SinkExt::send(&mut tx, i)).unwrap();
        }
    });
    // A generator that doubles what arrives, awaiting between yields.
    let mut s = pin!(generate(|co| async move {
        while let Some(x) = next(&mut rx).await {
            co.yield_(x * 2).await;
        }
    }));
    let mut got = Vec::new();
    while let Some(x) = next(&mut s).await {
        got.push(x);
    }
    sender.join().unwrap();
    assert_eq!(got, (0..50).map(|x| x * 2).collect::<Vec<_>>());
}

async fn generators_compose() {
    let numbers = generate(|co| async move {
        for i in 1..=10 {
            co.yield_(i).await;
        }
    });
    let mut evens_squared = pin!(generate(|co| async move {
        let mut numbers = pin!(numbers);
        while let Some(n) = next(&mut numbers).await {
            if n % 2 == 0 {
                co.yield_(n * n).await;
            }
        }
    }));
    let mut got = Vec::new();
    while let Some(x) = next(&mut evens_squared).await {
        got.push(x);
    }
    assert_eq!(got, [4, 16, 36, 64, 100]);
}

on_every_executor!(
    sums_ten_thousand_items,
    nothing_runs_before_the_first_next,
    the_body_waits_at_each_yield_for_the_consumer,
    dropping_the_stream_runs_the_body_destructors,
    try_generate_question_mark_gives_one_error_then_the_end,
    the_body_awaits_items_sent_from_another_thread,
    generators_compose,
);

/// The README's example: a countdown with a timer between yields.
async fn countdown_with_a_timer<R: Runtime>(rt: R) {
    let start = Instant::now();
    let mut countdown = pin!(generate(|co| async move {
        for n in (1..=3).rev() {
            aiter::rt::Timer::sleep(&rt, Duration::from_millis(10)).await;
            co.yield_(n).await;
        }
    }));
    let mut got = Vec::new();
    while let Some(n) = next(&mut countdown).await {
        got.push((n, start.elapsed()));
    }
    assert_eq!(got.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [3, 2, 1]);
    for (i, (_, at)) in got.iter().enumerate() {
        let due = Duration::from_millis(10 * (i as u64 + 1));
        assert!(*at >= due, "item {i} came at {at:?}, before {due:?}");
    }
    assert_eq!(next(&mut countdown).await, None);
}

async fn try_generate_with_a_timer_stops_at_the_error<R: Runtime>(rt: R) {
    let mut s = pin!(try_generate(|co| async move {
        for n in 0..5u32 {
            aiter::rt::Timer::sleep(&rt, Duration::from_millis(2)).await;
            if n == 3 {
                return Err(format!("page {n} failed"));
            }
            co.yield_(n).await;
        }
        Ok(())
    }));
    let mut got = Vec::new();
    while let Some(item) = next(&mut s).await {
        got.push(item);
    }
    assert_eq!(
        got,
        [Ok(0), Ok(1), Ok(2), Err(String::from("page 3 failed"))]
    );
    assert!(s.is_terminated());
}

async fn dropping_a_generator_waiting_on_a_timer_cancels_it<R: Runtime>(rt: R) {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = Arc::clone(&dropped);
    let timer = rt.clone();
    let mut s = Box::pin(generate(move |co| async move {
        let _guard = DropFlag(d);
        co.yield_(1).await;
        aiter::rt::Timer::sleep(&timer, Duration::from_secs(3600)).await;
        co.yield_(2).await;
    }));
    assert_eq!(next(&mut s).await, Some(1));
    // Poll once into the hour-long sleep, then give up on it.
    let mut waited = Box::pin(aiter::time::timeout(rt, s, Duration::from_millis(5)));
    assert!(matches!(next(&mut waited).await, Some(Err(_))));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(waited);
    assert!(dropped.load(Ordering::SeqCst));
}

/// A generator whose body is `Send` moves to another thread: here the
/// runtime's blocking pool finishes it.
async fn a_send_generator_moves_to_another_thread<R: Runtime>(rt: R) {
    let mut s = Box::pin(generate(|co| async move {
        for i in 0..100u32 {
            co.yield_(i).await;
        }
    }));
    assert_eq!(next(&mut s).await, Some(0));
    let rest = aiter::rt::Blocking::unblock(&rt, move || {
        futures::executor::block_on(async {
            let mut sum = 0;
            while let Some(i) = next(&mut s).await {
                sum += i;
            }
            sum
        })
    })
    .await;
    assert_eq!(rest, (1..100).sum::<u32>());
}

on_every_runtime!(
    countdown_with_a_timer,
    try_generate_with_a_timer_stops_at_the_error,
    dropping_a_generator_waiting_on_a_timer_cancels_it,
    a_send_generator_moves_to_another_thread,
);
