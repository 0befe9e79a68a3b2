//! aiter's PostgreSQL cursor against a local server: how long a page takes
//! (one `FETCH n` round trip), and how much of it prefetch hides behind a
//! consumer that works on each page.
//!
//! The workload: `ROWS` rows of `(int, text, numeric, NULL-able text)` in
//! pages of `PAGE`, over the unix socket of the test server
//! (`AITER_TEST_POSTGRES`, or a throwaway cluster started for the run by
//! `.ci/postgres`). The consumer either only counts the rows (`idle`) or
//! also works for `C` per page (`busy`): it sleeps (a consumer waiting on
//! its own I/O; this measures overlap even on a loaded machine), or with
//! `AITER_BENCH_SPIN=1` spins (a CPU-bound consumer, which overlaps only
//! with a free core). Every routine checks the row count
//! and the sum of the first column.
//!
//! In each criterion group: aiter's `pages` with prefetch 0 and 1, and the
//! peer, tokio-postgres's own row stream (`query_raw`: one `Execute`, no
//! paging, binary rows, the socket read as fast as the consumer reads),
//! all on tokio. Before criterion runs, a summary of medians of `RUNS`
//! whole runs is printed, with
//!
//! ```text
//! overlap = (T_off - T_on) / (T_off - ideal),  ideal = pages * max(L', C') + min(L', C')
//! ```
//!
//! where `L'` (page latency) is `T_off(idle) / pages` and `C'` the measured
//! consumer time per page: the share of the time prefetch could save that
//! it did save.
//!
//! `cargo bench --bench cursor_postgres --features tokio,async-std,smol`
#![allow(missing_docs)]

#[path = "../tests/support/postgres.rs"]
mod postgres;

use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant};

use aiter::cursor::Cursor;
use aiter::next;
use aiter::tokio::Tokio;
use aiter_postgres::tokio_postgres::{self, NoTls};
use aiter_postgres::{Config, Net, Query};
use criterion::{criterion_group, BenchmarkId, Criterion};
use futures::TryStreamExt;

const ROWS: u64 = 100_000;
const PAGE: u64 = 1_000;
const PAGES: u64 = ROWS / PAGE;
/// Consumer work per page in the `busy` runs.
const C: Duration = Duration::from_micros(1_500);
const RUNS: usize = 7;

const SQL: &str = "SELECT id, name, score, note FROM aiter_bench ORDER BY id";

fn server() -> Option<Config> {
    let server = postgres::server()?;
    postgres::psql(
        server,
        &format!(
            "CREATE TABLE IF NOT EXISTS aiter_bench AS SELECT g AS id, 'user ' || g AS name, \
             (g * 1.25)::numeric(12, 2) AS score, \
             CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END AS note \
             FROM generate_series(1, {ROWS}) AS g"
        ),
    );
    Some(server.parse().expect("the server's settings parse"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The consumer's work on one page.
fn work(busy: bool) {
    static SPIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if busy && !*SPIN.get_or_init(|| std::env::var("AITER_BENCH_SPIN").is_ok_and(|v| v == "1")) {
        std::thread::sleep(C);
    } else if busy {
        let start = Instant::now();
        while start.elapsed() < C {
            std::hint::spin_loop();
        }
    }
}

fn check(count: u64, sum: u64) {
    assert_eq!(count, ROWS);
    assert_eq!(sum, ROWS * (ROWS + 1) / 2);
}

/// aiter's server-side cursor with `prefetch` pages of prefetch.
async fn aiter_pages<N: Net>(net: N, config: Config, prefetch: usize, busy: bool) {
    let fetch = aiter_postgres::pages(net, config, Query::new(SQL).page_size(PAGE));
    let mut rows = pin!(Cursor::new(fetch).prefetch(prefetch));
    let (mut count, mut sum) = (0, 0);
    while let Some(row) = next(&mut rows).await {
        let row = row.unwrap();
        sum += row.get(0).unwrap().parse::<u64>().unwrap();
        black_box(row.get(3));
        count += 1;
        if count % PAGE == 0 {
            work(busy);
        }
    }
    check(count, sum);
}

/// The peer: tokio-postgres's row stream over the whole query.
async fn query_raw(config: Config, busy: bool) {
    let target = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Unix(dir)) => dir.join(format!(
            ".s.PGSQL.{}",
            config.get_ports().first().copied().unwrap_or(5432)
        )),
        _ => panic!("the bench server is on a unix socket"),
    };
    let socket = tokio::net::UnixStream::connect(target).await.unwrap();
    let (client, connection) = config.connect_raw(socket, NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut rows = pin!(client
        .query_raw(
            SQL,
            std::iter::empty::<&(dyn tokio_postgres::types::ToSql + Sync)>()
        )
        .await
        .unwrap());
    let (mut count, mut sum) = (0, 0);
    while let Some(row) = rows.try_next().await.unwrap() {
        sum += row.get::<_, i32>(0) as u64;
        black_box(row.get::<_, Option<&str>>(3));
        count += 1;
        if count % PAGE == 0 {
            work(busy);
        }
    }
    check(count, sum);
    drop(client);
    connection.await.unwrap().unwrap();
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timed(
    rt: &tokio::runtime::Runtime,
    f: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Duration {
    rt.block_on(f()); // warm-up
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                rt.block_on(f());
                start.elapsed()
            })
            .collect(),
    )
}

/// Medians of whole runs and the overlap prefetch achieved.
fn summary(config: &Config) {
    let rt = runtime();
    let run = |prefetch: usize, busy: bool| {
        let config = config.clone();
        timed(&rt, move || {
            Box::pin(aiter_pages(Tokio, config.clone(), prefetch, busy))
        })
    };
    let peer = |busy: bool| {
        let config = config.clone();
        timed(&rt, move || Box::pin(query_raw(config.clone(), busy)))
    };
    let idle_off = run(0, false);
    let idle_on = run(1, false);
    let busy_off = run(0, true);
    let busy_on = run(1, true);
    let peer_idle = peer(false);
    let peer_busy = peer(true);
    let consume = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..PAGES {
                    work(true);
                }
                start.elapsed()
            })
            .collect(),
    ) / PAGES as u32;
    let latency = idle_off / PAGES as u32;
    let ideal = (latency.max(consume)) * PAGES as u32 + latency.min(consume);
    let overlap = (busy_off.as_secs_f64() - busy_on.as_secs_f64())
        / (busy_off.as_secs_f64() - ideal.as_secs_f64());
    println!(
        "postgres cursor: {ROWS} rows, pages of {PAGE}, tokio (1 worker), medians of {RUNS} runs"
    );
    println!("  page latency L' = {latency:?} (prefetch off, idle consumer); consumer C' = {consume:?} per page");
    println!("  idle: prefetch off {idle_off:?}, on {idle_on:?} ({:.2}x); query_raw {peer_idle:?} (on/query_raw {:.2}x)",
        idle_off.as_secs_f64() / idle_on.as_secs_f64(),
        idle_on.as_secs_f64() / peer_idle.as_secs_f64());
    println!("  busy: prefetch off {busy_off:?}, on {busy_on:?}; ideal {ideal:?}; overlap {:.0} %; query_raw {peer_busy:?}",
        overlap * 100.0);
}

fn bench(c: &mut Criterion) {
    let Some(config) = server() else { return };
    summary(&config);
    let rt = runtime();
    for busy in [false, true] {
        let mut group = c.benchmark_group(if busy {
            "postgres cursor busy"
        } else {
            "postgres cursor idle"
        });
        group.sample_size(10);
        for prefetch in [0, 1] {
            group.bench_function(
                BenchmarkId::new(format!("aiter pages prefetch {prefetch}"), ROWS),
                |b| b.iter(|| rt.block_on(aiter_pages(Tokio, config.clone(), prefetch, busy))),
            );
        }
        group.bench_function(BenchmarkId::new("tokio-postgres query_raw", ROWS), |b| {
            b.iter(|| rt.block_on(query_raw(config.clone(), busy)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
