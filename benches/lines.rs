//! Reading lines from a file: aiter's lending reader and owned-line stream on
//! tokio, async-std and smol, against the peers and the practical limit.
//!
//! Fixtures (generated once, deterministic, see `support/lines.rs`):
//! `log-256m.txt` (256 MiB of 20–200-byte log-like lines; `LINES_BENCH_MIB`
//! changes the size) and `long-64m.txt` (64 MiB with six lines of 3–7 MiB).
//! The page cache is warm (each file is read once before measuring).
//!
//! Every routine opens the file, reads every line and asserts the number of
//! lines (and, where it has them, the total bytes of the lines): it measures
//! real work. `memchr limit` is a plain 1 MiB `read` + `memchr` count, the
//! practical ceiling. The `chunk` group measures aiter's lending reader
//! with 64 KiB – 4 MiB reads on each runtime (how the default was picked).
//!
//! The `follow` group measures a follower's latency: from an appended
//! line's `write` to the line reaching the consumer, with change
//! notification on each runtime and with polling as the peer.
//!
//! `cargo bench --bench lines --features tokio,async-std,smol`
//! (`-- normal` / `-- long` / `-- chunk` / `-- follow` for one group).
#![allow(missing_docs)]

#[path = "support/lines.rs"]
mod support;

use std::io::{BufRead, Read};
use std::path::Path;
use std::time::Duration;

use aiter::lines::{LineReader, Lines};
use aiter::rt::Fs;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use support::Fixture;

/// (lines, bytes of lines without `\n`)
type Count = (u64, u64);

fn memchr_limit(path: &Path) -> u64 {
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        let got = f.read(&mut buf).unwrap();
        if got == 0 {
            return n;
        }
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
    }
}

fn std_read_until(path: &Path) -> Count {
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    let mut line = Vec::new();
    let (mut n, mut bytes) = (0, 0);
    loop {
        line.clear();
        let got = r.read_until(b'\n', &mut line).unwrap();
        if got == 0 {
            return (n, bytes);
        }
        n += 1;
        bytes += (line.len() - usize::from(line.last() == Some(&b'\n'))) as u64;
    }
}

async fn aiter_lending<R: Fs>(rt: R, path: &Path, chunk: usize) -> Count {
    let mut reader = LineReader::open(rt, path).chunk_size(chunk);
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = reader.next_line().await {
        bytes += line.unwrap().as_bytes().len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn aiter_lending_str<R: Fs>(rt: R, path: &Path) -> Count {
    let mut reader = LineReader::open(rt, path);
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = reader.next_str().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn aiter_stream<R: Fs>(rt: R, path: &Path) -> Count {
    let mut lines = Lines::open(rt, path);
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

/// The lending reader over any source (an `AsyncRead` here).
async fn aiter_lending_from<S: aiter::lines::Source>(mut reader: LineReader<S>) -> Count {
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = reader.next_line().await {
        bytes += line.unwrap().as_bytes().len() as u64;
        n += 1;
    }
    (n, bytes)
}

/// The owned-line stream over any source (an `AsyncRead` here).
async fn aiter_stream_from<S: aiter::lines::Source>(mut lines: Lines<S>) -> Count {
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn tokio_lines(path: &Path) -> Count {
    use tokio::io::AsyncBufReadExt;
    let file = tokio::fs::File::open(path).await.unwrap();
    let mut lines = tokio::io::BufReader::new(file).lines();
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next_line().await.unwrap() {
        bytes += line.len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn tokio_codec(path: &Path) -> Count {
    let file = tokio::fs::File::open(path).await.unwrap();
    let mut lines = tokio_util::codec::FramedRead::new(file, tokio_util::codec::LinesCodec::new());
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn async_std_lines(path: &Path) -> Count {
    use async_std::io::prelude::BufReadExt;
    let file = async_std::fs::File::open(path).await.unwrap();
    let mut lines = async_std::io::BufReader::new(file).lines();
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

async fn smol_lines(path: &Path) -> Count {
    use smol::io::AsyncBufReadExt;
    let file = smol::fs::File::open(path).await.unwrap();
    let mut lines = smol::io::BufReader::new(file).lines();
    let (mut n, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.unwrap().len() as u64;
        n += 1;
    }
    (n, bytes)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every implementation on one file, in one group.
fn compare(c: &mut Criterion, group: &str, fx: &Fixture, slow_peers: bool) {
    let want = (fx.lines, fx.line_bytes);
    let path = fx.path.as_path();
    assert_eq!(
        memchr_limit(path),
        fx.lines,
        "fixture {} is intact",
        fx.name
    );
    let tokio = tokio_rt();
    let chunk = aiter::lines::DEFAULT_CHUNK_SIZE;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(fx.len))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("memchr limit (read 1 MiB + memchr count)", |b| {
        b.iter(|| assert_eq!(memchr_limit(path), fx.lines))
    });
    g.bench_function("std read_until (reused Vec, 1 MiB BufReader)", |b| {
        b.iter(|| assert_eq!(std_read_until(path), want))
    });
    for (name, run) in [
        ("aiter lending / tokio", 0),
        ("aiter lending / async-std", 1),
        ("aiter lending / smol", 2),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let got = match run {
                    0 => tokio.block_on(aiter_lending(aiter::tokio::Tokio, path, chunk)),
                    1 => async_std::task::block_on(aiter_lending(
                        aiter::async_std::AsyncStd,
                        path,
                        chunk,
                    )),
                    _ => smol::block_on(aiter_lending(aiter::smol::Smol, path, chunk)),
                };
                assert_eq!(got, want)
            })
        });
    }
    g.bench_function("aiter lending str (UTF-8 checked) / tokio", |b| {
        b.iter(|| {
            assert_eq!(
                tokio.block_on(aiter_lending_str(aiter::tokio::Tokio, path)),
                want
            )
        })
    });
    for (name, run) in [
        ("aiter Stream / tokio", 0),
        ("aiter Stream / async-std", 1),
        ("aiter Stream / smol", 2),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let got = match run {
                    0 => tokio.block_on(aiter_stream(aiter::tokio::Tokio, path)),
                    1 => async_std::task::block_on(aiter_stream(aiter::async_std::AsyncStd, path)),
                    _ => smol::block_on(aiter_stream(aiter::smol::Smol, path)),
                };
                assert_eq!(got, want)
            })
        });
    }
    // The same readers with the file as each runtime's own `AsyncRead`
    // (tokio::fs::File, async_std::fs::File, smol::fs::File).
    for stream in [false, true] {
        for run in 0..3 {
            let name = format!(
                "aiter {} / AsyncRead {}",
                if stream { "Stream" } else { "lending" },
                ["tokio::fs::File", "async_std::fs::File", "smol::fs::File"][run]
            );
            g.bench_function(name, |b| {
                b.iter(|| {
                    let got = match (run, stream) {
                        (0, false) => tokio.block_on(async {
                            let f = tokio::fs::File::open(path).await.unwrap();
                            aiter_lending_from(aiter::tokio::line_reader_from(f)).await
                        }),
                        (0, true) => tokio.block_on(async {
                            let f = tokio::fs::File::open(path).await.unwrap();
                            aiter_stream_from(aiter::tokio::lines_from(f)).await
                        }),
                        (1, false) => async_std::task::block_on(async {
                            let f = async_std::fs::File::open(path).await.unwrap();
                            aiter_lending_from(LineReader::from_async_read(f)).await
                        }),
                        (1, true) => async_std::task::block_on(async {
                            let f = async_std::fs::File::open(path).await.unwrap();
                            aiter_stream_from(Lines::from_async_read(f)).await
                        }),
                        (_, false) => smol::block_on(async {
                            let f = smol::fs::File::open(path).await.unwrap();
                            aiter_lending_from(LineReader::from_async_read(f)).await
                        }),
                        (_, true) => smol::block_on(async {
                            let f = smol::fs::File::open(path).await.unwrap();
                            aiter_stream_from(Lines::from_async_read(f)).await
                        }),
                    };
                    assert_eq!(got, want)
                })
            });
        }
    }
    if slow_peers {
        g.bench_function("tokio BufReader::lines (default 8 KiB)", |b| {
            b.iter(|| assert_eq!(tokio.block_on(tokio_lines(path)), want))
        });
        g.bench_function("tokio-util LinesCodec (default)", |b| {
            b.iter(|| assert_eq!(tokio.block_on(tokio_codec(path)), want))
        });
        g.bench_function("async-std BufReader::lines (default)", |b| {
            b.iter(|| assert_eq!(async_std::task::block_on(async_std_lines(path)), want))
        });
        g.bench_function("smol BufReader::lines (default)", |b| {
            b.iter(|| assert_eq!(smol::block_on(smol_lines(path)), want))
        });
    }
    g.finish();
}

fn normal(c: &mut Criterion) {
    compare(c, "normal", &support::log_like(), true);
}

fn long(c: &mut Criterion) {
    compare(c, "long", &support::long_lines(), true);
}

/// aiter's lending reader with several read sizes on every runtime.
fn chunk(c: &mut Criterion) {
    let fx = support::log_like();
    let want = (fx.lines, fx.line_bytes);
    let path = fx.path.as_path();
    let tokio = tokio_rt();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Bytes(fx.len))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for kib in [64usize, 256, 1024, 4096] {
        let chunk = kib << 10;
        for (rt, run) in [("tokio", 0), ("async-std", 1), ("smol", 2)] {
            g.bench_with_input(
                BenchmarkId::new(rt, format!("{kib} KiB")),
                &chunk,
                |b, &chunk| {
                    b.iter(|| {
                        let got = match run {
                            0 => tokio.block_on(aiter_lending(aiter::tokio::Tokio, path, chunk)),
                            1 => async_std::task::block_on(aiter_lending(
                                aiter::async_std::AsyncStd,
                                path,
                                chunk,
                            )),
                            _ => smol::block_on(aiter_lending(aiter::smol::Smol, path, chunk)),
                        };
                        assert_eq!(got, want)
                    })
                },
            );
        }
    }
    g.finish();
}

/// Appends `iters` lines to a followed file, one at a time from another
/// thread once the follower waits at the end of the file, and sums the
/// time from each `write` to the line coming out of the follower.
async fn follow_latency<R: aiter::rt::Runtime>(rt: R, notify: bool, iters: u64) -> Duration {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, b"").unwrap();
    let mut follower = aiter::lines::follow(rt, &path).notify(notify);
    let mut total = Duration::ZERO;
    for i in 0..iters {
        let written = Arc::new(Mutex::new(None));
        let writer = {
            let (path, written) = (path.clone(), written.clone());
            std::thread::spawn(move || {
                // Long enough for the follower to be waiting again.
                std::thread::sleep(Duration::from_millis(3));
                let mut out = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                *written.lock().unwrap() = Some(std::time::Instant::now());
                writeln!(out, "{i}").unwrap();
            })
        };
        match aiter::next(&mut follower).await {
            Some(Ok(aiter::lines::FollowEvent::Line(line))) => {
                assert_eq!(line.to_str(), Ok(i.to_string().as_str()))
            }
            other => panic!("expected line {i}, got {other:?}"),
        }
        let arrived = std::time::Instant::now();
        writer.join().unwrap();
        let written = written.lock().unwrap().expect("written");
        total += arrived - written;
    }
    total
}

/// `follow`: from an appended line's `write` to the consumer, with change
/// notification on each runtime, and polling (the 250 ms fallback) as the peer.
fn follow(c: &mut Criterion) {
    let tokio = tokio_rt();
    let mut g = c.benchmark_group("follow");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(2));
    for (name, run) in [
        ("notified / tokio", 0),
        ("notified / async-std", 1),
        ("notified / smol", 2),
        ("polling (notify off) / tokio", 3),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| match run {
                0 => tokio.block_on(follow_latency(aiter::tokio::Tokio, true, iters)),
                1 => async_std::task::block_on(follow_latency(
                    aiter::async_std::AsyncStd,
                    true,
                    iters,
                )),
                2 => smol::block_on(follow_latency(aiter::smol::Smol, true, iters)),
                _ => tokio.block_on(follow_latency(aiter::tokio::Tokio, false, iters)),
            })
        });
    }
}

criterion_group!(benches, normal, long, chunk, follow);
criterion_main!(benches);
