//! Merging N streams: aiter's `merge` against `futures::stream::select_all`,
//! `futures_concurrency`'s `Merge` and (on tokio) `tokio_stream::StreamMap`,
//! on each runtime, in nanoseconds per item.
//!
//! - *ready*: every input is `futures::stream::iter` over a range, always
//!   ready: the cost of the merge itself.
//! - *sparse*: every input is a `futures::channel::mpsc` receiver; a producer
//!   joined with the consumer in the same task sends to the inputs in a
//!   seeded random order, 8 items at a time, then yields, so about 8 of N
//!   inputs are ready whenever the merge is polled: merges that poll or scan
//!   every input per item pay for N.
//!
//! N is 2, 64 and 1024 (2 and 256 with `--quick`). Timing covers consuming
//! the items only (inputs and merge are built before the clock starts);
//! every run checks the number of items and their sum (the check).

use std::collections::BTreeMap;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{Stream, StreamExt};

use crate::bench::{BenchError, Case, Config, Metric, Sample, Workload};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

/// The merge workload (`--only merge`).
pub struct MergeStreams;

const NS_PER_ITEM: Metric = Metric {
    name: "time per item",
    unit: "ns/item",
};

/// Which merge a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impl {
    Aiter,
    SelectAll,
    FcMerge,
    StreamMap,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Aiter => "aiter merge",
            Impl::SelectAll => "futures select_all",
            Impl::FcMerge => "futures-concurrency Merge",
            Impl::StreamMap => "tokio-stream StreamMap",
        }
    }

    /// The merges that run on `kind` (StreamMap is tokio's).
    fn on(kind: RuntimeKind) -> Vec<Impl> {
        let mut all = vec![Impl::Aiter, Impl::SelectAll, Impl::FcMerge];
        if kind == RuntimeKind::Tokio {
            all.push(Impl::StreamMap);
        }
        all
    }
}

/// How the inputs produce items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Ready,
    Sparse,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Ready => "ready",
            Shape::Sparse => "sparse",
        }
    }
}

impl Workload for MergeStreams {
    fn name(&self) -> &'static str {
        "merge"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let sizes: &[usize] = if config.quick {
            &[2, 256]
        } else {
            &[2, 64, 1024]
        };
        let mut cases = Vec::new();
        for shape in [Shape::Ready, Shape::Sparse] {
            let total = match (shape, config.quick) {
                (Shape::Ready, false) => 1_000_000,
                (Shape::Ready, true) => 200_000,
                (Shape::Sparse, false) => 200_000,
                (Shape::Sparse, true) => 50_000,
            };
            for &n in sizes {
                // Every input gets the same number of items.
                let items = total / n * n;
                let workload = format!("merge {}, N={n}", shape.name());
                let mut parameters = BTreeMap::new();
                parameters.insert("inputs".to_owned(), n.into());
                parameters.insert("items".to_owned(), items.into());
                parameters.insert("shape".to_owned(), shape.name().into());
                for kind in RuntimeKind::ALL {
                    for imp in Impl::on(kind) {
                        cases.push(Case {
                            workload: workload.clone(),
                            implementation: imp.name().to_owned(),
                            runtime: Some(kind),
                            parameters: parameters.clone(),
                            metrics: vec![NS_PER_ITEM],
                            routine: Box::new(move || {
                                let run = MergeRun {
                                    imp,
                                    shape,
                                    n,
                                    items,
                                };
                                let (elapsed, count, sum) = runtime::block_on(kind, run)?;
                                if count != items as u64 || sum != expected_sum(items) {
                                    return Err(BenchError(format!(
                                        "got {count} items summing to {sum}, expected {items} summing to {}",
                                        expected_sum(items)
                                    )));
                                }
                                Ok(Sample {
                                    values: vec![elapsed.as_secs_f64() * 1e9 / items as f64],
                                    check: sum,
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

/// The sum of `0..items`: what every run must receive.
fn expected_sum(items: usize) -> u64 {
    let n = items as u64;
    n * n.saturating_sub(1) / 2
}

/// One timed run: builds the inputs and the merge, then consumes every item.
struct MergeRun {
    imp: Impl,
    shape: Shape,
    n: usize,
    items: usize,
}

impl OnRuntime for MergeRun {
    /// (time consuming, items received, their sum).
    type Output = (Duration, u64, u64);

    async fn run<R: CliRuntime>(self, _rt: R) -> (Duration, u64, u64) {
        let MergeRun {
            imp,
            shape,
            n,
            items,
        } = self;
        match shape {
            Shape::Ready => {
                let per = (items / n) as u64;
                let inputs: Vec<_> = (0..n as u64)
                    .map(|i| futures::stream::iter(i * per..(i + 1) * per))
                    .collect();
                consume(imp, inputs, items, async {}).await
            }
            Shape::Sparse => {
                let (senders, receivers): (Vec<UnboundedSender<u64>>, Vec<UnboundedReceiver<u64>>) =
                    (0..n).map(|_| unbounded()).unzip();
                let order = schedule(n, items);
                let produce = async move {
                    for (b, batch) in order.chunks(8).enumerate() {
                        for (j, &i) in batch.iter().enumerate() {
                            senders[i as usize]
                                .unbounded_send((b * 8 + j) as u64)
                                .expect("the merge holds every input");
                        }
                        yield_now().await;
                    }
                    // The senders drop here: the inputs end once drained.
                };
                consume(imp, receivers, items, produce).await
            }
        }
    }
}

/// Merges `inputs` with `imp` and takes `items` items while `produce` runs
/// in the same task; returns (time, count, sum).
async fn consume<S>(
    imp: Impl,
    inputs: Vec<S>,
    items: usize,
    produce: impl std::future::Future<Output = ()>,
) -> (Duration, u64, u64)
where
    S: Stream<Item = u64> + Unpin,
{
    match imp {
        Impl::Aiter => {
            let merged = aiter::merge::merge(inputs);
            timed(merged, items, produce).await
        }
        Impl::SelectAll => {
            let merged = futures::stream::select_all(inputs);
            timed(merged, items, produce).await
        }
        Impl::FcMerge => {
            use futures_concurrency::stream::Merge as _;
            let merged = inputs.merge();
            timed(merged, items, produce).await
        }
        Impl::StreamMap => {
            let mut map = tokio_stream::StreamMap::with_capacity(inputs.len());
            map.extend(inputs.into_iter().enumerate());
            timed(map.map(|(_, x)| x), items, produce).await
        }
    }
}

/// Takes `items` items of `merged` (while `produce` runs), timed.
async fn timed(
    merged: impl Stream<Item = u64>,
    items: usize,
    produce: impl std::future::Future<Output = ()>,
) -> (Duration, u64, u64) {
    let mut merged = pin!(merged);
    let started = Instant::now();
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
    let ((), (count, sum)) = futures::join!(produce, take);
    (started.elapsed(), count, sum)
}

/// Which input gets each item: every input `items / n` times, shuffled with
/// a fixed seed (xorshift).
fn schedule(n: usize, items: usize) -> Vec<u32> {
    let per = items / n;
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

    #[test]
    fn every_merge_delivers_every_item_on_every_runtime() {
        for kind in RuntimeKind::ALL {
            for imp in Impl::on(kind) {
                for shape in [Shape::Ready, Shape::Sparse] {
                    let run = MergeRun {
                        imp,
                        shape,
                        n: 16,
                        items: 1_600,
                    };
                    let (_, count, sum) = runtime::block_on(kind, run).unwrap();
                    assert_eq!(
                        (count, sum),
                        (1_600, expected_sum(1_600)),
                        "{imp:?} {shape:?} {kind}"
                    );
                }
            }
        }
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
