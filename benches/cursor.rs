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
//! save (the first fetch cannot overlap anything, hence `+ min`). The same
//! with the nominal `L`, `C` (`T_off` replaced by `pages * (L + C)`) is
//! printed too; it is lower where the runtime's timer makes `L' > L`
//! (tokio's timer fires on 1 ms ticks, so a 4 ms sleep lasts ~5 ms).
//!
//! `cargo bench --bench cursor --features tokio,async-std,smol` (`-- --spin`
//! for a CPU-spinning consumer)
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

/// How the consumer spends `C` per page.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Work {
    /// One blocking `thread::sleep(C)` per page, at its first item: the
    /// consumer is busy (the executor thread is not polling) without
    /// competing for a CPU, so figures hold on a loaded machine.
    Sleep,
    /// `C / ITEMS` of spinning after every item (`--spin`): real CPU work,
    /// but on a shared 2-core machine preemption inflates it.
    Spin,
}

/// Drains `items`, spending `c` per page as `work` says; returns the sum.
async fn consume<S: Stream<Item = Result<u32, E>>, E: std::fmt::Debug>(
    items: S,
    c: Duration,
    work: Work,
) -> u64 {
    let mut items = pin!(items);
    let per_item = c / ITEMS;
    let mut sum = 0u64;
    while let Some(item) = next(&mut items).await {
        let item = item.expect("no error");
        sum += u64::from(item);
        match work {
            _ if c.is_zero() => {}
            Work::Sleep if item % ITEMS == 0 => std::thread::sleep(c),
            Work::Sleep => {}
            Work::Spin => busy_for(per_item),
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
async fn run<R: Rt>(
    rt: R,
    latency: Latency,
    pager: Pager,
    l: Duration,
    c: Duration,
    work: Work,
) -> Duration {
    let start = Instant::now();
    let sum = match (latency, pager) {
        (Latency::Timer, Pager::Cursor(k)) => {
            consume(
                Cursor::new(move |from| fetch_timer(&rt, l, from)).prefetch(k),
                c,
                work,
            )
            .await
        }
        (Latency::Blocking, Pager::Cursor(k)) => {
            consume(
                Cursor::new(move |from| fetch_blocking(&rt, l, from)).prefetch(k),
                c,
                work,
            )
            .await
        }
        (Latency::Timer, Pager::Unfold) => {
            consume(unfold(move |from| fetch_timer(&rt, l, from)), c, work).await
        }
        (Latency::Blocking, Pager::Unfold) => {
            consume(unfold(move |from| fetch_blocking(&rt, l, from)), c, work).await
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
    work: Work,
) -> Vec<Row> {
    let zero = Duration::ZERO;
    // (pager, L, C): fetch only, consume only, then the four contenders.
    let configs = [
        (Pager::Cursor(0), L, zero),
        (Pager::Cursor(0), zero, C),
        (Pager::Cursor(0), L, C),
        (Pager::Unfold, L, C),
        (Pager::Cursor(1), L, C),
        (Pager::Cursor(2), L, C),
    ];
    let mut rows = Vec::new();
    for latency in [Latency::Timer, Latency::Blocking] {
        let once = |(pager, l, c): (Pager, Duration, Duration)| {
            block_on(Box::pin(run(rt.clone(), latency, pager, l, c, work)))
        };
        // One warm-up round, then `runs` rounds, each config once per round
        // (so that load changes hit all of them alike); medians.
        for &config in &configs {
            once(config);
        }
        let mut times: [Vec<Duration>; 6] = Default::default();
        for _ in 0..runs {
            for (config, samples) in configs.iter().zip(&mut times) {
                samples.push(once(*config));
            }
        }
        let [fetch_only, consume_only, off, unfold, on, on_k2] = times.map(median);
        let row = Row {
            runtime: name,
            latency,
            l_eff: fetch_only / PAGES,
            c_eff: consume_only / PAGES,
            off,
            unfold,
            on,
            on_k2,
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
    let work = if std::env::args().any(|a| a == "--spin") {
        Work::Spin
    } else {
        Work::Sleep
    };
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
        work,
    ));
    rows.extend(measure(
        "async-std",
        aiter::async_std::AsyncStd,
        &|f| async_std::task::block_on(f),
        runs,
        work,
    ));
    rows.extend(measure(
        "smol",
        aiter::smol::Smol,
        &|f| smol::block_on(f),
        runs,
        work,
    ));

    println!();
    println!(
        "{PAGES} pages of {ITEMS} items, L = {} ms, C = {} ms ({work:?}); medians of {runs} runs; times in ms.",
        L.as_millis(),
        C.as_millis()
    );
    println!();
    println!("| runtime | latency | L' | C' | prefetch off | try_unfold (peer) | prefetch 1 | prefetch 2 | pages×(L+C) | pages×max(L,C) | ideal pages×max(L',C')+min | overlap (measured L', C') | overlap (nominal L, C) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let ideal = r.l_eff.max(r.c_eff) * PAGES + r.l_eff.min(r.c_eff);
        let saved = r.off.as_secs_f64() - r.on.as_secs_f64();
        let possible = r.off.as_secs_f64() - ideal.as_secs_f64();
        let overlap = if possible > 0.0 {
            saved / possible
        } else {
            f64::NAN
        };
        let serial = ((L + C) * PAGES).as_secs_f64();
        let nominal_ideal = (L.max(C) * PAGES + L.min(C)).as_secs_f64();
        let nominal = (serial - r.on.as_secs_f64()) / (serial - nominal_ideal);
        println!(
            "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}% | {:.0}% |",
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
            overlap * 100.0,
            nominal * 100.0
        );
    }
}
