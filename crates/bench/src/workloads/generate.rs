//! Generators: the sum of `0..N` produced by an async generator and consumed
//! with `aiter::next`, on each runtime, in nanoseconds per item.
//!
//! aiter's `generate` (a body that awaits `co.yield_(x)`) against
//! `async_stream::stream!` (a macro), and Python's `async def … yield`
//! (`python (asyncio)`). Every item passes through `black_box`, so the
//! compiler cannot fold the loop away; every run checks the sum.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant};

use crate::bench::{python, BenchError, Case, Config, Metric, Sample, Workload};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The generator workload (`--only generate`).
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
                        if sum != expected_sum(n) {
                            return Err(BenchError(format!(
                                "items summed to {sum}, expected {}",
                                expected_sum(n)
                            )));
                        }
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
fn expected_sum(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
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
            Generator::Aiter => {
                drain(aiter::generate(move |co| async move {
                    for i in 0..n {
                        co.yield_(black_box(i)).await;
                    }
                }))
                .await
            }
            Generator::AsyncStream => {
                drain(async_stream::stream! {
                    for i in 0..n {
                        yield black_box(i);
                    }
                })
                .await
            }
        };
        (started.elapsed(), sum)
    }
}

/// Sums the items of `stream`.
async fn drain(stream: impl aiter::Stream<Item = u64>) -> u64 {
    let mut stream = pin!(stream);
    let mut sum = 0u64;
    while let Some(i) = aiter::next(&mut stream).await {
        sum = sum.wrapping_add(i);
    }
    sum
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
}
