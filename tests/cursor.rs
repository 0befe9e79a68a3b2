//! The paged cursor on every executor: runtime-free behaviour, then pages
//! fetched with each runtime's timer and blocking pool.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_executor, on_every_runtime, Runtime};

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use aiter::cursor::{Continuation, Cursor, FetchError, Page};
use aiter::{next, FusedStream, Stream};

/// A service of `total` numbers served `size` per page; the position is an
/// offset. Counts the fetches it was asked for.
#[derive(Clone)]
struct Numbers {
    total: u32,
    size: u32,
    fetches: Arc<AtomicUsize>,
}

impl Numbers {
    fn new(total: u32, size: u32) -> Self {
        Numbers {
            total,
            size,
            fetches: Arc::default(),
        }
    }

    fn page(&self, from: Option<u32>) -> Page<Vec<u32>, u32> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let start = from.unwrap_or(0);
        let end = (start + self.size).min(self.total);
        let items = (start..end).collect();
        if end < self.total {
            Page::more(items, end)
        } else {
            Page::done(items)
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn drain<S>(stream: S) -> Vec<S::Item>
where
    S: Stream,
{
    let mut stream = pin!(stream);
    let mut out = Vec::new();
    while let Some(item) = next(&mut stream).await {
        out.push(item);
    }
    out
}

async fn every_item_once_in_order() {
    for prefetch in [0, 1, 4] {
        let numbers = Numbers::new(1000, 64);
        let service = numbers.clone();
        let cursor = Cursor::new(move |from| std::future::ready(Ok::<_, ()>(service.page(from))))
            .prefetch(prefetch);
        let items = drain(cursor).await;
        assert_eq!(items, (0..1000).map(Ok).collect::<Vec<_>>());
        assert_eq!(
            numbers.fetches(),
            16,
            "one fetch per page, none after `Done`"
        );
    }
}

async fn building_and_dropping_fetches_nothing() {
    let numbers = Numbers::new(10, 3);
    let service = numbers.clone();
    let cursor = Cursor::new(move |from| std::future::ready(Ok::<_, ()>(service.page(from))))
        .prefetch(2)
        .max_items(3);
    drop(cursor);
    assert_eq!(numbers.fetches(), 0);
}

async fn empty_pages_in_the_middle_are_skipped() {
    // Positions 0..=9; only 5 has items; 9 is the last.
    let fetch = |from: Option<u32>| async move {
        let n = from.unwrap_or(0);
        let items = if n == 5 { vec!["five"] } else { vec![] };
        Ok::<_, ()>(if n < 9 {
            Page::more(items, n + 1)
        } else {
            Page::done(items)
        })
    };
    assert_eq!(drain(Cursor::new(fetch)).await, [Ok("five")]);
}

async fn an_error_ends_the_stream_and_resume_continues_exactly() {
    let failing = |from: Option<u32>| async move {
        match from {
            Some(20) => Err("timeout"),
            _ => Ok(Numbers::new(50, 10).page(from)),
        }
    };
    let mut cursor = pin!(Cursor::new(failing).prefetch(1));
    let mut seen = Vec::new();
    let err = loop {
        match next(&mut cursor)
            .await
            .expect("the error comes before the end")
        {
            Ok(n) => seen.push(n),
            Err(e) => break e,
        }
    };
    assert_eq!(
        seen,
        (0..20).collect::<Vec<_>>(),
        "every item before the failed page"
    );
    assert_eq!((err.from(), *err.error()), (Some(&20), "timeout"));
    assert!(cursor.is_terminated());
    for _ in 0..3 {
        assert_eq!(next(&mut cursor).await, None);
    }
    let healed = |from: Option<u32>| async move { Ok::<_, &str>(Numbers::new(50, 10).page(from)) };
    let rest = drain(Cursor::resume(err.from().copied(), healed)).await;
    assert_eq!(rest, (20..50).map(Ok).collect::<Vec<_>>());
}

async fn limits_stop_fetching() {
    let numbers = Numbers::new(1000, 10);
    let service = numbers.clone();
    let fetch = move |from| std::future::ready(Ok::<_, ()>(service.page(from)));
    let items = drain(Cursor::new(fetch.clone()).max_items(25).prefetch(1)).await;
    assert_eq!(items, (0..25).map(Ok).collect::<Vec<_>>());
    assert_eq!(
        numbers.fetches(),
        3,
        "no prefetch once the current page covers the limit"
    );
    let items = drain(Cursor::new(fetch).max_pages(2)).await;
    assert_eq!(items.len(), 20);
}

async fn pages_come_whole_with_their_continuation() {
    let numbers = Numbers::new(25, 10);
    let fetch = move |from| std::future::ready(Ok::<_, ()>(numbers.page(from)));
    let pages = drain(Cursor::new(fetch).prefetch(1).pages()).await;
    let summary: Vec<_> = pages
        .into_iter()
        .map(|p| {
            let p = p.unwrap();
            (p.items.len(), p.next)
        })
        .collect();
    assert_eq!(
        summary,
        [
            (10, Continuation::More(10)),
            (10, Continuation::More(20)),
            (5, Continuation::Done)
        ]
    );
}

async fn dropping_the_cursor_drops_the_fetch_in_flight() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let flag = dropped.clone();
    let fetch = move |from: Option<u32>| {
        let guard = Flag(flag.clone());
        async move {
            if from.is_some() {
                // Page 1 never arrives.
                std::future::pending::<()>().await;
            }
            drop(guard);
            Ok::<_, ()>(Page::more(vec![1, 2], 1))
        }
    };
    let mut cursor = Box::pin(Cursor::new(fetch).prefetch(1));
    assert_eq!(next(&mut cursor).await, Some(Ok(1)));
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "page 0's fetch finished");
    drop(cursor);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        2,
        "page 1's fetch dropped with the cursor"
    );
}

on_every_executor!(
    every_item_once_in_order,
    building_and_dropping_fetches_nothing,
    empty_pages_in_the_middle_are_skipped,
    an_error_ends_the_stream_and_resume_continues_exactly,
    limits_stop_fetching,
    pages_come_whole_with_their_continuation,
    dropping_the_cursor_drops_the_fetch_in_flight,
);

/// Pages behind the runtime's timer (a simulated network latency): every
/// item arrives once, in order, whatever the prefetch; with prefetch the
/// next fetch is started before the current page is used up.
async fn pages_behind_timer_latency<R: Runtime>(rt: R) {
    for prefetch in [0, 1, 2] {
        let numbers = Numbers::new(60, 6);
        let service = numbers.clone();
        let timer = rt.clone();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let cursor = Cursor::new(move |from| {
            counted.fetch_add(1, Ordering::SeqCst);
            let sleep = timer.sleep(Duration::from_millis(2));
            let service = service.clone();
            async move {
                sleep.await;
                Ok::<_, ()>(service.page(from))
            }
        })
        .prefetch(prefetch);
        let mut cursor = pin!(cursor);
        let mut n = 0;
        while let Some(item) = next(&mut cursor).await {
            assert_eq!(item, Ok(n));
            if prefetch > 0 && n % 6 == 5 && n < 54 {
                // The last item of a page: the next page's fetch started
                // (with prefetch) before this item was handed out.
                assert_eq!(calls.load(Ordering::SeqCst), (n as usize / 6) + 2);
            }
            n += 1;
        }
        assert_eq!(n, 60);
        assert_eq!(numbers.fetches(), 10);
    }
}

/// Fetches on the runtime's blocking pool run while the consumer is busy
/// and not polling the cursor: while the consumer holds page `n`, it waits
/// (blocking, bounded) for the pool to start fetching page `n + 1`.
async fn blocking_fetches_overlap_the_consumer<R: Runtime>(rt: R) {
    let (started_tx, started) = mpsc::channel::<u32>();
    let started_tx = Arc::new(Mutex::new(started_tx));
    let fetch = move |from: Option<u32>| {
        let tx = started_tx.clone();
        rt.unblock(move || {
            let from = from.unwrap_or(0);
            tx.lock().unwrap().send(from).unwrap();
            std::thread::sleep(Duration::from_millis(1));
            Ok::<_, ()>(Numbers::new(40, 4).page(Some(from)))
        })
    };
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let wait = Duration::from_secs(10);
    let mut n = 0u32;
    while let Some(item) = next(&mut cursor).await {
        assert_eq!(item, Ok(n));
        if n == 0 {
            assert_eq!(started.recv_timeout(wait), Ok(0));
        }
        if n.is_multiple_of(4) && n + 4 < 40 {
            // The first item of the page at `n`: the fetch of the next page
            // was started and now runs on the pool without another poll.
            assert_eq!(
                started.recv_timeout(wait),
                Ok(n + 4),
                "the next fetch runs while we are busy"
            );
            assert!(
                started.try_recv().is_err(),
                "never more than one fetch ahead"
            );
        }
        n += 1;
    }
    assert_eq!(n, 40);
}

on_every_runtime!(
    pages_behind_timer_latency,
    blocking_fetches_overlap_the_consumer
);

#[test]
fn auto_traits() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    type Fut = std::future::Ready<Result<Page<Vec<u8>, u64>, ()>>;
    type F = fn(Option<u64>) -> Fut;
    send_sync_unpin::<Cursor<F, Fut>>();
    send_sync_unpin::<aiter::cursor::Pages<F, Fut>>();
    send_sync_unpin::<FetchError<(), u64>>();
}
