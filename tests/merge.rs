//! `merge` and `MergeMap` on every executor, and timers meeting merge on
//! every runtime.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_executor, on_every_runtime, Runtime};

use std::collections::HashSet;
use std::time::Duration;

use aiter::merge::{merge, Event, MergeMap};
use aiter::time::interval;
use aiter::{iter, next, FusedStream, Stream};
use futures::channel::mpsc;
use futures::future::{self, Either};
use futures::StreamExt;

/// Checks that `got` holds exactly the items `0..per_input` of each of
/// `inputs` inputs, each input's in order (items are `(input, seq)`).
fn assert_each_input_complete_and_in_order(
    got: &[(usize, usize)],
    inputs: usize,
    per_input: usize,
) {
    let mut next_seq = vec![0; inputs];
    for &(i, seq) in got {
        assert_eq!(seq, next_seq[i], "input {i}: out of order or duplicated");
        next_seq[i] += 1;
    }
    assert!(
        next_seq.iter().all(|&n| n == per_input),
        "missing items: {next_seq:?}"
    );
}

async fn merges_every_item_of_ready_inputs() {
    let inputs = (0..50).map(|i| iter((0..20).map(move |seq| (i, seq))));
    let mut merged = merge(inputs);
    assert_eq!(merged.size_hint(), (1000, Some(1000)));
    let mut got = vec![];
    while let Some(item) = next(&mut merged).await {
        got.push(item);
    }
    assert_each_input_complete_and_in_order(&got, 50, 20);
    // Fair: with all inputs always ready, the first round serves each once.
    let first_round: HashSet<usize> = got[..50].iter().map(|&(i, _)| i).collect();
    assert_eq!(first_round.len(), 50);
    assert_eq!(next(&mut merged).await, None);
    assert!(merged.is_terminated());
}

async fn merges_channels_fed_from_another_thread() {
    let inputs = 300;
    let per_input = 40;
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..inputs).map(|_| mpsc::unbounded()).unzip();
    let producer = std::thread::spawn(move || {
        // A few inputs at a time, in a scrambled order.
        for seq in 0..per_input {
            for k in 0..inputs {
                let i = (k * 7919 + seq * 31) % inputs;
                senders[i].unbounded_send((i, seq)).unwrap();
                if k % 8 == 0 {
                    std::thread::yield_now();
                }
            }
        }
    });
    let mut merged = merge(receivers);
    let mut got = vec![];
    while let Some(item) = next(&mut merged).await {
        got.push(item);
    }
    producer.join().unwrap();
    assert_eq!(got.len(), inputs * per_input);
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "an item delivered twice");
    // Per-input order: each input was fed seq 0, 1, 2, ...
    let mut by_input = vec![vec![]; inputs];
    for (i, seq) in got {
        by_input[i].push(seq);
    }
    assert!(by_input
        .iter()
        .all(|seqs| seqs.iter().copied().eq(0..per_input)));
}

async fn merges_not_unpin_inputs() {
    let inputs = (0..4).map(|i| {
        futures::stream::unfold(0, move |seq| async move {
            // An async block: `!Unpin`, and it yields to the executor.
            futures::future::ready(()).await;
            (seq < 10).then_some(((i, seq), seq + 1))
        })
    });
    let got: Vec<_> = merge(inputs).collect().await;
    assert_each_input_complete_and_in_order(&got, 4, 10);
}

/// A future joined with a merge that drains an infinite, always-ready input
/// still runs: the merge yields after its budget.
async fn a_joined_sibling_progresses_while_merge_drains_an_infinite_input() {
    sibling_progresses_with_budget(Some(32)).await;
}

/// The same with the default budget: the guarantee holds with the default
/// settings.
async fn a_joined_sibling_progresses_with_the_default_budget() {
    sibling_progresses_with_budget(None).await;
}

async fn sibling_progresses_with_budget(budget: Option<usize>) {
    let merged = merge([iter(std::iter::repeat(1u64)), iter(std::iter::repeat(2))]);
    let (mut merged, budget) = match budget {
        Some(b) => (merged.with_budget(b), b),
        None => (merged, aiter::merge::DEFAULT_BUDGET),
    };
    let sibling_turns = std::cell::Cell::new(0usize);
    let drain = async {
        let (mut sum, mut last_turns, mut run, mut worst_run) = (0, 0, 0, 0);
        for _ in 0..20_000 {
            sum += next(&mut merged).await.unwrap();
            if sibling_turns.get() == last_turns {
                run += 1;
                worst_run = worst_run.max(run);
            } else {
                (last_turns, run) = (sibling_turns.get(), 1);
            }
        }
        (sum, worst_run)
    };
    let sibling = async {
        // Polled whenever the drain returns `Pending`.
        loop {
            sibling_turns.set(sibling_turns.get() + 1);
            yield_now().await;
        }
    };
    let (sum, worst_run) =
        match future::select(std::pin::pin!(drain), std::pin::pin!(sibling)).await {
            Either::Left((out, _)) => out,
            Either::Right(_) => unreachable!("the sibling never ends"),
        };
    assert_eq!(sum, 30_000);
    assert!(
        sibling_turns.get() >= 20_000 / budget - 1,
        "sibling ran {} times",
        sibling_turns.get()
    );
    assert!(
        worst_run <= budget,
        "{worst_run} items in a row without the sibling"
    );
}

/// Returns `Pending` once after waking its task.
async fn yield_now() {
    let mut yielded = false;
    future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

async fn map_inserts_removes_and_reports_ends_while_merging() {
    let mut map = MergeMap::new();
    let (tx_a, rx_a) = mpsc::unbounded::<u32>();
    let (tx_b, rx_b) = mpsc::unbounded::<u32>();
    map.insert("a", rx_a);
    map.insert("b", rx_b);
    tx_a.unbounded_send(1).unwrap();
    assert_eq!(next(&mut map.events()).await, Some(Event::Item("a", 1)));
    // Insert while merging: a new input fed from another thread.
    let (tx_c, rx_c) = mpsc::unbounded::<u32>();
    map.insert("c", rx_c);
    let feeder = std::thread::spawn(move || {
        for n in 0..5 {
            tx_c.unbounded_send(n).unwrap();
        }
    });
    let mut c_items = vec![];
    while c_items.len() < 5 {
        match next(&mut map.events()).await.unwrap() {
            Event::Item("c", n) => c_items.push(n),
            other => panic!("unexpected {other:?}"),
        }
    }
    feeder.join().unwrap();
    assert_eq!(c_items, [0, 1, 2, 3, 4]);
    assert_eq!(next(&mut map.events()).await, Some(Event::End("c")));
    // Remove "a": its later items are never delivered.
    let a = map.remove("a").expect("live");
    tx_a.unbounded_send(2).unwrap();
    drop(tx_b);
    assert_eq!(next(&mut map.events()).await, Some(Event::End("b")));
    assert!(map.is_empty() && map.is_terminated());
    assert_eq!(next(&mut map).await, None);
    drop(a);
}

/// `Merge::push` while merging, `Extend` and `FromIterator`: the
/// `SelectAll` habits.
async fn push_extend_and_collect_add_inputs_while_merging() {
    let (tx_a, rx_a) = mpsc::unbounded::<(usize, usize)>();
    let mut merged: aiter::merge::Merge<_> = [rx_a].into_iter().collect();
    tx_a.unbounded_send((0, 0)).unwrap();
    assert_eq!(next(&mut merged).await, Some((0, 0)));
    // Push an input fed from another thread while the merge waits on `a`.
    let (tx_b, rx_b) = mpsc::unbounded();
    merged.push(rx_b);
    let (more_tx, more_rx): (Vec<_>, Vec<_>) = (2..4).map(|_| mpsc::unbounded()).unzip();
    merged.extend(more_rx);
    assert_eq!(merged.len(), 4);
    let feeder = std::thread::spawn(move || {
        for seq in 0..20 {
            tx_b.unbounded_send((1, seq)).unwrap();
            for (k, tx) in more_tx.iter().enumerate() {
                tx.unbounded_send((k + 2, seq)).unwrap();
            }
        }
    });
    for seq in 1..20 {
        tx_a.unbounded_send((0, seq)).unwrap();
    }
    drop(tx_a);
    let mut got = vec![(0, 0)];
    while let Some(item) = next(&mut merged).await {
        got.push(item);
    }
    feeder.join().unwrap();
    assert_each_input_complete_and_in_order(&got, 4, 20);
    assert!(merged.is_terminated());
    // A push after the end revives it.
    let (tx_z, rx_z) = mpsc::unbounded();
    tx_z.unbounded_send((9, 0)).unwrap();
    drop(tx_z);
    merged.push(rx_z);
    assert_eq!(next(&mut merged).await, Some((9, 0)));
    assert_eq!(next(&mut merged).await, None);
}

/// The `StreamMap` habits: `with_capacity`, `insert`/`remove` handing back
/// the (`Unpin`) stream itself, `iter_mut`/`values_mut`, `clear`.
async fn map_hands_back_streams_and_reaches_them_in_place() {
    let mut map = MergeMap::with_capacity(8);
    let (tx_a, rx_a) = mpsc::unbounded::<u32>();
    let (tx_b, rx_b) = mpsc::unbounded::<u32>();
    assert!(map.insert("a", rx_a).is_none());
    assert!(map.insert("b", rx_b).is_none());
    tx_a.unbounded_send(1).unwrap();
    assert_eq!(next(&mut map).await, Some(("a", 1)));
    // Removed: the receiver comes back as it was; what was sent after the
    // removal is still in it.
    tx_a.unbounded_send(2).unwrap();
    let mut rx_a = map.remove("a").expect("live");
    assert_eq!(next(&mut rx_a).await, Some(2));
    // Replaced: the old receiver comes back too.
    let (tx_b2, rx_b2) = mpsc::unbounded::<u32>();
    tx_b.unbounded_send(3).unwrap();
    let mut rx_b = map.insert("b", rx_b2).expect("replaced");
    assert_eq!(next(&mut rx_b).await, Some(3));
    map.insert("a", rx_a);
    // In place: close every receiver through `values_mut`; the inputs end
    // after what is queued.
    tx_b2.unbounded_send(4).unwrap();
    for mut rx in map.values_mut() {
        rx.close();
    }
    let mut keys: Vec<&str> = map.iter_mut().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["a", "b"]);
    let mut events = vec![];
    while let Some(event) = next(&mut map.events()).await {
        events.push(event);
    }
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        [Event::End("a"), Event::End("b"), Event::Item("b", 4)]
    );
    // `clear` drops everything; the map then revives on insert.
    let (_tx_c, rx_c) = mpsc::unbounded::<u32>();
    map.insert("c", rx_c);
    map.insert("d", rx_b);
    map.clear();
    assert!(map.is_empty() && map.is_terminated());
    assert_eq!(next(&mut map).await, None);
    assert!(tx_b.is_closed(), "the cleared receiver was dropped");
}

/// `!Unpin` inputs go through `insert_pinned`/`remove_pinned`.
async fn map_takes_not_unpin_inputs_with_the_pinned_methods() {
    let countdown = |from: u32| {
        futures::stream::unfold(from, |n| async move {
            future::ready(()).await;
            (n > 0).then(|| (n, n - 1))
        })
    };
    let mut map = MergeMap::new();
    assert!(map.insert_pinned(1, countdown(2)).is_none());
    assert!(map.insert_pinned(2, countdown(3)).is_none());
    let mut old = map.insert_pinned(2, countdown(1)).expect("replaced");
    assert_eq!(next(&mut old).await, Some(3));
    let mut got = vec![];
    while let Some(item) = next(&mut map).await {
        got.push(item);
    }
    got.sort_unstable();
    assert_eq!(got, [(1, 1), (1, 2), (2, 1)]);
    map.insert_pinned(3, countdown(5));
    let mut three = map.remove_pinned(&3).expect("live");
    assert_eq!(next(&mut three).await, Some(5));
    assert!(map.is_empty());
}

async fn cancelled_next_loses_no_item<R: Runtime>(rt: R) {
    let (tx, rx) = mpsc::unbounded::<u32>();
    let (tx2, rx2) = mpsc::unbounded::<u32>();
    let mut merged = merge([rx, rx2]);
    let mut got = vec![];
    let mut cancelled = 0;
    // Nothing is sent yet: a `next` polled once is pending, and is dropped.
    {
        let mut first = next(&mut merged);
        assert!(futures::poll!(&mut first).is_pending());
        cancelled += 1;
    }
    let producer = std::thread::spawn(move || {
        for n in 0..40 {
            let tx = if n % 2 == 0 { &tx } else { &tx2 };
            tx.unbounded_send(n).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    loop {
        // Poll a `next` once and drop it when it is not ready ...
        let mut once = next(&mut merged);
        match futures::poll!(&mut once) {
            std::task::Poll::Ready(Some(n)) => {
                got.push(n);
                continue;
            }
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Pending => cancelled += 1,
        }
        // ... then race another against a short sleep; the loser is dropped.
        let sleep = aiter::rt::Timer::sleep(&rt, Duration::from_micros(300));
        match future::select(next(&mut merged), sleep).await {
            Either::Left((Some(n), _)) => got.push(n),
            Either::Left((None, _)) => break,
            Either::Right(((), _)) => cancelled += 1,
        }
    }
    producer.join().unwrap();
    let (even, odd): (Vec<u32>, Vec<u32>) = got.iter().partition(|&&n| n % 2 == 0);
    assert!(even.iter().copied().eq((0..40).step_by(2)));
    assert!(odd.iter().copied().eq((1..40).step_by(2)));
    assert!(cancelled > 0, "the test did cancel some `next` futures");
}

/// Data streams and a runtime's `interval` heartbeat, merged.
#[derive(Debug, PartialEq)]
enum Msg {
    Data { source: usize, value: u32 },
    Heartbeat(u64),
}

async fn timers_meet_merge<R: Runtime>(rt: R) {
    let data = (0..3).map(|source| {
        let rt = rt.clone();
        futures::stream::unfold(0u32, move |value| {
            let rt = rt.clone();
            async move {
                if value == 5 {
                    return None;
                }
                aiter::rt::Timer::sleep(&rt, Duration::from_millis(7 + source as u64 * 3)).await;
                Some((Msg::Data { source, value }, value + 1))
            }
        })
        .boxed()
    });
    let heartbeat = interval(rt.clone(), Duration::from_millis(10))
        .map(Msg::Heartbeat)
        .boxed();
    let mut merged = merge(data.chain([heartbeat]));
    let mut values = vec![vec![]; 3];
    let mut beats = vec![];
    while values.iter().map(Vec::len).sum::<usize>() < 15 {
        match next(&mut merged).await.expect("the heartbeat never ends") {
            Msg::Data { source, value } => values[source].push(value),
            Msg::Heartbeat(n) => beats.push(n),
        }
    }
    assert!(values.iter().all(|v| v == &[0, 1, 2, 3, 4]), "{values:?}");
    // Data for >= 5 × 13 ms: the 10 ms heartbeat ticked in between.
    assert!(beats.len() >= 3, "beats: {beats:?}");
    assert!(beats.windows(2).all(|w| w[0] < w[1]));
    // The heartbeat goes on; the data inputs end (each is noticed within one
    // round-robin turn, i.e. by the second heartbeat) and are dropped.
    for _ in 0..2 {
        assert!(matches!(next(&mut merged).await, Some(Msg::Heartbeat(_))));
    }
    assert_eq!(merged.len(), 1);
}

async fn timers_meet_merge_map<R: Runtime>(rt: R) {
    // Keyed: the heartbeat is just another input; the map says which.
    let mut map = MergeMap::new();
    map.insert(
        "beat",
        interval(rt.clone(), Duration::from_millis(5))
            .map(|t| t as u32)
            .boxed(),
    );
    let (tx, rx) = mpsc::unbounded::<u32>();
    map.insert("data", rx.boxed());
    let mut beats = 0;
    let mut data = vec![];
    let producer = std::thread::spawn(move || {
        for n in 0..5 {
            std::thread::sleep(Duration::from_millis(4));
            tx.unbounded_send(n).unwrap();
        }
    });
    loop {
        match next(&mut map.events()).await.unwrap() {
            Event::Item("beat", _) => beats += 1,
            Event::Item(_, n) => data.push(n),
            Event::End(key) => {
                assert_eq!(key, "data");
                break;
            }
        }
    }
    producer.join().unwrap();
    assert_eq!(data, [0, 1, 2, 3, 4]);
    assert!(beats >= 1);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["beat"]);
}

on_every_executor!(
    merges_every_item_of_ready_inputs,
    merges_channels_fed_from_another_thread,
    merges_not_unpin_inputs,
    a_joined_sibling_progresses_while_merge_drains_an_infinite_input,
    a_joined_sibling_progresses_with_the_default_budget,
    map_inserts_removes_and_reports_ends_while_merging,
    push_extend_and_collect_add_inputs_while_merging,
    map_hands_back_streams_and_reaches_them_in_place,
    map_takes_not_unpin_inputs_with_the_pinned_methods,
);

on_every_runtime!(
    cancelled_next_loses_no_item,
    timers_meet_merge,
    timers_meet_merge_map
);
