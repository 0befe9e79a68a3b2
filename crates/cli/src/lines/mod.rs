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
mod last;
mod printer;
mod read;
mod writer;

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io::{self, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::Poll;
use std::time::Duration;

use aiter::lines::{Event, LineError, LineErrorKind};
use aiter::merge::{Event as MergeEvent, MergeMap};
use futures::stream::{FuturesUnordered, StreamExt};

use self::input::{is_stdin, Input};
use self::last::LastLines;
use self::printer::{Printer, Problem, Problems, Text, What};
use self::read::{Bulk, Opened, Piece, Step as BulkStep};
use self::writer::{Writer, Written};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};
use crate::signals::{self, Interrupted};

/// Inputs open at once in a plain read (and counted at once with `--count`).
pub const MAX_OPEN: usize = 16;

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
pub struct Settings {
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
pub struct Flags {
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
    pub fn new(paths: Vec<PathBuf>, flags: Flags, runtime: RuntimeKind) -> Self {
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
pub fn main(settings: Settings) -> ExitCode {
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

/// Writes `aiter: MESSAGE` to stderr (ignoring a closed stderr).
fn report(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "aiter: {message}");
}

/// What an I/O error says.
pub fn io_what(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => e.to_string(),
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

/// Work finished on the blocking pool for input `.0`.
type Done = (usize, Job);

/// The blocking work of one input.
#[derive(Debug)]
enum Job {
    /// Opening it (and, with `--last`, finding where its last lines start).
    Open(io::Result<(Opened, u64)>),
    /// A regular file's bulk read.
    Bulk(Bulk, BulkStep),
    /// A stream's read.
    Piece(Piece),
}

/// An input being read, as the async side keeps it.
#[derive(Debug)]
struct Reading {
    /// The printer, while no bulk job has it.
    printer: Option<Printer>,
    /// `--last` of a stream: the lines kept so far.
    last: Option<LastLines>,
}

/// What the plain-read loop waits for next.
#[allow(
    clippy::large_enum_variant,
    reason = "one at a time, on the stack; boxing would allocate per job"
)]
enum ReadStep {
    Interrupted(i32),
    Job(Done),
    WriterStopped,
    Idle,
}

/// A plain read of every input.
async fn read_all<R: CliRuntime>(
    rt: R,
    settings: &Settings,
    mut interrupted: Interrupted,
    mut writer: Writer,
) -> End {
    let names = &settings.names;
    let mut queue: VecDeque<usize> = (0..settings.paths.len()).collect();
    let mut reading: Vec<Option<Reading>> = (0..settings.paths.len()).map(|_| None).collect();
    let mut jobs: FuturesUnordered<R::Task<Done>> = FuturesUnordered::new();
    let mut output: Option<Vec<u8>> = None;
    let mut ok = true;
    let open = |i: usize| {
        let path = settings.paths[i].clone();
        let last = settings.last;
        rt.unblock(move || {
            let path = (!is_stdin(&path)).then_some(path.as_path());
            let opened = read::open(path).and_then(|mut opened| {
                let start = match (last, &mut opened.reader, opened.regular_len) {
                    (Some(n), read::Reader::File(file), Some(len)) => {
                        last::seek_to_last_lines(file, len, n)?
                    }
                    _ => 0,
                };
                Ok((opened, start))
            });
            (i, Job::Open(opened))
        })
    };
    let bulk = |i: usize, job: Bulk| {
        rt.unblock(move || {
            let (job, step) = job.run();
            (i, Job::Bulk(job, step))
        })
    };
    let piece = |i: usize, reader, buf, last| {
        rt.unblock(move || (i, Job::Piece(Piece::read(reader, buf, last))))
    };
    let start_next = |jobs: &mut FuturesUnordered<R::Task<Done>>, queue: &mut VecDeque<usize>| {
        if let Some(i) = queue.pop_front() {
            jobs.push(open(i));
        }
    };
    for _ in 0..MAX_OPEN {
        start_next(&mut jobs, &mut queue);
    }
    let end = loop {
        let step = poll_fn(|cx| {
            if let Poll::Ready(signal) = Pin::new(&mut interrupted).poll(cx) {
                return Poll::Ready(ReadStep::Interrupted(signal));
            }
            if let Some(buf) = output.take() {
                match writer.poll_ready(cx) {
                    Poll::Ready(true) => {
                        if !writer.start_send(buf) {
                            return Poll::Ready(ReadStep::WriterStopped);
                        }
                    }
                    Poll::Ready(false) => return Poll::Ready(ReadStep::WriterStopped),
                    Poll::Pending => {
                        output = Some(buf);
                        return Poll::Pending;
                    }
                }
            }
            match jobs.poll_next_unpin(cx) {
                Poll::Ready(Some(done)) => Poll::Ready(ReadStep::Job(done)),
                Poll::Ready(None) => Poll::Ready(ReadStep::Idle),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        let (i, job) = match step {
            ReadStep::Interrupted(signal) => break End::Signal(signal),
            ReadStep::WriterStopped => break End::Done(ok),
            ReadStep::Idle => break End::Done(ok),
            ReadStep::Job(done) => done,
        };
        let name = &names[i];
        let mut ended = true;
        match job {
            Job::Open(Err(e)) => {
                ok = false;
                report(format_args!("{name}: {}", io_what(&e)));
            }
            Job::Open(Ok((opened, start))) => {
                let mut printer = settings.printer(i);
                printer.start_at(start);
                ended = false;
                match opened.regular_len {
                    Some(len) => {
                        let job = Bulk {
                            reader: opened.reader,
                            buf: read::buffer_for(Some(len.saturating_sub(start))),
                            printer,
                            out: writer.buffer(),
                        };
                        jobs.push(bulk(i, job));
                        reading[i] = Some(Reading {
                            printer: None,
                            last: None,
                        });
                    }
                    None => {
                        reading[i] = Some(Reading {
                            printer: Some(printer),
                            last: settings.last.map(LastLines::new),
                        });
                        jobs.push(piece(i, opened.reader, read::buffer_for(None), 0));
                    }
                }
            }
            Job::Bulk(mut job, step) => {
                let out = std::mem::take(&mut job.out);
                if !out.is_empty() {
                    output = Some(out);
                }
                report_problems(name, &mut job.printer.problems);
                match step {
                    BulkStep::More => {
                        ended = false;
                        job.out = writer.buffer();
                        jobs.push(bulk(i, job));
                    }
                    BulkStep::End => {
                        ok &= job.printer.problems.total == 0;
                        report_hidden(name, &job.printer.problems);
                    }
                    BulkStep::Failed(e) => {
                        ok = false;
                        report_io(name, &e, job.printer.line(), job.printer.offset());
                        report_hidden(name, &job.printer.problems);
                    }
                }
            }
            Job::Piece(Piece { reader, buf, read }) => {
                let state = reading[i].as_mut().expect("a stream being read");
                let printer = state.printer.as_mut().expect("a stream's printer");
                let mut out = writer.buffer();
                match read {
                    Ok(0) => {
                        printer.finish(&mut out);
                        if let Some(last) = &mut state.last {
                            last.keep(&mut out);
                            last.take_into(&mut out);
                        }
                        ok &= printer.problems.total == 0;
                        report_problems(name, &mut printer.problems);
                        report_hidden(name, &printer.problems);
                    }
                    Ok(n) => {
                        printer.feed(&buf[..n], &mut out);
                        if let Some(last) = &mut state.last {
                            last.keep(&mut out);
                        }
                        report_problems(name, &mut printer.problems);
                        ended = false;
                        jobs.push(piece(i, reader, buf, n));
                    }
                    Err(e) => {
                        ok = false;
                        printer.finish(&mut out);
                        if let Some(last) = &mut state.last {
                            last.keep(&mut out);
                            last.take_into(&mut out);
                        }
                        report_problems(name, &mut printer.problems);
                        report_io(name, &e, printer.line(), printer.offset());
                        report_hidden(name, &printer.problems);
                    }
                }
                if !out.is_empty() {
                    output = Some(out);
                }
            }
        }
        if ended {
            reading[i] = None;
            start_next(&mut jobs, &mut queue);
        }
    };
    // Whatever is formatted goes out; a stream's unfinished line too.
    let mut last = output.take().unwrap_or_default();
    for state in reading.iter_mut().flatten() {
        if let Some(printer) = &mut state.printer {
            printer.finish(&mut last);
            if let Some(kept) = &mut state.last {
                kept.keep(&mut last);
                kept.take_into(&mut last);
            }
        }
    }
    let limit = matches!(end, End::Signal(_)).then_some(DRAIN);
    finish(writer, last, limit, end)
}

/// What the follow loop waits for next.
enum FollowStep {
    Interrupted,
    Item(usize, Result<Event, LineError>),
    Ended(usize),
    WriterStopped,
    Done,
}

/// `--follow`: every input followed at once.
async fn follow_all<R: CliRuntime>(
    rt: R,
    settings: &Settings,
    mut interrupted: Interrupted,
    mut writer: Writer,
) -> End {
    let names = &settings.names;
    let mut printers: Vec<Printer> = (0..names.len()).map(|i| settings.printer(i)).collect();
    // `--last N`: where each file's last lines start; lines before that are
    // skipped until the file is truncated or replaced.
    let mut skip_below: Vec<u64> = vec![0; names.len()];
    if let Some(n) = settings.last {
        for (i, path) in settings.paths.iter().enumerate() {
            if !is_stdin(path) {
                let path = path.clone();
                skip_below[i] = rt
                    .unblock(move || last::start_of_last_lines_at(&path, n))
                    .await;
            }
        }
    }
    let mut inputs: MergeMap<usize, Input<R>> = settings
        .paths
        .iter()
        .enumerate()
        .map(|(i, path)| (i, Input::open(rt, path, settings)))
        .collect();
    let mut out = writer.buffer();
    let mut output: Option<Vec<u8>> = None;
    let mut stdin_last = settings.last.map(LastLines::new);
    let mut ok = true;
    let mut stopped = false;
    let end = loop {
        let step = poll_fn(|cx| loop {
            if Pin::new(&mut interrupted).poll(cx).is_ready() {
                return Poll::Ready(FollowStep::Interrupted);
            }
            if let Some(buf) = output.take() {
                match writer.poll_ready(cx) {
                    Poll::Ready(true) => {
                        if !writer.start_send(buf) {
                            return Poll::Ready(FollowStep::WriterStopped);
                        }
                    }
                    Poll::Ready(false) => return Poll::Ready(FollowStep::WriterStopped),
                    Poll::Pending => {
                        output = Some(buf);
                        return Poll::Pending;
                    }
                }
            }
            return match inputs.poll_next_event(cx) {
                Poll::Ready(Some(MergeEvent::Item(i, item))) => {
                    Poll::Ready(FollowStep::Item(i, item))
                }
                Poll::Ready(Some(MergeEvent::End(i))) => Poll::Ready(FollowStep::Ended(i)),
                Poll::Ready(None) => Poll::Ready(FollowStep::Done),
                // Nothing ready: show what we have while waiting.
                Poll::Pending if !out.is_empty() => {
                    output = Some(std::mem::replace(&mut out, writer.buffer()));
                    continue;
                }
                Poll::Pending => Poll::Pending,
            };
        })
        .await;
        match step {
            FollowStep::Interrupted => {
                stopped = true;
                break End::Done(ok);
            }
            FollowStep::Done | FollowStep::WriterStopped => break End::Done(ok),
            FollowStep::Ended(i) => {
                if is_stdin(&settings.paths[i]) {
                    if let Some(last) = &mut stdin_last {
                        last.take_into(&mut out);
                    }
                }
                report_hidden(&names[i], &printers[i].problems);
            }
            FollowStep::Item(i, Ok(Event::Line(line))) => {
                if line.offset() < skip_below[i] {
                    continue;
                }
                let at = out.len();
                printers[i].record(&line, line.number(), line.offset(), &mut out);
                if is_stdin(&settings.paths[i]) {
                    if let Some(last) = &mut stdin_last {
                        let mut record = out.split_off(at);
                        last.keep(&mut record);
                    }
                }
                ok &= printers[i].problems.total == 0;
                report_problems(&names[i], &mut printers[i].problems);
            }
            FollowStep::Item(i, Ok(Event::Truncated)) => {
                skip_below[i] = 0;
                report(format_args!("{}: file truncated", names[i]));
            }
            FollowStep::Item(i, Ok(Event::Rotated)) => {
                skip_below[i] = 0;
                report(format_args!(
                    "{}: file replaced; following the new file",
                    names[i]
                ));
            }
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
                    (None, LineErrorKind::Io(io)) => report_io(&names[i], io, e.line(), e.offset()),
                    (None, _) => report(format_args!("{e}")),
                }
            }
        }
        if out.len() >= FOLLOW_OUT && output.is_none() {
            output = Some(std::mem::replace(&mut out, writer.buffer()));
        }
    };
    if let Some(buf) = output.take() {
        let mut all = buf;
        all.extend_from_slice(&out);
        out = all;
    }
    // Inputs that ended reported their hidden problems already.
    for (i, printer) in printers.iter().enumerate() {
        if inputs.contains_key(&i) {
            report_hidden(&names[i], &printer.problems);
        }
    }
    let limit = stopped.then_some(DRAIN);
    finish(writer, out, limit, end)
}
