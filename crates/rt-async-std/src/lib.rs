//! aiter's async-std adapter: [`AsyncStd`] supplies `async_std::task`
//! `spawn_blocking` and its async-io timers to `aiter-core`, and through it file reading.
//!
//! **async-std is discontinued upstream** (RUSTSEC-2025-0052); its own README
//! recommends smol, which it is built on. This adapter stays for users who
//! still run async-std, is never a default feature, and new code should use
//! `aiter-rt-smol` (`aiter`'s `smol` feature) instead.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use aiter_core::next;
//!
//! # async_std::task::block_on(async {
//! let mut ticks = aiter_rt_async_std::interval(Duration::from_millis(1));
//! assert_eq!(next(&mut ticks).await, Some(1));
//! # });
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use aiter_core::lines::{FileSource, Follow, LineReader, Lines};
use aiter_core::rt::{Blocking, Timer};
use aiter_core::time::{Interval, Timeout};
use aiter_core::Stream;

pub use aiter_core::rt::{File, FileMeta, Fs, FsError};
pub use aiter_core::time::Elapsed;

/// The async-std runtime, as aiter's runtime value: `Timer`, `Blocking`, `Fs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsyncStd;

/// A sleep on the async-io timer that `async_std::task::sleep` itself uses
/// (async-std's own sleep future has no public name and would need a box).
pub use aiter_rt_smol::Sleep;

impl Timer for AsyncStd {
    type Sleep = Sleep;

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(duration)
    }

    fn reset(&self, sleep: std::pin::Pin<&mut Sleep>, duration: Duration) {
        sleep.get_mut().reset(duration);
    }

    fn now(&self) -> Duration {
        aiter_rt_smol::monotonic_now()
    }
}

impl Blocking for AsyncStd {
    type Task<T: Send + 'static> = async_std::task::JoinHandle<T>;

    fn unblock<F, T>(&self, f: F) -> async_std::task::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        async_std::task::spawn_blocking(f)
    }
}

/// A drift-free stream of ticks every `period`: [`aiter_core::time::interval`] on async-std.
pub fn interval(period: Duration) -> Interval<AsyncStd> {
    aiter_core::time::interval(AsyncStd, period)
}

/// Each item within `per_item`, or an [`Elapsed`] error item: [`aiter_core::time::timeout`] on async-std.
pub fn timeout<S: Stream>(stream: S, per_item: Duration) -> Timeout<S, AsyncStd> {
    aiter_core::time::timeout(AsyncStd, stream, per_item)
}

/// Sleeps for `duration` on async-std's timer.
pub fn sleep(duration: Duration) -> Sleep {
    AsyncStd.sleep(duration)
}
/// A lending line reader of the file at `path` on async-std:
/// [`LineReader::open`](aiter_core::lines::LineReader::open).
pub fn line_reader(path: impl Into<std::path::PathBuf>) -> LineReader<FileSource<AsyncStd>> {
    LineReader::open(AsyncStd, path)
}

/// A stream of the owned lines of the file at `path` on async-std:
/// [`Lines::open`](aiter_core::lines::Lines::open).
pub fn lines(path: impl Into<std::path::PathBuf>) -> Lines<FileSource<AsyncStd>> {
    Lines::open(AsyncStd, path)
}

/// Follows the file at `path` like `tail -F` on async-std:
/// [`aiter_core::lines::follow()`].
pub fn follow(path: impl Into<std::path::PathBuf>) -> Follow<AsyncStd> {
    aiter_core::lines::follow(AsyncStd, path)
}
