//! `aiter lines`: every file at once, each line printed as it arrives.
//!
//! Each input is aiter's owned-line stream ([`Lines`](aiter::lines::Lines),
//! or [`Follow`](aiter::lines::Follow) under `--follow`); they are merged by
//! a [`MergeMap`] keyed by the input's index, so lines of one file keep
//! their order and every ready file gets its turn. Lines go to a buffered
//! stdout, flushed whenever no input has a line ready (so a follower shows
//! new lines at once), at the end, and on SIGINT/SIGTERM.
//!
//! A bad input (missing, a directory, no permission, a line over the limit,
//! invalid UTF-8) is reported on stderr as `aiter: FILE: what (line N, byte
//! offset M)`; the other inputs go on and the exit code is 1 at the end. A
//! closed stdout pipe ends the command quietly with exit code 0.

mod count;
mod input;
mod output;

use std::future::{poll_fn, Future};
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::Poll;
use std::time::Duration;

use aiter::lines::{FollowEvent, LineError};
use aiter::merge::{Event as MergeEvent, MergeMap};

use self::input::Input;
use self::output::{Output, Text, WriteError};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};
use crate::signals::{self, Interrupted};

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
    /// `--interval`.
    pub interval: Duration,
    /// `--max-line-length`.
    pub max_line_length: usize,
    /// `--lossy` / `--bytes` / neither.
    pub text: Text,
    /// `--runtime`.
    pub runtime: RuntimeKind,
}

impl Settings {
    /// From the command line: the prefix is on with several inputs unless
    /// `--no-prefix`, and on with one if `--prefix`.
    #[allow(
        clippy::too_many_arguments,
        clippy::fn_params_excessive_bools,
        reason = "one per command-line option"
    )]
    pub fn new(
        paths: Vec<PathBuf>,
        count: bool,
        prefix: bool,
        no_prefix: bool,
        follow: bool,
        interval_ms: u64,
        max_line_length: u64,
        (lossy, bytes): (bool, bool),
        runtime: RuntimeKind,
    ) -> Self {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let prefix = if prefix {
            true
        } else {
            !no_prefix && names.len() > 1
        };
        Settings {
            prefix,
            count,
            follow,
            interval: Duration::from_millis(interval_ms),
            max_line_length: usize::try_from(max_line_length).unwrap_or(usize::MAX),
            text: match (lossy, bytes) {
                (_, true) => Text::Bytes,
                (true, false) => Text::Lossy,
                (false, false) => Text::Checked,
            },
            runtime,
            names,
            paths,
        }
    }
}

/// Runs `aiter lines`; the exit code: 0, or 1 if any input was bad or
/// writing failed.
pub fn main(settings: Settings) -> ExitCode {
    let kind = settings.runtime;
    let outcome = if settings.count {
        runtime::block_on(kind, CountWork(settings))
    } else {
        let interrupted = match signals::watch() {
            Ok(interrupted) => interrupted,
            Err(e) => {
                report(format_args!("cannot watch for Ctrl-C: {e}"));
                return ExitCode::FAILURE;
            }
        };
        runtime::block_on(
            kind,
            PrintWork {
                settings,
                interrupted,
            },
        )
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            report(format_args!("cannot start the runtime: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Writes `aiter: MESSAGE` to stderr (ignoring a closed stderr).
fn report(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "aiter: {message}");
}

/// `--count`; `true` if every input was read without a problem.
struct CountWork(Settings);

impl OnRuntime for CountWork {
    type Output = bool;

    async fn run<R: CliRuntime>(self, rt: R) -> bool {
        let settings = self.0;
        let counted = count::count_all(rt, &settings).await;
        let mut ok = true;
        for error in counted.iter().flat_map(|c| &c.errors) {
            report(format_args!("{error}"));
            ok = false;
        }
        let mut stdout = std::io::stdout().lock();
        match count::write_counts(&mut stdout, &settings.names, &counted)
            .and_then(|()| stdout.flush())
        {
            Ok(()) => ok,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ok,
            Err(e) => {
                report(format_args!("write error: {e}"));
                false
            }
        }
    }
}

/// Printing lines (with or without `--follow`); `true` if every input was
/// read without a problem.
struct PrintWork {
    settings: Settings,
    interrupted: Interrupted,
}

/// What the print loop waits for next.
enum Step {
    /// SIGINT or SIGTERM arrived.
    Interrupted,
    /// A line, event or error of input `.0`.
    Item(usize, Result<FollowEvent, LineError>),
    /// An input ended (the others go on).
    Ended,
    /// Every input ended.
    Done,
    /// Writing (the flush while waiting) failed.
    Write(WriteError),
}

impl OnRuntime for PrintWork {
    type Output = bool;

    async fn run<R: CliRuntime>(self, rt: R) -> bool {
        let PrintWork {
            settings,
            mut interrupted,
        } = self;
        let names = &settings.names;
        let mut inputs: MergeMap<usize, Input<R>> = settings
            .paths
            .iter()
            .enumerate()
            .map(|(i, path)| (i, Input::open(rt, path, &settings)))
            .collect();
        let prefixes = settings
            .prefix
            .then(|| names.iter().map(|n| format!("{n}:").into_bytes()).collect());
        let mut out = Output::new(std::io::stdout(), prefixes, settings.text);
        let mut ok = true;

        let result = loop {
            let step = poll_fn(|cx| {
                if Pin::new(&mut interrupted).poll(cx).is_ready() {
                    return Poll::Ready(Step::Interrupted);
                }
                match inputs.poll_next_event(cx) {
                    Poll::Ready(Some(MergeEvent::Item(i, item))) => {
                        Poll::Ready(Step::Item(i, item))
                    }
                    Poll::Ready(Some(MergeEvent::End(_))) => Poll::Ready(Step::Ended),
                    Poll::Ready(None) => Poll::Ready(Step::Done),
                    // Nothing ready: show what we have while waiting.
                    Poll::Pending if out.is_buffering() => match out.flush() {
                        Ok(()) => Poll::Pending,
                        Err(e) => Poll::Ready(Step::Write(e)),
                    },
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            match step {
                Step::Interrupted | Step::Done => break out.flush(),
                Step::Write(e) => break Err(e),
                Step::Ended => {}
                Step::Item(i, Ok(FollowEvent::Line(line))) => match out.line(i, &line) {
                    Ok(Ok(())) => {}
                    Ok(Err(bad)) => {
                        ok = false;
                        report(format_args!(
                            "{}: invalid UTF-8 (line {}, byte offset {})",
                            names[i],
                            line.number(),
                            line.offset() + bad.valid_up_to as u64
                        ));
                    }
                    Err(e) => break Err(e),
                },
                Step::Item(i, Ok(FollowEvent::Truncated)) => {
                    report(format_args!("{}: file truncated", names[i]));
                }
                Step::Item(i, Ok(FollowEvent::Rotated)) => {
                    report(format_args!(
                        "{}: file replaced; following the new file",
                        names[i]
                    ));
                }
                // Events a later aiter may add.
                Step::Item(_, Ok(_)) => {}
                Step::Item(_, Err(e)) => {
                    ok = false;
                    report(format_args!("{e}"));
                }
            }
        };
        match result {
            Ok(()) | Err(WriteError::Closed) => ok,
            Err(WriteError::Failed(e)) => {
                report(format_args!("write error: {e}"));
                false
            }
        }
    }
}
