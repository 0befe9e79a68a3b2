//! Timers from every runtime adapter: `interval` and `timeout`.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, Runtime};

use std::time::{Duration, Instant};

use aiter::time::{interval, timeout};
use aiter::{iter, next, FusedStream};

async fn sleep_waits_at_least_its_duration<R: Runtime>(rt: R) {
    let start = Instant::now();
    aiter::rt::Timer::sleep(&rt, Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

async fn interval_does_not_drift<R: Runtime>(rt: R) {
    let period = Duration::from_millis(20);
    let mut ticks = interval(rt.clone(), period);
    let start = Instant::now();
    for n in 1..=10u64 {
        let tick = next(&mut ticks).await.expect("interval never ends");
        // A slow consumer: 10 ms of work after each tick. With sleeps of a
        // whole period after the work, ticks would drift by 10 ms each.
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(tick, n, "no tick skipped while keeping up");
    }
    let elapsed = start.elapsed();
    // Tick 10 is due at 200 ms and the work after it ends at 210 ms;
    // drift would put the end at >= 300 ms.
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(285),
        "10 ticks of 20 ms with 10 ms of work each took {elapsed:?}"
    );
}

async fn interval_is_lazy_and_never_ends<R: Runtime>(rt: R) {
    let mut ticks = interval(rt, Duration::from_millis(1));
    assert!(!ticks.is_terminated());
    assert_eq!(next(&mut ticks).await, Some(1));
    assert_eq!(futures::Stream::size_hint(&ticks), (usize::MAX, None));
}

async fn timeout_fires_and_leaves_the_stream_intact<R: Runtime>(rt: R) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<u32>();
    let mut s = timeout(rt.clone(), rx, Duration::from_millis(10));
    let err = next(&mut s)
        .await
        .expect("an item")
        .expect_err("nothing was sent");
    assert_eq!(err.after(), Duration::from_millis(10));
    // The inner stream is untouched: an item sent now still arrives.
    tx.unbounded_send(7).unwrap();
    assert_eq!(next(&mut s).await, Some(Ok(7)));
    // A sender on another thread, within the limit: no timeout.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        tx.unbounded_send(8).unwrap();
    });
    let mut got = next(&mut s).await;
    while matches!(got, Some(Err(_))) {
        // Only possible on a badly overloaded machine; the item must still come.
        got = next(&mut s).await;
    }
    assert_eq!(got, Some(Ok(8)));
    assert_eq!(next(&mut s).await, None, "sender dropped: the stream ends");
    assert!(s.is_terminated());
}

async fn timeout_that_does_not_fire<R: Runtime>(rt: R) {
    let mut s = timeout(rt, iter(0..100), Duration::from_millis(1));
    let mut n = 0;
    while let Some(item) = next(&mut s).await {
        assert_eq!(item, Ok(n));
        n += 1;
    }
    assert_eq!(n, 100);
    assert_eq!(next(&mut s).await, None);
}

on_every_runtime!(
    sleep_waits_at_least_its_duration,
    interval_does_not_drift,
    interval_is_lazy_and_never_ends,
    timeout_fires_and_leaves_the_stream_intact,
    timeout_that_does_not_fire,
);

#[cfg(feature = "tokio")]
#[test]
fn streams_built_outside_a_runtime_do_not_panic() {
    let ticks = aiter::tokio::interval(Duration::from_millis(1));
    let t = aiter::tokio::timeout(iter([1]), Duration::from_millis(1));
    drop((ticks, t));
}
