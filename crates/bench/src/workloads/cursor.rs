//! The cursor's prefetch: pages with a simulated fetch latency `L` (a sleep
//! on the runtime's timer, through aiter's `Timer`), a consumer that is busy
//! for `C` per page (a blocking `thread::sleep` at each page's first item:
//! the executor is not polling, as with real work), prefetch off vs on, on
//! each runtime; the peer is the paginator users write today,
//! `futures::stream::try_unfold` + `try_flatten` (no prefetch).
//!
//! Two metrics per run: the total time, and the share of the fetch latency
//! the consumer still waited for,
//!
//! ```text
//! not overlapped = (T - pages × C) / (pages × L)
//! ```
//!
//! (100 % without prefetch, more where the timer overshoots `L`; with
//! perfect overlap only the first fetch is waited for: 1 / pages). The
//! overlap fraction is 100 % minus it. Every run sums the items it received
//! (the check). tokio's timer has a 1 ms granularity: its 4 ms sleep lasts
//! about 5 ms, which shows in both metrics; [`timer_note`] says so in the
//! report when it does.
//!
//! The Python row (`python (asyncio)`) is the same pager written as Python
//! does: an async generator over pages with an awaited fetch, no prefetch.
//!
//! The criterion bench `benches/cursor.rs` of the workspace root times the
//! same [`Consume`] runs.

use std::collections::BTreeMap;
use std::pin::pin;
use std::time::{Duration, Instant};

use aiter::cursor::{Cursor, Page};
use futures::TryStreamExt;

use crate::bench::report::Record;
use crate::bench::{python, BenchError, Case, Config, Metric, Sample, Workload, SECONDS};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The cursor workload (`--only cursor`).
#[derive(Debug)]
pub struct CursorPrefetch;

const NOT_OVERLAPPED: Metric = Metric {
    name: "fetch latency not overlapped",
    unit: "%",
};

/// Items per page.
pub const ITEMS: u32 = 100;
/// Simulated fetch latency per page.
pub const L: Duration = Duration::from_millis(4);
/// Consumer time per page.
pub const C: Duration = Duration::from_millis(4);

/// How a case pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pager {
    /// `Cursor` without prefetch.
    Off,
    /// `Cursor::prefetch(1)`.
    Prefetch,
    /// `try_unfold` + `try_flatten`.
    Unfold,
}

impl Pager {
    /// Every pager, in report order.
    pub const ALL: [Pager; 3] = [Pager::Off, Pager::Prefetch, Pager::Unfold];

    /// The implementation name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Pager::Off => "aiter Cursor, prefetch off",
            Pager::Prefetch => "aiter Cursor, prefetch 1",
            Pager::Unfold => "futures try_unfold (no prefetch)",
        }
    }
}

impl Workload for CursorPrefetch {
    fn name(&self) -> &'static str {
        "cursor"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let pages: u32 = if config.quick { 10 } else { 25 };
        let workload = format!(
            "cursor, {pages} pages, L = {} ms, C = {} ms",
            L.as_millis(),
            C.as_millis()
        );
        let mut parameters = BTreeMap::new();
        parameters.insert("pages".to_owned(), pages.into());
        parameters.insert("items_per_page".to_owned(), ITEMS.into());
        parameters.insert("latency_ms".to_owned(), (L.as_millis() as u64).into());
        parameters.insert(
            "consumer_ms_per_page".to_owned(),
            (C.as_millis() as u64).into(),
        );
        let mut cases = Vec::new();
        for kind in RuntimeKind::ALL {
            for pager in [Pager::Off, Pager::Prefetch, Pager::Unfold] {
                cases.push(Case {
                    workload: workload.clone(),
                    implementation: pager.name().to_owned(),
                    runtime: Some(kind),
                    parameters: parameters.clone(),
                    metrics: vec![SECONDS, NOT_OVERLAPPED],
                    routine: Box::new(move || {
                        let (elapsed, sum) = runtime::block_on(kind, Consume { pager, pages })?;
                        let expected = expected_sum(pages);
                        if sum != expected {
                            return Err(BenchError(format!(
                                "items summed to {sum}, expected {expected}"
                            )));
                        }
                        let waited = elapsed.as_secs_f64() - f64::from(pages) * C.as_secs_f64();
                        let share = 100.0 * waited / (f64::from(pages) * L.as_secs_f64());
                        Ok(Sample {
                            values: vec![elapsed.as_secs_f64(), share.max(0.0)],
                            check: sum,
                        })
                    }),
                });
            }
        }
        let args = vec![
            "cursor".to_owned(),
            pages.to_string(),
            ITEMS.to_string(),
            L.as_millis().to_string(),
            C.as_millis().to_string(),
        ];
        cases.extend(python::case(
            config,
            &workload,
            parameters,
            vec![SECONDS, NOT_OVERLAPPED],
            args,
        ));
        Ok(cases)
    }
}

/// The sum of every item of `pages` pages: what every run must receive.
pub fn expected_sum(pages: u32) -> u64 {
    let n = u64::from(pages * ITEMS);
    n * n.saturating_sub(1) / 2
}

/// The report's note on the cursor group when tokio's timer granularity
/// shows: tokio's "prefetch 1" row leaves clearly more of the latency
/// un-overlapped than the other runtimes' (more than 5 percentage points
/// above the worst of them). Returns the group and the note.
pub fn timer_note(records: &[Record]) -> Option<(String, String)> {
    let share = |pager: Pager, rt: &str| {
        records.iter().find(|r| {
            r.metric == NOT_OVERLAPPED.name
                && r.implementation == pager.name()
                && r.runtime == Some(rt)
        })
    };
    let tokio = share(Pager::Prefetch, "tokio")?;
    let others: Vec<&Record> = ["async-std", "smol"]
        .into_iter()
        .filter_map(|rt| share(Pager::Prefetch, rt))
        .collect();
    let worst_other = others.iter().map(|r| r.median).fold(f64::NAN, f64::max);
    if others.is_empty() || tokio.median <= worst_other + 5.0 {
        return None;
    }
    let elsewhere: Vec<String> = others
        .iter()
        .map(|r| format!("{:.0} % on {}", r.median, r.runtime.unwrap_or("-")))
        .collect();
    let off = share(Pager::Off, "tokio").map_or_else(String::new, |r| {
        format!(
            " Without prefetch tokio waits {:.0} % of the nominal latency: the sleep itself overshoots.",
            r.median
        )
    });
    Some((
        tokio.group(),
        format!(
            "tokio's timer has a 1 ms granularity (it fires on whole-millisecond ticks), so \
             each {} ms fetch sleeps about {} ms. Prefetch leaves {:.0} % of the fetch \
             latency un-overlapped on tokio against {}: the extra is the timer, not the \
             cursor.{off}",
            L.as_millis(),
            L.as_millis() + 1,
            tokio.median,
            elsewhere.join(" and "),
        ),
    ))
}

/// Page `from` (0, 1, …) of `pages`: items `from × ITEMS ..`.
fn page(from: u32, pages: u32) -> Page<Vec<u32>, u32> {
    let items = (from * ITEMS..(from + 1) * ITEMS).collect();
    if from + 1 < pages {
        Page::more(items, from + 1)
    } else {
        Page::done(items)
    }
}

/// Consumes every item of `pages` pages, busy `C` per page (a blocking
/// sleep at each page's first item); returns the time and the sum of the
/// items. Run it with [`runtime::block_on`].
#[derive(Debug, Clone, Copy)]
pub struct Consume {
    /// How it pages.
    pub pager: Pager,
    /// How many pages of [`ITEMS`] items.
    pub pages: u32,
}

impl OnRuntime for Consume {
    type Output = (Duration, u64);

    async fn run<R: CliRuntime>(self, rt: R) -> (Duration, u64) {
        let Consume { pager, pages } = self;
        let fetch = move |from: Option<u32>| async move {
            rt.sleep(L).await;
            Ok::<_, std::convert::Infallible>(page(from.unwrap_or(0), pages))
        };
        let started = Instant::now();
        let sum = match pager {
            Pager::Off => drain(Cursor::new(fetch)).await,
            Pager::Prefetch => drain(Cursor::new(fetch).prefetch(1)).await,
            Pager::Unfold => {
                let mut fetch = fetch;
                let pages =
                    futures::stream::try_unfold(Some(None), move |next: Option<Option<u32>>| {
                        let fut = next.map(&mut fetch);
                        async move {
                            let Some(fut) = fut else {
                                return Ok::<_, std::convert::Infallible>(None);
                            };
                            let page = fut.await?;
                            let items = futures::stream::iter(
                                page.items
                                    .into_iter()
                                    .map(Ok::<u32, std::convert::Infallible>),
                            );
                            let next = page.next.position().map(|&p| Some(p));
                            Ok(Some((items, next)))
                        }
                    });
                drain(pages.try_flatten()).await
            }
        };
        (started.elapsed(), sum)
    }
}

/// Sums the items, sleeping `C` at the first item of each page.
async fn drain<S, E>(items: S) -> u64
where
    S: futures::Stream<Item = Result<u32, E>>,
    E: std::fmt::Debug,
{
    let mut items = pin!(items);
    let mut sum = 0u64;
    while let Some(item) = aiter::next(&mut items).await {
        let item = item.expect("the fetch never fails");
        if item % ITEMS == 0 {
            std::thread::sleep(C);
        }
        sum += u64::from(item);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pager_delivers_every_item_on_every_runtime() {
        for kind in RuntimeKind::ALL {
            for pager in [Pager::Off, Pager::Prefetch, Pager::Unfold] {
                let (elapsed, sum) = runtime::block_on(kind, Consume { pager, pages: 5 }).unwrap();
                assert_eq!(sum, (0..500u64).sum::<u64>(), "{pager:?} on {kind}");
                assert!(elapsed >= 5 * C, "{pager:?} on {kind}: {elapsed:?}");
            }
        }
    }
}
