//! The followed file as the pump's [`Source`]: reads at the offset reached,
//! and at the end of the file waits until it changes.
//!
//! Its input ends (`Ok(0)`) only when reading must start over: at the start
//! of the last lines found by reading backwards, after truncation, after
//! rotation. The pump then hands out what it holds (the partial last line
//! included), and [`Follow`](super::Follow) restarts it where
//! [`Tail::take_restart`] says.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::path::Path;

use pin_project_lite::pin_project;

use super::last_lines::last_lines_start;
use super::{detect_change, Change};
use crate::lines::job_limit::{Acquire, JobLimit, Permit};
use crate::lines::source::{read, Source};
use crate::rt::{Blocking, File, FileMeta, Fs, Timer};

#[cfg(feature = "notify")]
use super::hub;

/// The follower's settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    pub(super) interval: Duration,
    pub(super) notified_interval: Duration,
    pub(super) notify: bool,
    /// Start with the last this many lines of the file first opened.
    pub(super) last_lines: Option<u64>,
}

/// Why the input ended: where reading starts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Restart {
    /// At the start of the last lines (nothing was read before).
    At(u64),
    /// At 0 of the same file, which shrank.
    Truncated,
    /// At 0 of the new file the path names.
    Rotated,
}

/// How many blocking jobs of all followers run at once
/// ([`MAX_FOLLOW_JOBS`](super::MAX_FOLLOW_JOBS)).
fn follow_jobs() -> &'static JobLimit {
    #[cfg(not(all(loom, test)))]
    {
        static JOBS: JobLimit = JobLimit::new(super::MAX_FOLLOW_JOBS);
        &JOBS
    }
    // loom's mutex cannot live in a `static`; only loom models run then.
    #[cfg(all(loom, test))]
    {
        alloc::boxed::Box::leak(alloc::boxed::Box::new(JobLimit::new(
            super::MAX_FOLLOW_JOBS,
        )))
    }
}

/// Takes a place for a blocking job (keeping the one held, if any).
fn poll_place(
    acquire: &mut Option<Acquire<'static>>,
    permit: &mut Option<Permit<'static>>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if permit.is_none() {
        let waiting = acquire.get_or_insert_with(|| follow_jobs().acquire());
        let got = core::task::ready!(Pin::new(waiting).poll(cx));
        *acquire = None;
        *permit = Some(got);
    }
    Poll::Ready(())
}

/// A follower's link to the process's change notifier (none without the
/// `notify` feature, when disabled, or when unavailable).
#[derive(Debug, Default)]
pub(super) struct Watch {
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

    pub(super) fn is_active(&self) -> bool {
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

pin_project! {
    /// The followed file, read by the pump.
    pub(super) struct Tail<R>
    where
        R: Fs,
        R: Timer,
        R: Blocking,
    {
        rt: R,
        path: Arc<Path>,
        settings: Settings,
        watch: Watch,
        file: Option<File>,
        // Bytes of the open file read so far (its offset for the next read).
        offset: u64,
        // The pump's buffer, and where the read into it starts, between
        // `start_read` and the read job.
        buf: Option<(Vec<u8>, usize)>,
        restart: Option<Restart>,
        // Waiting for a place among the followers' blocking jobs.
        acquire: Option<Acquire<'static>>,
        // The place held while a job is in flight.
        permit: Option<Permit<'static>>,
        #[pin]
        op: Op<R::Open, R::Read, R::Metadata, R::Task<Watch>, R::Task<io::Result<u64>>>,
        #[pin]
        sleep: Option<R::Sleep>,
    }
}

impl<R: Fs + Timer + Blocking> Tail<R> {
    pub(super) fn new(rt: R, path: Arc<Path>, settings: Settings) -> Self {
        Tail {
            rt,
            path,
            settings,
            watch: Watch::default(),
            file: None,
            offset: 0,
            buf: None,
            restart: None,
            acquire: None,
            permit: None,
            op: Op::Subscribe,
            sleep: None,
        }
    }

    pub(super) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(super) fn settings_mut(self: Pin<&mut Self>) -> &mut Settings {
        self.project().settings
    }

    pub(super) fn path_ref(&self) -> &Arc<Path> {
        &self.path
    }

    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    pub(super) fn is_open(&self) -> bool {
        self.file.is_some()
    }

    pub(super) fn is_notified(&self) -> bool {
        self.watch.is_active()
    }

    /// Why the input ended, once (`None`: it ended on an error).
    pub(super) fn take_restart(self: Pin<&mut Self>) -> Option<Restart> {
        self.project().restart.take()
    }
}

impl<R: Fs + Timer + Blocking> Source for Tail<R> {
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
        *self.project().buf = Some((buf, start));
    }

    /// `Ready` with bytes read, with `Ok(0)` when reading starts over
    /// ([`take_restart`](Tail::take_restart)), or with an error (opening,
    /// reading, checking the open file); `Pending` while a job runs or
    /// while waiting at the end of the file for a change notice (its waker
    /// registered) or the timer.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)> {
        let mut this = self.project();
        let give_back =
            |buf: &mut Option<(Vec<u8>, usize)>| buf.take().map(|(b, _)| b).unwrap_or_default();
        loop {
            match this.op.as_mut().project() {
                OpProj::Subscribe => {
                    if this.settings.notify {
                        core::task::ready!(poll_place(this.acquire, this.permit, cx));
                        let path = this.path.clone();
                        let task = this.rt.unblock(move || Watch::subscribe(&path));
                        this.op.set(Op::Subscribing { task });
                    } else {
                        this.op.set(Op::Open);
                    }
                }
                OpProj::Subscribing { task } => {
                    *this.watch = core::task::ready!(task.poll(cx));
                    *this.permit = None;
                    this.op.set(Op::Open);
                }
                OpProj::Open => {
                    core::task::ready!(poll_place(this.acquire, this.permit, cx));
                    let open = this.rt.open(this.path.to_path_buf());
                    this.op.set(Op::Opening { open });
                }
                OpProj::Opening { open } => match core::task::ready!(open.poll(cx)) {
                    Ok(file) => {
                        match this.settings.last_lines.take() {
                            Some(n) if file.is_regular() => {
                                // The place goes on to the backward scan.
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
                            _ => {
                                *this.permit = None;
                                this.op.set(Op::Read);
                            }
                        }
                        *this.file = Some(file);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        *this.permit = None;
                        // A file that appears later is read from its start.
                        this.settings.last_lines = None;
                        this.op.set(Op::Sleeping { then: Then::Open });
                    }
                    Err(e) => {
                        *this.permit = None;
                        this.op.set(Op::Open);
                        return Poll::Ready((Err(e.into_io_error()), give_back(this.buf)));
                    }
                },
                OpProj::Seeking { task } => {
                    let found = core::task::ready!(task.poll(cx));
                    *this.permit = None;
                    this.op.set(Op::Read);
                    match found {
                        Ok(0) => {}
                        Ok(start) => {
                            *this.offset = start;
                            *this.restart = Some(Restart::At(start));
                            return Poll::Ready((Ok(0), give_back(this.buf)));
                        }
                        Err(e) => return Poll::Ready((Err(e), give_back(this.buf))),
                    }
                }
                OpProj::Read => {
                    core::task::ready!(poll_place(this.acquire, this.permit, cx));
                    let file = this.file.as_ref().expect("open before reading");
                    let (buf, start) = this.buf.take().expect("a read was started");
                    let read = read(this.rt, file, *this.offset, buf, start);
                    // Remember where the read starts, for the buffer's return.
                    *this.buf = Some((Vec::new(), start));
                    this.op.set(Op::Reading { read });
                }
                OpProj::Reading { read } => {
                    let (result, buf) = core::task::ready!(read.poll(cx));
                    *this.permit = None;
                    let start = this.buf.take().map_or(0, |(_, start)| start);
                    match result {
                        Ok(0) => {
                            *this.buf = Some((buf, start));
                            let regular = this.file.as_ref().is_some_and(File::is_regular);
                            this.op.set(if regular {
                                Op::Check
                            } else {
                                // A FIFO has no length to check: wait, read again.
                                Op::Sleeping { then: Then::Read }
                            });
                        }
                        Ok(n) => {
                            *this.offset += n as u64;
                            let regular = this.file.as_ref().is_some_and(File::is_regular);
                            // A regular file reads short only at its end:
                            // check it rather than read 0 bytes (one job
                            // fewer per wake-up).
                            let short = n < buf.len().saturating_sub(start);
                            this.op.set(if regular && short {
                                Op::Check
                            } else {
                                Op::Read
                            });
                            return Poll::Ready((Ok(n), buf));
                        }
                        Err(e) => {
                            this.op.set(Op::Read);
                            return Poll::Ready((Err(e.into_io_error()), buf));
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
                            Err(e) => return Poll::Ready((Err(e), give_back(this.buf))),
                        }
                    } else {
                        core::task::ready!(poll_place(this.acquire, this.permit, cx));
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
                        *this.permit = None;
                        this.op.set(Op::Check);
                        return Poll::Ready((Err(e.into_io_error()), give_back(this.buf)));
                    }
                },
                OpProj::CheckingPath { meta, open } => {
                    let at_path = core::task::ready!(meta.poll(cx)).ok();
                    *this.permit = None;
                    let open = *open;
                    this.op.set(Op::Decide { open, at_path });
                }
                OpProj::Decide { open, at_path } => {
                    match detect_change(*this.offset, open, at_path.as_ref()) {
                        Change::Grown => this.op.set(Op::Read),
                        Change::Unchanged => this.op.set(Op::Sleeping { then: Then::Check }),
                        Change::Truncated => {
                            *this.offset = 0;
                            *this.restart = Some(Restart::Truncated);
                            this.op.set(Op::Read);
                            return Poll::Ready((Ok(0), give_back(this.buf)));
                        }
                        Change::Rotated => {
                            *this.offset = 0;
                            *this.file = None;
                            *this.restart = Some(Restart::Rotated);
                            this.op.set(Op::Open);
                            return Poll::Ready((Ok(0), give_back(this.buf)));
                        }
                    }
                }
                OpProj::Sleeping { then } => {
                    let next = match *then {
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
                        this.settings.notified_interval
                    } else {
                        this.settings.interval
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

    fn path(&self) -> Option<&Arc<Path>> {
        Some(&self.path)
    }
}

impl<R: Fs + Timer + Blocking> fmt::Debug for Tail<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tail")
            .field("path", &self.path)
            .field("settings", &self.settings)
            .field("notified", &self.watch.is_active())
            .field("open", &self.file.is_some())
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}
