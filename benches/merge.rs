//! Merging N streams: aiter's `merge` against its peers, on tokio
//! (current-thread), async-std and smol.
//!
//! - *ready*: every input is `futures::stream::iter` over a range (always
//!   ready); `MERGE_BENCH_ITEMS` items in total (default 4,000,000).
//! - *sparse*: every input is a `futures::channel::mpsc` unbounded receiver;
//!   a producer joined with the consumer in the same task sends to inputs in
//!   a seeded random order, 8 at a time, then yields, so about 8 of N inputs
//!   are ready when the merge is polled; `MERGE_BENCH_SPARSE_ITEMS` items
//!   (default 500,000).
//!
//! Slow entries consume fewer items so that the whole run stays under ten
//! minutes (583 s measured on the shared 2-core box at load average ~7, where
//! the previous settings took ~17 min; see [`cap`]): ready-case peers at ~50-100 ns/item, every entry of
//! the sparse case at N = 65536, and (much fewer) the peers that scan all N
//! inputs per item at large N, whose ids then say `(capped)`. Criterion takes
//! 10 samples per entry after a 0.2 s warm-up, over at least 1 s.
//!
//! Timing covers consuming the items only: the inputs, the merge and (for
//! `tasks`) the spawned forwarders are built before the clock starts. The
//! *oracle* is the floor: no merge, the consumer reads the input it knows is
//! ready. Judge each runtime against its own oracle.
//!
//! Every routine checks the count and the sum of what it received.
//!
//! `MERGE_BENCH_ALLOCS=1 cargo bench --bench merge --features tokio,async-std,smol`
//! skips criterion and prints heap allocations per item (whole process,
//! consuming phase only) for every entry, as a markdown table.
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{Stream, StreamExt};

// ---------------------------------------------------------------------------
// Allocation counting (only switched on by `MERGE_BENCH_ALLOCS`).

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` unchanged; the counter is a
// static atomic (no allocation, no re-entrancy).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as above; `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

static COUNT_MODE: AtomicBool = AtomicBool::new(false);

/// Runs `f`, timing it (and counting allocations in the allocation pass).
async fn timed(f: impl Future<Output = u64>) -> (Duration, u64) {
    let count = COUNT_MODE.load(Ordering::Relaxed);
    if count {
        COUNTING.store(true, Ordering::SeqCst);
    }
    let start = Instant::now();
    let sum = f.await;
    let elapsed = start.elapsed();
    if count {
        COUNTING.store(false, Ordering::SeqCst);
    }
    (elapsed, sum)
}

// ---------------------------------------------------------------------------
// What is measured.

const SIZES: [usize; 4] = [2, 64, 1024, 65_536];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Impl {
    Aiter,
    SelectAll,
    StreamMap,
    FcMerge,
    FbMergeUnbounded,
    Tasks,
    Oracle,
}

const IMPLS: [Impl; 7] = [
    Impl::Aiter,
    Impl::SelectAll,
    Impl::StreamMap,
    Impl::FcMerge,
    Impl::FbMergeUnbounded,
    Impl::Tasks,
    Impl::Oracle,
];

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Aiter => "aiter merge",
            Impl::SelectAll => "futures select_all",
            Impl::StreamMap => "tokio-stream StreamMap",
            Impl::FcMerge => "futures-concurrency Merge",
            Impl::FbMergeUnbounded => "futures-buffered MergeUnbounded",
            Impl::Tasks => "tasks",
            Impl::Oracle => "oracle",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Ready,
    Sparse,
}

#[derive(Clone, Copy)]
enum Rt {
    Tokio,
    AsyncStd,
    Smol,
}

const RUNTIMES: [Rt; 3] = [Rt::Tokio, Rt::AsyncStd, Rt::Smol];

impl Rt {
    fn name(self) -> &'static str {
        match self {
            Rt::Tokio => "tokio",
            Rt::AsyncStd => "async-std",
            Rt::Smol => "smol",
        }
    }
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
/// - *sparse*: at N = 65536 every entry consumes half of the schedule
///   (each item costs ~1 µs there, mostly cache misses shared by every
///   entry); peers that poll every input per item (StreamMap) or scan every
///   input's readiness per item (futures-concurrency) would take minutes per
///   sample at large N, so they consume a much shorter prefix of the same
///   schedule, and the id says `(capped)`.
fn cap(imp: Impl, case: Case, n: usize, items: usize) -> usize {
    let capped = match (case, imp, n) {
        (Case::Ready, Impl::Aiter | Impl::StreamMap | Impl::Oracle, _) => items,
        (Case::Ready, _, 65_536) => items,
        (Case::Ready, _, _) => items / 4,
        (Case::Sparse, Impl::StreamMap, 1024) => 50_000,
        (Case::Sparse, Impl::StreamMap, 65_536) => 1_000,
        (Case::Sparse, Impl::FcMerge, 1024) => 100_000,
        (Case::Sparse, Impl::FcMerge, 65_536) => 2_500,
        (Case::Sparse, _, 65_536) => items / 2,
        _ => items,
    };
    capped.min(items)
}

/// Spawns forwarding tasks on the runtime being measured.
#[derive(Clone)]
enum Spawner {
    Tokio,
    AsyncStd,
    Smol(Rc<smol::LocalExecutor<'static>>),
}

impl Spawner {
    fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        match self {
            Spawner::Tokio => drop(tokio::spawn(fut)),
            Spawner::AsyncStd => drop(async_std::task::spawn_local(fut)),
            Spawner::Smol(ex) => ex.spawn(fut).detach(),
        }
    }
}

/// Runs the future made by `f` to completion on `rt` (tokio: the given
/// current-thread runtime; async-std: `task::block_on`, which also runs its
/// thread-local executor; smol: `block_on` of a `LocalExecutor`).
fn run_on<F: Future>(
    rt: Rt,
    tokio: &tokio::runtime::Runtime,
    f: impl FnOnce(Spawner) -> F,
) -> F::Output {
    match rt {
        Rt::Tokio => tokio.block_on(f(Spawner::Tokio)),
        Rt::AsyncStd => async_std::task::block_on(f(Spawner::AsyncStd)),
        Rt::Smol => {
            let ex = Rc::new(smol::LocalExecutor::new());
            let fut = f(Spawner::Smol(Rc::clone(&ex)));
            smol::block_on(ex.run(fut))
        }
    }
}

/// Returns `Pending` once after waking its task.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// The value of an item of any of the merged streams.
trait Value {
    fn value(self) -> u64;
}
impl Value for u64 {
    fn value(self) -> u64 {
        self
    }
}
impl Value for (usize, u64) {
    fn value(self) -> u64 {
        self.1
    }
}

/// Takes `items` items from `s` and sums them.
async fn drain<S: Stream<Item: Value> + Unpin>(s: &mut S, items: usize) -> u64 {
    let mut sum = 0;
    for _ in 0..items {
        sum += s.next().await.expect("an item").value();
    }
    sum
}

fn expected_sum(items: usize) -> u64 {
    let n = items as u64;
    n * n.saturating_sub(1) / 2
}

// ---------------------------------------------------------------------------
// Ready case.

type ReadyInput = futures::stream::Iter<std::ops::Range<u64>>;

fn ready_inputs(n: usize, total: usize) -> (Vec<ReadyInput>, usize) {
    let per = (total / n) as u64;
    let inputs = (0..n as u64)
        .map(|i| futures::stream::iter(i * per..(i + 1) * per))
        .collect();
    (inputs, per as usize * n)
}

async fn ready(imp: Impl, inputs: Vec<ReadyInput>, items: usize, spawn: Spawner) -> Duration {
    let n = inputs.len();
    let (elapsed, sum) = match imp {
        Impl::Aiter => {
            let mut m = aiter::merge::merge(inputs);
            timed(drain(&mut m, items)).await
        }
        Impl::SelectAll => {
            let mut m = futures::stream::select_all(inputs);
            timed(drain(&mut m, items)).await
        }
        Impl::StreamMap => {
            let mut m = tokio_stream::StreamMap::with_capacity(n);
            // `extend` pushes without the O(N) duplicate check of `insert`.
            m.extend(inputs.into_iter().enumerate());
            timed(drain(&mut m, items)).await
        }
        Impl::FcMerge => {
            use futures_concurrency::stream::Merge as _;
            let mut m = pin!(inputs.merge());
            timed(drain(&mut m, items)).await
        }
        Impl::FbMergeUnbounded => {
            let mut m: futures_buffered::MergeUnbounded<_> = inputs.into_iter().collect();
            timed(drain(&mut m, items)).await
        }
        Impl::Tasks => {
            let (tx, mut rx) = unbounded();
            for mut input in inputs {
                let tx = tx.clone();
                spawn.spawn(async move {
                    while let Some(x) = input.next().await {
                        tx.unbounded_send(x).expect("the consumer is alive");
                    }
                });
            }
            drop(tx);
            let out = timed(drain(&mut rx, items)).await;
            // Outside the clock: let every forwarder finish.
            while rx.next().await.is_some() {}
            out
        }
        Impl::Oracle => {
            timed(async move {
                let mut sum = 0;
                for mut input in inputs {
                    while let Some(x) = input.next().await {
                        sum += x;
                    }
                }
                sum
            })
            .await
        }
    };
    assert_eq!(sum, expected_sum(items));
    elapsed
}

// ---------------------------------------------------------------------------
// Sparse case.

/// Which input gets each item: every input `total / n` times, shuffled with
/// a fixed seed.
fn schedule(n: usize, total: usize) -> Vec<u32> {
    let per = (total / n).max(1);
    let mut order: Vec<u32> = (0..n as u32)
        .flat_map(|i| std::iter::repeat_n(i, per))
        .collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64 ^ n as u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

type Channels = (Vec<UnboundedSender<u64>>, Vec<UnboundedReceiver<u64>>);

fn channels(n: usize) -> Channels {
    (0..n).map(|_| unbounded()).unzip()
}

/// Sends item `k` to input `schedule[k]`, 8 at a time, yielding after each
/// batch.
async fn produce(senders: &[UnboundedSender<u64>], schedule: &[u32]) {
    for (b, batch) in schedule.chunks(8).enumerate() {
        for (j, &i) in batch.iter().enumerate() {
            senders[i as usize]
                .unbounded_send((b * 8 + j) as u64)
                .expect("input alive");
        }
        yield_now().await;
    }
}

async fn sparse(
    imp: Impl,
    (senders, mut receivers): Channels,
    schedule: &[u32],
    spawn: Spawner,
) -> Duration {
    let items = schedule.len();
    let n = receivers.len();
    let producer = produce(&senders, schedule);
    let (elapsed, sum) = match imp {
        Impl::Aiter => {
            let mut m = aiter::merge::merge(receivers);
            timed(async { futures::join!(producer, drain(&mut m, items)).1 }).await
        }
        Impl::SelectAll => {
            let mut m = futures::stream::select_all(receivers);
            timed(async { futures::join!(producer, drain(&mut m, items)).1 }).await
        }
        Impl::StreamMap => {
            let mut m = tokio_stream::StreamMap::with_capacity(n);
            m.extend(receivers.into_iter().enumerate());
            timed(async { futures::join!(producer, drain(&mut m, items)).1 }).await
        }
        Impl::FcMerge => {
            use futures_concurrency::stream::Merge as _;
            let mut m = pin!(receivers.merge());
            timed(async { futures::join!(producer, drain(&mut m, items)).1 }).await
        }
        Impl::FbMergeUnbounded => {
            let mut m: futures_buffered::MergeUnbounded<_> = receivers.into_iter().collect();
            timed(async { futures::join!(producer, drain(&mut m, items)).1 }).await
        }
        Impl::Tasks => {
            let (tx, mut rx) = unbounded();
            for mut input in receivers {
                let tx = tx.clone();
                spawn.spawn(async move {
                    while let Some(x) = input.next().await {
                        tx.unbounded_send(x).expect("the consumer is alive");
                    }
                });
            }
            drop(tx);
            let out = timed(async { futures::join!(producer, drain(&mut rx, items)).1 }).await;
            // Outside the clock: end the inputs and let every forwarder finish.
            drop(senders);
            while rx.next().await.is_some() {}
            return check(out, items);
        }
        Impl::Oracle => {
            timed(async {
                let mut sum = 0;
                for (b, batch) in schedule.chunks(8).enumerate() {
                    for (j, &i) in batch.iter().enumerate() {
                        senders[i as usize]
                            .unbounded_send((b * 8 + j) as u64)
                            .expect("input alive");
                    }
                    yield_now().await;
                    for &i in batch {
                        sum += receivers[i as usize].next().await.expect("sent");
                    }
                }
                sum
            })
            .await
        }
    };
    check((elapsed, sum), items)
}

fn check((elapsed, sum): (Duration, u64), items: usize) -> Duration {
    assert_eq!(sum, expected_sum(items));
    elapsed
}

// ---------------------------------------------------------------------------
// Drivers.

/// One run of one entry: builds the inputs (untimed), returns the time taken
/// to consume `items` items.
fn run_once(
    case: Case,
    imp: Impl,
    rt: Rt,
    tokio: &tokio::runtime::Runtime,
    n: usize,
    total: usize,
    sched: &[u32],
) -> (Duration, usize) {
    match case {
        Case::Ready => {
            // A capped entry merges shorter inputs (and still drains them).
            let (inputs, items) = ready_inputs(n, cap(imp, case, n, total));
            let t = run_on(rt, tokio, |spawn| ready(imp, inputs, items, spawn));
            (t, items)
        }
        Case::Sparse => {
            let items = cap(imp, case, n, sched.len());
            let sched = &sched[..items];
            let chans = channels(n);
            let t = run_on(rt, tokio, |spawn| sparse(imp, chans, sched, spawn));
            (t, items)
        }
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

fn bench_case(c: &mut Criterion, case: Case) {
    let (group_name, total) = match case {
        Case::Ready => ("merge ready", env_items("MERGE_BENCH_ITEMS", 4_000_000)),
        Case::Sparse => (
            "merge sparse",
            env_items("MERGE_BENCH_SPARSE_ITEMS", 500_000),
        ),
    };
    let tokio = tokio_rt();
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(200));
    group.measurement_time(Duration::from_secs(1));
    for n in SIZES {
        let sched = if case == Case::Sparse {
            schedule(n, total)
        } else {
            vec![]
        };
        for rt in RUNTIMES {
            for imp in IMPLS {
                let (all, items) = match case {
                    Case::Ready => (total, cap(imp, case, n, total) / n * n),
                    Case::Sparse => (sched.len(), cap(imp, case, n, sched.len())),
                };
                let capped = if case == Case::Sparse
                    && matches!(imp, Impl::StreamMap | Impl::FcMerge)
                    && items < all
                {
                    " (capped)"
                } else {
                    ""
                };
                group.throughput(Throughput::Elements(items as u64));
                let id = BenchmarkId::new(format!("{} {}{}", imp.name(), rt.name(), capped), n);
                group.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| run_once(case, imp, rt, &tokio, n, total, &sched).0)
                            .sum()
                    })
                });
            }
        }
    }
    group.finish();
}

fn bench_ready(c: &mut Criterion) {
    bench_case(c, Case::Ready);
}

fn bench_sparse(c: &mut Criterion) {
    bench_case(c, Case::Sparse);
}

/// The allocation pass: one run per entry, allocations per consumed item.
fn allocation_table() {
    COUNT_MODE.store(true, Ordering::SeqCst);
    let tokio = tokio_rt();
    println!("| case | impl | runtime | N=2 | N=64 | N=1024 | N=65536 |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for (case, name, total) in [
        (
            Case::Ready,
            "ready",
            env_items("MERGE_BENCH_ITEMS", 4_000_000),
        ),
        (
            Case::Sparse,
            "sparse",
            env_items("MERGE_BENCH_SPARSE_ITEMS", 500_000),
        ),
    ] {
        let scheds: Vec<Vec<u32>> = SIZES
            .iter()
            .map(|&n| {
                if case == Case::Sparse {
                    schedule(n, total)
                } else {
                    vec![]
                }
            })
            .collect();
        for rt in RUNTIMES {
            for imp in IMPLS {
                let mut row = format!("| {name} | {} | {} |", imp.name(), rt.name());
                for (k, &n) in SIZES.iter().enumerate() {
                    // A warm-up run, then the counted one.
                    run_once(case, imp, rt, &tokio, n, total, &scheds[k]);
                    ALLOCATIONS.store(0, Ordering::SeqCst);
                    let (_, items) = run_once(case, imp, rt, &tokio, n, total, &scheds[k]);
                    let per_item = ALLOCATIONS.load(Ordering::SeqCst) as f64 / items as f64;
                    row += &format!(" {per_item:.3} |");
                }
                println!("{row}");
            }
        }
    }
}

criterion_group!(benches, bench_ready, bench_sparse);

fn main() {
    if std::env::var_os("MERGE_BENCH_ALLOCS").is_some() {
        allocation_table();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
