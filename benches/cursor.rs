//! Prefetch overlap of aiter's `Cursor`, on tokio, async-std and smol: the
//! `cursor` workload of `aiter-bench` (pages with a simulated fetch latency
//! `L`, a consumer busy `C` per page, prefetch off / prefetch 1 / the
//! `futures::stream::try_unfold` paginator users write today), timed by
//! criterion. The workload, its fixtures and its checks live in
//! `crates/bench/src/workloads/cursor.rs`; this file only drives it.
//!
//! With `L = C`, perfect overlap halves the time of prefetch off (plus one
//! first fetch); `aiter-bench` reports the share of the latency left
//! un-overlapped, and why tokio's 1 ms timer granularity shows in it.
//!
//! `cargo bench --all-features --bench cursor`
#![allow(missing_docs)]

use std::time::Duration;

use aiter_bench::runtime::{block_on, RuntimeKind};
use aiter_bench::workloads::cursor::{expected_sum, Consume, Pager};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const PAGES: u32 = 20;

fn cursor(c: &mut Criterion) {
    let mut group = c.benchmark_group("cursor prefetch");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for kind in RuntimeKind::ALL {
        for pager in Pager::ALL {
            group.bench_function(BenchmarkId::new(pager.name(), kind), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let run = Consume {
                            pager,
                            pages: PAGES,
                        };
                        let (elapsed, sum) = block_on(kind, run).expect("the runtime starts");
                        assert_eq!(sum, expected_sum(PAGES));
                        total += elapsed;
                    }
                    total
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, cursor);
criterion_main!(benches);
