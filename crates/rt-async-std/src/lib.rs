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

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aiter_core::lines::{FileSource, Follow, LineReader, Lines};
use aiter_core::rt::{monotonic_now, Blocking, StdFs, Timer};
use aiter_core::time::{Interval, Timeout};
use aiter_core::Stream;

pub use aiter_core::rt::{File, FileMeta, Fs, FsError};
pub use aiter_core::time::Elapsed;

/// The async-std runtime, as aiter's runtime value: `Timer`, `Blocking`, `Fs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsyncStd;

/// A sleep on the async-io timer that `async_std::task::sleep` itself
/// uses: resolves once its time has elapsed.
///
/// Made by [`sleep`] (or [`Timer::sleep`]); [`reset`](Sleep::reset)
/// restarts it. It is `Unpin`, and its timer is made on the first poll,
/// so building one needs no reactor. (async-std's own sleep future has no
/// public name and would need a box.)
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Sleep(aiter_rt_smol::Sleep);

impl Sleep {
    /// Restarts the sleep to complete `duration` from now (or from the first
    /// poll, if it has not been polled yet).
    pub fn reset(&mut self, duration: Duration) {
        self.0.reset(duration);
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Timer for AsyncStd {
    type Sleep = Sleep;

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep(aiter_rt_smol::sleep(duration))
    }

    fn reset(&self, sleep: Pin<&mut Sleep>, duration: Duration) {
        sleep.get_mut().reset(duration);
    }

    fn now(&self) -> Duration {
        monotonic_now()
    }
}

impl Blocking for AsyncStd {
    type Task<T: Send + 'static> = BlockingTask<T>;

    fn unblock<F, T>(&self, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        BlockingTask(async_std::task::spawn_blocking(f))
    }
}

/// Files are `std::fs::File`s read on async-std's blocking pool.
impl StdFs for AsyncStd {}

/// A closure running on async-std's blocking pool
/// (`async_std::task::spawn_blocking`): resolves to its result, and
/// resumes its panic.
///
/// # Cancel safety
/// Dropping it detaches the closure: it still runs to completion (the
/// closure is queued on the pool when the task is made), and its result is
/// dropped.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct BlockingTask<T>(async_std::task::JoinHandle<T>);

impl<T> Future for BlockingTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_panics_resume_in_the_caller() {
        let task = AsyncStd.unblock(|| -> u8 { panic!("boom") });
        let caught = std::panic::catch_unwind(|| async_std::task::block_on(task));
        assert!(caught.is_err());
    }

    #[test]
    fn a_dropped_blocking_task_still_runs() {
        let (tx, rx) = std::sync::mpsc::channel();
        drop(AsyncStd.unblock(move || tx.send(()).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(()));
    }

    #[test]
    fn a_reset_sleep_completes_the_new_duration_from_now() {
        async_std::task::block_on(async {
            let mut nap = sleep(Duration::from_secs(3600));
            nap.reset(Duration::from_millis(1));
            nap.await;
        });
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<AsyncStd>();
        check::<Sleep>();
        check::<BlockingTask<u8>>();
    }
}
