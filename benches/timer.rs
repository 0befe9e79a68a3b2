//! Timer precision on tokio, async-std and smol: the `timer` workload of
//! `aiter-bench` (aiter's `interval` against each runtime's own), timed by
//! criterion. The workload lives in `crates/bench/src/workloads/timer.rs`;
//! this file only drives it.
//!
//! The figure criterion reports for each routine is the **mean lateness
//! per tick** of a 1 ms interval (the time a tick is received after it was
//! due, summed over the ticks of a run, divided by the ticks), not the run's
//! wall time; `aiter-bench` reports the p50 and p99.
//!
//! `cargo bench --all-features --bench timer`
#![allow(missing_docs)]

use std::time::Duration;

use aiter_bench::runtime::{block_on, RuntimeKind};
use aiter_bench::workloads::timer::{Interval, Ticks};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const TICKS: u32 = 200;

fn timer(c: &mut Criterion) {
    let mut group = c.benchmark_group("interval 1 ms: lateness per tick");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for kind in RuntimeKind::ALL {
        for which in [Interval::Aiter, Interval::Native] {
            group.bench_function(BenchmarkId::new(which.name(kind), kind), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let run = Ticks {
                            which,
                            period: Duration::from_millis(1),
                            ticks: TICKS,
                        };
                        let lateness = block_on(kind, run).expect("the runtime starts");
                        assert_eq!(lateness.len(), TICKS as usize);
                        total += lateness.iter().sum::<Duration>() / TICKS;
                    }
                    total
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, timer);
criterion_main!(benches);
