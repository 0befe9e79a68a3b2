//! Following a growing file like `tail -F`: [`follow`] gives a
//! [`Follow`] stream of [`FollowEvent`]s; [`detect_change`] is its pure
//! decision of what happened to the file at each check.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::path::{Path, PathBuf};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::error::{LineError, LineErrorKind};
use super::options::{LineOptions, Utf8};
use super::pump::{read_start, Chunk, SharedBuf, ALIGN_SLACK, HEADROOM};
use super::shared_line::SharedLine;
use super::source::read;
use super::splitter::LineSplitter;
use super::stream::check_utf8;
use crate::rt::{Blocking, File, FileMeta, Fs, Timer};

#[cfg(feature = "notify")]
mod hub;
mod last_lines;

use self::last_lines::last_lines_start;

/// Default time between checks of a followed file at its end when no
/// change notification is available: 250 ms.
pub const DEFAULT_FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// Default time between checks of a followed file at its end while change
/// notification works: 5 s, the safety net for lost events.
pub const DEFAULT_NOTIFIED_INTERVAL: Duration = Duration::from_secs(5);

/// Default bytes per read when following: 64 KiB (followed files are
/// mostly idle, and many may be followed at once).
pub const DEFAULT_FOLLOW_CHUNK_SIZE: usize = 64 * 1024;

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
    let mut splitter = LineSplitter::new(SharedBuf::from_vec(Vec::new()));
    splitter.set_max_line_length(options.max_line_length);
    let state = State {
        rt,
        path: path.into().into(),
        interval: DEFAULT_FOLLOW_INTERVAL,
        notified_interval: DEFAULT_NOTIFIED_INTERVAL,
        notify: cfg!(feature = "notify"),
        last_lines: None,
        options,
        splitter,
        spare: Vec::new(),
        file: None,
        offset: 0,
        after_flush: None,
        done: false,
        watch: Watch::default(),
        op: Op::Subscribe,
        sleep: None,
    };
    Follow {
        state: Box::pin(state),
    }
}

/// A follower's link to the process's change notifier (none without the
/// `notify` feature, when disabled, or when unavailable).
#[derive(Debug, Default)]
struct Watch {
    #[cfg(feature = "notify")]
    sub: Option<hub::Subscription>,
}

impl Watch {
    /// Subscribes to changes of `path` (blocking).
    fn subscribe(path: &Path) -> Watch {
        #[cfg(feature = "notify")]
        {
            Watch {
                sub: hub::subscribe(path),
            }
        }
        #[cfg(not(feature = "notify"))]
        {
            let _ = path;
            Watch {}
        }
    }

    fn is_active(&self) -> bool {
        #[cfg(feature = "notify")]
        {
            self.sub.is_some()
        }
        #[cfg(not(feature = "notify"))]
        {
            false
        }
    }

    /// Registers `cx`'s waker, then takes the changed flag.
    fn poll_changed(&self, cx: &mut Context<'_>) -> bool {
        #[cfg(feature = "notify")]
        {
            self.sub.as_ref().is_some_and(|sub| sub.poll_changed(cx))
        }
        #[cfg(not(feature = "notify"))]
        {
            let _ = cx;
            false
        }
    }
}

/// Spreads the followers' first timer ticks over an interval (so that
/// many followers started together do not check, and crowd the blocking
/// pool, all at once): a fraction in [1/2, 1) that differs per follower.
fn first_tick(interval: Duration) -> Duration {
    static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    // Golden-ratio steps spread any number of followers evenly.
    let frac = n.wrapping_mul(0x9E37_79B9);
    interval / 2 + (interval / 2).mul_f64(f64::from(frac) / 4_294_967_296.0)
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
    /// The follower's state.
    struct State<R>
    where
        R: Fs,
        R: Timer,
        R: Blocking,
    {
        rt: R,
        path: Arc<Path>,
        interval: Duration,
        notified_interval: Duration,
        notify: bool,
        // Start with the last this many lines of the file first opened.
        last_lines: Option<u64>,
        options: LineOptions,
        splitter: LineSplitter<SharedBuf>,
        spare: Vec<u8>,
        file: Option<File>,
        // Bytes of the open file read so far (its offset for the next read).
        offset: u64,
        // The event to yield once the flushed partial line is out.
        after_flush: Option<Change>,
        done: bool,
        watch: Watch,
        #[pin]
        op: Op<R::Open, R::Read, R::Metadata, R::Task<Watch>, R::Task<io::Result<u64>>>,
        #[pin]
        sleep: Option<R::Sleep>,
    }
}

/// What to do when the wait at the end of the file is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    Open,
    Check,
    Read,
}

pin_project! {
    /// The follower's protocol.
    #[project = OpProj]
    enum Op<O, Rd, M, W, S> {
        // Subscribe to change notification, before the first read.
        Subscribe,
        Subscribing { #[pin] task: W },
        // Open the path now.
        Open,
        Opening { #[pin] open: O },
        // Find where the last lines start.
        Seeking { #[pin] task: S },
        // Read at the offset now.
        Read,
        Reading { #[pin] read: Rd },
        // At the end: check what changed now.
        Check,
        CheckingFile { #[pin] meta: M },
        CheckingPath { #[pin] meta: M, open: FileMeta },
        // Both looked at: act on what changed.
        Decide { open: FileMeta, at_path: Option<FileMeta> },
        // Waiting for a change or the timer.
        Sleeping { then: Then },
    }
}

impl<R: Fs + Timer + Blocking> Follow<R> {
    /// Time between checks at the end of the file without change
    /// notification (default 250 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        *self.state.as_mut().project().interval = interval;
        self
    }

    /// Time between checks at the end of the file while change
    /// notification works (default 5 s): the bound on how late a change
    /// whose event was lost is seen.
    pub fn notified_interval(mut self, interval: Duration) -> Self {
        *self.state.as_mut().project().notified_interval = interval;
        self
    }

    /// Whether to use change notification (default: on with the `notify`
    /// feature). Off, the file is checked every [`interval`](Self::interval).
    pub fn notify(mut self, on: bool) -> Self {
        *self.state.as_mut().project().notify = on && cfg!(feature = "notify");
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
    /// [`Unsupported`](io::ErrorKind::Unsupported) error.
    pub fn last_lines(mut self, n: u64) -> Self {
        *self.state.as_mut().project().last_lines = Some(n);
        self
    }

    /// How far the open file was read: the offset of the next read (0
    /// before it is opened).
    pub fn position(&self) -> u64 {
        self.state.offset
    }

    /// The bytes read but not handed out: the partial last line held back
    /// until its newline (after any complete lines not taken yet). Call it
    /// when you stop reading to print what would otherwise be lost.
    pub fn held_back(&self) -> &[u8] {
        self.state.splitter.buffered_bytes()
    }

    /// Bytes per read (default 64 KiB; at least 1).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.state.as_mut().project().options.chunk_size = bytes.max(1);
        self
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
        this.splitter.set_max_line_length(options.max_line_length);
        this.splitter.keep_endings(options.keep_endings);
        *this.options = options;
        self
    }

    /// The reading settings.
    pub fn options(&self) -> &LineOptions {
        &self.state.options
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.state.path
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
            match this.splitter.next_span() {
                Some(Ok(span)) => {
                    let line = SharedLine::new(&this.splitter.buffer().0, span);
                    let line = check_utf8(line, this.options.utf8, Some(&*this.path));
                    return Poll::Ready(Some(line.map(FollowEvent::Line)));
                }
                Some(Err(e)) => {
                    return Poll::Ready(Some(Err(LineError::too_long(e, Some(this.path.clone())))));
                }
                None => {}
            }
            if let Some(change) = this.after_flush.take() {
                this.splitter.reset();
                *this.offset = 0;
                let event = if change == Change::Rotated {
                    *this.file = None;
                    this.op.set(Op::Open);
                    FollowEvent::Rotated
                } else {
                    this.op.set(Op::Read);
                    FollowEvent::Truncated
                };
                return Poll::Ready(Some(Ok(event)));
            }
            let fail = |e: io::Error, splitter: &LineSplitter<SharedBuf>, offset: u64| {
                LineError::new(
                    LineErrorKind::Io(e),
                    Some(this.path.clone()),
                    splitter.next_number(),
                    offset,
                )
            };
            match this.op.as_mut().project() {
                OpProj::Subscribe => {
                    if *this.notify {
                        let path = this.path.clone();
                        let task = this.rt.unblock(move || Watch::subscribe(&path));
                        this.op.set(Op::Subscribing { task });
                    } else {
                        this.op.set(Op::Open);
                    }
                }
                OpProj::Subscribing { task } => {
                    *this.watch = core::task::ready!(task.poll(cx));
                    this.op.set(Op::Open);
                }
                OpProj::Open => {
                    let open = this.rt.open(this.path.to_path_buf());
                    this.op.set(Op::Opening { open });
                }
                OpProj::Opening { open } => match core::task::ready!(open.poll(cx)) {
                    Ok(file) => {
                        let last = this.last_lines.take();
                        match last {
                            Some(n) if file.is_regular() => {
                                let f = file.clone();
                                let task = this.rt.unblock(move || {
                                    let std = f.std_file().ok_or_else(|| {
                                        io::Error::new(
                                            io::ErrorKind::Unsupported,
                                            "last_lines reads back from the end of a std file only",
                                        )
                                    })?;
                                    let len = std.metadata()?.len();
                                    last_lines_start(len, n, 64 * 1024, |at, buf| {
                                        crate::rt::fs::read_at_blocking(std, at, buf)
                                    })
                                });
                                this.op.set(Op::Seeking { task });
                            }
                            _ => this.op.set(Op::Read),
                        }
                        *this.file = Some(file);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        // A file that appears later is read from its start.
                        *this.last_lines = None;
                        this.op.set(Op::Sleeping { then: Then::Open });
                    }
                    Err(e) => {
                        *this.done = true;
                        let e = fail(e.into_io_error(), this.splitter, 0);
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                OpProj::Seeking { task } => match core::task::ready!(task.poll(cx)) {
                    Ok(start) => {
                        *this.offset = start;
                        this.splitter.restart_at(start);
                        this.op.set(Op::Read);
                    }
                    Err(e) => {
                        *this.done = true;
                        let e = fail(e, this.splitter, 0);
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                OpProj::Read => {
                    let file = this.file.as_ref().expect("open before reading");
                    let mut buf = core::mem::take(this.spare);
                    let len = HEADROOM + ALIGN_SLACK + this.options.chunk_size.max(1);
                    if buf.len() < len {
                        // Fresh and zeroed: no copy, no fill loop.
                        buf = alloc::vec![0; len];
                    } else {
                        buf.truncate(len);
                    }
                    let start = read_start(&buf);
                    let read = read(this.rt, file, *this.offset, buf, start);
                    this.op.set(Op::Reading { read });
                }
                OpProj::Reading { read } => {
                    let (result, buf) = core::task::ready!(read.poll(cx));
                    match result {
                        Ok(0) => {
                            *this.spare = buf;
                            let regular = this.file.as_ref().is_some_and(File::is_regular);
                            this.op.set(if regular {
                                Op::Check
                            } else {
                                // A FIFO has no length to check: wait, read again.
                                Op::Sleeping { then: Then::Read }
                            });
                        }
                        Ok(n) => {
                            // The same buffer, so the same start as the read's.
                            let start = read_start(&buf);
                            let n = n.min(buf.len() - start);
                            *this.offset += n as u64;
                            let old = this
                                .splitter
                                .swap_in(SharedBuf::from_vec(buf), start..start + n);
                            *this.spare = old.into_vec();
                            this.op.set(Op::Read);
                        }
                        Err(e) => {
                            *this.done = true;
                            let e = fail(e.into_io_error(), this.splitter, *this.offset);
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
                OpProj::Check => {
                    let file = this.file.as_ref().expect("open before checking");
                    let std = file.std_file().filter(|_| this.watch.is_active());
                    if let Some(std) = std {
                        // Notified (or the rare safety-net tick): two
                        // metadata calls of a few microseconds, made here
                        // rather than on the blocking pool, so that idle
                        // followers keep no pool threads alive.
                        match std.metadata() {
                            Ok(open) => {
                                let at_path = std::fs::metadata(&**this.path).ok();
                                this.op.set(Op::Decide {
                                    open: FileMeta::of(&open),
                                    at_path: at_path.as_ref().map(FileMeta::of),
                                });
                            }
                            Err(e) => {
                                *this.done = true;
                                let e = fail(e, this.splitter, *this.offset);
                                return Poll::Ready(Some(Err(e)));
                            }
                        }
                    } else {
                        let meta = this.rt.metadata(file);
                        this.op.set(Op::CheckingFile { meta });
                    }
                }
                OpProj::CheckingFile { meta } => match core::task::ready!(meta.poll(cx)) {
                    Ok(open) => {
                        let meta = this.rt.path_metadata(this.path.to_path_buf());
                        this.op.set(Op::CheckingPath { meta, open });
                    }
                    Err(e) => {
                        *this.done = true;
                        let e = fail(e.into_io_error(), this.splitter, *this.offset);
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                OpProj::CheckingPath { meta, open } => {
                    let at_path = core::task::ready!(meta.poll(cx)).ok();
                    let open = *open;
                    this.op.set(Op::Decide { open, at_path });
                }
                OpProj::Decide { open, at_path } => {
                    match detect_change(*this.offset, open, at_path.as_ref()) {
                        Change::Grown => this.op.set(Op::Read),
                        Change::Unchanged => this.op.set(Op::Sleeping { then: Then::Check }),
                        change @ (Change::Truncated | Change::Rotated) => {
                            // Flush the held partial line, then the event.
                            this.splitter.finish();
                            *this.after_flush = Some(change);
                            this.op.set(Op::Check);
                        }
                    }
                }
                OpProj::Sleeping { then } => {
                    let then = *then;
                    let next = match then {
                        Then::Open => Op::Open,
                        Then::Check => Op::Check,
                        Then::Read => Op::Read,
                    };
                    // Register for a change before looking at the flag.
                    if this.watch.poll_changed(cx) {
                        this.op.set(next);
                        continue;
                    }
                    let interval = if this.watch.is_active() {
                        *this.notified_interval
                    } else {
                        *this.interval
                    };
                    match this.sleep.as_mut().as_pin_mut() {
                        Some(sleep) => {
                            core::task::ready!(sleep.poll(cx));
                        }
                        None => {
                            this.sleep.set(Some(this.rt.sleep(first_tick(interval))));
                            continue;
                        }
                    }
                    // Done: rearm for next time, then go on.
                    let sleep = this.sleep.as_mut().as_pin_mut().expect("set above");
                    this.rt.reset(sleep, interval);
                    this.op.set(next);
                }
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
        f.debug_struct("Follow")
            .field("path", &state.path)
            .field("interval", &state.interval)
            .field("notified", &state.watch.is_active())
            .field("open", &state.file.is_some())
            .field("offset", &state.offset)
            .field("done", &state.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::FileId;

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
