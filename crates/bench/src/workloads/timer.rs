//! Timer precision: how late the ticks of a 1 ms interval arrive.
//!
//! For each runtime, aiter's [`interval`](aiter::time::interval) against the
//! runtime's own interval: `tokio::time::interval_at`, async-std's
//! `stream::interval`, smol's `Timer::interval`. Tick `k` is due at
//! `start + k × period` (aiter's ticks carry their number, so a skipped tick
//! is accounted for); lateness is the time a tick is received after it was
//! due. An interval that re-arms itself relative to the previous tick
//! (async-std's `stream::interval` sleeps a full period after each tick)
//! drifts, and the drift shows here as growing lateness: that is a
//! precision loss users see too. Each run reports the median (p50) and
//! p99 lateness of its ticks in microseconds; the check is the number of
//! ticks received.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::bench::stats::quantile;
use crate::bench::{BenchError, Case, Config, Metric, Sample, Workload};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The timer precision workload (`--only timer`).
#[derive(Debug)]
pub struct TimerPrecision;

const P50: Metric = Metric {
    name: "p50 tick lateness",
    unit: "µs",
};
const P99: Metric = Metric {
    name: "p99 tick lateness",
    unit: "µs",
};

impl Workload for TimerPrecision {
    fn name(&self) -> &'static str {
        "timer"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let period = Duration::from_millis(1);
        let ticks: u32 = if config.quick { 100 } else { 1000 };
        let workload = format!("interval {} ms", period.as_millis());
        let mut parameters = BTreeMap::new();
        parameters.insert("period_us".to_owned(), (period.as_micros() as u64).into());
        parameters.insert("ticks".to_owned(), ticks.into());

        let mut cases = Vec::new();
        for kind in RuntimeKind::ALL {
            for which in [Interval::Aiter, Interval::Native] {
                cases.push(Case {
                    workload: workload.clone(),
                    implementation: which.name(kind).to_owned(),
                    runtime: Some(kind),
                    parameters: parameters.clone(),
                    metrics: vec![P50, P99],
                    routine: Box::new(move || {
                        let lateness = runtime::block_on(
                            kind,
                            Ticks {
                                which,
                                period,
                                ticks,
                            },
                        )?;
                        let micros: Vec<f64> =
                            lateness.iter().map(|d| d.as_secs_f64() * 1e6).collect();
                        Ok(Sample {
                            values: vec![
                                quantile(&micros, 0.5).unwrap_or(0.0),
                                quantile(&micros, 0.99).unwrap_or(0.0),
                            ],
                            check: micros.len() as u64,
                        })
                    }),
                });
            }
        }
        Ok(cases)
    }
}

/// Whose interval a case times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// `aiter::time::interval` with the runtime value.
    Aiter,
    /// The runtime's own interval.
    Native,
}

impl Interval {
    /// The implementation name in reports, on runtime `kind`.
    pub fn name(self, kind: RuntimeKind) -> &'static str {
        match (self, kind) {
            (Interval::Aiter, _) => "aiter interval",
            (Interval::Native, RuntimeKind::Tokio) => "tokio::time::interval",
            (Interval::Native, RuntimeKind::AsyncStd) => "async_std::stream::interval",
            (Interval::Native, RuntimeKind::Smol) => "smol::Timer::interval",
        }
    }
}

/// Receives `ticks` ticks of a `period` interval and returns how late each
/// was. Run it with [`runtime::block_on`]; the criterion bench
/// `benches/timer.rs` of the workspace root times the same runs.
#[derive(Debug, Clone, Copy)]
pub struct Ticks {
    /// Whose interval.
    pub which: Interval,
    /// The interval's period.
    pub period: Duration,
    /// How many ticks to receive.
    pub ticks: u32,
}

impl OnRuntime for Ticks {
    type Output = Vec<Duration>;

    async fn run<R: CliRuntime>(self, rt: R) -> Vec<Duration> {
        let Ticks {
            which,
            period,
            ticks,
        } = self;
        let mut lateness = Vec::with_capacity(ticks as usize);
        let mut record = |start: Instant, tick: u64| {
            let due = start + period * u32::try_from(tick).unwrap_or(u32::MAX);
            lateness.push(Instant::now().saturating_duration_since(due));
        };
        match (which, R::KIND) {
            (Interval::Aiter, _) => {
                let mut interval = aiter::time::interval(rt, period);
                let start = Instant::now();
                for _ in 0..ticks {
                    let tick = aiter::next(&mut interval)
                        .await
                        .expect("an interval never ends");
                    record(start, tick);
                }
            }
            (Interval::Native, RuntimeKind::Tokio) => {
                let start = Instant::now();
                let first = tokio::time::Instant::from_std(start) + period;
                let mut interval = tokio::time::interval_at(first, period);
                for k in 1..=u64::from(ticks) {
                    interval.tick().await;
                    record(start, k);
                }
            }
            (Interval::Native, RuntimeKind::AsyncStd) => {
                use async_std::stream::StreamExt as _;
                let start = Instant::now();
                let mut interval = async_std::stream::interval(period);
                for k in 1..=u64::from(ticks) {
                    interval.next().await.expect("an interval never ends");
                    record(start, k);
                }
            }
            (Interval::Native, RuntimeKind::Smol) => {
                use smol::stream::StreamExt as _;
                let start = Instant::now();
                let mut interval = smol::Timer::interval_at(start + period, period);
                for k in 1..=u64::from(ticks) {
                    interval.next().await.expect("an interval never ends");
                    record(start, k);
                }
            }
        }
        lateness
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interval_delivers_the_ticks_asked_for_on_every_runtime() {
        for kind in RuntimeKind::ALL {
            for which in [Interval::Aiter, Interval::Native] {
                let work = Ticks {
                    which,
                    period: Duration::from_millis(1),
                    ticks: 5,
                };
                let lateness = runtime::block_on(kind, work).unwrap();
                assert_eq!(lateness.len(), 5, "{} on {kind}", which.name(kind));
            }
        }
    }
}
