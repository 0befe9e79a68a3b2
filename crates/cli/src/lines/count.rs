//! `aiter lines --count`: lines per file, laid out like `wc -l`.
//!
//! Counting needs no line boundaries handed out one by one, so it skips the
//! line reader's per-line work and counts exactly the lines
//! [`LineReader`](aiter::lines::LineReader) would yield: unlike `wc -l`
//! (which counts `\n` bytes), a last line without `\n` counts; lines over
//! the maximum length are reported and counted. Up to
//! [`MAX_OPEN`](super::MAX_OPEN) inputs are counted at once, each opened
//! when its turn comes; problems are reported as they are found, at most
//! [`Problems::SHOWN`] per input.
//!
//! A file is counted by [`scan_at`] jobs on the runtime's blocking pool:
//! each job reads 8 MiB through a 128 KiB buffer and feeds every piece to
//! the line tally on the same thread, while the bytes are still in that
//! core's cache (the way `wc -l` works, one pool hop per 8 MiB). Scanning on
//! the async thread instead — reads on one core, `memchr` on another —
//! measured 2.6–2.9× `wc -l`, nearly all of it in cache misses. Stdin, which
//! has no offsets, goes through the reader's [`Source`] ([`Stdin`]) with
//! one read in flight.

use std::future::poll_fn;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use aiter::lines::{Source, Stdin};
use aiter::rt::scan_at;
use futures::future::Either;
use futures::stream::{self, StreamExt};

use super::input::is_stdin;
use super::printer::{Problem, Problems, What};
use super::{
    io_what, report, report_hidden, report_io, report_problems, Settings, CLOSED_PIPE, MAX_OPEN,
};
use crate::runtime::{CliRuntime, OnRuntime};

/// Bytes per read when counting (1 MiB measured best of 64 KiB – 16 MiB,
/// by a small margin).
pub(super) const COUNT_CHUNK: usize = 1 << 20;

/// `--count`: the exit code.
#[derive(Debug)]
pub(super) struct CountWork(pub Settings);

impl OnRuntime for CountWork {
    type Output = ExitCode;

    async fn run<R: CliRuntime>(self, rt: R) -> ExitCode {
        let settings = self.0;
        let mut stdout = match super::writer::stdout_file() {
            Ok(stdout) => stdout,
            Err(e) => {
                report(format_args!("{e}"));
                return ExitCode::FAILURE;
            }
        };
        let counted = count_all(rt, &settings).await;
        let ok = counted.iter().all(|c| c.ok);
        let mut out = Vec::new();
        write_counts(&mut out, &settings.names, &counted).expect("writing to memory");
        match stdout.write_all(&out) {
            Ok(()) if ok => ExitCode::SUCCESS,
            Ok(()) => ExitCode::FAILURE,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(CLOSED_PIPE),
            Err(e) => {
                report(format_args!("write error: {e}"));
                ExitCode::FAILURE
            }
        }
    }
}

/// What counting one input found.
#[derive(Debug, Default)]
pub(super) struct Counted {
    /// Lines, as aiter splits them (a last line without `\n` counts, unlike
    /// `wc -l`; lines reported as too long count too).
    pub lines: u64,
    /// Whether the input could be read at all (not: missing, a directory,
    /// no permission); `wc -l` prints no count for those.
    pub opened: bool,
    /// Whether it was read without a problem (they were reported).
    pub ok: bool,
}

/// Counts the lines of every input, [`MAX_OPEN`] at a time; results in
/// input order.
pub(super) async fn count_all<R: CliRuntime>(rt: R, settings: &Settings) -> Vec<Counted> {
    let counts = settings
        .paths
        .iter()
        .zip(&settings.names)
        .map(|(path, name)| {
            if is_stdin(path) {
                let source = Stdin::new(rt);
                Either::Left(count(source, name, settings.max_line_length, COUNT_CHUNK))
            } else {
                Either::Right(count_file(rt, path, name, settings.max_line_length))
            }
        });
    stream::iter(counts).buffered(MAX_OPEN).collect().await
}

/// A line over `limit` as a problem.
fn too_long(limit: usize, line: u64, offset: u64) -> Problem {
    Problem {
        what: What::TooLong(limit),
        line,
        offset,
    }
}

/// Bytes of a file one [`scan_at`] job counts (a pool hop per this many;
/// also how much work a cancelled count may still do).
const SCAN_JOB: u64 = 8 << 20;

/// Bytes per read inside a job: small enough to stay in the core's cache
/// between the kernel's copy and the scan.
const SCAN_BUFFER: usize = 128 << 10;

/// A [`Tally`] with the too-long lines it found, moved into each job.
#[derive(Debug)]
struct FileTally {
    tally: Tally,
    problems: Problems,
}

/// Counts the lines of the file at `path` (named `name` in errors) in
/// [`scan_at`] jobs of [`SCAN_JOB`] bytes, one after another.
async fn count_file<R: CliRuntime>(rt: R, path: &Path, name: &str, limit: usize) -> Counted {
    let file = match rt.open(path.to_path_buf()).await {
        Ok(file) => file,
        Err(e) => {
            report(format_args!("{name}: {}", io_what(e.io_error())));
            return Counted::default();
        }
    };
    let mut state = FileTally {
        tally: Tally::new(limit),
        problems: Problems::default(),
    };
    // A small file gets a small buffer.
    let len = rt.metadata(&file).await.map_or(u64::MAX, |meta| meta.len);
    let mut buf = super::read::buffer_for(Some(len));
    buf.truncate(SCAN_BUFFER);
    let mut offset = 0u64;
    let feed = move |state: &mut FileTally, bytes: &[u8]| {
        let FileTally { tally, problems } = state;
        tally.feed(bytes, |line, at| problems.push(too_long(limit, line, at)));
    };
    loop {
        let (result, back, back_state) =
            scan_at(&rt, &file, offset, SCAN_JOB, buf, state, feed).await;
        (buf, state) = (back, back_state);
        report_problems(name, &mut state.problems);
        match result {
            Ok(n) => {
                offset += n;
                if n < SCAN_JOB {
                    break;
                }
            }
            Err(e) => {
                report_io(
                    name,
                    e.io_error(),
                    state.tally.lines + 1,
                    state.tally.offset,
                );
                report_hidden(name, &state.problems);
                return Counted {
                    lines: state.tally.lines,
                    opened: true,
                    ok: false,
                };
            }
        }
    }
    let FileTally {
        mut tally,
        mut problems,
    } = state;
    tally.finish(|line, at| problems.push(too_long(limit, line, at)));
    report_problems(name, &mut problems);
    report_hidden(name, &problems);
    Counted {
        lines: tally.lines,
        opened: true,
        ok: problems.total == 0,
    }
}

/// Counts the lines of `source` (named `name` in errors), reading `chunk`
/// bytes at a time with one read in flight.
async fn count<S: Source>(source: S, name: &str, limit: usize, chunk: usize) -> Counted {
    let mut source = Box::pin(source);
    let mut tally = Tally::new(limit);
    let mut problems = Problems::default();
    let mut counted = Counted {
        opened: true,
        ..Counted::default()
    };
    let mut spare = vec![0u8; chunk.max(1)];
    source.as_mut().start_read(vec![0u8; chunk.max(1)], 0);
    let failed = loop {
        let (result, filled) = poll_fn(|cx| source.as_mut().poll_read(cx)).await;
        match result {
            Ok(0) => break false,
            Ok(n) => {
                // The next read runs while this chunk is counted.
                source.as_mut().start_read(std::mem::take(&mut spare), 0);
                tally.feed(&filled[..n], |line, at| {
                    problems.push(too_long(limit, line, at))
                });
                report_problems(name, &mut problems);
                spare = filled;
            }
            Err(e) => {
                counted.opened = tally.offset > 0;
                report_io(name, &e, tally.lines + 1, tally.offset);
                break true;
            }
        }
    };
    tally.finish(|line, at| problems.push(too_long(limit, line, at)));
    report_problems(name, &mut problems);
    report_hidden(name, &problems);
    counted.lines = tally.lines;
    counted.ok = !failed && problems.total == 0;
    counted
}

/// The sans-io line counter: bytes in, line count and too-long lines out.
#[derive(Debug)]
struct Tally {
    limit: usize,
    /// Complete lines so far.
    lines: u64,
    /// Bytes fed so far.
    offset: u64,
    /// Offset of the first byte of the current (unfinished) line.
    line_start: u64,
    /// Whether the last byte fed was `\r` (a `\r\n` split across chunks).
    after_cr: bool,
}

impl Tally {
    fn new(limit: usize) -> Self {
        Tally {
            limit,
            lines: 0,
            offset: 0,
            line_start: 0,
            after_cr: false,
        }
    }

    /// Ends the line whose `\n` is at input offset `newline`.
    fn end_line(&mut self, newline: u64, cr: bool, too_long: &mut impl FnMut(u64, u64)) {
        let content = newline - self.line_start - u64::from(cr);
        self.lines += 1;
        if content > self.limit as u64 {
            too_long(self.lines, self.line_start);
        }
        self.line_start = newline + 1;
    }

    /// Counts the lines ending in `bytes`; calls `too_long(line, offset)`
    /// for each line over the limit.
    fn feed(&mut self, bytes: &[u8], mut too_long: impl FnMut(u64, u64)) {
        if bytes.len() <= self.limit {
            // Every line that ends after the first `\n` here is shorter than
            // `bytes`, so within the limit: count those with `memchr`'s
            // vectorised count, without visiting each line.
            if let Some(first) = memchr::memchr(b'\n', bytes) {
                self.feed_lines(&bytes[..=first], &mut too_long);
                let rest = &bytes[first + 1..];
                self.lines += memchr::memchr_iter(b'\n', rest).count() as u64;
                if let Some(last) = memchr::memrchr(b'\n', rest) {
                    // `feed_lines` moved `offset` to the start of `rest`.
                    self.line_start = self.offset + last as u64 + 1;
                }
                self.after_cr = bytes.last() == Some(&b'\r');
                self.offset += rest.len() as u64;
                return;
            }
        }
        self.feed_lines(bytes, too_long);
    }

    /// [`feed`](Self::feed), one line at a time.
    fn feed_lines(&mut self, bytes: &[u8], mut too_long: impl FnMut(u64, u64)) {
        for at in memchr::memchr_iter(b'\n', bytes) {
            let cr = if at > 0 {
                bytes[at - 1] == b'\r'
            } else {
                self.after_cr
            };
            // Lines are short: compare only when this one could be long.
            let newline = self.offset + at as u64;
            if newline - self.line_start > self.limit as u64 {
                self.end_line(newline, cr, &mut too_long);
            } else {
                self.lines += 1;
                self.line_start = newline + 1;
            }
        }
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
        }
        self.offset += bytes.len() as u64;
    }

    /// The input ended: a last line without `\n` counts.
    fn finish(&mut self, mut too_long: impl FnMut(u64, u64)) {
        if self.offset > self.line_start {
            let content = self.offset - self.line_start;
            self.lines += 1;
            if content > self.limit as u64 {
                too_long(self.lines, self.line_start);
            }
            self.line_start = self.offset;
        }
    }
}

/// Writes the counts like `wc -l`: `COUNT NAME` per input that could be
/// read; with several inputs the counts are right-aligned to the width of
/// the total and a `TOTAL total` line follows (GNU `wc` sizes its column
/// from the files' byte sizes instead; the layout is otherwise the same).
///
/// # Errors
/// If writing fails.
pub(super) fn write_counts(
    out: &mut impl Write,
    names: &[String],
    counted: &[Counted],
) -> io::Result<()> {
    let total: u64 = counted.iter().map(|c| c.lines).sum();
    let several = names.len() > 1;
    let width = if several { total.to_string().len() } else { 1 };
    for (name, c) in names.iter().zip(counted) {
        if c.opened {
            writeln!(out, "{:>width$} {name}", c.lines)?;
        }
    }
    if several {
        writeln!(out, "{total:>width$} total")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;

    fn counted(lines: u64, opened: bool) -> Counted {
        Counted {
            lines,
            opened,
            ok: true,
        }
    }

    /// A source that hands out `data` in reads of at most `step` bytes.
    struct Memory {
        data: Vec<u8>,
        at: usize,
        step: usize,
        read: Option<(Vec<u8>, usize)>,
    }

    impl Source for Memory {
        fn start_read(mut self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
            self.read = Some((buf, start));
        }

        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<(io::Result<usize>, Vec<u8>)> {
            let (mut buf, start) = self.read.take().expect("a read was started");
            let n = (self.data.len() - self.at)
                .min(buf.len() - start)
                .min(self.step);
            buf[start..start + n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            std::task::Poll::Ready((Ok(n), buf))
        }
    }

    /// What aiter's `LineReader` says about `data`: line count and the
    /// too-long errors as (line, offset).
    fn reference(data: &[u8], limit: usize) -> (u64, Vec<(u64, u64)>) {
        let source = Memory {
            data: data.to_vec(),
            at: 0,
            step: 7,
            read: None,
        };
        let mut reader = aiter::lines::LineReader::new(source)
            .chunk_size(5)
            .max_line_length(Some(limit));
        futures::executor::block_on(async {
            let mut long = Vec::new();
            while let Some(line) = reader.next_line().await {
                if let Err(e) = line {
                    long.push((e.line(), e.offset()));
                }
            }
            (reader.line_count(), long)
        })
    }

    fn counted_source(data: &[u8], limit: usize, chunk: usize) -> Counted {
        let source = Memory {
            data: data.to_vec(),
            at: 0,
            step: chunk,
            read: None,
        };
        futures::executor::block_on(count(source, "x", limit, chunk))
    }

    /// The tally of `data` fed in pieces of `chunk` bytes: lines and the
    /// too-long lines as (line, offset).
    fn tally(data: &[u8], limit: usize, chunk: usize) -> (u64, Vec<(u64, u64)>) {
        let mut tally = Tally::new(limit);
        let mut long = Vec::new();
        for piece in data.chunks(chunk) {
            tally.feed(piece, |n, o| long.push((n, o)));
        }
        tally.finish(|n, o| long.push((n, o)));
        (tally.lines, long)
    }

    #[test]
    fn counts_what_the_line_reader_yields_at_every_chunk_size() {
        let inputs: [&[u8]; 9] = [
            b"",
            b"\n",
            b"a",
            b"a\nb",
            b"a\r\nb\r\n",
            b"\n\n\nxyz",
            b"12345\n123456\n1234\r\n12345\r\n123456\r\n",
            b"1234567890123",
            b"ok\n1234567890\r\nok\n\r\n",
        ];
        for data in inputs {
            let expected = reference(data, 5);
            for chunk in 1..=data.len().max(1) + 1 {
                assert_eq!(tally(data, 5, chunk), expected, "{data:?} chunk {chunk}");
                let counted = counted_source(data, 5, chunk);
                assert_eq!(counted.lines, expected.0, "{data:?} chunk {chunk}");
                assert_eq!(counted.ok, expected.1.is_empty());
            }
        }
    }

    #[test]
    fn scan_jobs_count_what_the_line_reader_yields() {
        let dir = tempfile::tempdir().unwrap();
        let inputs: [&[u8]; 6] = [
            b"",
            b"a\r\nb\r\n",
            b"\n\n\nxyz",
            b"12345\n123456\n1234\r\n12345\r\n123456\r\n",
            b"ok\n1234567890\r\nok\n\r\n",
            b"\r\n\r\r\n12345\r",
        ];
        for (i, data) in inputs.into_iter().enumerate() {
            let path = dir.path().join(format!("{i}"));
            std::fs::write(&path, data).unwrap();
            let (lines, long) = reference(data, 5);
            let counted = futures::executor::block_on(count_file(aiter::smol::Smol, &path, "x", 5));
            assert!(counted.opened);
            assert_eq!(counted.lines, lines, "{data:?}");
            assert_eq!(counted.ok, long.is_empty(), "{data:?}");
        }
        let missing = futures::executor::block_on(count_file(
            aiter::smol::Smol,
            &dir.path().join("nope"),
            "nope",
            5,
        ));
        assert!(!missing.opened && !missing.ok);
    }

    #[test]
    fn one_file_is_not_padded_and_has_no_total() {
        let mut out = Vec::new();
        write_counts(&mut out, &["a.log".into()], &[counted(42, true)]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "42 a.log\n");
    }

    #[test]
    fn several_files_are_aligned_to_the_total_and_skip_unreadable_ones() {
        let mut out = Vec::new();
        let names = ["a".into(), "missing".into(), "b".into()];
        let counts = [counted(7, true), counted(0, false), counted(1200, true)];
        write_counts(&mut out, &names, &counts).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "   7 a\n1200 b\n1207 total\n"
        );
    }
}
