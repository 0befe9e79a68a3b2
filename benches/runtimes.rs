//! Runtimes side by side: the file and blocking-pool hops aiter's adapters
//! use, against each runtime's own async file type.
//!
//! - `read_file`: read a 64 MiB file in 1 MiB chunks. aiter reads a
//!   `std::fs::File` inside the runtime's blocking pool straight into its
//!   buffer; `tokio::fs::File` and `async_std::fs::File` read into their own
//!   buffer and copy; `smol::fs::File` streams through a pipe.
//! - `unblock`: one round trip through the blocking pool.
//!
//! Every routine asserts the byte count and a checksum.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aiter::rt::{Blocking, Fs};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const FILE_SIZE: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

fn fixture() -> (tempfile::TempDir, PathBuf, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data.bin");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..FILE_SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&path, &data).expect("write fixture");
    (dir, path, checksum(&data))
}

/// A cheap checksum that still reads every chunk's contents.
fn checksum(data: &[u8]) -> u64 {
    data.iter().step_by(997).map(|&b| u64::from(b)).sum()
}

async fn read_with_aiter<R: Fs>(rt: R, path: &Path) -> (usize, u64) {
    let file = rt.open(path.to_path_buf()).await.expect("open");
    let mut buf = vec![0u8; CHUNK];
    let (mut total, mut sum, mut offset) = (0usize, 0u64, 0u64);
    loop {
        let (n, back) = rt.read_at(&file, offset, buf, 0).await;
        buf = back;
        let n = n.expect("read");
        if n == 0 {
            return (total, sum);
        }
        // Checksum positions are relative to the file, as in `checksum`.
        sum += sum_at(&buf[..n], total);
        total += n;
        offset += n as u64;
    }
}

/// The checksum contribution of `chunk`, which starts at file position `at`.
fn sum_at(chunk: &[u8], at: usize) -> u64 {
    let first = (997 - at % 997) % 997;
    chunk
        .iter()
        .skip(first)
        .step_by(997)
        .map(|&b| u64::from(b))
        .sum()
}

async fn read_with<F, R>(open: F, path: &Path) -> (usize, u64)
where
    F: FnOnce(PathBuf) -> R,
    R: Future<Output = Box<dyn ReadChunk>>,
{
    let mut file = open(path.to_path_buf()).await;
    let mut buf = vec![0u8; CHUNK];
    let (mut total, mut sum) = (0usize, 0u64);
    loop {
        let n = file.read_chunk(&mut buf).await;
        if n == 0 {
            return (total, sum);
        }
        sum += sum_at(&buf[..n], total);
        total += n;
    }
}

/// A runtime's own async file, read in chunks.
trait ReadChunk {
    fn read_chunk<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>>;
}

impl ReadChunk for tokio::fs::File {
    fn read_chunk<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>> {
        use tokio::io::AsyncReadExt;
        Box::pin(async move { self.read(buf).await.expect("read") })
    }
}

impl ReadChunk for async_std::fs::File {
    fn read_chunk<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>> {
        use async_std::io::ReadExt;
        Box::pin(async move { self.read(buf).await.expect("read") })
    }
}

impl ReadChunk for smol::fs::File {
    fn read_chunk<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>> {
        use smol::io::AsyncReadExt;
        Box::pin(async move { self.read(buf).await.expect("read") })
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
}

fn read_file(c: &mut Criterion) {
    let (_dir, path, expected_sum) = fixture();
    let check = |(n, sum): (usize, u64)| {
        assert_eq!(n, FILE_SIZE);
        assert_eq!(sum, expected_sum);
    };
    let mut group = c.benchmark_group("read_file");
    group
        .throughput(Throughput::Bytes(FILE_SIZE as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    let tokio = tokio_rt();
    group.bench_function(BenchmarkId::new("aiter Fs", "tokio"), |b| {
        b.iter(|| check(tokio.block_on(read_with_aiter(aiter::tokio::Tokio, &path))))
    });
    group.bench_function(BenchmarkId::new("tokio::fs::File", "tokio"), |b| {
        b.iter(|| {
            check(tokio.block_on(read_with(
                |p| async move {
                    Box::new(tokio::fs::File::open(p).await.expect("open")) as Box<dyn ReadChunk>
                },
                &path,
            )))
        })
    });
    group.bench_function(BenchmarkId::new("aiter Fs", "async-std"), |b| {
        b.iter(|| {
            check(async_std::task::block_on(read_with_aiter(
                aiter::async_std::AsyncStd,
                &path,
            )))
        })
    });
    group.bench_function(BenchmarkId::new("async_std::fs::File", "async-std"), |b| {
        b.iter(|| {
            check(async_std::task::block_on(read_with(
                |p| async move {
                    Box::new(async_std::fs::File::open(p).await.expect("open"))
                        as Box<dyn ReadChunk>
                },
                &path,
            )))
        })
    });
    group.bench_function(BenchmarkId::new("aiter Fs", "smol"), |b| {
        b.iter(|| check(smol::block_on(read_with_aiter(aiter::smol::Smol, &path))))
    });
    group.bench_function(BenchmarkId::new("smol::fs::File", "smol"), |b| {
        b.iter(|| {
            check(smol::block_on(read_with(
                |p| async move {
                    Box::new(smol::fs::File::open(p).await.expect("open")) as Box<dyn ReadChunk>
                },
                &path,
            )))
        })
    });
    group.finish();
}

fn unblock(c: &mut Criterion) {
    async fn hops<R: Blocking>(rt: R, n: u64) -> u64 {
        let mut sum = 0;
        for i in 0..n {
            sum += rt.unblock(move || i).await;
        }
        sum
    }
    const HOPS: u64 = 100;
    let expected = HOPS * (HOPS - 1) / 2;
    let mut group = c.benchmark_group("unblock");
    group
        .throughput(Throughput::Elements(HOPS))
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio.block_on(hops(aiter::tokio::Tokio, HOPS)), expected))
    });
    group.bench_function("async-std", |b| {
        b.iter(|| {
            assert_eq!(
                async_std::task::block_on(hops(aiter::async_std::AsyncStd, HOPS)),
                expected
            )
        })
    });
    group.bench_function("smol", |b| {
        b.iter(|| assert_eq!(smol::block_on(hops(aiter::smol::Smol, HOPS)), expected))
    });
    group.finish();
}

criterion_group!(benches, read_file, unblock);
criterion_main!(benches);
