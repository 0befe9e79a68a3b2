//! Poll-level tests of [`Cursor`] and [`Pages`] with a scripted fetch
//! function whose futures stay `Pending` until the test releases them.

extern crate std;

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::task::Waker;

use futures::executor::block_on;
use futures::task::noop_waker_ref;
use proptest::prelude::*;

use super::*;
use crate::next;
use crate::test_support::{counting, proptest_config};

/// What the fetch function was asked and what is alive: fetches in flight,
/// pages held.
#[derive(Debug, Default)]
struct Log {
    /// Positions the fetch function was called with, in order.
    calls: RefCell<Vec<Option<u32>>>,
    /// Fetch futures alive (created, not yet dropped).
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
    /// Fetched pages alive (their items not yet dropped).
    pages: Cell<usize>,
    max_pages: Cell<usize>,
    /// Fetches whose index is in here complete when polled; with `all`,
    /// every fetch does.
    released: RefCell<BTreeSet<usize>>,
    all: Cell<bool>,
    /// Wakers of fetches polled while held back.
    wakers: RefCell<Vec<Waker>>,
}

impl Log {
    fn releasing_all() -> Self {
        let log = Log::default();
        log.all.set(true);
        log
    }

    fn release(&self, fetch: usize) {
        self.released.borrow_mut().insert(fetch);
        for w in self.wakers.borrow_mut().drain(..) {
            w.wake();
        }
    }

    fn calls(&self) -> usize {
        self.calls.borrow().len()
    }
}

/// The scripted service: page `n` (position `Some(n)`, or `None` for 0)
/// comes from `script(n)` as `(items, more)`, or fails with `Err`.
type Script<'a> = dyn Fn(u32) -> Result<(Vec<u32>, bool), &'static str> + 'a;

/// `pages` pages of `size` items each; item values count up from 0.
fn pages_of(pages: u32, size: u32) -> impl Fn(u32) -> Result<(Vec<u32>, bool), &'static str> {
    move |n| Ok(((n * size..(n + 1) * size).collect(), n + 1 < pages))
}

/// A page's items, counted in the log while alive.
#[derive(Debug)]
struct Tracked<'a> {
    items: alloc::vec::IntoIter<u32>,
    log: &'a Log,
}

impl<'a> Tracked<'a> {
    fn new(items: Vec<u32>, log: &'a Log) -> Self {
        log.pages.set(log.pages.get() + 1);
        log.max_pages.set(log.max_pages.get().max(log.pages.get()));
        Tracked {
            items: items.into_iter(),
            log,
        }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.log.pages.set(self.log.pages.get() - 1);
    }
}

impl Iterator for Tracked<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        self.items.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

struct Fetching<'a> {
    log: &'a Log,
    script: &'a Script<'a>,
    index: usize,
    from: Option<u32>,
}

impl<'a> Future for Fetching<'a> {
    type Output = Result<Page<Tracked<'a>, u32>, &'static str>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let log = self.log;
        if !log.all.get() && !log.released.borrow().contains(&self.index) {
            log.wakers.borrow_mut().push(cx.waker().clone());
            return Poll::Pending;
        }
        let n = self.from.unwrap_or(0);
        Poll::Ready((self.script)(n).map(|(items, more)| Page {
            items: Tracked::new(items, log),
            next: if more {
                Continuation::More(n + 1)
            } else {
                Continuation::Done
            },
        }))
    }
}

impl Drop for Fetching<'_> {
    fn drop(&mut self) {
        self.log.in_flight.set(self.log.in_flight.get() - 1);
    }
}

/// The fetch function over `script`, recording in `log`.
fn fetcher<'a>(log: &'a Log, script: &'a Script<'a>) -> impl FnMut(Option<u32>) -> Fetching<'a> {
    move |from| {
        let index = log.calls();
        log.calls.borrow_mut().push(from);
        log.in_flight.set(log.in_flight.get() + 1);
        log.max_in_flight
            .set(log.max_in_flight.get().max(log.in_flight.get()));
        Fetching {
            log,
            script,
            index,
            from,
        }
    }
}

fn poll<S: Stream + Unpin>(s: &mut S) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(noop_waker_ref()))
}

fn collect<S: Stream + Unpin>(s: &mut S) -> Vec<S::Item> {
    block_on(async {
        let mut out = Vec::new();
        while let Some(item) = next(s).await {
            out.push(item);
        }
        out
    })
}

#[test]
fn building_and_dropping_fetches_nothing() {
    let log = Log::releasing_all();
    let script = pages_of(3, 2);
    let cursor = Cursor::new(fetcher(&log, &script))
        .prefetch(2)
        .max_items(5)
        .max_pages(2);
    drop(cursor);
    let pages = Cursor::new(fetcher(&log, &script)).prefetch(1).pages();
    drop(pages);
    assert_eq!(log.calls(), 0);
}

#[test]
fn yields_every_item_in_order_then_none_forever() {
    for prefetch in 0..4 {
        let log = Log::releasing_all();
        let script = pages_of(5, 3);
        let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(prefetch);
        let items = collect(&mut cursor);
        assert_eq!(items, (0..15).map(Ok).collect::<Vec<_>>());
        assert!(cursor.is_terminated());
        assert_eq!(cursor.size_hint(), (0, Some(0)));
        for _ in 0..3 {
            assert_eq!(poll(&mut cursor), Poll::Ready(None));
        }
        assert_eq!(
            *log.calls.borrow(),
            [None, Some(1), Some(2), Some(3), Some(4)],
            "one fetch per page, none after `Done` (prefetch {prefetch})"
        );
        assert_eq!(log.in_flight.get(), 0);
        assert_eq!(log.pages.get(), 0);
        assert!(log.max_pages.get() <= 1 + prefetch);
    }
}

#[test]
fn empty_pages_that_say_more_are_not_the_end() {
    let log = Log::releasing_all();
    // Pages 0, 1, 2 and 4 are empty; 3 has items; 5 is the last, empty too.
    let script = |n: u32| {
        Ok(match n {
            3 => (alloc::vec![30, 31], true),
            5 => (Vec::new(), false),
            _ => (Vec::new(), true),
        })
    };
    let mut cursor = Cursor::new(fetcher(&log, &script));
    assert_eq!(collect(&mut cursor), [Ok(30), Ok(31)]);
    assert_eq!(log.calls(), 6);
}

#[test]
fn a_long_run_of_ready_empty_pages_yields_to_the_executor() {
    let log = Log::releasing_all();
    let script = |n: u32| Ok((if n == 100 { alloc::vec![7] } else { Vec::new() }, n < 100));
    let mut cursor = Cursor::new(fetcher(&log, &script));
    let (counter, w) = counting();
    let mut cx = Context::from_waker(&w);
    let mut pendings = 0;
    let item = loop {
        match Pin::new(&mut cursor).poll_next(&mut cx) {
            Poll::Ready(item) => break item,
            Poll::Pending => pendings += 1,
        }
    };
    assert_eq!(item, Some(Ok(7)));
    assert_eq!(pendings, 100 / PAGES_PER_POLL);
    assert_eq!(counter.count(), pendings, "woken at once each time");
}

#[test]
fn the_item_sequence_around_an_error() {
    // Pages 0 and 1 succeed, page 2 fails, page 3 would exist.
    let script = |n: u32| {
        if n == 2 {
            Err("boom")
        } else {
            pages_of(4, 2)(n)
        }
    };
    for prefetch in 0..3 {
        let log = Log::releasing_all();
        let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(prefetch);
        let items = collect(&mut cursor);
        let err = FetchError::new("boom", Some(2));
        assert_eq!(items, [Ok(0), Ok(1), Ok(2), Ok(3), Err(err)]);
        assert!(cursor.is_terminated());
        assert_eq!(poll(&mut cursor), Poll::Ready(None));
        assert_eq!(log.calls(), 3, "nothing fetched after the failure");

        // Resuming from the error's position with a healed service gives
        // exactly the remaining items.
        let healed = pages_of(4, 2);
        let log = Log::releasing_all();
        let mut resumed = Cursor::resume(err.from().copied(), fetcher(&log, &healed));
        assert_eq!(collect(&mut resumed), [Ok(4), Ok(5), Ok(6), Ok(7)]);
    }
}

#[test]
fn an_error_on_the_first_page_has_no_position() {
    let log = Log::releasing_all();
    let script = |_| Err("down");
    let mut cursor = Cursor::new(fetcher(&log, &script));
    let items = collect(&mut cursor);
    assert_eq!(items, [Err(FetchError::new("down", None))]);
    assert_eq!(
        alloc::format!("{}", items[0].as_ref().unwrap_err()),
        "fetching the first page failed: down"
    );
}

#[test]
fn an_error_behind_prefetched_pages_waits_its_turn() {
    let log = Log::default();
    let script = |n: u32| {
        if n == 1 {
            Err("late")
        } else {
            pages_of(3, 3)(n)
        }
    };
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(1);
    log.release(0);
    log.release(1);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    // The failure of page 1 is already known, but page 0's items come first.
    assert_eq!(log.calls(), 2);
    assert_eq!(log.in_flight.get(), 0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(1))));
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(2))));
    assert_eq!(
        poll(&mut cursor),
        Poll::Ready(Some(Err(FetchError::new("late", Some(1)))))
    );
    assert_eq!(poll(&mut cursor), Poll::Ready(None));
}

#[test]
fn without_prefetch_the_next_page_is_fetched_when_the_current_is_used_up() {
    let log = Log::default();
    let script = pages_of(3, 2);
    let mut cursor = Cursor::new(fetcher(&log, &script));
    assert_eq!(poll(&mut cursor), Poll::Pending);
    assert_eq!(log.calls(), 1);
    assert_eq!(poll(&mut cursor), Poll::Pending, "still held back");
    assert_eq!(log.calls(), 1);
    log.release(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(1))));
    assert_eq!(log.calls(), 1, "no prefetch");
    assert_eq!(poll(&mut cursor), Poll::Pending);
    assert_eq!(log.calls(), 2);
    assert_eq!(log.pages.get(), 0, "the used-up page was dropped first");
    log.release(1);
    log.release(2);
    assert_eq!(collect(&mut cursor), [Ok(2), Ok(3), Ok(4), Ok(5)]);
    assert_eq!(log.max_in_flight.get(), 1);
    assert_eq!(log.max_pages.get(), 1);
}

#[test]
fn prefetch_one_fetches_the_next_page_while_the_current_is_consumed() {
    let log = Log::default();
    let script = pages_of(4, 3);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(1);
    assert_eq!(poll(&mut cursor), Poll::Pending);
    log.release(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    // Page 1's fetch started as soon as page 0 arrived, before item 0 was
    // handed out; it stays in flight while page 0 is consumed.
    assert_eq!(log.calls(), 2);
    assert_eq!((log.in_flight.get(), log.pages.get()), (1, 1));
    log.release(1);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(1))));
    // Page 1 arrived and is held; page 2 is not fetched yet (depth 1).
    assert_eq!(log.calls(), 2);
    assert_eq!((log.in_flight.get(), log.pages.get()), (0, 2));
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(2))));
    // Page 0 is used up: page 1 becomes current, page 2's fetch starts.
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(3))));
    assert_eq!(log.calls(), 3);
    assert_eq!((log.in_flight.get(), log.pages.get()), (1, 1));
    log.release(2);
    log.release(3);
    assert_eq!(collect(&mut cursor), (4..12).map(Ok).collect::<Vec<_>>());
    assert_eq!(log.max_in_flight.get(), 1);
    assert_eq!(log.max_pages.get(), 2, "at most 1 + prefetch pages held");
}

#[test]
fn prefetch_k_keeps_k_pages_ahead_one_fetch_at_a_time() {
    let log = Log::default();
    let script = pages_of(10, 10);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(3);
    assert_eq!(poll(&mut cursor), Poll::Pending);
    log.release(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    assert_eq!(log.calls(), 2, "only page 1's position is known");
    for fetch in 1..4 {
        // Each page arrives while page 0 is consumed, and the next fetch
        // starts from its position.
        log.release(fetch);
        assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(fetch as u32))));
    }
    // Pages 1..=3 are queued behind page 0 (current); page 4 is not fetched.
    assert_eq!(log.calls(), 4);
    assert_eq!(log.in_flight.get(), 0);
    assert_eq!(log.pages.get(), 1 + 3);
    for fetch in 4..10 {
        log.release(fetch);
    }
    assert_eq!(collect(&mut cursor), (4..100).map(Ok).collect::<Vec<_>>());
    assert_eq!(
        log.max_in_flight.get(),
        1,
        "fetches never overlap each other"
    );
    assert_eq!(log.max_pages.get(), 4, "at most 1 + prefetch pages held");
}

#[test]
fn a_pending_fetch_wakes_the_consumer() {
    let log = Log::default();
    let script = pages_of(1, 1);
    let mut cursor = Cursor::new(fetcher(&log, &script));
    let (counter, w) = counting();
    let mut cx = Context::from_waker(&w);
    assert_eq!(Pin::new(&mut cursor).poll_next(&mut cx), Poll::Pending);
    assert_eq!(counter.count(), 0);
    log.release(0);
    assert_eq!(counter.count(), 1);
    assert_eq!(
        Pin::new(&mut cursor).poll_next(&mut cx),
        Poll::Ready(Some(Ok(0)))
    );
    assert_eq!(Pin::new(&mut cursor).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn dropping_the_cursor_drops_the_fetch_in_flight() {
    let log = Log::default();
    let script = pages_of(3, 2);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(1);
    log.release(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    assert_eq!((log.in_flight.get(), log.pages.get()), (1, 1));
    drop(cursor);
    assert_eq!((log.in_flight.get(), log.pages.get()), (0, 0));
}

#[test]
fn dropping_a_next_future_loses_no_item() {
    let log = Log::default();
    let script = pages_of(2, 2);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(1);
    {
        let mut fut = next(&mut cursor);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    }
    log.release(0);
    log.release(1);
    assert_eq!(collect(&mut cursor), [Ok(0), Ok(1), Ok(2), Ok(3)]);
}

#[test]
fn max_items_ends_the_stream_and_drops_the_fetch_in_flight() {
    let log = Log::default();
    let script = pages_of(10, 3);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(2).max_items(4);
    log.release(0);
    log.release(1);
    assert_eq!(cursor.size_hint(), (0, Some(4)));
    for n in 0..3 {
        assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(n))));
    }
    assert_eq!(log.calls(), 3, "pages 1 and 2 prefetched");
    assert_eq!(log.in_flight.get(), 1, "page 2 held back");
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(3))));
    assert_eq!(log.in_flight.get(), 0, "its fetch dropped at the limit");
    assert_eq!(log.pages.get(), 0);
    assert!(cursor.is_terminated());
    assert_eq!(cursor.size_hint(), (0, Some(0)));
    assert_eq!(poll(&mut cursor), Poll::Ready(None));
    assert_eq!(poll(&mut cursor), Poll::Ready(None));
    assert_eq!(log.calls(), 3);
}

#[test]
fn no_prefetch_while_the_current_page_covers_max_items() {
    let log = Log::releasing_all();
    let script = pages_of(10, 5);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(2).max_items(3);
    assert_eq!(collect(&mut cursor), [Ok(0), Ok(1), Ok(2)]);
    assert_eq!(log.calls(), 1);
}

#[test]
fn max_items_zero_fetches_nothing() {
    let log = Log::releasing_all();
    let script = pages_of(10, 5);
    let mut cursor = Cursor::new(fetcher(&log, &script)).max_items(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(None));
    assert!(cursor.is_terminated());
    assert_eq!(log.calls(), 0);
}

#[test]
fn max_pages_stops_fetching() {
    let log = Log::releasing_all();
    let script = pages_of(10, 2);
    let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(3).max_pages(2);
    assert_eq!(collect(&mut cursor), [Ok(0), Ok(1), Ok(2), Ok(3)]);
    assert_eq!(log.calls(), 2);
    let mut none = Cursor::new(fetcher(&log, &script)).max_pages(0);
    assert_eq!(poll(&mut none), Poll::Ready(None));
    assert_eq!(log.calls(), 2);
}

#[test]
fn size_hint_is_honest() {
    let log = Log::default();
    let script = pages_of(2, 3);
    let mut cursor = Cursor::new(fetcher(&log, &script));
    assert_eq!(cursor.size_hint(), (0, None));
    log.release(0);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(0))));
    assert_eq!(cursor.size_hint(), (2, None), "page 1 may follow");
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(1))));
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(2))));
    log.release(1);
    assert_eq!(poll(&mut cursor), Poll::Ready(Some(Ok(3))));
    assert_eq!(cursor.size_hint(), (2, Some(2)), "page 1 said `Done`");
    assert_eq!(collect(&mut cursor).len(), 2);
    assert_eq!(cursor.size_hint(), (0, Some(0)));
}

#[test]
fn pages_yields_whole_pages_with_their_continuation() {
    let log = Log::releasing_all();
    let script = pages_of(3, 2);
    let mut pages = Cursor::new(fetcher(&log, &script)).prefetch(1).pages();
    assert_eq!(pages.size_hint(), (0, None));
    let mut got = Vec::new();
    block_on(async {
        while let Some(page) = next(&mut pages).await {
            let page = page.unwrap();
            got.push((page.items.collect::<Vec<_>>(), page.next));
        }
    });
    assert_eq!(
        got,
        [
            (alloc::vec![0, 1], Continuation::More(1)),
            (alloc::vec![2, 3], Continuation::More(2)),
            (alloc::vec![4, 5], Continuation::Done),
        ]
    );
    assert!(pages.is_terminated());
    assert_eq!(pages.size_hint(), (0, Some(0)));
    assert!(matches!(poll(&mut pages), Poll::Ready(None)));
}

#[test]
fn pages_start_the_next_fetch_before_returning_a_page() {
    let log = Log::default();
    let script = pages_of(3, 2);
    let mut pages = Cursor::new(fetcher(&log, &script)).prefetch(1).pages();
    assert!(poll(&mut pages).is_pending());
    log.release(0);
    let first = poll(&mut pages);
    assert!(matches!(first, Poll::Ready(Some(Ok(_)))));
    assert_eq!(
        log.calls(),
        2,
        "page 1 in flight while the caller holds page 0"
    );
    assert_eq!(log.in_flight.get(), 1);
    assert_eq!(pages.size_hint(), (0, None));
    drop(first);
    log.release(1);
    log.release(2);
    assert_eq!(collect(&mut pages).len(), 2);
    assert_eq!(log.max_pages.get(), 2);
}

#[test]
fn pages_end_after_an_error() {
    let log = Log::releasing_all();
    let script = |n: u32| if n == 1 { Err("x") } else { pages_of(3, 1)(n) };
    let mut pages = Cursor::new(fetcher(&log, &script)).max_pages(5).pages();
    assert_eq!(pages.size_hint(), (0, Some(5)));
    let got = collect(&mut pages);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].as_ref().unwrap_err(), &FetchError::new("x", Some(1)));
    assert!(pages.is_terminated());
}

#[test]
fn debug_does_not_need_debug_closures() {
    let log = Log::releasing_all();
    let script = pages_of(1, 1);
    let cursor = Cursor::new(fetcher(&log, &script)).prefetch(1);
    let text = alloc::format!("{cursor:?}");
    assert!(text.starts_with("Cursor {"), "{text}");
    assert!(text.contains("prefetch: 1"), "{text}");
    let pages = Cursor::new(fetcher(&log, &script)).pages();
    assert!(alloc::format!("{pages:?}").starts_with("Pages {"));
}

#[test]
fn auto_traits() {
    use core::future::Ready;
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    type Fut = Ready<Result<Page<Vec<u8>, u64>, ()>>;
    type F = fn(Option<u64>) -> Fut;
    send_sync_unpin::<Cursor<F, Fut>>();
    send_sync_unpin::<Pages<F, Fut>>();
    send_sync_unpin::<FetchError<(), u64>>();
    send_sync_unpin::<Page<Vec<u8>, u64>>();
}

/// A reference model of the item sequence: all items of the pages before
/// the first failure, the failure, limits applied.
fn model(
    sizes: &[u8],
    fail_at: Option<usize>,
    max_items: Option<usize>,
    max_pages: Option<usize>,
) -> Vec<Result<u32, FetchError<&'static str, u32>>> {
    let mut out = Vec::new();
    let mut value = 0;
    let pages = max_pages.map_or(sizes.len(), |m| m.min(sizes.len()));
    for (n, size) in sizes.iter().enumerate().take(pages) {
        if fail_at == Some(n) {
            out.push(Err(FetchError::new("fail", (n > 0).then_some(n as u32))));
            break;
        }
        for _ in 0..*size {
            out.push(Ok(value));
            value += 1;
        }
    }
    if let Some(m) = max_items {
        out.truncate(m);
    }
    out
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn matches_the_model(
        sizes in proptest::collection::vec(0u8..5, 1..12),
        fail_at in proptest::option::of(0usize..12),
        max_items in proptest::option::of(0usize..30),
        max_pages in proptest::option::of(0usize..14),
        prefetch in 0usize..4,
        // Which polls see the fetch held back (released on the next poll).
        holds in proptest::collection::vec(any::<bool>(), 0..64),
    ) {
        let starts: Vec<u32> = sizes
            .iter()
            .scan(0u32, |acc, &s| { let start = *acc; *acc += u32::from(s); Some(start) })
            .collect();
        let script = |n: u32| {
            let n = n as usize;
            if fail_at == Some(n) {
                return Err("fail");
            }
            let start = starts[n];
            Ok(((start..start + u32::from(sizes[n])).collect(), n + 1 < sizes.len()))
        };
        let log = Log::default();
        let mut cursor = Cursor::new(fetcher(&log, &script)).prefetch(prefetch);
        if let Some(m) = max_items { cursor = cursor.max_items(m); }
        if let Some(m) = max_pages { cursor = cursor.max_pages(m); }
        let mut got = Vec::new();
        let mut holds = holds.into_iter();
        let mut polls = 0;
        loop {
            polls += 1;
            prop_assert!(polls < 10_000, "no progress");
            if !holds.next().unwrap_or(false) {
                for fetch in 0..log.calls() { log.release(fetch); }
            }
            let (low, high) = cursor.size_hint();
            match poll(&mut cursor) {
                Poll::Ready(Some(item)) => {
                    prop_assert!(high.is_none_or(|h| h >= 1));
                    got.push(item);
                }
                Poll::Ready(None) => {
                    prop_assert_eq!(low, 0);
                    break;
                }
                Poll::Pending => prop_assert_eq!(low, 0),
            }
            prop_assert!(log.pages.get() <= 1 + prefetch);
            prop_assert!(log.in_flight.get() <= 1);
        }
        prop_assert_eq!(got, model(&sizes, fail_at, max_items, max_pages));
        prop_assert!(cursor.is_terminated());
        prop_assert_eq!(poll(&mut cursor), Poll::Ready(None));
        drop(cursor);
        prop_assert_eq!(log.in_flight.get(), 0);
        prop_assert_eq!(log.pages.get(), 0);
    }
}
