//! Merging N streams: aiter's `merge` against `futures::stream::select_all`,
//! `futures_concurrency`'s `Merge` and (on tokio) `tokio_stream::StreamMap`,
//! on each runtime, in nanoseconds and allocations per item, with the
//! *oracle* (no merge: the consumer reads the input it knows is ready) as
//! the floor of each runtime.
//!
//! - *ready*: every input is `futures::stream::iter` over a range, always
//!   ready: the cost of the merge itself.
//! - *sparse*: every input is a `futures::channel::mpsc` receiver; a producer
//!   joined with the consumer in the same task sends to the inputs in a
//!   seeded random order, 8 items at a time, then yields, so about 8 of N
//!   inputs are ready whenever the merge is polled: merges that poll or scan
//!   every input per item pay for N.
//!
//! N is 2, 64 and 1024, and 65536 for the sparse case (2 and 256 with
//! `--quick`); at N = 65536 the merges that poll or scan every input per item
//! (futures-concurrency, StreamMap), and Python's asyncio merge, are left
//! out, with a note: they take tens of microseconds to milliseconds per
//! item there. Timing covers
//! consuming the items only (inputs and merge are built before the clock
//! starts); every run checks the number of items and their sum (the check).
//! Allocations are counted between the clock's start and stop when the
//! binary's counting allocator is installed ([`crate::allocs`]).
//!
//! The report's notes give each entry's overhead over the oracle of its
//! runtime ([`oracle_notes`]): the cost of the merge itself.
//!
//! The criterion bench `benches/merge.rs` runs the same code ([`MergeRun`],
//! [`run_merge`] with its own [`Merger`]) at larger N, with one more peer:
//! futures-buffered's `MergeUnbounded`.

use std::collections::BTreeMap;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{Stream, StreamExt};

use crate::allocs;
use crate::bench::{BenchError, Case, Config, Metric, Sample, Workload};
use crate::report::Record;
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The merge workload (`--only merge`).
#[derive(Debug)]
pub struct MergeStreams;

const NS_PER_ITEM: Metric = Metric {
    name: "time per item",
    unit: "ns/item",
};

const ALLOCS_PER_ITEM: Metric = Metric {
    name: "allocations per item",
    unit: "allocs/item",
};

/// Which merge a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// `aiter::merge::merge`.
    Aiter,
    /// `futures::stream::select_all`.
    SelectAll,
    /// `futures_concurrency::stream::Merge` on a `Vec`.
    FcMerge,
    /// `tokio_stream::StreamMap` (runs on any runtime: it needs no driver).
    StreamMap,
    /// One spawned task per input forwarding into a `futures::channel::mpsc`
    /// channel, the consumer reading the channel.
    Tasks,
    /// No merge: the consumer reads the input it knows is ready (the floor).
    Oracle,
}

impl Impl {
    /// The name reports and benchmark ids use.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Aiter => "aiter merge",
            Impl::SelectAll => "futures select_all",
            Impl::FcMerge => "futures-concurrency Merge",
            Impl::StreamMap => "tokio-stream StreamMap",
            Impl::Tasks => "a task per input",
            Impl::Oracle => "oracle",
        }
    }

    /// The merges the report runs on `kind` with `n` inputs of `shape`
    /// (StreamMap is tokio's; the merges that poll or scan every input per
    /// item sit out the sparse case at N = 65536), then the oracle.
    fn on(kind: RuntimeKind, shape: Shape, n: usize) -> Vec<Impl> {
        let mut all = vec![Impl::Aiter, Impl::SelectAll, Impl::Tasks];
        if !scans_too_long(shape, n) {
            all.push(Impl::FcMerge);
            if kind == RuntimeKind::Tokio {
                all.push(Impl::StreamMap);
            }
        }
        all.push(Impl::Oracle);
        all
    }
}

/// How the inputs produce items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Always-ready inputs.
    Ready,
    /// Channels fed a few at a time.
    Sparse,
}

impl Shape {
    /// `ready` or `sparse`.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Ready => "ready",
            Shape::Sparse => "sparse",
        }
    }
}

/// The inputs of one run (built before the clock starts) and how many items
/// it consumes.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// `n` inputs `futures::stream::iter(i * per..(i + 1) * per)`, `per =
    /// items / n`: the values `0..items / n * n`, every one consumed.
    Ready {
        /// Number of inputs.
        n: usize,
        /// Items in total (rounded down to a multiple of `n`).
        items: usize,
    },
    /// `n` `futures::channel::mpsc` receivers; a producer joined with the
    /// consumer sends item `k` to input `schedule[k]`, 8 at a time, then
    /// yields, for the first `items` entries of the schedule.
    Sparse {
        /// Number of inputs.
        n: usize,
        /// Which input gets each item ([`schedule`]).
        schedule: Rc<[u32]>,
        /// How many entries of `schedule` the run sends and consumes.
        items: usize,
    },
}

/// Items per input the sparse shape sends at least. Every merge polls each
/// of its inputs once before any item arrives, to register its waker (the
/// oracle, which knows what is ready, never does): a cost per input, not
/// per item. At 3 items per input (200,000 items over 65,536 inputs) that
/// start-up was a third of every merge's time per item; at 16 it is a small
/// part, as in a merge that runs for a while.
pub const SPARSE_MIN_ITEMS_PER_INPUT: usize = 16;

impl Inputs {
    /// The inputs of `shape`, `n` of them, `items` items in all (rounded
    /// down to a multiple of `n`; for the sparse shape, at least
    /// [`SPARSE_MIN_ITEMS_PER_INPUT`] per input).
    pub fn new(shape: Shape, n: usize, items: usize) -> Self {
        let items = items / n * n;
        match shape {
            Shape::Ready => Inputs::Ready { n, items },
            Shape::Sparse => {
                let items = items.max(SPARSE_MIN_ITEMS_PER_INPUT * n);
                Inputs::Sparse {
                    n,
                    schedule: schedule(n, items).into(),
                    items,
                }
            }
        }
    }

    /// How many items a run consumes: the values `0..items()`.
    pub fn items(&self) -> usize {
        match self {
            Inputs::Ready { n, items } => items / n * n,
            Inputs::Sparse { items, .. } => *items,
        }
    }
}

/// A merge of `Vec<S>` into one stream: one zero-sized type per library, so
/// that every merge is timed by the same generic code ([`run_merge`]); the
/// criterion bench brings its own (futures-buffered).
pub trait Merger: Copy {
    /// Merges `inputs`.
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static;
}

#[derive(Clone, Copy)]
struct AiterMerge;

impl Merger for AiterMerge {
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static,
    {
        aiter::merge::merge(inputs)
    }
}

#[derive(Clone, Copy)]
struct SelectAll;

impl Merger for SelectAll {
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static,
    {
        futures::stream::select_all(inputs)
    }
}

#[derive(Clone, Copy)]
struct FcMerge;

impl Merger for FcMerge {
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static,
    {
        use futures_concurrency::stream::Merge as _;
        inputs.merge()
    }
}

#[derive(Clone, Copy)]
struct StreamMap;

impl Merger for StreamMap {
    fn merge<S>(self, inputs: Vec<S>) -> impl Stream<Item = u64>
    where
        S: Stream<Item = u64> + Unpin + Send + 'static,
    {
        let mut map = tokio_stream::StreamMap::with_capacity(inputs.len());
        // `extend` pushes without the O(N) duplicate check of `insert`.
        map.extend(inputs.into_iter().enumerate());
        map.map(|(_, x)| x)
    }
}

/// Called with `true` just before the clock of a run starts and `false`
/// just after it stops (the criterion bench counts allocations in between).
pub type Probe = fn(bool);

/// What a run measured: (time consuming, items received, their sum).
pub type Outcome = (Duration, u64, u64);

/// Checks that a run received the values `0..items`, each once (by count
/// and sum); returns its time.
///
/// # Errors
/// What was received against what was expected.
pub fn check((elapsed, count, sum): Outcome, items: usize) -> Result<Duration, BenchError> {
    if count != items as u64 || sum != expected_sum(items) {
        return Err(BenchError(format!(
            "got {count} items summing to {sum}, expected {items} summing to {}",
            expected_sum(items)
        )));
    }
    Ok(elapsed)
}

impl Workload for MergeStreams {
    fn name(&self) -> &'static str {
        "merge"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let count_allocations = allocs::installed();
        let metrics = if count_allocations {
            vec![NS_PER_ITEM, ALLOCS_PER_ITEM]
        } else {
            vec![NS_PER_ITEM]
        };
        let mut cases = Vec::new();
        for shape in [Shape::Ready, Shape::Sparse] {
            let (sizes, total): (&[usize], usize) = match (shape, config.quick) {
                (Shape::Ready, false) => (&[2, 64, 1024], 1_000_000),
                (Shape::Ready, true) => (&[2, 256], 200_000),
                (Shape::Sparse, false) => (&[2, 64, 1024, 65_536], 200_000),
                (Shape::Sparse, true) => (&[2, 256], 50_000),
            };
            for &n in sizes {
                if scans_too_long(shape, n) {
                    config.note(format!(
                        "merge {}, N={n}: futures-concurrency Merge, tokio-stream \
                         StreamMap and python (asyncio) are left out (tens of µs to ms \
                         per item at this N)",
                        shape.name()
                    ));
                }
                // Every input gets the same number of items.
                let inputs = Inputs::new(shape, n, total);
                let items = inputs.items();
                let workload = format!("merge {}, N={n}", shape.name());
                let mut parameters = BTreeMap::new();
                parameters.insert("inputs".to_owned(), n.into());
                parameters.insert("items".to_owned(), items.into());
                parameters.insert("shape".to_owned(), shape.name().into());
                if scans_too_long(shape, n) {
                    // No Python row either (see `python::derived_cases`).
                    parameters.insert("python".to_owned(), false.into());
                }
                for kind in RuntimeKind::ALL {
                    for imp in Impl::on(kind, shape, n) {
                        let inputs = inputs.clone();
                        cases.push(Case {
                            workload: workload.clone(),
                            implementation: imp.name().to_owned(),
                            runtime: Some(kind),
                            parameters: parameters.clone(),
                            metrics: metrics.clone(),
                            routine: Box::new(move || {
                                let run = MergeRun {
                                    imp,
                                    inputs: inputs.clone(),
                                    probe: allocs::probe,
                                };
                                let elapsed = check(runtime::block_on(kind, run)?, items)?;
                                let mut values = vec![elapsed.as_secs_f64() * 1e9 / items as f64];
                                if count_allocations {
                                    values.push(allocs::last() as f64 / items as f64);
                                }
                                Ok(Sample {
                                    values,
                                    check: expected_sum(items),
                                })
                            }),
                        });
                    }
                }
            }
        }
        Ok(cases)
    }
}

/// Whether the merges that poll or scan every input per item
/// (futures-concurrency, StreamMap) sit out `n` inputs of `shape`.
fn scans_too_long(shape: Shape, n: usize) -> bool {
    shape == Shape::Sparse && n > 1024
}

/// The notes on the merge groups' time per item: for each group and
/// runtime, every entry's median minus the oracle's (the cost of the merge
/// itself), keyed by the group.
pub fn oracle_notes(records: &[Record]) -> Vec<(String, String)> {
    let mut notes: Vec<(String, String)> = Vec::new();
    let groups = records
        .iter()
        .filter(|r| r.workload.starts_with("merge ") && r.metric == NS_PER_ITEM.name);
    for group in groups.map(Record::group) {
        if notes.iter().any(|(g, _)| *g == group) {
            continue;
        }
        let members: Vec<&Record> = records.iter().filter(|r| r.group() == group).collect();
        let mut parts = Vec::new();
        for rt in RuntimeKind::ALL {
            let on_rt = || members.iter().filter(|r| r.runtime == Some(rt.name()));
            let Some(oracle) = on_rt().find(|r| r.implementation == Impl::Oracle.name()) else {
                continue;
            };
            let mut entries: Vec<(f64, &str)> = on_rt()
                .filter(|r| r.implementation != Impl::Oracle.name())
                .map(|r| (r.median - oracle.median, r.implementation.as_str()))
                .collect();
            entries.sort_by(|a, b| a.0.total_cmp(&b.0));
            let listed: Vec<String> = entries
                .iter()
                .map(|(over, name)| format!("{name} {over:+.1}"))
                .collect();
            parts.push(format!(
                "{rt} (oracle {:.1}): {}",
                oracle.median,
                listed.join(", ")
            ));
        }
        if !parts.is_empty() {
            notes.push((
                group,
                format!("overhead over the oracle, ns/item: {}", parts.join("; ")),
            ));
        }
    }
    notes
}

/// The sum of `0..items`: what every run must receive.
pub fn expected_sum(items: usize) -> u64 {
    let n = items as u64;
    n * n.saturating_sub(1) / 2
}

/// One timed run: builds the inputs and the merge, then consumes every item.
#[derive(Debug, Clone)]
pub struct MergeRun {
    /// The merge.
    pub imp: Impl,
    /// The inputs and how many items to consume.
    pub inputs: Inputs,
    /// Called around the timed part.
    pub probe: Probe,
}

impl OnRuntime for MergeRun {
    type Output = Outcome;

    async fn run<R: CliRuntime>(self, rt: R) -> Outcome {
        let MergeRun { imp, inputs, probe } = self;
        match imp {
            Impl::Aiter => run_merge(rt, AiterMerge, &inputs, probe).await,
            Impl::SelectAll => run_merge(rt, SelectAll, &inputs, probe).await,
            Impl::FcMerge => run_merge(rt, FcMerge, &inputs, probe).await,
            Impl::StreamMap => run_merge(rt, StreamMap, &inputs, probe).await,
            Impl::Tasks => tasks::<R>(&inputs, probe).await,
            Impl::Oracle => oracle(&inputs, probe).await,
        }
    }
}

/// Builds `inputs`, merges them with `merger` and consumes them, timed.
pub async fn run_merge<R: CliRuntime, M: Merger>(
    _rt: R,
    merger: M,
    inputs: &Inputs,
    probe: Probe,
) -> Outcome {
    match inputs {
        &Inputs::Ready { n, items } => {
            let merged = pin!(merger.merge(ready_inputs(n, items)));
            timed(merged, inputs.items(), async {}, probe).await
        }
        Inputs::Sparse { n, schedule, items } => {
            let (senders, receivers) = channels(*n);
            let merged = pin!(merger.merge(receivers));
            // Borrowed: the senders drop after the clock stops, as the
            // oracle's do.
            let produce = produce(&senders, &schedule[..*items]);
            timed(merged, *items, produce, probe).await
        }
    }
}

/// The always-ready inputs: `n` ranges of `items / n` values, `0..items / n * n` in all.
fn ready_inputs(n: usize, items: usize) -> Vec<futures::stream::Iter<std::ops::Range<u64>>> {
    let per = (items / n) as u64;
    (0..n as u64)
        .map(|i| futures::stream::iter(i * per..(i + 1) * per))
        .collect()
}

/// `n` unbounded channels.
fn channels(n: usize) -> (Vec<UnboundedSender<u64>>, Vec<UnboundedReceiver<u64>>) {
    (0..n).map(|_| unbounded()).unzip()
}

/// Sends item `k` to input `schedule[k]`, 8 at a time, yielding after each
/// batch. The caller drops the senders after the clock has stopped (as the
/// oracle does): dropping one wakes its input, and at large N those wakes
/// would be timed as part of the items.
async fn produce(senders: &[UnboundedSender<u64>], schedule: &[u32]) {
    for (b, batch) in schedule.chunks(8).enumerate() {
        for (j, &i) in batch.iter().enumerate() {
            senders[i as usize]
                .unbounded_send((b * 8 + j) as u64)
                .expect("the merge holds every input");
        }
        yield_now().await;
    }
}

/// Spawns forwarding tasks on the runtime being measured.
#[derive(Clone, Copy)]
enum Spawner<'a> {
    Tokio,
    AsyncStd,
    Smol(&'a smol::LocalExecutor<'static>),
}

impl Spawner<'_> {
    fn spawn(self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        match self {
            Spawner::Tokio => drop(tokio::spawn(fut)),
            Spawner::AsyncStd => drop(async_std::task::spawn_local(fut)),
            Spawner::Smol(ex) => ex.spawn(fut).detach(),
        }
    }
}

/// [`Impl::Tasks`] on runtime `R` (smol: inside a `LocalExecutor`, which
/// `smol::block_on` lacks).
async fn tasks<R: CliRuntime>(inputs: &Inputs, probe: Probe) -> Outcome {
    match R::KIND {
        RuntimeKind::Tokio => forward_and_take(Spawner::Tokio, inputs, probe).await,
        RuntimeKind::AsyncStd => forward_and_take(Spawner::AsyncStd, inputs, probe).await,
        RuntimeKind::Smol => {
            let ex = smol::LocalExecutor::new();
            ex.run(forward_and_take(Spawner::Smol(&ex), inputs, probe))
                .await
        }
    }
}

/// One forwarding task per input into one channel; the consumer takes the
/// items from the channel.
async fn forward_and_take(spawner: Spawner<'_>, inputs: &Inputs, probe: Probe) -> Outcome {
    fn forward<S: Stream<Item = u64> + Unpin + Send + 'static>(
        spawner: Spawner<'_>,
        inputs: Vec<S>,
    ) -> UnboundedReceiver<u64> {
        let (tx, rx) = unbounded();
        for mut input in inputs {
            let tx = tx.clone();
            spawner.spawn(async move {
                while let Some(x) = input.next().await {
                    tx.unbounded_send(x).expect("the consumer is alive");
                }
            });
        }
        rx
    }
    let (out, mut rx) = match inputs {
        &Inputs::Ready { n, items } => {
            let mut rx = forward(spawner, ready_inputs(n, items));
            let items = inputs.items();
            (timed(Pin::new(&mut rx), items, async {}, probe).await, rx)
        }
        Inputs::Sparse { n, schedule, items } => {
            let (senders, receivers) = channels(*n);
            let mut rx = forward(spawner, receivers);
            let produce = produce(&senders, &schedule[..*items]);
            let out = timed(Pin::new(&mut rx), *items, produce, probe).await;
            // Outside the clock: the forwarders' inputs end.
            drop(senders);
            (out, rx)
        }
    };
    // Outside the clock: let every forwarder finish.
    while rx.next().await.is_some() {}
    out
}

/// [`Impl::Oracle`]: the consumer reads the input it knows is ready.
async fn oracle(inputs: &Inputs, probe: Probe) -> Outcome {
    let ((count, sum), elapsed) = match inputs {
        &Inputs::Ready { n, items } => {
            let inputs = ready_inputs(n, items);
            clock(probe, async move {
                let (mut count, mut sum) = (0u64, 0u64);
                for mut input in inputs {
                    while let Some(x) = input.next().await {
                        count += 1;
                        sum += x;
                    }
                }
                (count, sum)
            })
            .await
        }
        Inputs::Sparse { n, schedule, items } => {
            let (senders, mut receivers) = channels(*n);
            // Borrowed: the channels drop after the clock stops.
            let (senders, receivers) = (&senders, &mut receivers);
            clock(probe, async move {
                let (mut count, mut sum) = (0u64, 0u64);
                for (b, batch) in schedule[..*items].chunks(8).enumerate() {
                    for (j, &i) in batch.iter().enumerate() {
                        senders[i as usize]
                            .unbounded_send((b * 8 + j) as u64)
                            .expect("input alive");
                    }
                    yield_now().await;
                    for &i in batch {
                        count += 1;
                        sum += receivers[i as usize].next().await.expect("sent");
                    }
                }
                (count, sum)
            })
            .await
        }
    };
    (elapsed, count, sum)
}

/// Awaits `f`, timed, calling `probe` around the clock.
async fn clock<T>(probe: Probe, f: impl std::future::Future<Output = T>) -> (T, Duration) {
    probe(true);
    let started = Instant::now();
    let out = f.await;
    let elapsed = started.elapsed();
    probe(false);
    (out, elapsed)
}

/// Takes `items` items of `merged` (while `produce` runs), timed.
async fn timed(
    mut merged: Pin<&mut impl Stream<Item = u64>>,
    items: usize,
    produce: impl std::future::Future<Output = ()>,
    probe: Probe,
) -> Outcome {
    let take = async {
        let (mut count, mut sum) = (0u64, 0u64);
        while count < items as u64 {
            match merged.next().await {
                Some(x) => {
                    count += 1;
                    sum += x;
                }
                None => break,
            }
        }
        (count, sum)
    };
    let (((), (count, sum)), elapsed) = clock(probe, async { futures::join!(produce, take) }).await;
    (elapsed, count, sum)
}

/// Which input gets each item: every input `items / n` times (at least
/// once), shuffled with a fixed seed (xorshift).
pub fn schedule(n: usize, items: usize) -> Vec<u32> {
    let per = (items / n).max(1);
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

/// Returns `Pending` once after waking its task.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Impl; 6] = [
        Impl::Aiter,
        Impl::SelectAll,
        Impl::FcMerge,
        Impl::StreamMap,
        Impl::Tasks,
        Impl::Oracle,
    ];

    #[test]
    fn every_merge_delivers_every_item_on_every_runtime() {
        for kind in RuntimeKind::ALL {
            for imp in ALL {
                for shape in [Shape::Ready, Shape::Sparse] {
                    let run = MergeRun {
                        imp,
                        inputs: Inputs::new(shape, 16, 1_600),
                        probe: |_| {},
                    };
                    let outcome = runtime::block_on(kind, run).unwrap();
                    assert_eq!(
                        (outcome.1, outcome.2),
                        (1_600, expected_sum(1_600)),
                        "{imp:?} {shape:?} {kind}"
                    );
                    check(outcome, 1_600).unwrap();
                }
            }
        }
    }

    #[test]
    fn a_prefix_of_the_schedule_delivers_its_items() {
        let schedule: Rc<[u32]> = schedule(64, 6_400).into();
        for imp in ALL {
            let run = MergeRun {
                imp,
                inputs: Inputs::Sparse {
                    n: 64,
                    schedule: Rc::clone(&schedule),
                    items: 100,
                },
                probe: |_| {},
            };
            check(runtime::block_on(RuntimeKind::Smol, run).unwrap(), 100).unwrap();
        }
    }

    #[test]
    fn the_notes_give_each_entry_its_overhead_over_the_oracle_of_its_runtime() {
        let timed = |imp: Impl, kind: RuntimeKind, ns: f64| crate::bench::Timed {
            workload: "merge sparse, N=64".to_owned(),
            implementation: imp.name().to_owned(),
            runtime: Some(kind),
            parameters: BTreeMap::new(),
            metrics: vec![NS_PER_ITEM, ALLOCS_PER_ITEM],
            samples: vec![
                Sample {
                    values: vec![ns, 0.0],
                    check: 1,
                };
                3
            ],
        };
        let cases = [
            timed(Impl::Aiter, RuntimeKind::Tokio, 80.0),
            timed(Impl::SelectAll, RuntimeKind::Tokio, 120.0),
            timed(Impl::Oracle, RuntimeKind::Tokio, 50.0),
            timed(Impl::Aiter, RuntimeKind::Smol, 95.5),
            timed(Impl::Oracle, RuntimeKind::Smol, 60.0),
            // No oracle on async-std: no note for it.
            timed(Impl::Aiter, RuntimeKind::AsyncStd, 70.0),
        ];
        let config = Config::new(
            RuntimeKind::ALL.to_vec(),
            None,
            true,
            None,
            vec![],
            "x".into(),
        );
        let report = crate::bench::report::Report::new(
            crate::machine::Machine::detect(),
            &config,
            &cases,
            Duration::ZERO,
        );
        let notes = oracle_notes(&report.records);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].0, "merge sparse, N=64: time per item");
        assert_eq!(
            notes[0].1,
            "overhead over the oracle, ns/item: tokio (oracle 50.0): aiter merge +30.0, \
             futures select_all +70.0; smol (oracle 60.0): aiter merge +35.5"
        );
        assert_eq!(report.group_notes.get(&notes[0].0), Some(&notes[0].1));
    }

    #[test]
    fn the_schedule_gives_every_input_its_share() {
        let order = schedule(8, 800);
        assert_eq!(order.len(), 800);
        for i in 0..8 {
            assert_eq!(order.iter().filter(|&&x| x == i).count(), 100);
        }
    }
}
