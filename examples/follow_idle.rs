//! The idle cost of following many files, and the latency of an append,
//! with default settings: `cargo run --release --example follow_idle
//! --features tokio,async-std,smol -- RUNTIME [FILES]` where RUNTIME is
//! `tokio` (multi-thread), `tokio-current`, `async-std` or `smol`.
//!
//! Starts FILES (default 500) followers of files holding 2 lines each, one
//! task per follower, waits until every line is out, lets them idle for
//! 1 s, then prints over 2 s of idleness the threads (highest seen),
//! resident memory and CPU time of the process, the most threads seen
//! since the start, then appends one line to 50 of the files, one at a
//! time, and prints the write-to-consumer latency (p50, max).
//!
//! Linux only (reads `/proc/self`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aiter::lines::{follow, FollowEvent};
use aiter::rt::Runtime;

/// Threads and resident KiB now, from `/proc/self/status`.
fn threads_and_rss() -> (usize, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("Threads:") as usize, field("VmRSS:"))
}

/// User + system CPU time of the process.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 (1-based), 12 and 13 after ')'.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// Per file: when the consumer got its latest line.
struct Shared {
    lines: AtomicUsize,
    arrived: Vec<Mutex<Option<Instant>>>,
    peak_threads: AtomicUsize,
}

async fn consume<R: Runtime>(rt: R, path: PathBuf, i: usize, shared: Arc<Shared>) {
    let mut f = follow(rt, path);
    while let Some(item) = aiter::next(&mut f).await {
        if let Ok(FollowEvent::Line(_)) = item {
            *shared.arrived[i].lock().unwrap() = Some(Instant::now());
            shared.lines.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn run(n: usize, spawn: impl Fn(PathBuf, usize, Arc<Shared>)) {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..n)
        .map(|i| {
            let p = dir.path().join(format!("f{i}.log"));
            std::fs::write(&p, b"one\ntwo\n").unwrap();
            p
        })
        .collect();
    let shared = Arc::new(Shared {
        lines: AtomicUsize::new(0),
        arrived: (0..n).map(|_| Mutex::new(None)).collect(),
        peak_threads: AtomicUsize::new(0),
    });
    let sample = |s: &Shared| {
        let (t, _) = threads_and_rss();
        s.peak_threads.fetch_max(t, Ordering::SeqCst);
    };
    let start = Instant::now();
    for (i, p) in paths.iter().enumerate() {
        spawn(p.clone(), i, shared.clone());
    }
    while shared.lines.load(Ordering::SeqCst) < 2 * n {
        sample(&shared);
        std::thread::sleep(Duration::from_millis(2));
        assert!(start.elapsed() < Duration::from_secs(60), "followers stuck");
    }
    let ready = start.elapsed();
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        sample(&shared);
        std::thread::sleep(Duration::from_millis(10));
    }
    let cpu0 = cpu();
    let mut idle_threads = 0;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        sample(&shared);
        idle_threads = idle_threads.max(threads_and_rss().0);
        std::thread::sleep(Duration::from_millis(20));
    }
    let idle_cpu = cpu() - cpu0;
    let (_, rss) = threads_and_rss();
    if std::env::var_os("FOLLOW_IDLE_NAMES").is_some() {
        let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|n| n.trim().to_owned())
            .collect();
        names.sort();
        names.dedup_by(|a, b| a == b);
        println!("thread names: {names:?}");
    }
    // Latency: append to 50 files, one at a time.
    let mut lat = Vec::new();
    for k in 0..50 {
        let i = (k * 7919) % n;
        let before = shared.lines.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
        let mut out = std::fs::OpenOptions::new()
            .append(true)
            .open(&paths[i])
            .unwrap();
        let written = Instant::now();
        std::io::Write::write_all(&mut out, b"more\n").unwrap();
        while shared.lines.load(Ordering::SeqCst) == before {
            std::thread::yield_now();
            assert!(
                written.elapsed() < Duration::from_secs(10),
                "append not seen"
            );
        }
        let got = shared.arrived[i].lock().unwrap().expect("arrived");
        lat.push(got.saturating_duration_since(written));
        sample(&shared);
    }
    lat.sort();
    // Pools keep idle threads a while (tokio 10 s, `blocking` 0.5 s).
    std::thread::sleep(Duration::from_secs(11));
    let (later, _) = threads_and_rss();
    println!(
        "files {n}: all lines out after {:.0} ms; idle 2 s: threads {idle_threads} (peak since start {}, 11 s later {later}), RSS {:.1} MiB, CPU {:.3} s; latency p50 {:.2} ms, max {:.2} ms",
        ready.as_secs_f64() * 1e3,
        shared.peak_threads.load(Ordering::SeqCst),
        rss as f64 / 1024.0,
        idle_cpu.as_secs_f64(),
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runtime = args.next().unwrap_or_else(|| "tokio".into());
    let n: usize = args.next().map_or(500, |s| s.parse().expect("FILES"));
    match runtime.as_str() {
        "tokio" | "tokio-current" => {
            let rt = if runtime == "tokio" {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            }
            .unwrap();
            let handle = rt.handle().clone();
            if runtime == "tokio" {
                run(n, |p, i, s| {
                    drop(handle.spawn(consume(aiter::tokio::Tokio, p, i, s)))
                });
            } else {
                // A current-thread runtime runs only while blocked on: drive it from a thread.
                let (tx, rx) = std::sync::mpsc::channel::<()>();
                let driver = std::thread::spawn(move || {
                    rt.block_on(async move {
                        while rx.try_recv().is_err() {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    })
                });
                run(n, |p, i, s| {
                    drop(handle.spawn(consume(aiter::tokio::Tokio, p, i, s)))
                });
                tx.send(()).unwrap();
                driver.join().unwrap();
            }
        }
        "async-std" => run(n, |p, i, s| {
            drop(async_std::task::spawn(consume(
                aiter::async_std::AsyncStd,
                p,
                i,
                s,
            )))
        }),
        "smol" => {
            // smol's global executor runs on its own threads (SMOL_THREADS, default 1).
            run(n, |p, i, s| {
                smol::spawn(consume(aiter::smol::Smol, p, i, s)).detach()
            })
        }
        other => panic!("unknown runtime {other}"),
    }
}
