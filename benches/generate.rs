//! Generators side by side: ns/item for the sum of `0..N` (N = 10 M),
//! consumed with `aiter::next` on `futures::executor::block_on`. Two
//! groups: plain generators (`generate` against a hand-written `Stream`,
//! `unfold`, `async-stream`'s `stream!`, `async-fn-stream`), and fallible
//! ones (`try_generate` against `try_stream!`, items `Result<u64, io::Error>`).
//!
//! The generators, the consumer and the sum check are those of the
//! `generate` workload of `aiter-bench` (`crates/bench/src/workloads/generate.rs`,
//! which the report runs on each runtime at a smaller N); only
//! `async-fn-stream`, a peer the report leaves out, is written here.
//!
//! Every producer passes each item through `black_box`, so the compiler
//! cannot turn a fully inlined generator into a vectorised counting loop
//! (it did for `async-stream` in some builds: 0.4 ns/item, which measured
//! code-generation luck rather than the generator).
//!
//! `cargo bench --all-features --bench generate`; ns/item = median / N.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io;

use aiter_bench::workloads::generate::{
    aiter_generate, aiter_try_generate, check, drain, hand_written, stream_macro, try_drain,
    try_stream_macro, unfold,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::executor::block_on;
use futures::Stream;

const N: u64 = 10_000_000;

/// Sums `stream` and checks that it is the sum of `0..n`.
fn sum(stream: impl Stream<Item = u64>, n: u64) {
    check(block_on(drain(stream)), n).expect("the sum of 0..N");
}

/// Sums a fallible `stream` (an `Err` item fails the run) and checks that
/// it is the sum of `0..n`.
fn try_sum(stream: impl Stream<Item = io::Result<u64>>, n: u64) {
    let sum = block_on(try_drain(stream)).expect("no errors in this run");
    check(sum, n).expect("the sum of 0..N");
}

/// `async_fn_stream::fn_stream` yielding `0..n`: measured here only.
fn fn_stream(n: u64) -> impl Stream<Item = u64> {
    async_fn_stream::fn_stream(move |emitter| async move {
        for i in 0..n {
            emitter.emit(black_box(i)).await;
        }
    })
}

/// A benchmark id and its routine: one run over `0..n`, checked.
type Peer = (&'static str, fn(u64));

fn generators(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate sum 0..N");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    let peers: [Peer; 5] = [
        ("hand-written Stream", |n| sum(hand_written(n), n)),
        ("aiter generate", |n| sum(aiter_generate(n), n)),
        ("futures unfold", |n| sum(unfold(n), n)),
        ("async-stream stream!", |n| sum(stream_macro(n), n)),
        ("async-fn-stream fn_stream", |n| sum(fn_stream(n), n)),
    ];
    for (name, run) in peers {
        group.bench_with_input(BenchmarkId::new(name, N), &N, |b, &n| b.iter(|| run(n)));
    }
    group.finish();

    let mut group = c.benchmark_group("try_generate sum 0..N");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    let peers: [Peer; 2] = [
        ("aiter try_generate", |n| try_sum(aiter_try_generate(n), n)),
        ("async-stream try_stream!", |n| {
            try_sum(try_stream_macro(n), n)
        }),
    ];
    for (name, run) in peers {
        group.bench_with_input(BenchmarkId::new(name, N), &N, |b, &n| b.iter(|| run(n)));
    }
    group.finish();
}

criterion_group!(benches, generators);
criterion_main!(benches);
