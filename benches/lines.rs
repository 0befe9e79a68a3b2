//! Reading lines from a file: aiter's lending reader and owned-line stream on
//! tokio, async-std and smol, against the peers and the practical limit.
//!
//! The readers, the fixtures' generator and the checks are those of the
//! `lines` workload of `aiter-bench` (`crates/bench/src/workloads/lines.rs`):
//! `memchr_count`, `std_read_until`, `AiterLines` (lending bytes, lending
//! `str`, the `Lines` stream), `NativeLines` (each runtime's
//! `BufReader::lines`), `Counted::check`. Only the peers the report leaves
//! out are written here: aiter over each runtime's file as `AsyncRead`,
//! tokio-util's `LinesCodec`, and the `follow` latency.
//!
//! Fixtures (generated once, deterministic, see `support/lines.rs`):
//! `lines-256m.log` (256 MiB of 20–200-byte log-like lines; `LINES_BENCH_MIB`
//! changes the size) and `long-lines-64m.log` (64 MiB with six lines of
//! 3–7 MiB). The page cache is warm (each file is read once before
//! measuring).
//!
//! Every routine opens the file, reads every line and asserts the number of
//! lines (and, where it has them, the total bytes of the lines): it measures
//! real work. The workload's readers time themselves from open to the last
//! line (criterion's `iter_custom`). `memchr limit` is a plain 1 MiB `read` + `memchr` count, the
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

use std::fmt::Display;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aiter::lines::DEFAULT_CHUNK_SIZE;
use aiter_bench::runtime::{block_on, CliRuntime, OnRuntime, RuntimeKind};
use aiter_bench::workloads::lines::{
    check_lines, memchr_count, std_read_until, AiterApi, AiterFromAsyncRead, AiterLines, Counted,
    NativeLines,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use support::Fixture;

/// Times `iters` runs of the work `make` returns on `kind`, each checked
/// against the fixture, by the time each run measured itself.
fn runs<W, E>(fx: &Fixture, kind: RuntimeKind, iters: u64, make: impl Fn() -> W) -> Duration
where
    W: OnRuntime<Output = Result<(Counted, Duration), E>>,
    E: Display,
{
    (0..iters)
        .map(|_| {
            let (counted, elapsed) = block_on(kind, make())
                .expect("the runtime starts")
                .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
            counted.check(&fx.expected).expect("every line read");
            elapsed
        })
        .sum()
}

/// tokio-util's `LinesCodec` over `tokio::fs::File`. Only this bench
/// measures it.
struct TokioCodec {
    path: PathBuf,
}

impl OnRuntime for TokioCodec {
    type Output = Result<(Counted, Duration), String>;

    async fn run<R: CliRuntime>(self, _rt: R) -> Self::Output {
        let started = Instant::now();
        let file = tokio::fs::File::open(&self.path)
            .await
            .map_err(|e| e.to_string())?;
        let mut lines =
            tokio_util::codec::FramedRead::new(file, tokio_util::codec::LinesCodec::new());
        let mut counted = Counted::default();
        while let Some(line) = lines.next().await {
            counted.line_bytes += line.map_err(|e| e.to_string())?.len() as u64;
            counted.lines += 1;
        }
        Ok((counted, started.elapsed()))
    }
}

/// The read + memchr count of `path`, checked; its time.
fn memchr_limit(fx: &Fixture) -> Duration {
    let (lines, elapsed) = memchr_count(&fx.path).expect("the fixture is readable");
    check_lines(lines, fx.expected.lines).expect("every line counted");
    elapsed
}

/// Every implementation on one file, in one group.
fn compare(c: &mut Criterion, group: &str, fx: &Fixture, slow_peers: bool) {
    let path = fx.path.as_path();
    // Warm the page cache, and check the fixture.
    memchr_limit(fx);
    let aiter = |api: AiterApi| {
        move || AiterLines {
            path: path.to_owned(),
            api,
            chunk: DEFAULT_CHUNK_SIZE,
        }
    };
    let native = |capacity: usize| {
        move || NativeLines {
            path: path.to_owned(),
            capacity,
        }
    };
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(fx.expected.bytes))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("memchr limit (read 1 MiB + memchr count)", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| memchr_limit(fx)).sum())
    });
    g.bench_function("std read_until (reused Vec, 1 MiB BufReader)", |b| {
        b.iter(|| {
            let counted = std_read_until(path).expect("the fixture is readable");
            counted.check(&fx.expected).expect("every line read");
        })
    });
    for kind in RuntimeKind::ALL {
        g.bench_function(format!("aiter lending / {kind}"), |b| {
            b.iter_custom(|iters| runs(fx, kind, iters, aiter(AiterApi::NextLine)))
        });
    }
    g.bench_function("aiter lending str (UTF-8 checked) / tokio", |b| {
        b.iter_custom(|iters| runs(fx, RuntimeKind::Tokio, iters, aiter(AiterApi::NextStr)))
    });
    for kind in RuntimeKind::ALL {
        g.bench_function(format!("aiter Stream / {kind}"), |b| {
            b.iter_custom(|iters| runs(fx, kind, iters, aiter(AiterApi::Stream)))
        });
    }
    // The same readers with the file as each runtime's own `AsyncRead`
    // (tokio::fs::File, async_std::fs::File, smol::fs::File).
    for stream in [false, true] {
        for (kind, file) in RuntimeKind::ALL.into_iter().zip([
            "tokio::fs::File",
            "async_std::fs::File",
            "smol::fs::File",
        ]) {
            let name = format!(
                "aiter {} / AsyncRead {file}",
                if stream { "Stream" } else { "lending" },
            );
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    runs(fx, kind, iters, || AiterFromAsyncRead {
                        path: path.to_owned(),
                        stream,
                    })
                })
            });
        }
    }
    if slow_peers {
        // Every runtime's `BufReader` buffers 8 KiB by default.
        g.bench_function("tokio BufReader::lines (default 8 KiB)", |b| {
            b.iter_custom(|iters| runs(fx, RuntimeKind::Tokio, iters, native(8 << 10)))
        });
        g.bench_function("tokio-util LinesCodec (default)", |b| {
            b.iter_custom(|iters| {
                runs(fx, RuntimeKind::Tokio, iters, || TokioCodec {
                    path: path.to_owned(),
                })
            })
        });
        g.bench_function("async-std BufReader::lines (default)", |b| {
            b.iter_custom(|iters| runs(fx, RuntimeKind::AsyncStd, iters, native(8 << 10)))
        });
        g.bench_function("smol BufReader::lines (default)", |b| {
            b.iter_custom(|iters| runs(fx, RuntimeKind::Smol, iters, native(8 << 10)))
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
    let path = fx.path.as_path();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Bytes(fx.expected.bytes))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for kib in [64usize, 256, 1024, 4096] {
        let chunk = kib << 10;
        for kind in RuntimeKind::ALL {
            g.bench_with_input(
                BenchmarkId::new(kind.name(), format!("{kib} KiB")),
                &chunk,
                |b, &chunk| {
                    b.iter_custom(|iters| {
                        runs(&fx, kind, iters, || AiterLines {
                            path: path.to_owned(),
                            api: AiterApi::NextLine,
                            chunk,
                        })
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
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
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
