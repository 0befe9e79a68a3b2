//! The behaviour suite's harness: each test is written once as an `async fn`
//! and run on every executor by [`on_every_runtime!`] or [`on_every_executor!`].
//!
//! - `on_every_runtime!(a, b)`: `async fn a<R: Runtime>(rt: R)` runs on tokio
//!   (current-thread and multi-thread), async-std and smol, each under its
//!   facade feature, as `tokio_current_thread::a`, `tokio_multi_thread::a`,
//!   `async_std::a`, `smol::a`.
//! - `on_every_executor!(a, b)`: runtime-free `async fn a()` runs on all of
//!   those and on a bare `futures::executor::block_on` (`bare::a`), proving it
//!   needs no runtime.
#![allow(dead_code, unused_macros, unused_imports)]

use std::future::Future;
use std::path::PathBuf;

/// What a test gets: a runtime value with timers, blocking work and files
/// ([`aiter::rt::Runtime`]), whose sleeps are `Unpin + Send`.
pub(crate) trait Runtime: aiter::rt::Runtime<Sleep: Unpin + Send> + Unpin {}
impl<T: aiter::rt::Runtime<Sleep: Unpin + Send> + Unpin> Runtime for T {}

pub(crate) fn tokio_current_thread<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

pub(crate) fn tokio_multi_thread<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

pub(crate) fn async_std<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}

pub(crate) fn smol<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

pub(crate) fn bare<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// A fresh temporary directory, removed when dropped.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("aiter-test-")
        .tempdir()
        .expect("temp dir")
}

/// Writes `contents` to `dir/name` and returns the path.
pub(crate) fn write_file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

macro_rules! on_every_runtime {
    ($($test:ident),* $(,)?) => {
        #[cfg(feature = "tokio")]
        mod tokio_current_thread {
            $( #[test] fn $test() { crate::support::tokio_current_thread(super::$test(aiter::tokio::Tokio)) } )*
        }
        #[cfg(feature = "tokio")]
        mod tokio_multi_thread {
            $( #[test] fn $test() { crate::support::tokio_multi_thread(super::$test(aiter::tokio::Tokio)) } )*
        }
        #[cfg(feature = "async-std")]
        mod async_std {
            $( #[test] fn $test() { crate::support::async_std(super::$test(aiter::async_std::AsyncStd)) } )*
        }
        #[cfg(feature = "smol")]
        mod smol {
            $( #[test] fn $test() { crate::support::smol(super::$test(aiter::smol::Smol)) } )*
        }
    };
}

macro_rules! on_every_executor {
    ($($test:ident),* $(,)?) => {
        mod bare {
            $( #[test] fn $test() { crate::support::bare(super::$test()) } )*
        }
        mod tokio_current_thread_rt_free {
            $( #[test] fn $test() { crate::support::tokio_current_thread(super::$test()) } )*
        }
        mod tokio_multi_thread_rt_free {
            $( #[test] fn $test() { crate::support::tokio_multi_thread(super::$test()) } )*
        }
        mod async_std_rt_free {
            $( #[test] fn $test() { crate::support::async_std(super::$test()) } )*
        }
        mod smol_rt_free {
            $( #[test] fn $test() { crate::support::smol(super::$test()) } )*
        }
    };
}

pub(crate) use {on_every_executor, on_every_runtime};
pub(crate) mod counting_alloc;
pub(crate) mod postgres;

/// A task waker that counts its wakes (waking allocates nothing).
#[derive(Debug, Default)]
pub(crate) struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl CountingWaker {
    /// The wakes so far.
    pub(crate) fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The wakes so far, resetting the count to zero.
    pub(crate) fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

/// A deterministic xorshift64 generator for test inputs and schedules.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// An in-memory reader that returns `Pending` (waking at once) before
/// about a third of its reads and reads 1 to `max` bytes at a time: the
/// worst-behaved `AsyncRead`, for both `futures_io` and tokio.
#[derive(Debug)]
pub(crate) struct Choppy {
    data: std::sync::Arc<[u8]>,
    pos: usize,
    rng: Rng,
    max: usize,
    /// Reads that returned bytes.
    pub reads: usize,
}

impl Choppy {
    /// Reads of 1 to 7 bytes.
    pub(crate) fn new(data: impl Into<std::sync::Arc<[u8]>>, seed: u64) -> Self {
        Choppy::with_max(data, seed, 7)
    }

    /// Reads of 1 to `max` bytes.
    pub(crate) fn with_max(data: impl Into<std::sync::Arc<[u8]>>, seed: u64, max: usize) -> Self {
        Choppy {
            data: data.into(),
            pos: 0,
            rng: Rng::new(seed),
            max: max.max(1),
            reads: 0,
        }
    }

    fn poll_into(
        &mut self,
        cx: &mut std::task::Context<'_>,
        dst: &mut [u8],
    ) -> std::task::Poll<usize> {
        if self.rng.below(3) == 0 {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let left = self.data.len() - self.pos;
        let n = (1 + self.rng.below(self.max as u64) as usize)
            .min(left)
            .min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        self.reads += 1;
        std::task::Poll::Ready(n)
    }
}

impl futures::io::AsyncRead for Choppy {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.get_mut().poll_into(cx, buf).map(Ok)
    }
}

impl tokio::io::AsyncRead for Choppy {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = std::task::ready!(self.get_mut().poll_into(cx, buf.initialize_unfilled()));
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

/// The obvious line splitter, for comparison: lines end at `\n`, which is
/// stripped with a `\r` before it; a last line without newline counts.
pub(crate) fn reference_lines(data: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut rest = data;
    while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..nl];
        lines.push(line.strip_suffix(b"\r").unwrap_or(line).to_vec());
        rest = &rest[nl + 1..];
    }
    if !rest.is_empty() {
        lines.push(rest.to_vec());
    }
    lines
}

/// The proptest settings of the behaviour suite: `cases` cases (fewer
/// under Miri), no failure files.
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: if cfg!(miri) { cases.min(4) } else { cases },
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
