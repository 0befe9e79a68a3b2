//! aiter's tokio adapter: [`Tokio`] supplies `tokio::time` timers and
//! `spawn_blocking` to `aiter-core`, and through it file reading.
//!
//! Files are `std::fs::File`s read inside `spawn_blocking` straight into
//! aiter's buffer: `tokio::fs::File` would read into its own buffer first
//! and copy every chunk once more.
//!
//! Everything here needs a tokio runtime with the time driver when it is
//! *polled*, never when it is built.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use aiter_core::next;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let mut ticks = aiter_rt_tokio::interval(Duration::from_millis(1));
//! assert_eq!(next(&mut ticks).await, Some(1));
//! # });
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use aiter_core::lines::{FileSource, Follow, LineReader, Lines, Source};
use aiter_core::rt::{Blocking, StdFs, Timer};
use aiter_core::time::{Interval, Timeout};
use aiter_core::Stream;

pub use aiter_core::rt::{File, FileMeta, Fs, FsError};
pub use aiter_core::time::Elapsed;

/// The tokio runtime, as aiter's runtime value: `Timer`, `Blocking`, `Fs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokio;

/// A sleep on tokio's timer: resolves once its time has elapsed.
///
/// Made by [`sleep`] (or [`Timer::sleep`]); [`reset`](Sleep::reset)
/// restarts it. It is `Unpin` (a boxed `tokio::time::Sleep`), so aiter's
/// timed streams stay `Unpin`; aiter resets it rather than making a new
/// one, so that is one allocation per stream. Needs a tokio runtime with
/// the time driver when it is made.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Sleep(Pin<Box<tokio::time::Sleep>>);

impl Sleep {
    /// Restarts the sleep to complete `duration` from now.
    pub fn reset(&mut self, duration: Duration) {
        let deadline = tokio::time::Instant::now() + duration;
        self.0.as_mut().reset(deadline);
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Timer for Tokio {
    type Sleep = Sleep;

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep(Box::pin(tokio::time::sleep(duration)))
    }

    fn reset(&self, sleep: Pin<&mut Sleep>, duration: Duration) {
        sleep.get_mut().reset(duration);
    }

    fn now(&self) -> Duration {
        // tokio's clock, so paused test time is honoured.
        static EPOCH: OnceLock<tokio::time::Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(tokio::time::Instant::now);
        tokio::time::Instant::now().saturating_duration_since(epoch)
    }
}

impl Blocking for Tokio {
    type Task<T: Send + 'static> = BlockingTask<T>;

    fn unblock<F, T>(&self, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        BlockingTask(tokio::task::spawn_blocking(f))
    }
}

/// Files are `std::fs::File`s read on tokio's blocking pool.
impl StdFs for Tokio {}

/// A closure running on tokio's blocking pool (`spawn_blocking`):
/// resolves to its result, and resumes its panic.
///
/// # Cancel safety
/// Dropping it detaches the closure: it still runs to completion (tokio
/// cannot stop blocking work, started or queued), and its result is
/// dropped.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct BlockingTask<T>(tokio::task::JoinHandle<T>);

impl<T> Future for BlockingTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match std::task::ready!(Pin::new(&mut self.0).poll(cx)) {
            Ok(value) => Poll::Ready(value),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("aiter: blocking task cancelled: {e}"),
        }
    }
}

/// A drift-free stream of ticks every `period`: [`aiter_core::time::interval`] on tokio.
pub fn interval(period: Duration) -> Interval<Tokio> {
    aiter_core::time::interval(Tokio, period)
}

/// Each item within `per_item`, or an [`Elapsed`] error item: [`aiter_core::time::timeout`] on tokio.
pub fn timeout<S: Stream>(stream: S, per_item: Duration) -> Timeout<S, Tokio> {
    aiter_core::time::timeout(Tokio, stream, per_item)
}

/// Sleeps for `duration` on tokio's timer.
pub fn sleep(duration: Duration) -> Sleep {
    Tokio.sleep(duration)
}

/// A lending line reader of the file at `path` on tokio:
/// [`LineReader::open`](aiter_core::lines::LineReader::open).
pub fn line_reader(path: impl Into<std::path::PathBuf>) -> LineReader<FileSource<Tokio>> {
    LineReader::open(Tokio, path)
}

/// A stream of the owned lines of the file at `path` on tokio:
/// [`Lines::open`](aiter_core::lines::Lines::open).
pub fn lines(path: impl Into<std::path::PathBuf>) -> Lines<FileSource<Tokio>> {
    Lines::open(Tokio, path)
}

/// A lending line reader of any [`tokio::io::AsyncRead`]: a
/// `tokio::process::ChildStdout`, a `TcpStream`, a tokio decompressor.
/// Each byte goes straight from `reader` into the line reader's buffer.
///
/// # Examples
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (mut tx, rx) = tokio::io::duplex(64);
/// tokio::io::AsyncWriteExt::write_all(&mut tx, b"one\ntwo").await.unwrap();
/// drop(tx);
/// let mut reader = aiter_rt_tokio::line_reader_from(rx);
/// assert_eq!(reader.next_line().await.unwrap().unwrap().as_bytes(), b"one");
/// assert_eq!(reader.next_line().await.unwrap().unwrap().as_bytes(), b"two");
/// assert!(reader.next_line().await.is_none());
/// # });
/// ```
pub fn line_reader_from<R>(reader: R) -> LineReader<TokioRead<R>>
where
    R: tokio::io::AsyncRead + Unpin,
{
    LineReader::new(TokioRead::new(reader))
}

/// A stream of the owned lines of any [`tokio::io::AsyncRead`]: see
/// [`line_reader_from`].
pub fn lines_from<R>(reader: R) -> Lines<TokioRead<R>>
where
    R: tokio::io::AsyncRead + Unpin,
{
    Lines::new(TokioRead::new(reader))
}

/// A [`tokio::io::AsyncRead`] as a line [`Source`]: reads straight into
/// the line reader's buffer; `Interrupted` errors are retried.
#[must_use = "a source does nothing unless read"]
pub struct TokioRead<R> {
    reader: R,
    read: Option<(Vec<u8>, usize)>,
}

impl<R> TokioRead<R> {
    /// A source reading `reader`.
    pub fn new(reader: R) -> Self {
        TokioRead { reader, read: None }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }
}

impl<R: tokio::io::AsyncRead + Unpin> Source for TokioRead<R> {
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
        self.get_mut().read = Some((buf, start));
    }

    fn polls_to_start(&self) -> bool {
        true
    }

    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<(std::io::Result<usize>, Vec<u8>)> {
        let this = self.get_mut();
        let (buf, start) = this
            .read
            .as_mut()
            .expect("`TokioRead::poll_read` without a read started");
        let mut dst = tokio::io::ReadBuf::new(buf.get_mut(*start..).unwrap_or_default());
        let result = loop {
            match Pin::new(&mut this.reader).poll_read(cx, &mut dst) {
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Poll::Ready(result) => break result.map(|()| dst.filled().len()),
                Poll::Pending => return Poll::Pending,
            }
        };
        let (buf, _) = this.read.take().expect("checked above");
        Poll::Ready((result, buf))
    }
}

impl<R> std::fmt::Debug for TokioRead<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioRead")
            .field("reading", &self.read.is_some())
            .finish_non_exhaustive()
    }
}

/// Follows the file at `path` like `tail -F` on tokio:
/// [`aiter_core::lines::follow()`].
pub fn follow(path: impl Into<std::path::PathBuf>) -> Follow<Tokio> {
    aiter_core::lines::follow(Tokio, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blocking_panics_resume_in_the_caller() {
        let task = Tokio.unblock(|| -> u8 { panic!("boom") });
        let caught = tokio::spawn(task).await.unwrap_err();
        assert!(caught.is_panic());
    }

    #[tokio::test]
    async fn a_dropped_blocking_task_still_runs() {
        let (tx, rx) = std::sync::mpsc::channel();
        drop(Tokio.unblock(move || tx.send(()).unwrap()));
        let got = Tokio.unblock(move || rx.recv_timeout(Duration::from_secs(10)));
        assert_eq!(got.await, Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reset_sleep_completes_the_new_duration_from_now() {
        let start = tokio::time::Instant::now();
        let mut nap = sleep(Duration::from_secs(5));
        nap.reset(Duration::from_secs(1));
        nap.await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Tokio>();
        check::<Sleep>();
        check::<BlockingTask<u8>>();
    }

    #[test]
    fn building_outside_a_runtime_does_not_panic() {
        let _ticks = interval(Duration::from_secs(1));
        let _t = timeout(aiter_core::iter([1]), Duration::from_secs(1));
    }
}
