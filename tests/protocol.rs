//! Python's protocol helpers (`anext`, `anext(it, d)`, `aiter`) on every executor.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::on_every_executor;

use aiter::{iter, next, next_or, FusedStream, Stream};

async fn next_walks_then_none_forever() {
    let mut s = iter(["a", "b"]);
    assert_eq!(next(&mut s).await, Some("a"));
    assert_eq!(next(&mut s).await, Some("b"));
    for _ in 0..3 {
        assert_eq!(next(&mut s).await, None);
    }
    assert!(s.is_terminated());
}

async fn next_or_gives_the_default_only_at_the_end() {
    let mut s = iter(1..=2);
    assert_eq!(next_or(&mut s, 0).await, 1);
    assert_eq!(next_or(&mut s, 0).await, 2);
    assert_eq!(next_or(&mut s, 0).await, 0);
    assert_eq!(next_or(&mut s, 9).await, 9);
}

async fn iter_size_hint_is_exact() {
    let mut s = iter(vec![1u8; 10]);
    assert_eq!(s.size_hint(), (10, Some(10)));
    next(&mut s).await;
    assert_eq!(s.size_hint(), (9, Some(9)));
    while next(&mut s).await.is_some() {}
    assert_eq!(s.size_hint(), (0, Some(0)));
}

async fn next_works_on_pinned_not_unpin_streams() {
    // An `async`-built stream is `!Unpin`; pinning makes it usable.
    let s = futures::stream::unfold(0u8, |n| async move { (n < 3).then_some((n, n + 1)) });
    let mut s = std::pin::pin!(s);
    let mut got = vec![];
    while let Some(x) = next(&mut s).await {
        got.push(x);
    }
    assert_eq!(got, [0, 1, 2]);
}

async fn interoperates_with_futures_util() {
    use futures::StreamExt;
    let doubled: Vec<_> = iter(1..=3).map(|x| x * 2).collect().await;
    assert_eq!(doubled, [2, 4, 6]);
}

on_every_executor!(
    next_walks_then_none_forever,
    next_or_gives_the_default_only_at_the_end,
    iter_size_hint_is_exact,
    next_works_on_pinned_not_unpin_streams,
    interoperates_with_futures_util,
);
