//! Allocation counts and peak memory of the line readers, with a counting
//! global allocator (its own test binary). Counters are per thread: each
//! test runs its reader on a current-thread runtime, so the reader's own
//! allocations are on the test thread.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]
#![cfg(feature = "tokio")]

use aiter::lines::{LineErrorKind, LineReader, Lines};
use aiter::next;
use aiter::tokio::Tokio;

mod support;

use support::counting_alloc::{allocs, peak, start_peak, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// 100,000 lines of 20..200 bytes.
fn log_file(dir: &tempfile::TempDir) -> (std::path::PathBuf, u64) {
    let mut data = Vec::new();
    let mut rng = 12345u64;
    for _ in 0..100_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let len = 20 + (rng % 181) as usize;
        data.extend(std::iter::repeat_n(b'a' + (rng % 26) as u8, len));
        data.push(b'\n');
    }
    let path = dir.path().join("log");
    std::fs::write(&path, data).unwrap();
    (path, 100_000)
}

#[test]
fn the_lending_reader_allocates_nothing_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(&dir);
    runtime().block_on(async {
        let mut reader = LineReader::open(Tokio, &path);
        // Warm up: the first chunk allocates the buffers.
        for _ in 0..1_000 {
            reader.next_line().await.unwrap().unwrap();
        }
        let before = allocs();
        let mut n = 1_000;
        while let Some(line) = reader.next_line().await {
            line.unwrap();
            n += 1;
        }
        let per_line = (allocs() - before) as f64 / (n - 1_000) as f64;
        assert_eq!(n, lines);
        println!("lending reader: {per_line:.5} allocations per line (per-read task only)");
        // ~10 reads of 1 MiB, each one blocking-pool task: far below 1/line.
        assert!(per_line < 0.005, "{per_line} allocations per line");
    });
}

/// Counts the allocations of reading every line after the first 1,000.
async fn allocs_after_warm_up<S: aiter::lines::Source>(mut reader: LineReader<S>) -> (u64, u64) {
    for _ in 0..1_000 {
        reader.next_line().await.unwrap().unwrap();
    }
    let before = allocs();
    let mut n = 1_000;
    while let Some(line) = reader.next_line().await {
        line.unwrap();
        n += 1;
    }
    (allocs() - before, n)
}

#[test]
fn the_lending_reader_allocates_nothing_per_line_from_any_async_read_or_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(&dir);
    let data = std::fs::read(&path).unwrap();
    // An in-memory `futures_io::AsyncRead`, tokio's, and plain bytes: no
    // blocking pool, so nothing but the two buffers growing from the
    // first read's size to a full chunk (at most 4 allocations for 99,000
    // lines).
    let (n_allocs, n) = futures::executor::block_on(allocs_after_warm_up(
        LineReader::from_async_read(futures::io::Cursor::new(data.clone())),
    ));
    assert!(
        n_allocs <= 4 && n == lines,
        "futures_io::AsyncRead: {n_allocs} allocations, {n} lines"
    );
    let (n_allocs, n) = runtime().block_on(allocs_after_warm_up(aiter::tokio::line_reader_from(
        std::io::Cursor::new(data.clone()),
    )));
    assert!(
        n_allocs <= 4 && n == lines,
        "tokio AsyncRead: {n_allocs} allocations, {n} lines"
    );
    let (n_allocs, n) =
        futures::executor::block_on(allocs_after_warm_up(LineReader::from_bytes(data)));
    assert!(
        n_allocs <= 4 && n == lines,
        "bytes in memory: {n_allocs} allocations, {n} lines"
    );
}

#[test]
fn the_owned_line_stream_allocates_per_chunk_not_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(&dir);
    runtime().block_on(async {
        let mut stream = Lines::open(Tokio, &path);
        for _ in 0..1_000 {
            next(&mut stream).await.unwrap().unwrap();
        }
        let before = allocs();
        let mut n = 1_000;
        while let Some(line) = next(&mut stream).await {
            line.unwrap();
            n += 1;
        }
        let per_line = (allocs() - before) as f64 / (n - 1_000) as f64;
        assert_eq!(n, lines);
        println!("owned-line stream: {per_line:.5} allocations per line");
        assert!(per_line < 0.005, "{per_line} allocations per line");
    });
}

#[test]
fn a_64_mib_line_with_a_1_mib_limit_stays_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"before\n").unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            f.write_all(&block).unwrap();
        }
        f.write_all(b"\nafter\n").unwrap();
    }
    runtime().block_on(async {
        let mut reader = LineReader::open(Tokio, &path).max_line_length(Some(1 << 20));
        let base = start_peak();
        assert_eq!(
            reader.next_line().await.unwrap().unwrap().as_bytes(),
            b"before"
        );
        let err = reader.next_line().await.unwrap().unwrap_err();
        assert!(matches!(err.kind(), LineErrorKind::TooLong { limit } if *limit == 1 << 20));
        assert_eq!((err.line(), err.offset()), (2, 7));
        let after = reader.next_line().await.unwrap().unwrap();
        assert_eq!((after.as_bytes(), after.number()), (&b"after"[..], 3));
        assert!(reader.next_line().await.is_none());
        let peak = peak() - base;
        println!(
            "64 MiB line, 1 MiB limit, default chunks: peak {} KiB",
            peak / 1024
        );
        // Two chunks (+ headroom) + the limit + slack for the runtime's
        // per-read tasks: nowhere near the 64 MiB line.
        let chunk = aiter::lines::DEFAULT_CHUNK_SIZE as i64;
        let bound = 2 * (chunk + (16 << 10)) + (1 << 20) + (256 << 10);
        assert!(peak < bound, "peak {peak} bytes, bound {bound}");
    });
}
