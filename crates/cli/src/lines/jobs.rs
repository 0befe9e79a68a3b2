//! The inputs `aiter lines` reads through blocking work (every input of a
//! plain read; standard input and other streams under `--follow`): the
//! jobs in flight and what the async side keeps of each input.

use std::io;
use std::task::{Context, Poll};

use futures::stream::{FuturesUnordered, StreamExt};

use super::input::is_stdin;
use super::last::{self, LastLines};
use super::printer::Printer;
use super::read::{self, Bulk, Opened, Piece, Step};
use super::writer::Writer;
use super::{io_what, report, report_hidden, report_io, report_problems, Settings};
use crate::runtime::CliRuntime;

/// Work finished on the blocking pool for input `.0`.
pub(super) type Done = (usize, Job);

/// The blocking work of one input.
#[derive(Debug)]
pub(super) enum Job {
    /// Opening failed, or opened a stream (read one `read` at a time, its
    /// printer on the async side).
    Open(io::Result<(read::Reader, Printer)>),
    /// A regular file's bulk read (the first one right after opening it;
    /// boxed: one allocation per job keeps the finished-job value small).
    Bulk(Box<Bulk>, Step),
    /// A stream's read.
    Piece(Piece),
}

/// A stream being read, as the async side keeps it.
#[derive(Debug)]
struct Reading {
    /// Its printer.
    printer: Printer,
    /// `--last` of a stream: the lines kept so far.
    last: Option<LastLines>,
}

impl Reading {
    /// The stream ended (or stops being read): its unfinished line, and
    /// with `--last` its kept lines, go to `out`.
    fn finish(&mut self, out: &mut Vec<u8>) {
        match &mut self.last {
            Some(last) => {
                let mut tail = Vec::new();
                self.printer.finish(&mut tail);
                last.keep(&mut tail);
                last.take_into(out);
            }
            None => self.printer.finish(out),
        }
    }
}

/// The inputs being read through blocking work.
pub(super) struct Jobs<'a, R: CliRuntime> {
    rt: R,
    settings: &'a Settings,
    in_flight: FuturesUnordered<R::Task<Done>>,
    reading: Vec<Option<Reading>>,
    /// No input was bad so far.
    pub ok: bool,
}

impl<'a, R: CliRuntime> Jobs<'a, R> {
    /// Nothing read yet.
    pub(super) fn new(rt: R, settings: &'a Settings) -> Self {
        Jobs {
            rt,
            settings,
            in_flight: FuturesUnordered::new(),
            reading: (0..settings.paths.len()).map(|_| None).collect(),
            ok: true,
        }
    }

    /// Inputs open or being opened.
    pub(super) fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// Starts reading input `i`: opens it on the blocking pool (a regular
    /// file's first bulk read runs in the same job: one pool hop for a
    /// small file).
    pub(super) fn open(&mut self, i: usize, writer: &Writer) {
        let path = self.settings.paths[i].clone();
        let last = self.settings.last;
        let mut printer = self.settings.printer(i);
        let out = writer.buffer();
        self.in_flight.push(self.rt.unblock(move || {
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
            match opened {
                Err(e) => (i, Job::Open(Err(e))),
                Ok((
                    Opened {
                        reader,
                        regular_len: Some(len),
                    },
                    start,
                )) => {
                    printer.start_at(start);
                    let job = Box::new(Bulk {
                        reader,
                        buf: read::buffer_for(Some(len.saturating_sub(start))),
                        printer,
                        out,
                    });
                    let (job, step) = job.run();
                    (i, Job::Bulk(job, step))
                }
                Ok((
                    Opened {
                        reader,
                        regular_len: None,
                    },
                    _,
                )) => (i, Job::Open(Ok((reader, printer)))),
            }
        }));
    }

    /// The next finished job; `Ready(None)` when none is in flight.
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Done>> {
        self.in_flight.poll_next_unpin(cx)
    }

    fn bulk(&mut self, i: usize, job: Box<Bulk>) {
        self.in_flight.push(self.rt.unblock(move || {
            let (job, step) = job.run();
            (i, Job::Bulk(job, step))
        }));
    }

    fn piece(&mut self, i: usize, reader: read::Reader, buf: Vec<u8>, last: usize) {
        self.in_flight.push(
            self.rt
                .unblock(move || (i, Job::Piece(Piece::read(reader, buf, last)))),
        );
    }

    /// Takes in a finished job and starts the next one of its input:
    /// returns the output it made (if any) and whether the input ended.
    pub(super) fn handle(&mut self, (i, job): Done, writer: &Writer) -> (Option<Vec<u8>>, bool) {
        let settings = self.settings;
        let name = &settings.names[i];
        let mut output = None;
        let mut ended = true;
        match job {
            Job::Open(Err(e)) => {
                self.ok = false;
                report(format_args!("{name}: {}", io_what(&e)));
            }
            Job::Open(Ok((reader, printer))) => {
                ended = false;
                self.reading[i] = Some(Reading {
                    printer,
                    last: settings.last.map(LastLines::new),
                });
                self.piece(i, reader, read::buffer_for(None), 0);
            }
            Job::Bulk(mut job, step) => {
                let out = std::mem::take(&mut job.out);
                if !out.is_empty() {
                    output = Some(out);
                }
                let problems = &mut job.printer.problems;
                report_problems(name, problems);
                match step {
                    Step::More => {
                        ended = false;
                        job.out = writer.buffer();
                        self.bulk(i, job);
                    }
                    Step::End => {
                        self.ok &= problems.total == 0;
                        report_hidden(name, problems);
                    }
                    Step::Failed(e) => {
                        self.ok = false;
                        report_io(name, &e, job.printer.line(), job.printer.offset());
                        report_hidden(name, &job.printer.problems);
                    }
                }
            }
            Job::Piece(Piece { reader, buf, read }) => {
                let state = self.reading[i].as_mut().expect("a stream being read");
                let mut out = writer.buffer();
                let mut next = None;
                match read {
                    Ok(n) if n > 0 => {
                        let printer = &mut state.printer;
                        printer.feed(&buf[..n], &mut out);
                        if let Some(last) = &mut state.last {
                            last.keep(&mut out);
                        }
                        report_problems(name, &mut printer.problems);
                        ended = false;
                        next = Some((reader, buf, n));
                    }
                    Ok(_) => state.finish(&mut out),
                    Err(e) => {
                        self.ok = false;
                        state.finish(&mut out);
                        let printer = &state.printer;
                        report_io(name, &e, printer.line(), printer.offset());
                    }
                }
                if ended {
                    let printer = &mut state.printer;
                    self.ok &= printer.problems.total == 0;
                    report_problems(name, &mut printer.problems);
                    report_hidden(name, &printer.problems);
                }
                if !out.is_empty() {
                    output = Some(out);
                }
                if let Some((reader, buf, n)) = next {
                    self.piece(i, reader, buf, n);
                }
            }
        }
        if ended {
            self.reading[i] = None;
        }
        (output, ended)
    }

    /// Stopping (Ctrl-C): the unfinished lines of the streams being read
    /// (completed with a newline) go to `out`, and their problems are
    /// summed up.
    pub(super) fn finish_held(&mut self, out: &mut Vec<u8>) {
        for (i, state) in self.reading.iter_mut().enumerate() {
            let Some(state) = state else { continue };
            state.finish(out);
            let name = &self.settings.names[i];
            let problems = &mut state.printer.problems;
            self.ok &= problems.total == 0;
            report_problems(name, problems);
            report_hidden(name, problems);
        }
    }
}
