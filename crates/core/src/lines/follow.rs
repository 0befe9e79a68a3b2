//! Following a growing file like `tail -F`: [`follow`] gives a
//! [`Follow`] stream of [`FollowEvent`]s; [`detect_change`] is its pure
//! decision of what happened to the file at each check.
//!
//! A follower reads through the same pump as [`Lines`](super::Lines)
//! (buffers, splitter, limits, text modes); its source is the followed
//! file, which at its end waits for a change instead of ending.

use alloc::boxed::Box;
#[cfg(test)]
use alloc::vec::Vec;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::path::{Path, PathBuf};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::error::LineError;
use super::options::{LineOptions, Utf8};
use super::pump::{Pump, Reads, SharedBuf};
use super::shared_line::SharedLine;
use super::stream::check_utf8;
use crate::rt::{Blocking, FileMeta, Fs, Timer};

#[cfg(feature = "notify")]
mod hub;
mod last_lines;
#[cfg(feature = "notify")]
mod slot;
mod tail;

use self::tail::{Restart, Settings, Tail};

/// Default time between checks of a followed file at its end when no
/// change notification is available: 250 ms.
pub const DEFAULT_FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// Default time between checks of a followed file at its end while change
/// notification works: 5 s, the safety net for lost events.
pub const DEFAULT_NOTIFIED_INTERVAL: Duration = Duration::from_secs(5);

/// Default bytes per read when following: 64 KiB (followed files are
/// mostly idle, and many may be followed at once).
pub const DEFAULT_FOLLOW_CHUNK_SIZE: usize = 64 * 1024;

/// How many blocking jobs (subscribing to notification, opening, finding
/// the last lines, reading, checking without notification) all the
/// followers of the process run at once: 4. The others wait their turn,
/// first come first served.
///
/// A runtime's blocking pool grows a thread for each job that finds no
/// idle one (smol's and async-std's up to 500, tokio's up to 512), so
/// without a limit 500 followers started together make hundreds of
/// threads; with it the pool stays near this size. Followers mostly wait,
/// and each job is short (a read of at most a chunk, an open, a `stat`).
/// Path readers ([`Lines`](super::Lines), [`LineReader`](super::LineReader))
/// are not limited: they keep a read in flight while their lines are used.
///
/// A follower holds its place only while its own job is in flight, and
/// gives it back when it takes the job's result (when it is next polled)
/// or when it is dropped: a follower left unpolled in the middle of a job
/// keeps its place until then.
pub const MAX_FOLLOW_JOBS: usize = 4;

/// An item of [`Follow`]: a line, or what happened to the file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FollowEvent {
    /// A complete line (or a partial last line flushed by truncation or
    /// rotation, whose [`ending`](SharedLine::ending) is `Ending::None`).
    Line(SharedLine),
    /// The file shrank below what was read: reading restarts at its
    /// beginning (line numbers from 1, offsets from 0).
    Truncated,
    /// The path now names another file: the old one was read to its end,
    /// and reading continues with the new one from its beginning.
    Rotated,
}

/// What changed about a followed file since it was last read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The open file has bytes past what was read: read them.
    Grown,
    /// The open file is shorter than what was read.
    Truncated,
    /// The open file was read to its end and the path names another file.
    Rotated,
    /// Nothing to do: wait and check again (also when the path is missing,
    /// or the platform gives no file identity).
    Unchanged,
}

/// Decides what happened to a followed file: a pure function of how far it
/// was read, the open file's metadata and what the path names now (`None`
/// if nothing).
///
/// Growth wins over rotation, so the old file is read to its end first
/// (a writer may still append to it after the rename). Truncation is seen
/// only while the file is shorter than what was read: truncated and
/// regrown past that point between two checks looks like growth.
///
/// # Examples
/// ```
/// use aiter_core::lines::follow::{detect_change, Change};
/// use aiter_core::rt::{FileId, FileMeta};
///
/// let file = |len, ino| FileMeta { len, id: Some(FileId { dev: 1, ino }), is_dir: false };
/// assert_eq!(detect_change(10, &file(15, 7), Some(&file(15, 7))), Change::Grown);
/// assert_eq!(detect_change(10, &file(3, 7), Some(&file(3, 7))), Change::Truncated);
/// assert_eq!(detect_change(10, &file(10, 7), Some(&file(0, 8))), Change::Rotated);
/// assert_eq!(detect_change(10, &file(10, 7), None), Change::Unchanged);
/// ```
pub fn detect_change(read_to: u64, open: &FileMeta, at_path: Option<&FileMeta>) -> Change {
    if open.len < read_to {
        return Change::Truncated;
    }
    if open.len > read_to {
        return Change::Grown;
    }
    match at_path {
        Some(now) if open.id.is_some() && now.id != open.id => Change::Rotated,
        _ => Change::Unchanged,
    }
}

/// Follows the file at `path` like `tail -F`: its lines from the start,
/// then new lines as they are written, across truncation and rotation.
///
/// See [`Follow`].
pub fn follow<R: Fs + Timer + Blocking>(rt: R, path: impl Into<PathBuf>) -> Follow<R> {
    let options = LineOptions {
        chunk_size: DEFAULT_FOLLOW_CHUNK_SIZE,
        ..LineOptions::default()
    };
    let settings = Settings {
        interval: DEFAULT_FOLLOW_INTERVAL,
        notified_interval: DEFAULT_NOTIFIED_INTERVAL,
        notify: cfg!(feature = "notify"),
        last_lines: None,
    };
    let state = State {
        options,
        pump: Pump::new(&options),
        done: false,
        tail: Tail::new(rt, path.into().into(), settings),
    };
    Follow {
        state: Box::pin(state),
    }
}

/// Stream returned by [`follow`]: `FollowEvent::Line`s of a file as it grows,
/// with `FollowEvent::Truncated` and `FollowEvent::Rotated` when it is cut or replaced.
///
/// Reads the file from its start (or from its last lines,
/// [`last_lines`](Self::last_lines)) to its end, then checks it whenever
/// it may have changed: it compares the open file's length with what was
/// read and what the path names now ([`detect_change`]): grown → reads on;
/// truncated → restarts at 0; rotated (renamed or removed and recreated)
/// → having read the old file to its end, opens the new one and reads it
/// from 0. A path that does not exist yet (or not any more) is waited for.
///
/// "May have changed" comes from change notification (with the `notify`
/// feature, on by default: inotify on Linux, kqueue on BSD and macOS,
/// ReadDirectoryChangesW on Windows), one watcher thread for every
/// follower of the process, which wakes the follower's task directly: an
/// appended line arrives within about a millisecond. The runtime's timer
/// stays as the safety net for lost events and file systems without them
/// (NFS, some container volumes): a check every
/// [`notified_interval`](Self::notified_interval) (default 5 s) while
/// notification works, every [`interval`](Self::interval) (default
/// 250 ms) when it does not (a symbolic link, no watcher, or
/// [`notify(false)`](Self::notify)).
///
/// A partial last line is held back until its newline arrives, so a
/// line written in two `write` calls comes out once, whole; truncation
/// or rotation flushes it as a line without ending, and
/// [`held_back`](Self::held_back) shows it when you stop reading.
///
/// A path that is not a regular file (a FIFO) is read in order, and
/// waited on at its end every [`interval`](Self::interval).
///
/// Lines go through the same machinery as [`Lines`](super::Lines) (reads
/// of [`chunk_size`](Self::chunk_size), the line length limit, endings,
/// the UTF-8 mode). The blocking work of all the process's followers
/// (opening, reading, checking) runs at most [`MAX_FOLLOW_JOBS`] jobs at
/// once, so that following many files keeps the runtime's blocking pool
/// small.
///
/// The stream never ends on its own (only after an error it cannot go
/// past, see below).
///
/// # Errors
/// `Err(`[`LineError`]`)` items: a line too long (skipped, goes on);
/// failing to open (other than "not found", which is waited out) or to
/// read: the stream then ends.
///
/// # Cancel safety
/// Dropping a `next` future loses nothing: bytes, position and the
/// operation in flight are kept in the stream.
///
/// # Examples
/// ```
/// use aiter_core::lines::{follow, FollowEvent};
/// # use core::{future::{ready, Ready}, time::Duration};
/// # #[derive(Clone, Copy)] struct Rt;
/// # impl aiter_core::rt::Blocking for Rt {
/// #     type Task<T: Send + 'static> = Ready<T>;
/// #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
/// # }
/// # impl aiter_core::rt::StdFs for Rt {}
/// # impl aiter_core::rt::Timer for Rt {
/// #     type Sleep = Ready<()>;
/// #     fn sleep(&self, _: Duration) -> Ready<()> { ready(()) }
/// #     fn now(&self) -> Duration { Duration::ZERO }
/// # }
/// # if cfg!(miri) { return Ok(()); } // Miri isolates the file system.
/// # let dir = std::env::temp_dir().join(format!("aiter-follow-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("app.log");
/// std::fs::write(&path, "started\n")?;
/// # futures::executor::block_on(async {
/// // With a runtime: `follow(aiter::tokio::Tokio, &path)`.
/// let mut log = follow(Rt, &path).interval(Duration::from_millis(10));
/// let Some(Ok(FollowEvent::Line(line))) = aiter_core::next(&mut log).await else { panic!() };
/// assert_eq!(line.to_str(), Ok("started"));
/// # });
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Follow<R: Fs + Timer + Blocking> {
    /// Boxed so the stream is `Unpin` whatever the runtime's futures are.
    state: Pin<Box<State<R>>>,
}

pin_project! {
    /// The follower's state: the pump, reading from the followed file.
    struct State<R>
    where
        R: Fs,
        R: Timer,
        R: Blocking,
    {
        options: LineOptions,
        pump: Pump<SharedBuf>,
        done: bool,
        #[pin]
        tail: Tail<R>,
    }
}

impl<R: Fs + Timer + Blocking> Follow<R> {
    /// Time between checks at the end of the file without change
    /// notification (default 250 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.settings().interval = interval;
        self
    }

    /// Time between checks at the end of the file while change
    /// notification works (default 5 s): the bound on how late a change
    /// whose event was lost is seen.
    pub fn notified_interval(mut self, interval: Duration) -> Self {
        self.settings().notified_interval = interval;
        self
    }

    /// Whether to use change notification (default: on with the `notify`
    /// feature). Off, the file is checked every [`interval`](Self::interval).
    pub fn notify(mut self, on: bool) -> Self {
        self.settings().notify = on && cfg!(feature = "notify");
        self
    }

    /// Starts with the last `n` lines of the file (like `tail -n N -F`)
    /// instead of all of it; `0`: only what is appended from now on.
    ///
    /// They are found by reading backwards from the end of the file, in
    /// blocks, never the whole file. A last line without a newline counts
    /// as a line. Offsets stay the file's; line numbers count from the
    /// first line handed out. Applies to the file the path names at the
    /// first poll; a file that appears later, or replaces it, is read from
    /// its start. Needs the [`StdFs`](crate::rt::StdFs) file access: with a
    /// runtime's own [`Fs`], the first item is an
    /// [`Unsupported`](std::io::ErrorKind::Unsupported) error.
    pub fn last_lines(mut self, n: u64) -> Self {
        self.settings().last_lines = Some(n);
        self
    }

    /// How far the open file was read: the offset of the next read (0
    /// before it is opened).
    pub fn position(&self) -> u64 {
        self.state.tail.offset()
    }

    /// The bytes read but not handed out: the partial last line held back
    /// until its newline (after any complete lines not taken yet). Call it
    /// when you stop reading to print what would otherwise be lost.
    pub fn held_back(&self) -> &[u8] {
        self.state.pump.splitter.buffered_bytes()
    }

    /// Bytes per read (default 64 KiB; at least 1).
    pub fn chunk_size(self, bytes: usize) -> Self {
        let mut options = self.state.options;
        options.chunk_size = bytes.max(1);
        self.with_options(options)
    }

    /// The maximum line length in bytes, without the ending (default
    /// 8 MiB); `None` for no limit.
    pub fn max_line_length(self, limit: Option<usize>) -> Self {
        let mut options = self.state.options;
        options.max_line_length = limit;
        self.with_options(options)
    }

    /// Keeps each line's `\n` / `\r\n` (default: stripped).
    pub fn keep_endings(self, keep: bool) -> Self {
        let mut options = self.state.options;
        options.keep_endings = keep;
        self.with_options(options)
    }

    /// What to do about UTF-8: bytes (the default), checked (an invalid
    /// line is an error item, then following goes on) or lossily repaired.
    pub fn utf8(mut self, utf8: Utf8) -> Self {
        self.state.as_mut().project().options.utf8 = utf8;
        self
    }

    /// Sets every reading setting at once (note a follower's default chunk
    /// size is [`DEFAULT_FOLLOW_CHUNK_SIZE`], not `LineOptions::default()`'s).
    pub fn with_options(mut self, options: LineOptions) -> Self {
        let this = self.state.as_mut().project();
        this.pump.set_options(&options);
        *this.options = options;
        self
    }

    /// The reading settings.
    pub fn options(&self) -> &LineOptions {
        &self.state.options
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        self.state.tail.path_ref()
    }

    fn settings(&mut self) -> &mut Settings {
        self.state.as_mut().project().tail.settings_mut()
    }
}

impl<R: Fs + Timer + Blocking> Stream for Follow<R> {
    type Item = Result<FollowEvent, LineError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.get_mut().state.as_mut().project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            let item = core::task::ready!(this.pump.poll_span(this.tail.as_mut(), cx));
            match item {
                Some(Ok(span)) => {
                    let line = SharedLine::new(&this.pump.splitter.buffer().0, span);
                    let path = this.tail.as_ref().get_ref().path_ref();
                    let line = check_utf8(line, this.options.utf8, Some(path));
                    return Poll::Ready(Some(line.map(FollowEvent::Line)));
                }
                // A line too long (goes on) or a failed job (then the end).
                Some(Err(e)) => {
                    *this.done = this.pump.reads == Reads::Done;
                    return Poll::Ready(Some(Err(e)));
                }
                // The pump handed out the old input's last bytes.
                None => match this.tail.as_mut().take_restart() {
                    Some(Restart::At(offset)) => this.pump.restart_at(offset),
                    Some(Restart::Truncated) => {
                        this.pump.restart_at(0);
                        return Poll::Ready(Some(Ok(FollowEvent::Truncated)));
                    }
                    Some(Restart::Rotated) => {
                        this.pump.restart_at(0);
                        return Poll::Ready(Some(Ok(FollowEvent::Rotated)));
                    }
                    None => {
                        *this.done = true;
                        return Poll::Ready(None);
                    }
                },
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.state.done {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

impl<R: Fs + Timer + Blocking> FusedStream for Follow<R> {
    fn is_terminated(&self) -> bool {
        self.state.done
    }
}

impl<R: Fs + Timer + Blocking> fmt::Debug for Follow<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = &*self.state;
        let tail = &state.tail;
        f.debug_struct("Follow")
            .field("path", tail.path_ref())
            .field("interval", &tail.settings().interval)
            .field("notified", &tail.is_notified())
            .field("open", &tail.is_open())
            .field("offset", &tail.offset())
            .field("done", &state.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::FileId;

    /// A runtime whose blocking jobs each run on a new thread, counting
    /// how many run at once; sleeps end at once.
    #[derive(Clone, Default)]
    struct Counting(alloc::sync::Arc<[core::sync::atomic::AtomicUsize; 2]>);

    impl Blocking for Counting {
        type Task<T: Send + 'static> = Pin<Box<dyn core::future::Future<Output = T> + Send>>;
        fn unblock<F, T>(&self, f: F) -> Self::Task<T>
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            use core::sync::atomic::Ordering::SeqCst;
            let counts = self.0.clone();
            let (tx, rx) = futures::channel::oneshot::channel();
            std::thread::spawn(move || {
                let now = counts[0].fetch_add(1, SeqCst) + 1;
                counts[1].fetch_max(now, SeqCst);
                std::thread::sleep(Duration::from_millis(1));
                let out = f();
                counts[0].fetch_sub(1, SeqCst);
                let _ = tx.send(out);
            });
            Box::pin(async move { rx.await.expect("the job ran") })
        }
    }

    impl crate::rt::StdFs for Counting {}

    impl Timer for Counting {
        type Sleep = core::future::Ready<()>;
        fn sleep(&self, _: Duration) -> Self::Sleep {
            core::future::ready(())
        }
        fn now(&self) -> Duration {
            Duration::ZERO
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no file system isolation off")]
    fn followers_run_at_most_max_follow_jobs_blocking_jobs_at_once() {
        use futures::StreamExt;
        let dir =
            std::env::temp_dir().join(alloc::format!("aiter-follow-jobs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rt = Counting::default();
        let followers: Vec<_> = (0..24)
            .map(|i| {
                let path = dir.join(alloc::format!("{i}.log"));
                std::fs::write(&path, b"a\nb\n").unwrap();
                follow(rt.clone(), path).take(2).collect::<Vec<_>>()
            })
            .collect();
        let got = futures::executor::block_on(futures::future::join_all(followers));
        assert!(got
            .iter()
            .all(|lines| lines.len() == 2 && lines.iter().all(Result::is_ok)));
        let most = rt.0[1].load(core::sync::atomic::Ordering::SeqCst);
        assert!((1..=MAX_FOLLOW_JOBS).contains(&most), "{most} jobs at once");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn meta(len: u64, ino: u64) -> FileMeta {
        FileMeta {
            len,
            id: Some(FileId { dev: 1, ino }),
            is_dir: false,
        }
    }

    #[test]
    fn growth_is_read() {
        assert_eq!(
            detect_change(0, &meta(5, 1), Some(&meta(5, 1))),
            Change::Grown
        );
    }

    #[test]
    fn a_shorter_file_is_truncated() {
        assert_eq!(
            detect_change(9, &meta(0, 1), Some(&meta(0, 1))),
            Change::Truncated
        );
        assert_eq!(detect_change(9, &meta(8, 1), None), Change::Truncated);
    }

    #[test]
    fn a_new_file_at_the_path_is_rotation_once_the_old_one_is_drained() {
        assert_eq!(
            detect_change(9, &meta(9, 1), Some(&meta(100, 2))),
            Change::Rotated
        );
        // The old file still has bytes: read them first.
        assert_eq!(
            detect_change(9, &meta(12, 1), Some(&meta(100, 2))),
            Change::Grown
        );
    }

    #[test]
    fn nothing_new_or_a_missing_path_waits() {
        assert_eq!(
            detect_change(9, &meta(9, 1), Some(&meta(9, 1))),
            Change::Unchanged
        );
        assert_eq!(detect_change(9, &meta(9, 1), None), Change::Unchanged);
    }

    #[test]
    fn without_file_identity_rotation_cannot_be_seen() {
        let anon = |len| FileMeta {
            len,
            id: None,
            is_dir: false,
        };
        assert_eq!(
            detect_change(9, &anon(9), Some(&anon(0))),
            Change::Unchanged
        );
        assert_eq!(
            detect_change(9, &anon(2), Some(&anon(2))),
            Change::Truncated
        );
    }
}
