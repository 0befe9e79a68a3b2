//! Prefetch overlap of aiter's `Cursor`: pages with a simulated latency `L`,
//! a consumer that spends `C` of CPU per page, prefetch on vs off, on tokio,
//! async-std and smol; the peer is the hand-written paginator users write
//! today, `futures::stream::try_unfold` + `try_flatten` (no prefetch).
//!
//! Two kinds of latency:
//! - `timer`: the fetch is `async { rt.sleep(L).await; page }`, a plain
//!   future polled only by the cursor (its deadline passes while the
//!   consumer works, but it completes only when polled and when the
//!   runtime's timer fires);
//! - `blocking`: the fetch is `rt.unblock(|| { thread::sleep(L); page })`,
//!   which runs on the runtime's blocking pool whether polled or not.
//!
//! Every run sums the items and asserts the sum. Each figure is the median
//! of `RUNS` whole runs. The effective latency `L'` and consumer time `C'`
//! per page are measured by a fetch-only and a consume-only run, and
//!
//! ```text
//! overlap = (T_off - T_on) / (T_off - ideal),  ideal = pages * max(L', C') + min(L', C')
//! ```
//!
//! is the share of the time that overlapping could save that prefetch did
//! save (the first fetch cannot overlap anything, hence `+ min`).
//!
//! `cargo bench --bench cursor --features tokio,async-std,smol`
//! (`-- --quick` for 3 runs instead of 9).
#![allow(missing_docs)]

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use aiter::cursor::{Continuation, Cursor, Page};
use aiter::rt::{Blocking, Timer};
use aiter::{next, Stream};
use futures::TryStreamExt;

const PAGES: u32 = 20;
const ITEMS: u32 = 100;
const L: Duration = Duration::from_millis(4);
const C: Duration = Duration::from_millis(4);

fn page(from: Option<u32>) -> Page<Vec<u32>, u32> {
    let n = from.unwrap_or(0);
    let items = (n * ITEMS..(n + 1) * ITEMS).collect();
    if n + 1 < PAGES {
        Page::more(items, n + 1)
    } else {
        Page::done(items)
    }
}

fn expected_sum() -> u64 {
    (0..u64::from(PAGES * ITEMS)).sum()
}

/// CPU work on the consumer's thread.
fn busy_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Drains `items`, spending `c / ITEMS` per item; returns the sum.
async fn consume<S: Stream<Item = Result<u32, E>>, E: std::fmt::Debug>(
    items: S,
    c: Duration,
) -> u64 {
    let mut items = pin!(items);
    let per_item = c / ITEMS;
    let mut sum = 0u64;
    while let Some(item) = next(&mut items).await {
        sum += u64::from(item.expect("no error"));
        if !per_item.is_zero() {
            busy_for(per_item);
        }
    }
    sum
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Latency {
    Timer,
    Blocking,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Pager {
    /// aiter's cursor with this prefetch.
    Cursor(usize),
    /// `try_unfold` + `try_flatten`.
    Unfold,
}

trait Rt: Timer + Blocking + Clone + Send + Sync + 'static {}
impl<T: Timer + Blocking + Clone + Send + Sync + 'static> Rt for T {}

/// The fetch function for `latency`, as a boxed-free generic call.
fn fetch_timer<R: Rt>(
    rt: &R,
    l: Duration,
    from: Option<u32>,
) -> impl Future<Output = Result<Page<Vec<u32>, u32>, ()>> {
    let sleep = (!l.is_zero()).then(|| rt.sleep(l));
    async move {
        if let Some(sleep) = sleep {
            sleep.await;
        }
        Ok(page(from))
    }
}

fn fetch_blocking<R: Rt>(
    rt: &R,
    l: Duration,
    from: Option<u32>,
) -> R::Task<Result<Page<Vec<u32>, u32>, ()>> {
    rt.unblock(move || {
        if !l.is_zero() {
            std::thread::sleep(l);
        }
        Ok(page(from))
    })
}

/// The peer: a paginator by hand, one page at a time.
fn unfold<F, Fut>(mut fetch: F) -> impl Stream<Item = Result<u32, ()>>
where
    F: FnMut(Option<u32>) -> Fut,
    Fut: Future<Output = Result<Page<Vec<u32>, u32>, ()>>,
{
    futures::stream::try_unfold(Some(None), move |state: Option<Option<u32>>| {
        let fetching = state.map(&mut fetch);
        async move {
            let Some(fetching) = fetching else {
                return Ok(None);
            };
            let page = fetching.await?;
            let next = match page.next {
                Continuation::More(p) => Some(Some(p)),
                Continuation::Done => None,
            };
            Ok(Some((
                futures::stream::iter(page.items.into_iter().map(Ok)),
                next,
            )))
        }
    })
    .try_flatten()
}

/// One whole run; returns its wall time.
async fn run<R: Rt>(rt: R, latency: Latency, pager: Pager, l: Duration, c: Duration) -> Duration {
    let start = Instant::now();
    let sum = match (latency, pager) {
        (Latency::Timer, Pager::Cursor(k)) => {
            consume(
                Cursor::new(move |from| fetch_timer(&rt, l, from)).prefetch(k),
                c,
            )
            .await
        }
        (Latency::Blocking, Pager::Cursor(k)) => {
            consume(
                Cursor::new(move |from| fetch_blocking(&rt, l, from)).prefetch(k),
                c,
            )
            .await
        }
        (Latency::Timer, Pager::Unfold) => {
            consume(unfold(move |from| fetch_timer(&rt, l, from)), c).await
        }
        (Latency::Blocking, Pager::Unfold) => {
            consume(unfold(move |from| fetch_blocking(&rt, l, from)), c).await
        }
    };
    let elapsed = start.elapsed();
    assert_eq!(sum, expected_sum());
    elapsed
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// One run, boxed so that one `block_on` closure per runtime serves all.
type Run<'a> = std::pin::Pin<Box<dyn Future<Output = Duration> + 'a>>;

struct Row {
    runtime: &'static str,
    latency: Latency,
    l_eff: Duration,
    c_eff: Duration,
    off: Duration,
    unfold: Duration,
    on: Duration,
    on_k2: Duration,
}

fn measure<R: Rt>(
    name: &'static str,
    rt: R,
    block_on: &dyn Fn(Run<'_>) -> Duration,
    runs: usize,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for latency in [Latency::Timer, Latency::Blocking] {
        let time = |pager, l, c| {
            // One warm-up run, then the median of `runs`.
            block_on(Box::pin(run(rt.clone(), latency, pager, l, c)));
            median(
                (0..runs)
                    .map(|_| block_on(Box::pin(run(rt.clone(), latency, pager, l, c))))
                    .collect(),
            )
        };
        let fetch_only = time(Pager::Cursor(0), L, Duration::ZERO);
        let consume_only = time(Pager::Cursor(0), Duration::ZERO, C);
        let row = Row {
            runtime: name,
            latency,
            l_eff: fetch_only / PAGES,
            c_eff: consume_only / PAGES,
            off: time(Pager::Cursor(0), L, C),
            unfold: time(Pager::Unfold, L, C),
            on: time(Pager::Cursor(1), L, C),
            on_k2: time(Pager::Cursor(2), L, C),
        };
        eprintln!(
            "{name} {latency:?}: off {} ms, unfold {} ms, prefetch 1 {} ms, prefetch 2 {} ms",
            ms(row.off),
            ms(row.unfold),
            ms(row.on),
            ms(row.on_k2)
        );
        rows.push(row);
    }
    rows
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let runs = if quick { 3 } else { 9 };
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut rows = Vec::new();
    rows.extend(measure(
        "tokio (current-thread)",
        aiter::tokio::Tokio,
        &|f| tokio_rt.block_on(f),
        runs,
    ));
    rows.extend(measure(
        "async-std",
        aiter::async_std::AsyncStd,
        &|f| async_std::task::block_on(f),
        runs,
    ));
    rows.extend(measure(
        "smol",
        aiter::smol::Smol,
        &|f| smol::block_on(f),
        runs,
    ));

    println!();
    println!(
        "{PAGES} pages of {ITEMS} items, L = {} ms, C = {} ms; medians of {runs} runs; times in ms.",
        L.as_millis(),
        C.as_millis()
    );
    println!();
    println!("| runtime | latency | L' | C' | prefetch off | try_unfold (peer) | prefetch 1 | prefetch 2 | pages×(L+C) | pages×max(L,C) | ideal pages×max(L',C')+min | overlap (prefetch 1) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let ideal = r.l_eff.max(r.c_eff) * PAGES + r.l_eff.min(r.c_eff);
        let saved = r.off.as_secs_f64() - r.on.as_secs_f64();
        let possible = r.off.as_secs_f64() - ideal.as_secs_f64();
        let overlap = if possible > 0.0 {
            saved / possible
        } else {
            f64::NAN
        };
        println!(
            "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}% |",
            r.runtime,
            r.latency,
            ms(r.l_eff),
            ms(r.c_eff),
            ms(r.off),
            ms(r.unfold),
            ms(r.on),
            ms(r.on_k2),
            ms((L + C) * PAGES),
            ms(L.max(C) * PAGES),
            ms(ideal),
            overlap * 100.0
        );
    }
}
