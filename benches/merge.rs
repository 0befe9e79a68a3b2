//! Merging N streams: aiter's `merge` against its peers, on tokio
//! (current-thread), async-std and smol: the `merge` workload of
//! `aiter-bench` (its inputs, schedule, merges, `tasks` and `oracle`
//! entries and result check live in `crates/bench/src/workloads/merge.rs`),
//! timed by criterion at larger N and item counts, plus futures-buffered's
//! `MergeUnbounded` (a peer only this bench measures) and an allocation pass.
//!
//! - *ready*: every input is `futures::stream::iter` over a range (always
//!   ready); `MERGE_BENCH_ITEMS` items in total (default 4,000,000).
//! - *sparse*: every input is a `futures::channel::mpsc` unbounded receiver;
//!   a producer joined with the consumer in the same task sends to inputs in
//!   a seeded random order, 8 at a time, then yields, so about 8 of N inputs
//!   are ready when the merge is polled; `MERGE_BENCH_SPARSE_ITEMS` items
//!   (default 500,000), and at least 16 per input (1,048,576 at N = 65536;
//!   see `SPARSE_MIN_ITEMS_PER_INPUT`).
//!
//! Slow entries consume fewer items so that the whole run stays under ten
//! minutes (see [`cap`]): ready-case peers at ~50-100 ns/item, and (much
//! fewer) the peers that scan all N inputs per item at large N, whose ids
//! then say `(capped)`. Criterion takes 10 samples per entry after a 0.2 s
//! warm-up, over at least 1 s.
//!
//! Timing covers consuming the items only: the inputs, the merge and (for
//! `tasks`) the spawned forwarders are built before the clock starts. The
//! *oracle* is the floor: no merge, the consumer reads the input it knows is
//! ready. Judge each runtime against its own oracle.
//!
//! Every routine checks the count and the sum of what it received.
//!
//! `MERGE_BENCH_ALLOCS=1 cargo bench --bench merge --features tokio,async-std,smol`
//! skips criterion and prints heap allocations per item (the measuring
//! thread's, consuming phase only) for every entry, as a markdown table.
//! `MERGE_BENCH_ONE="sparse aiter smol 65536 200000"` runs one entry once
//! (for callgrind or perf) and prints its time per item;
//! `MERGE_BENCH_YIELD=1` prints what one cooperative yield costs on each
//! executor.
#![allow(missing_docs)]

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aiter_bench::allocs;
use aiter_bench::runtime::{CliRuntime, OnRuntime, RuntimeKind};
use aiter_bench::workloads::merge::{
    check, run_merge, schedule, Impl, Inputs, MergeRun, Merger, Outcome, Probe, Shape,
    SPARSE_MIN_ITEMS_PER_INPUT,
};
use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};
use futures::Stream;

// ---------------------------------------------------------------------------
// Allocation counting (only switched on by `MERGE_BENCH_ALLOCS`): aiter-bench's
// counting allocator, which counts the measuring thread's allocations while
// the clock runs.

#[global_allocator]
static GLOBAL: allocs::CountingAlloc = allocs::CountingAlloc;

static COUNT_MODE: AtomicBool = AtomicBool::new(false);

/// The [`Probe`] of every run: counts allocations while the clock runs, in
/// the allocation pass.
fn count_allocations(clock_running: bool) {
    if COUNT_MODE.load(Ordering::Relaxed) {
        allocs::probe(clock_running);
    }
}

// ---------------------------------------------------------------------------
// What is measured.

const SIZES: [usize; 4] = [2, 64, 1024, 65_536];

/// An entry: a merge of the workload, or futures-buffered's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Workload(Impl),
    FbMergeUnbounded,
}

const ENTRIES: [Entry; 7] = [
    Entry::Workload(Impl::Aiter),
    Entry::Workload(Impl::SelectAll),
    Entry::Workload(Impl::StreamMap),
    Entry::Workload(Impl::FcMerge),
    Entry::FbMergeUnbounded,
    Entry::Workload(Impl::Tasks),
    Entry::Workload(Impl::Oracle),
];

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Workload(imp) => imp.name(),
            Entry::FbMergeUnbounded => "futures-buffered MergeUnbounded",
        }
    }
}

/// futures-buffered's `MergeUnbounded`, timed by the workload's code.
#[derive(Clone, Copy)]
struct FbMergeUnbounded;

impl Merger for FbMergeUnbounded {
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static,
    {
        inputs
            .into_iter()
            .collect::<futures_buffered::MergeUnbounded<S>>()
    }
}

/// One run of [`FbMergeUnbounded`].
struct FbRun {
    inputs: Inputs,
    probe: Probe,
}

impl OnRuntime for FbRun {
    type Output = Outcome;

    async fn run<R: CliRuntime>(self, rt: R) -> Outcome {
        run_merge(rt, FbMergeUnbounded, &self.inputs, self.probe).await
    }
}

/// Runs `work` on `kind`: as `aiter_bench::runtime::block_on` does, except
/// that tokio is the given current-thread runtime, built once and without
/// the I/O and time drivers (a merge needs neither; with them, every
/// cooperative yield of a merge costs the driver's system calls).
fn block_on<W: OnRuntime>(
    kind: RuntimeKind,
    tokio: &tokio::runtime::Runtime,
    work: W,
) -> W::Output {
    match kind {
        RuntimeKind::Tokio => tokio.block_on(work.run(aiter::tokio::Tokio)),
        RuntimeKind::AsyncStd => async_std::task::block_on(work.run(aiter::async_std::AsyncStd)),
        RuntimeKind::Smol => smol::block_on(work.run(aiter::smol::Smol)),
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

fn env_items(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Items consumed per run, so that the whole bench finishes in a few
/// minutes (every figure is per item, so a shorter run measures the same
/// thing, with a little more noise):
/// - *ready*: at N <= 1024, peers that cost ~50-100 ns/item (select_all,
///   futures-concurrency, futures-buffered, tasks) merge inputs a quarter as
///   long (1 M items in total instead of the default 4 M; still >= 976 items
///   per input, so per-input start-up costs stay negligible); aiter,
///   StreamMap and the oracle merge all of them. At N = 65536 (61 items per
///   input) every entry merges all of them: shorter inputs would load the
///   peers with more per-input start-up cost per item.
/// - *sparse*: peers that poll every input per item (StreamMap) or scan
///   every input's readiness per item (futures-concurrency) would take
///   minutes per sample at large N, so they consume a much shorter prefix
///   of the same schedule, and the id says `(capped)`; every other entry
///   consumes all of it.
fn cap(entry: Entry, shape: Shape, n: usize, items: usize) -> usize {
    use Entry::Workload as W;
    let capped = match (shape, entry, n) {
        (Shape::Ready, W(Impl::Aiter | Impl::StreamMap | Impl::Oracle), _) => items,
        (Shape::Ready, _, 65_536) => items,
        (Shape::Ready, _, _) => items / 4,
        (Shape::Sparse, W(Impl::StreamMap), 1024) => 50_000,
        (Shape::Sparse, W(Impl::StreamMap), 65_536) => 1_000,
        (Shape::Sparse, W(Impl::FcMerge), 1024) => 100_000,
        (Shape::Sparse, W(Impl::FcMerge), 65_536) => 2_500,
        _ => items,
    };
    capped.min(items)
}

// ---------------------------------------------------------------------------
// Drivers.

/// One run of one entry: builds the inputs (untimed), returns the time taken
/// to consume the items, and how many.
fn run_once(
    shape: Shape,
    entry: Entry,
    kind: RuntimeKind,
    tokio: &tokio::runtime::Runtime,
    n: usize,
    total: usize,
    sched: &Rc<[u32]>,
) -> (Duration, usize) {
    let inputs = match shape {
        // A capped entry merges shorter inputs (and still drains them).
        Shape::Ready => Inputs::Ready {
            n,
            items: cap(entry, shape, n, total),
        },
        Shape::Sparse => Inputs::Sparse {
            n,
            schedule: Rc::clone(sched),
            items: cap(entry, shape, n, sched.len()),
        },
    };
    let items = inputs.items();
    let probe = count_allocations;
    let outcome = match entry {
        Entry::Workload(imp) => block_on(kind, tokio, MergeRun { imp, inputs, probe }),
        Entry::FbMergeUnbounded => block_on(kind, tokio, FbRun { inputs, probe }),
    };
    let elapsed = check(outcome, items).unwrap_or_else(|e| panic!("{}: {e}", entry.name()));
    (elapsed, items)
}

/// The group name and the items of a shape.
fn setting(shape: Shape) -> (&'static str, usize) {
    match shape {
        Shape::Ready => ("merge ready", env_items("MERGE_BENCH_ITEMS", 4_000_000)),
        Shape::Sparse => (
            "merge sparse",
            env_items("MERGE_BENCH_SPARSE_ITEMS", 500_000),
        ),
    }
}

/// The sparse schedule of `n` inputs (empty for the ready shape).
fn sparse_schedule(shape: Shape, n: usize, total: usize) -> Rc<[u32]> {
    match shape {
        Shape::Ready => Rc::from([]),
        Shape::Sparse => schedule(n, total.max(SPARSE_MIN_ITEMS_PER_INPUT * n)).into(),
    }
}

fn bench_shape(c: &mut Criterion, shape: Shape) {
    let (group_name, total) = setting(shape);
    let tokio = tokio_rt();
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(200));
    group.measurement_time(Duration::from_secs(1));
    for n in SIZES {
        let sched = sparse_schedule(shape, n, total);
        for kind in RuntimeKind::ALL {
            for entry in ENTRIES {
                let (all, items) = match shape {
                    Shape::Ready => (total, cap(entry, shape, n, total) / n * n),
                    Shape::Sparse => (sched.len(), cap(entry, shape, n, sched.len())),
                };
                let capped = if shape == Shape::Sparse
                    && matches!(entry, Entry::Workload(Impl::StreamMap | Impl::FcMerge))
                    && items < all
                {
                    " (capped)"
                } else {
                    ""
                };
                group.throughput(Throughput::Elements(items as u64));
                let id = BenchmarkId::new(format!("{} {kind}{capped}", entry.name()), n);
                group.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| run_once(shape, entry, kind, &tokio, n, total, &sched).0)
                            .sum()
                    })
                });
            }
        }
    }
    group.finish();
}

fn bench_ready(c: &mut Criterion) {
    bench_shape(c, Shape::Ready);
}

fn bench_sparse(c: &mut Criterion) {
    bench_shape(c, Shape::Sparse);
}

/// The allocation pass: one run per entry, allocations per consumed item.
fn allocation_table() {
    COUNT_MODE.store(true, Ordering::SeqCst);
    let tokio = tokio_rt();
    println!("| case | impl | runtime | N=2 | N=64 | N=1024 | N=65536 |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for shape in [Shape::Ready, Shape::Sparse] {
        let (_, total) = setting(shape);
        let scheds: Vec<Rc<[u32]>> = SIZES
            .iter()
            .map(|&n| sparse_schedule(shape, n, total))
            .collect();
        for kind in RuntimeKind::ALL {
            for entry in ENTRIES {
                let mut row = format!("| {} | {} | {kind} |", shape.name(), entry.name());
                for (k, &n) in SIZES.iter().enumerate() {
                    // A warm-up run, then the counted one.
                    run_once(shape, entry, kind, &tokio, n, total, &scheds[k]);
                    let (_, items) = run_once(shape, entry, kind, &tokio, n, total, &scheds[k]);
                    let per_item = allocs::last() as f64 / items as f64;
                    row += &format!(" {per_item:.3} |");
                }
                println!("{row}");
            }
        }
    }
}

/// One run of one entry, for profilers (`MERGE_BENCH_ONE`): `SHAPE ENTRY
/// RUNTIME N ITEMS`, e.g. `sparse aiter smol 65536 200000`; ENTRY is
/// `aiter`, `select_all`, `stream_map`, `fc`, `fb`, `tasks` or `oracle`.
/// Prints the time per item.
fn one_run(spec: &str) {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let [shape, entry, kind, n, items] = words[..] else {
        panic!("MERGE_BENCH_ONE: expected `SHAPE ENTRY RUNTIME N ITEMS`, got {spec:?}");
    };
    let shape = match shape {
        "ready" => Shape::Ready,
        "sparse" => Shape::Sparse,
        other => panic!("MERGE_BENCH_ONE: unknown shape {other:?}"),
    };
    let entry = match entry {
        "aiter" => Entry::Workload(Impl::Aiter),
        "select_all" => Entry::Workload(Impl::SelectAll),
        "stream_map" => Entry::Workload(Impl::StreamMap),
        "fc" => Entry::Workload(Impl::FcMerge),
        "fb" => Entry::FbMergeUnbounded,
        "tasks" => Entry::Workload(Impl::Tasks),
        "oracle" => Entry::Workload(Impl::Oracle),
        other => panic!("MERGE_BENCH_ONE: unknown entry {other:?}"),
    };
    let kind = RuntimeKind::ALL
        .into_iter()
        .find(|k| k.name() == kind)
        .unwrap_or_else(|| panic!("MERGE_BENCH_ONE: unknown runtime {kind:?}"));
    let n: usize = n.parse().expect("MERGE_BENCH_ONE: N");
    let items: usize = items.parse().expect("MERGE_BENCH_ONE: ITEMS");
    let (elapsed, items) = run_once(
        shape,
        entry,
        kind,
        &tokio_rt(),
        n,
        items,
        &sparse_schedule(shape, n, items),
    );
    println!(
        "{} {kind} N={n}: {items} items, {:.1} ns/item",
        entry.name(),
        elapsed.as_secs_f64() * 1e9 / items as f64
    );
}

/// What one cooperative yield (wake the own task, return `Pending`) costs on
/// each executor (`MERGE_BENCH_YIELD`): the price a merge pays each time its
/// budget runs out. Prints the median of 5 runs of 100,000 yields.
fn yield_costs() {
    struct Yields(u32);
    impl OnRuntime for Yields {
        type Output = Duration;
        async fn run<R: CliRuntime>(self, _rt: R) -> Duration {
            let started = std::time::Instant::now();
            for _ in 0..self.0 {
                let mut yielded = false;
                std::future::poll_fn(|cx| {
                    if std::mem::replace(&mut yielded, true) {
                        std::task::Poll::Ready(())
                    } else {
                        cx.waker().wake_by_ref();
                        std::task::Poll::Pending
                    }
                })
                .await;
            }
            started.elapsed()
        }
    }
    const YIELDS: u32 = 100_000;
    fn median(mut f: impl FnMut() -> Duration) -> f64 {
        let mut runs: Vec<Duration> = (0..5).map(|_| f()).collect();
        runs.sort();
        runs[2].as_secs_f64() * 1e9 / f64::from(YIELDS)
    }
    let tokio = tokio_rt();
    for kind in RuntimeKind::ALL {
        let ns = median(|| block_on(kind, &tokio, Yields(YIELDS)));
        let executor = if kind == RuntimeKind::Tokio {
            "tokio (current-thread, no drivers)".to_owned()
        } else {
            format!("{kind} (block_on)")
        };
        println!("{executor}: {ns:.0} ns per yield");
    }
    let ns = median(|| {
        aiter_bench::runtime::block_on(RuntimeKind::Tokio, Yields(YIELDS)).expect("tokio runtime")
    });
    println!("tokio (current-thread, all drivers): {ns:.0} ns per yield");
    let ns = median(|| futures::executor::block_on(Yields(YIELDS).run(aiter::tokio::Tokio)));
    println!("futures::executor::block_on: {ns:.0} ns per yield");
}

criterion_group!(benches, bench_ready, bench_sparse);

fn main() {
    if std::env::var_os("MERGE_BENCH_ALLOCS").is_some() {
        allocation_table();
        return;
    }
    if std::env::var_os("MERGE_BENCH_YIELD").is_some() {
        yield_costs();
        return;
    }
    if let Ok(spec) = std::env::var("MERGE_BENCH_ONE") {
        one_run(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
