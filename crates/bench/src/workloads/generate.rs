//! Generators: the sum of `0..N` produced by an async generator and consumed
//! with `aiter::next`, on each runtime, in nanoseconds per item.
//!
//! aiter's `generate` (a body that awaits `co.yield_(x)`) against
//! `async_stream::stream!` (a macro), and Python's `async def … yield`
//! (`python (asyncio)`). Every item passes through `black_box`, so the
//! compiler cannot fold the loop away; every run checks the sum.
//!
//! The criterion bench `benches/generate.rs` times the same generators
//! ([`aiter_generate`], [`stream_macro`]) and more that the report leaves
//! out ([`hand_written`], [`unfold`], the fallible [`aiter_try_generate`] and
//! [`try_stream_macro`]), consumed by [`drain`] and checked by [`check`].

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::bench::{python, BenchError, Case, Config, Metric, Sample, Workload};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The generator workload (`--only generate`).
#[derive(Debug)]
pub struct Generators;

const NS_PER_ITEM: Metric = Metric {
    name: "time per item",
    unit: "ns/item",
};

/// Which generator a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    Aiter,
    AsyncStream,
}

impl Generator {
    fn name(self) -> &'static str {
        match self {
            Generator::Aiter => "aiter generate",
            Generator::AsyncStream => "async-stream stream!",
        }
    }
}

impl Workload for Generators {
    fn name(&self) -> &'static str {
        "generate"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let n: u64 = if config.quick { 100_000 } else { 2_000_000 };
        let workload = format!("async generator, N={n}");
        let mut parameters = BTreeMap::new();
        parameters.insert("items".to_owned(), n.into());
        let mut cases = Vec::new();
        for kind in RuntimeKind::ALL {
            for generator in [Generator::Aiter, Generator::AsyncStream] {
                cases.push(Case {
                    workload: workload.clone(),
                    implementation: generator.name().to_owned(),
                    runtime: Some(kind),
                    parameters: parameters.clone(),
                    metrics: vec![NS_PER_ITEM],
                    routine: Box::new(move || {
                        let (elapsed, sum) = runtime::block_on(kind, Sum { generator, n })?;
                        check(sum, n)?;
                        Ok(Sample {
                            values: vec![elapsed.as_secs_f64() * 1e9 / n as f64],
                            check: sum,
                        })
                    }),
                });
            }
        }
        let args = vec!["generate".to_owned(), n.to_string()];
        cases.extend(python::case(
            config,
            &workload,
            parameters,
            vec![NS_PER_ITEM],
            args,
        ));
        Ok(cases)
    }
}

/// The sum of `0..n`.
pub fn expected_sum(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Checks that the items of a run summed to the sum of `0..n`.
///
/// # Errors
/// The sum received against the one expected.
pub fn check(sum: u64, n: u64) -> Result<(), BenchError> {
    if sum == expected_sum(n) {
        Ok(())
    } else {
        Err(BenchError(format!(
            "items summed to {sum}, expected {}",
            expected_sum(n)
        )))
    }
}

/// Sums `0..n` from `generator`; returns the time and the sum.
struct Sum {
    generator: Generator,
    n: u64,
}

impl OnRuntime for Sum {
    type Output = (Duration, u64);

    async fn run<R: CliRuntime>(self, _rt: R) -> (Duration, u64) {
        let n = self.n;
        let started = Instant::now();
        let sum = match self.generator {
            Generator::Aiter => drain(aiter_generate(n)).await,
            Generator::AsyncStream => drain(stream_macro(n)).await,
        };
        (started.elapsed(), sum)
    }
}

/// aiter's `generate`: a body that awaits `co.yield_(i)` for `i` in `0..n`.
pub fn aiter_generate(n: u64) -> impl aiter::Stream<Item = u64> {
    aiter::generate(move |co| async move {
        for i in 0..n {
            co.yield_(black_box(i)).await;
        }
    })
}

/// `async_stream::stream!` yielding `0..n`.
pub fn stream_macro(n: u64) -> impl aiter::Stream<Item = u64> {
    async_stream::stream! {
        for i in 0..n {
            yield black_box(i);
        }
    }
}

/// The reference: a hand-written `Stream` over a counter, yielding `0..n`.
pub fn hand_written(n: u64) -> impl aiter::Stream<Item = u64> {
    Counter { next: 0, end: n }
}

struct Counter {
    next: u64,
    end: u64,
}

impl aiter::Stream for Counter {
    type Item = u64;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u64>> {
        if self.next < self.end {
            let i = self.next;
            self.next += 1;
            Poll::Ready(Some(black_box(i)))
        } else {
            Poll::Ready(None)
        }
    }
}

/// `futures::stream::unfold` over a counter, yielding `0..n`.
pub fn unfold(n: u64) -> impl aiter::Stream<Item = u64> {
    futures::stream::unfold(0, move |i| async move {
        (i < n).then_some((black_box(i), i + 1))
    })
}

/// aiter's `try_generate` yielding `Ok(i)` for `i` in `0..n`.
pub fn aiter_try_generate(n: u64) -> impl aiter::Stream<Item = io::Result<u64>> {
    aiter::generate::try_generate(move |co| async move {
        for i in 0..n {
            co.yield_(black_box(i)).await;
        }
        Ok::<(), io::Error>(())
    })
}

/// `async_stream::try_stream!` yielding `Ok(i)` for `i` in `0..n`.
pub fn try_stream_macro(n: u64) -> impl aiter::Stream<Item = io::Result<u64>> {
    async_stream::try_stream! {
        for i in 0..n {
            yield black_box(i);
        }
    }
}

/// Sums the items of `stream`.
pub async fn drain(stream: impl aiter::Stream<Item = u64>) -> u64 {
    let mut stream = pin!(stream);
    let mut sum = 0u64;
    while let Some(i) = aiter::next(&mut stream).await {
        sum = sum.wrapping_add(i);
    }
    sum
}

/// Sums the items of a fallible `stream`.
///
/// # Errors
/// The first `Err` item.
pub async fn try_drain(stream: impl aiter::Stream<Item = io::Result<u64>>) -> io::Result<u64> {
    let mut stream = pin!(stream);
    let mut sum = 0u64;
    while let Some(i) = aiter::next(&mut stream).await {
        sum = sum.wrapping_add(i?);
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generator_yields_every_item_on_every_runtime() {
        for kind in RuntimeKind::ALL {
            for generator in [Generator::Aiter, Generator::AsyncStream] {
                let (_, sum) = runtime::block_on(kind, Sum { generator, n: 1000 }).unwrap();
                assert_eq!(sum, expected_sum(1000), "{generator:?} on {kind}");
            }
        }
    }

    #[test]
    fn every_generator_yields_0_to_n() {
        use futures::executor::block_on;
        for sum in [
            block_on(drain(aiter_generate(1000))),
            block_on(drain(stream_macro(1000))),
            block_on(drain(hand_written(1000))),
            block_on(drain(unfold(1000))),
            block_on(try_drain(aiter_try_generate(1000))).unwrap(),
            block_on(try_drain(try_stream_macro(1000))).unwrap(),
        ] {
            check(sum, 1000).unwrap();
        }
        assert!(check(1, 1000).is_err());
    }
}
