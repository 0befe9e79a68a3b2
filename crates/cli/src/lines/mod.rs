//! `aiter lines`: print the lines of files, or follow them like `tail -F`.
//!
//! Plain reads: inputs are opened when their turn comes, at most
//! [`MAX_OPEN`] at a time, so any number of files works under a normal
//! descriptor limit. Those being read are read concurrently and their
//! output interleaves in blocks of whole lines (each file's lines stay in
//! order; with several files each line has its `FILE:` prefix). A regular
//! file is read and formatted on the runtime's blocking pool
//! ([`read::Bulk`]); standard input, FIFOs and other streams one read at a
//! time ([`read::Piece`]). Each input's buffer starts small (sized from the
//! file's length) and grows.
//!
//! `--follow`: every input is followed at once with aiter's
//! [`Follow`](aiter::lines::Follow), merged by a [`MergeMap`].
//!
//! Output is written by a thread of its own ([`writer`]), so a blocked
//! stdout never blocks the task that watches for signals.
//!
//! A bad input (missing, a directory, no permission, a line over the limit,
//! invalid UTF-8) is reported on stderr as it is found, as `aiter: FILE:
//! what (line N, byte offset M)` (`aiter: FILE: what` when it could not be
//! opened); at most [`Problems::SHOWN`] per input, then one line saying how
//! many more there were. The other inputs go on and the exit code is 1.
//!
//! Exit codes: 0; 1 after a bad input or a failed or closed stdout; 141
//! (`128 + SIGPIPE`, quietly, as `cat` under a shell) when the reader of
//! the stdout pipe goes away; a plain read stopped by SIGINT or SIGTERM
//! exits 130 or 143 (as `cat`); under `--follow`, where Ctrl-C is the
//! normal way to stop, what was read is printed (an unfinished last line
//! of a stream input completed with a newline) and the exit code is 0 (1
//! after a bad input). Stopping never takes longer than
//! [`signals::GRACE`], even with stdout blocked.

mod count;
mod input;
mod jobs;
mod last;
mod printer;
mod read;
mod writer;

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::Poll;
use std::time::Duration;

use aiter::lines::{FollowEvent, LineError, LineErrorKind};
use aiter::merge::{Event as MergeEvent, MergeMap};

use aiter::lines::Follow;

use self::jobs::{Done, Jobs};
use self::printer::{Printer, Problem, Problems, Text, What};
use self::writer::{Writer, Written};
use crate::report::{io_what, report, report_error};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};
use crate::signals::{self, Interrupted};

/// Inputs open at once in a plain read (and counted at once with `--count`).
pub(crate) const MAX_OPEN: usize = 16;

/// Threads of the runtime's blocking pool: enough for [`MAX_OPEN`] reads
/// in flight; `--follow` of any number of files shares them for its polls,
/// so its thread count does not grow with the number of files.
pub(crate) const BLOCKING_THREADS: usize = MAX_OPEN;

/// Caps the blocking pool of every runtime at [`BLOCKING_THREADS`] (unless
/// `BLOCKING_MAX_THREADS` is set already): async-std's and smol's pool
/// reads that variable, and [`runtime::block_on`] applies it to tokio's.
/// Call before any other thread starts.
pub(crate) fn limit_blocking_pool() {
    if std::env::var_os("BLOCKING_MAX_THREADS").is_none() {
        std::env::set_var("BLOCKING_MAX_THREADS", BLOCKING_THREADS.to_string());
    }
}

/// Output gathered under `--follow` before it is handed to the writer
/// (it is handed over sooner whenever no input has a line ready).
const FOLLOW_OUT: usize = 64 << 10;

/// How long the output may take to drain after SIGINT/SIGTERM before the
/// command gives up on it (below [`signals::GRACE`]).
const DRAIN: Duration = Duration::from_millis(600);

/// Exit code when the reader of the stdout pipe went away (`128 + SIGPIPE`).
const CLOSED_PIPE: u8 = 141;

/// What `aiter lines` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The inputs as given (`-`: standard input).
    pub paths: Vec<PathBuf>,
    /// How they are named in prefixes, counts and messages.
    pub names: Vec<String>,
    /// `--count`.
    pub count: bool,
    /// Prefix lines with `FILE:`.
    pub prefix: bool,
    /// `--follow`.
    pub follow: bool,
    /// `--last`: only the last N lines of each input.
    pub last: Option<u64>,
    /// `--interval`.
    pub interval: Duration,
    /// `--max-line-length`.
    pub max_line_length: usize,
    /// `--lossy` / `--bytes` / neither.
    pub text: Text,
    /// `--runtime`.
    pub runtime: RuntimeKind,
}

/// The command-line flags [`Settings`] are made from.
#[derive(Debug, Clone, Default)]
#[allow(clippy::struct_excessive_bools, reason = "one per flag")]
pub(crate) struct Flags {
    /// `--count`.
    pub count: bool,
    /// `--prefix`.
    pub prefix: bool,
    /// `--no-prefix`.
    pub no_prefix: bool,
    /// `--follow`.
    pub follow: bool,
    /// `--last N`.
    pub last: Option<u64>,
    /// `--interval`, in milliseconds.
    pub interval_ms: u64,
    /// `--max-line-length`.
    pub max_line_length: u64,
    /// `--lossy`.
    pub lossy: bool,
    /// `--bytes`.
    pub bytes: bool,
}

impl Settings {
    /// From the command line: the prefix is on with several inputs unless
    /// `--no-prefix`, and on with one if `--prefix`.
    pub(crate) fn new(paths: Vec<PathBuf>, flags: Flags, runtime: RuntimeKind) -> Self {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let prefix = if flags.prefix {
            true
        } else {
            !flags.no_prefix && names.len() > 1
        };
        Settings {
            prefix,
            count: flags.count,
            follow: flags.follow,
            last: flags.last,
            interval: Duration::from_millis(flags.interval_ms),
            max_line_length: usize::try_from(flags.max_line_length).unwrap_or(usize::MAX),
            text: match (flags.lossy, flags.bytes) {
                (_, true) => Text::Bytes,
                (true, false) => Text::Lossy,
                (false, false) => Text::Checked,
            },
            runtime,
            names,
            paths,
        }
    }

    /// The printer of input `i`.
    fn printer(&self, i: usize) -> Printer {
        let prefix = if self.prefix {
            format!("{}:", self.names[i]).into_bytes()
        } else {
            Vec::new()
        };
        Printer::new(prefix, self.max_line_length, self.text)
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Every input was read (or, under `--follow`, Ctrl-C): `true` if
    /// none was bad.
    Done(bool),
    /// A plain read stopped by this signal.
    Signal(i32),
    /// Writing failed (reported).
    WriteFailed,
    /// The reader of the stdout pipe went away.
    PipeClosed,
}

/// Runs `aiter lines`; see the module docs for the exit codes.
pub(crate) fn main(settings: Settings) -> ExitCode {
    let kind = settings.runtime;
    if settings.count {
        return match runtime::block_on(kind, count::CountWork(settings)) {
            Ok(code) => code,
            Err(e) => {
                report(format_args!("cannot start the runtime: {e}"));
                ExitCode::FAILURE
            }
        };
    }
    let writer = match writer::start() {
        Ok(writer) => writer,
        Err(e) => {
            report(format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let interrupted = match signals::watch() {
        Ok(interrupted) => interrupted,
        Err(e) => {
            report(format_args!("cannot watch for Ctrl-C: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let work = PrintWork {
        settings,
        interrupted,
        writer,
    };
    match runtime::block_on(kind, work) {
        Ok(End::Done(true)) => ExitCode::SUCCESS,
        Ok(End::Done(false) | End::WriteFailed) => ExitCode::FAILURE,
        Ok(End::Signal(signal)) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX)),
        Ok(End::PipeClosed) => ExitCode::from(CLOSED_PIPE),
        Err(e) => {
            report(format_args!("cannot start the runtime: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Reports an I/O error of input `name`: where, unless nothing was read yet.
fn report_io(name: &str, e: &io::Error, line: u64, offset: u64) {
    if offset == 0 {
        report(format_args!("{name}: {}", io_what(e)));
    } else {
        report(format_args!(
            "{name}: {} (line {line}, byte offset {offset})",
            io_what(e)
        ));
    }
}

/// Prints the problems of input `name` kept since the last call.
fn report_problems(name: &str, problems: &mut Problems) {
    for problem in problems.kept.drain(..) {
        report(format_args!("{name}: {problem}"));
    }
}

/// At the end of input `name`: how many problems were not shown.
fn report_hidden(name: &str, problems: &Problems) {
    match problems.hidden() {
        0 => {}
        1 => report(format_args!("{name}: 1 more error not shown")),
        n => report(format_args!("{name}: {n} more errors not shown")),
    }
}

/// Printing lines (with or without `--follow`).
struct PrintWork {
    settings: Settings,
    interrupted: Interrupted,
    writer: Writer,
}

impl OnRuntime for PrintWork {
    type Output = End;

    async fn run<R: CliRuntime>(self, rt: R) -> End {
        let PrintWork {
            settings,
            interrupted,
            writer,
        } = self;
        if settings.follow {
            follow_all(rt, &settings, interrupted, writer).await
        } else {
            read_all(rt, &settings, interrupted, writer).await
        }
    }
}

/// Ends the output with `last` and turns how it went into the command's end.
fn finish(writer: Writer, last: Vec<u8>, limit: Option<Duration>, end: End) -> End {
    match writer.finish(last, limit) {
        Written::All => end,
        Written::Closed => End::PipeClosed,
        Written::Failed(e) => {
            report(format_args!("write error: {e}"));
            End::WriteFailed
        }
        Written::Blocked => match end {
            End::Signal(_) => end,
            // Ctrl-C under --follow with the output stuck: it was cut.
            _ => {
                report(format_args!(
                    "output blocked: not everything read was written"
                ));
                End::WriteFailed
            }
        },
    }
}

/// What the plain-read loop waits for next.
enum ReadStep {
    Interrupted(i32),
    Job(Done),
    WriterStopped,
    Idle,
}

/// Hands `output` to the writer if there is room: `Ready(false)` if the
/// writer stopped, `Pending` (output kept) while the queue is full.
fn poll_hand_over(
    writer: &mut Writer,
    output: &mut Option<Vec<u8>>,
    cx: &mut std::task::Context<'_>,
) -> Poll<bool> {
    let Some(buf) = output.take() else {
        return Poll::Ready(true);
    };
    match writer.poll_ready(cx) {
        Poll::Ready(true) => Poll::Ready(writer.start_send(buf)),
        Poll::Ready(false) => Poll::Ready(false),
        Poll::Pending => {
            *output = Some(buf);
            Poll::Pending
        }
    }
}

/// A plain read of every input, [`MAX_OPEN`] at a time.
async fn read_all<R: CliRuntime>(
    rt: R,
    settings: &Settings,
    mut interrupted: Interrupted,
    mut writer: Writer,
) -> End {
    let mut queue: VecDeque<usize> = (0..settings.paths.len()).collect();
    let mut jobs = Jobs::new(rt, settings);
    let mut output: Option<Vec<u8>> = None;
    while jobs.len() < MAX_OPEN {
        let Some(i) = queue.pop_front() else { break };
        jobs.open(i, &writer);
    }
    let end = loop {
        let step = poll_fn(|cx| {
            if let Poll::Ready(signal) = Pin::new(&mut interrupted).poll(cx) {
                return Poll::Ready(ReadStep::Interrupted(signal));
            }
            match poll_hand_over(&mut writer, &mut output, cx) {
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(ReadStep::WriterStopped),
                Poll::Pending => return Poll::Pending,
            }
            match jobs.poll_next(cx) {
                Poll::Ready(Some(done)) => Poll::Ready(ReadStep::Job(done)),
                Poll::Ready(None) => Poll::Ready(ReadStep::Idle),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        let done = match step {
            ReadStep::Interrupted(signal) => break End::Signal(signal),
            ReadStep::WriterStopped | ReadStep::Idle => break End::Done(jobs.ok),
            ReadStep::Job(done) => done,
        };
        let (out, ended) = jobs.handle(done, &writer);
        output = out;
        if ended {
            if let Some(i) = queue.pop_front() {
                jobs.open(i, &writer);
            }
        }
    };
    // Whatever is formatted goes out; a stream's unfinished line too.
    let mut last = output.take().unwrap_or_default();
    jobs.finish_held(&mut last);
    let limit = matches!(end, End::Signal(_)).then_some(DRAIN);
    finish(writer, last, limit, end)
}

/// What the follow loop waits for next.
enum FollowStep {
    Interrupted,
    Item(usize, Result<FollowEvent, LineError>),
    Ended(usize),
    Job(Done),
    WriterStopped,
    Done,
}

/// `--follow`: every input at once; files followed by name, streams
/// (standard input, FIFOs) read to their end.
async fn follow_all<R: CliRuntime>(
    rt: R,
    settings: &Settings,
    mut interrupted: Interrupted,
    mut writer: Writer,
) -> End {
    let names = &settings.names;
    let paths = settings.paths.clone();
    // Which inputs are streams (read to their end beside the followed files).
    let streams = rt
        .unblock(move || {
            paths
                .iter()
                .map(|path| input::is_stream(path))
                .collect::<Vec<bool>>()
        })
        .await;
    let mut printers: Vec<Printer> = (0..names.len()).map(|i| settings.printer(i)).collect();
    let mut jobs = Jobs::new(rt, settings);
    let mut inputs: MergeMap<usize, Follow<R>> = MergeMap::new();
    for (i, path) in settings.paths.iter().enumerate() {
        if streams[i] {
            jobs.open(i, &writer);
        } else {
            inputs.insert(i, input::follow(rt, path, settings));
        }
    }
    let mut out = writer.buffer();
    let mut output: Option<Vec<u8>> = None;
    let mut ok = true;
    let mut stopped = false;
    let end = loop {
        let step = poll_fn(|cx| loop {
            if Pin::new(&mut interrupted).poll(cx).is_ready() {
                return Poll::Ready(FollowStep::Interrupted);
            }
            match poll_hand_over(&mut writer, &mut output, cx) {
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(FollowStep::WriterStopped),
                Poll::Pending => return Poll::Pending,
            }
            let jobs_idle = match jobs.poll_next(cx) {
                Poll::Ready(Some(done)) => return Poll::Ready(FollowStep::Job(done)),
                Poll::Ready(None) => true,
                Poll::Pending => false,
            };
            return match inputs.poll_next_event(cx) {
                Poll::Ready(Some(MergeEvent::Item(i, item))) => {
                    Poll::Ready(FollowStep::Item(i, item))
                }
                Poll::Ready(Some(MergeEvent::End(i))) => Poll::Ready(FollowStep::Ended(i)),
                Poll::Ready(None) if jobs_idle => Poll::Ready(FollowStep::Done),
                // Nothing ready: show what we have while waiting.
                Poll::Ready(None) | Poll::Pending if !out.is_empty() => {
                    output = Some(std::mem::replace(&mut out, writer.buffer()));
                    continue;
                }
                Poll::Ready(None) | Poll::Pending => Poll::Pending,
            };
        })
        .await;
        match step {
            FollowStep::Interrupted => {
                stopped = true;
                break End::Done(ok);
            }
            FollowStep::Done | FollowStep::WriterStopped => break End::Done(ok),
            FollowStep::Job(done) => {
                if let (Some(made), _) = jobs.handle(done, &writer) {
                    out.extend_from_slice(&made);
                }
            }
            FollowStep::Ended(i) => report_hidden(&names[i], &printers[i].problems),
            FollowStep::Item(i, Ok(FollowEvent::Line(line))) => {
                printers[i].record(&line, line.number(), line.offset(), &mut out);
                ok &= printers[i].problems.total == 0;
                report_problems(&names[i], &mut printers[i].problems);
            }
            FollowStep::Item(i, Ok(FollowEvent::Truncated)) => {
                report(format_args!("{}: file truncated", names[i]));
            }
            FollowStep::Item(i, Ok(FollowEvent::Rotated)) => {
                report(format_args!(
                    "{}: file replaced; following the new file",
                    names[i]
                ));
            }
            // Events a later aiter may add.
            FollowStep::Item(_, Ok(_)) => {}
            FollowStep::Item(i, Err(e)) => {
                ok = false;
                let what = match e.kind() {
                    LineErrorKind::TooLong { limit } => Some(What::TooLong(*limit)),
                    LineErrorKind::InvalidUtf8 { .. } => Some(What::InvalidUtf8),
                    _ => None,
                };
                match (what, e.kind()) {
                    (Some(what), _) => {
                        printers[i].problems.push(Problem {
                            what,
                            line: e.line(),
                            offset: e.offset(),
                        });
                        report_problems(&names[i], &mut printers[i].problems);
                    }
                    (None, LineErrorKind::Io(io)) => {
                        report_io(&names[i], io, e.line(), e.offset());
                    }
                    (None, _) => report_error(&e),
                }
            }
        }
        if out.len() >= FOLLOW_OUT && output.is_none() {
            output = Some(std::mem::replace(&mut out, writer.buffer()));
        }
    };
    let mut last = output.take().unwrap_or_default();
    last.extend_from_slice(&out);
    // Streams' unfinished lines, completed (Ctrl-C is how --follow ends),
    // and what each follower read but did not hand out yet.
    jobs.finish_held(&mut last);
    for (i, printer) in printers.iter_mut().enumerate() {
        if let Some(follower) = inputs.remove(&i) {
            printer.feed(follower.held_back(), &mut last);
            printer.finish(&mut last);
            ok &= printer.problems.total == 0;
            report_problems(&names[i], &mut printer.problems);
            // Inputs that ended reported their hidden problems already.
            report_hidden(&names[i], &printer.problems);
        }
    }
    ok &= jobs.ok;
    let end = match end {
        End::Done(_) => End::Done(ok),
        other => other,
    };
    finish(writer, last, stopped.then_some(DRAIN), end)
}
