//! aiter's smol adapter: [`Smol`] supplies `async-io` timers and
//! `blocking::unblock` to `aiter-core`, and through it file reading.
//!
//! Works under `smol::block_on`, `async_io::block_on`, or any executor:
//! async-io runs its own reactor thread when no one drives it.
//!
//! Files are `std::fs::File`s read on the `blocking` pool straight into
//! aiter's buffer (one hop per large chunk, no intermediate pipe).
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use aiter_core::next;
//!
//! # smol::block_on(async {
//! let mut ticks = aiter_rt_smol::interval(Duration::from_millis(1));
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

/// The smol runtime (async-io + blocking), as aiter's runtime value:
/// `Timer`, `Blocking`, `Fs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Smol;

/// A sleep on the async-io timer: resolves once its time has elapsed.
///
/// Made by [`sleep`] (or [`Timer::sleep`]); [`reset`](Sleep::reset)
/// restarts it. It is `Unpin`, and its timer is made on the first poll,
/// so building one needs no reactor.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Sleep {
    duration: Duration,
    timer: Option<async_io::Timer>,
}

impl Sleep {
    fn new(duration: Duration) -> Self {
        Sleep {
            duration,
            timer: None,
        }
    }

    /// Restarts the sleep to complete `duration` from now (or from the first
    /// poll, if it has not been polled yet).
    pub fn reset(&mut self, duration: Duration) {
        self.duration = duration;
        if let Some(timer) = &mut self.timer {
            timer.set_after(duration);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let duration = self.duration;
        let timer = self
            .timer
            .get_or_insert_with(|| async_io::Timer::after(duration));
        Pin::new(timer).poll(cx).map(|_| ())
    }
}

impl Timer for Smol {
    type Sleep = Sleep;

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(duration)
    }

    fn reset(&self, sleep: Pin<&mut Sleep>, duration: Duration) {
        sleep.get_mut().reset(duration);
    }

    fn now(&self) -> Duration {
        monotonic_now()
    }
}

impl Blocking for Smol {
    type Task<T: Send + 'static> = BlockingTask<T>;

    fn unblock<F, T>(&self, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        BlockingTask(blocking::unblock(f))
    }
}

/// Files are `std::fs::File`s read on the `blocking` pool.
impl StdFs for Smol {}

/// A closure running on the `blocking` crate's pool (`blocking::unblock`):
/// resolves to its result, and resumes its panic.
///
/// # Cancel safety
/// Dropping it cancels the closure if it has not started yet (it never
/// runs); a closure already running finishes, and its result is dropped.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct BlockingTask<T>(blocking::Task<T>);

impl<T> Future for BlockingTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// A drift-free stream of ticks every `period`: [`aiter_core::time::interval`] on smol.
pub fn interval(period: Duration) -> Interval<Smol> {
    aiter_core::time::interval(Smol, period)
}

/// Each item within `per_item`, or an [`Elapsed`] error item: [`aiter_core::time::timeout`] on smol.
pub fn timeout<S: Stream>(stream: S, per_item: Duration) -> Timeout<S, Smol> {
    aiter_core::time::timeout(Smol, stream, per_item)
}

/// Sleeps for `duration` on the async-io timer.
pub fn sleep(duration: Duration) -> Sleep {
    Smol.sleep(duration)
}

/// A lending line reader of the file at `path` on smol:
/// [`LineReader::open`](aiter_core::lines::LineReader::open).
pub fn line_reader(path: impl Into<std::path::PathBuf>) -> LineReader<FileSource<Smol>> {
    LineReader::open(Smol, path)
}

/// A stream of the owned lines of the file at `path` on smol:
/// [`Lines::open`](aiter_core::lines::Lines::open).
pub fn lines(path: impl Into<std::path::PathBuf>) -> Lines<FileSource<Smol>> {
    Lines::open(Smol, path)
}

/// Follows the file at `path` like `tail -F` on smol:
/// [`aiter_core::lines::follow()`].
pub fn follow(path: impl Into<std::path::PathBuf>) -> Follow<Smol> {
    aiter_core::lines::follow(Smol, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_panics_resume_in_the_caller() {
        let task = Smol.unblock(|| -> u8 { panic!("boom") });
        let caught = std::panic::catch_unwind(|| smol::block_on(task));
        assert!(caught.is_err());
    }

    #[test]
    fn a_reset_sleep_completes_the_new_duration_from_now() {
        smol::block_on(async {
            let mut nap = sleep(Duration::from_secs(3600));
            nap.reset(Duration::from_millis(1));
            nap.await;
            let mut nap = sleep(Duration::from_millis(1));
            poll_once(&mut nap);
            nap.reset(Duration::from_millis(2));
            nap.await;
        });
    }

    /// Polls once with a no-op waker, so the sleep's timer exists.
    fn poll_once(sleep: &mut Sleep) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let _ = Pin::new(sleep).poll(&mut cx);
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Smol>();
        check::<Sleep>();
        check::<BlockingTask<u8>>();
    }
}
