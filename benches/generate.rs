//! Generators side by side: ns/item for the sum of `0..N` (N = 10 M),
//! consumed with `StreamExt::next` on `futures::executor::block_on`. Two
//! groups: plain generators (`generate` against a hand-written `Stream`,
//! `unfold`, `async-stream`'s `stream!`, `async-fn-stream`), and fallible
//! ones (`try_generate` against `try_stream!`, items `Result<u64, io::Error>`).
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
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::{Stream, StreamExt};

const N: u64 = 10_000_000;
const SUM: u64 = N * (N - 1) / 2;

/// The reference: a hand-written `Stream` over a counter.
struct Counter {
    next: u64,
    end: u64,
}

impl Stream for Counter {
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

/// Consumes `stream` with `next`, returning the sum and the count.
fn sum<S: Stream<Item = u64>>(stream: S) -> (u64, u64) {
    futures::executor::block_on(async {
        let mut stream = pin!(stream);
        let (mut sum, mut count) = (0u64, 0u64);
        while let Some(i) = stream.next().await {
            sum = sum.wrapping_add(i);
            count += 1;
        }
        (sum, count)
    })
}

/// Consumes a fallible `stream`, returning the sum of the `Ok` items and the
/// count; an `Err` item fails the run.
fn try_sum<S: Stream<Item = io::Result<u64>>>(stream: S) -> (u64, u64) {
    futures::executor::block_on(async {
        let mut stream = pin!(stream);
        let (mut sum, mut count) = (0u64, 0u64);
        while let Some(i) = stream.next().await {
            sum = sum.wrapping_add(i.expect("no errors in this run"));
            count += 1;
        }
        (sum, count)
    })
}

fn check((sum, count): (u64, u64)) {
    assert_eq!((sum, count), (SUM, N));
}

/// `try_stream!` needs its error type named outside the macro.
fn try_stream_peer(n: u64) -> impl Stream<Item = io::Result<u64>> {
    async_stream::try_stream! {
        for i in 0..n {
            yield black_box(i);
        }
    }
}

fn generators(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate sum 0..N");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));

    group.bench_with_input(BenchmarkId::new("hand-written Stream", N), &N, |b, &n| {
        b.iter(|| check(sum(Counter { next: 0, end: n })));
    });
    group.bench_with_input(BenchmarkId::new("aiter generate", N), &N, |b, &n| {
        b.iter(|| {
            check(sum(aiter::generate::generate(move |co| async move {
                for i in 0..n {
                    co.yield_(black_box(i)).await;
                }
            })))
        });
    });
    group.bench_with_input(BenchmarkId::new("futures unfold", N), &N, |b, &n| {
        b.iter(|| {
            check(sum(futures::stream::unfold(0, move |i| async move {
                (i < n).then_some((black_box(i), i + 1))
            })))
        });
    });
    group.bench_with_input(BenchmarkId::new("async-stream stream!", N), &N, |b, &n| {
        b.iter(|| {
            check(sum(async_stream::stream! {
                for i in 0..n {
                    yield black_box(i);
                }
            }))
        });
    });
    group.bench_with_input(
        BenchmarkId::new("async-fn-stream fn_stream", N),
        &N,
        |b, &n| {
            b.iter(|| {
                check(sum(async_fn_stream::fn_stream(move |emitter| async move {
                    for i in 0..n {
                        emitter.emit(black_box(i)).await;
                    }
                })))
            });
        },
    );
    group.finish();

    let mut group = c.benchmark_group("try_generate sum 0..N");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    group.bench_with_input(BenchmarkId::new("aiter try_generate", N), &N, |b, &n| {
        b.iter(|| {
            check(try_sum(aiter::generate::try_generate(
                move |co| async move {
                    for i in 0..n {
                        co.yield_(black_box(i)).await;
                    }
                    Ok::<(), io::Error>(())
                },
            )))
        });
    });
    group.bench_with_input(
        BenchmarkId::new("async-stream try_stream!", N),
        &N,
        |b, &n| {
            b.iter(|| check(try_sum(try_stream_peer(n))));
        },
    );
    group.finish();
}

criterion_group!(benches, generators);
criterion_main!(benches);
