//! The sans-io heart of `aiter lines`: bytes of one input in, output
//! records (`PREFIX` + line + `\n`) and problems out. No I/O, no clock.
//!
//! It splits exactly as aiter's [`LineReader`](aiter::lines::LineReader)
//! does: lines end at `\n`, a `\r` right before it is dropped, a last line
//! without `\n` is a line, a line whose content is longer than the limit is
//! reported and skipped, and in checked mode a line that is not UTF-8 is
//! reported and skipped (the tests compare it with the reader at every
//! chunk size).
//!
//! The common case costs a few passes over each chunk, not work per line:
//! when the chunk's complete lines hold no `\r`, are valid UTF-8 and cannot
//! be over the limit, and there is no prefix, they are copied out at once.

use std::borrow::Cow;

/// How each line is written: the UTF-8 policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    /// Lines must be UTF-8; an invalid line is reported and skipped.
    Checked,
    /// Invalid UTF-8 is replaced with U+FFFD.
    Lossy,
    /// Bytes pass through untouched (`--bytes`).
    Bytes,
}

/// What was wrong with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum What {
    /// Its content is longer than the limit (bytes).
    TooLong(usize),
    /// It is not UTF-8 (checked mode).
    InvalidUtf8,
}

/// A line rejected: what, its number (from 1) and the byte offset (where
/// the line starts, or where the invalid byte is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Problem {
    /// What was wrong.
    pub what: What,
    /// The line's number, counting from 1.
    pub line: u64,
    /// The byte offset in the input.
    pub offset: u64,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.what {
            What::TooLong(limit) => write!(f, "line longer than {limit} bytes")?,
            What::InvalidUtf8 => f.write_str("invalid UTF-8")?,
        }
        write!(f, " (line {}, byte offset {})", self.line, self.offset)
    }
}

/// Problems of one input: the first [`SHOWN`](Problems::SHOWN) are kept
/// for printing, the rest only counted, so memory stays flat however many
/// lines are bad.
#[derive(Debug, Default)]
pub(super) struct Problems {
    /// Kept problems not yet printed.
    pub kept: Vec<Problem>,
    /// Every problem so far.
    pub total: u64,
}

impl Problems {
    /// Problems printed per input; the rest are counted in one line.
    pub(super) const SHOWN: u64 = 10;

    /// Counts `problem`, keeping it if it is among the first shown.
    pub(super) fn push(&mut self, problem: Problem) {
        if self.total < Self::SHOWN {
            self.kept.push(problem);
        }
        self.total += 1;
    }

    /// Problems neither kept nor printed.
    pub(super) fn hidden(&self) -> u64 {
        self.total.saturating_sub(Self::SHOWN)
    }
}

/// Turns one input's bytes into output records.
#[derive(Debug)]
pub(super) struct Printer {
    prefix: Vec<u8>,
    limit: usize,
    text: Text,
    /// The unfinished line's bytes (at most `limit + 1`).
    held: Vec<u8>,
    /// The unfinished line is already over the limit: its bytes are dropped.
    discarding: bool,
    /// The number of the unfinished line.
    line: u64,
    /// Bytes fed so far.
    offset: u64,
    /// Offset of the unfinished line's first byte.
    line_start: u64,
    /// Problems found.
    pub problems: Problems,
}

impl Printer {
    /// A printer writing `prefix` before each line (empty: none), rejecting
    /// lines longer than `limit` bytes, with UTF-8 policy `text`.
    pub(super) fn new(prefix: Vec<u8>, limit: usize, text: Text) -> Self {
        Printer {
            prefix,
            limit,
            text,
            held: Vec::new(),
            discarding: false,
            line: 1,
            offset: 0,
            line_start: 0,
            problems: Problems::default(),
        }
    }

    /// Starts reading at byte `offset` of the input (`--last`): offsets in
    /// messages stay the input's; line numbers count from there.
    pub(super) fn start_at(&mut self, offset: u64) {
        self.offset = offset;
        self.line_start = offset;
    }

    /// The number of the line being read (for I/O error messages).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Bytes fed so far.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether part of an unfinished line is held.
    pub(super) fn is_holding(&self) -> bool {
        !self.held.is_empty() || self.discarding
    }

    /// Feeds the next bytes of the input; appends the records of the lines
    /// they complete to `out`.
    pub(super) fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let base = self.offset;
        let mut rest = bytes;
        if self.is_holding() {
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                self.hold(rest);
                self.offset += rest.len() as u64;
                return;
            };
            self.hold(&rest[..nl]);
            self.offset = base + nl as u64 + 1;
            self.end_held_line(true, out);
            rest = &rest[nl + 1..];
        }
        let start = self.offset;
        let complete = memchr::memrchr(b'\n', rest).map_or(0, |nl| nl + 1);
        let (region, tail) = rest.split_at(complete);
        if !region.is_empty() {
            self.lines(region, start, out);
        }
        self.offset = start + complete as u64;
        self.line_start = self.offset;
        self.hold(tail);
        self.offset += tail.len() as u64;
    }

    /// The input ended: a held last line without `\n` is a line.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.is_holding() {
            self.end_held_line(false, out);
        }
    }

    /// Writes one already split line (content without ending) of number
    /// `line` at `offset`.
    pub(super) fn record(&mut self, content: &[u8], line: u64, offset: u64, out: &mut Vec<u8>) {
        self.emit(content, line, offset, None, out);
    }

    /// Complete lines `region` (ending in `\n`) starting at input offset `start`.
    fn lines(&mut self, region: &[u8], start: u64, out: &mut Vec<u8>) {
        let utf8_ok = match self.text {
            Text::Bytes => true,
            Text::Checked | Text::Lossy => std::str::from_utf8(region).is_ok(),
        };
        let short = region.len() <= self.limit;
        if utf8_ok && short && self.prefix.is_empty() && memchr::memchr(b'\r', region).is_none() {
            out.extend_from_slice(region);
            self.line += memchr::memchr_iter(b'\n', region).count() as u64;
            return;
        }
        let mut line_start = 0;
        for nl in memchr::memchr_iter(b'\n', region) {
            let mut content = &region[line_start..nl];
            if content.last() == Some(&b'\r') {
                content = &content[..content.len() - 1];
            }
            let number = self.line;
            self.emit(
                content,
                number,
                start + line_start as u64,
                utf8_ok.then_some(()),
                out,
            );
            self.line += 1;
            line_start = nl + 1;
        }
    }

    /// Checks and writes one line; `known_utf8` when its text was checked.
    fn emit(
        &mut self,
        content: &[u8],
        line: u64,
        offset: u64,
        known_utf8: Option<()>,
        out: &mut Vec<u8>,
    ) {
        if content.len() > self.limit {
            self.problems.push(Problem {
                what: What::TooLong(self.limit),
                line,
                offset,
            });
            return;
        }
        let content: Cow<'_, [u8]> = match (self.text, known_utf8) {
            (Text::Bytes, _) | (_, Some(())) => Cow::Borrowed(content),
            (Text::Checked, None) => match std::str::from_utf8(content) {
                Ok(_) => Cow::Borrowed(content),
                Err(e) => {
                    self.problems.push(Problem {
                        what: What::InvalidUtf8,
                        line,
                        offset: offset + e.valid_up_to() as u64,
                    });
                    return;
                }
            },
            (Text::Lossy, None) => match String::from_utf8_lossy(content) {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
        };
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(&content);
        out.push(b'\n');
    }

    /// Keeps `bytes` of the unfinished line (dropping them once it is too
    /// long to print anyway).
    fn hold(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.discarding {
            // Only whether the line ends in `\r` still matters, and a line
            // already over the limit stays over it: nothing to keep.
            return;
        }
        // A line of `limit` bytes plus a `\r` before its `\n` is still fine.
        if self.held.len() + bytes.len() > self.limit.saturating_add(1) {
            self.held = Vec::new();
            self.discarding = true;
        } else {
            self.held.extend_from_slice(bytes);
        }
    }

    /// Ends the held line (at a `\n` if `newline`, else at the end of the input).
    fn end_held_line(&mut self, newline: bool, out: &mut Vec<u8>) {
        let (line, start) = (self.line, self.line_start);
        if self.discarding {
            self.problems.push(Problem {
                what: What::TooLong(self.limit),
                line,
                offset: start,
            });
        } else {
            let mut held = std::mem::take(&mut self.held);
            if newline && held.last() == Some(&b'\r') {
                held.pop();
            }
            self.emit(&held, line, start, None, out);
            held.clear();
            self.held = held;
        }
        self.discarding = false;
        self.line += 1;
        self.line_start = self.offset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use aiter::lines::{LineReader, Source};

    /// A source handing out `data` in reads of at most `step` bytes.
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
            _: &mut Context<'_>,
        ) -> Poll<(io::Result<usize>, Vec<u8>)> {
            let (mut buf, start) = self.read.take().expect("a read was started");
            let n = (self.data.len() - self.at)
                .min(buf.len() - start)
                .min(self.step);
            buf[start..start + n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Poll::Ready((Ok(n), buf))
        }
    }

    /// What aiter's `LineReader` makes of `data`: the output and problems.
    fn reference(data: &[u8], limit: usize, text: Text, prefix: &[u8]) -> (Vec<u8>, Vec<Problem>) {
        let source = Memory {
            data: data.to_vec(),
            at: 0,
            step: 3,
            read: None,
        };
        let mut reader = LineReader::new(source)
            .chunk_size(4)
            .max_line_length(Some(limit));
        futures::executor::block_on(async {
            let (mut out, mut problems) = (Vec::new(), Vec::new());
            while let Some(line) = reader.next_line().await {
                match line {
                    Ok(line) => {
                        let bytes = line.as_bytes();
                        let text: Cow<'_, [u8]> = match text {
                            Text::Bytes => Cow::Borrowed(bytes),
                            Text::Lossy => match String::from_utf8_lossy(bytes) {
                                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                            },
                            Text::Checked => match std::str::from_utf8(bytes) {
                                Ok(_) => Cow::Borrowed(bytes),
                                Err(e) => {
                                    problems.push(Problem {
                                        what: What::InvalidUtf8,
                                        line: line.number(),
                                        offset: line.offset() + e.valid_up_to() as u64,
                                    });
                                    continue;
                                }
                            },
                        };
                        out.extend_from_slice(prefix);
                        out.extend_from_slice(&text);
                        out.push(b'\n');
                    }
                    Err(e) => problems.push(Problem {
                        what: What::TooLong(limit),
                        line: e.line(),
                        offset: e.offset(),
                    }),
                }
            }
            (out, problems)
        })
    }

    fn printed(
        data: &[u8],
        limit: usize,
        text: Text,
        prefix: &[u8],
        chunk: usize,
    ) -> (Vec<u8>, Vec<Problem>) {
        let mut printer = Printer::new(prefix.to_vec(), limit, text);
        let mut out = Vec::new();
        for piece in data.chunks(chunk) {
            printer.feed(piece, &mut out);
        }
        printer.finish(&mut out);
        assert!(printer.problems.kept.len() as u64 <= Problems::SHOWN);
        (out, printer.problems.kept)
    }

    #[test]
    fn prints_what_the_line_reader_yields_at_every_chunk_size() {
        let inputs: [&[u8]; 12] = [
            b"",
            b"\n",
            b"a",
            b"a\nb",
            b"a\r\nb\r\n",
            b"\n\n\nxyz",
            b"12345\n123456\n1234\r\n12345\r\n123456\r\n",
            b"1234567890123",
            b"ok\n1234567890\r\nok\n\r\n",
            b"\r\n\r\r\n12345\r",
            b"ok\nbad \xff\nx\xe2\x82\n\xe2\x82\xac\n",
            b"caf\xc3\xa9\r\n\xc3",
        ];
        for data in inputs {
            for text in [Text::Checked, Text::Lossy, Text::Bytes] {
                for prefix in [&b""[..], b"f:"] {
                    for limit in [5, 100] {
                        let expected = reference(data, limit, text, prefix);
                        for chunk in 1..=data.len().max(1) + 1 {
                            assert_eq!(
                                printed(data, limit, text, prefix, chunk),
                                expected,
                                "{data:?} {text:?} {prefix:?} limit {limit} chunk {chunk}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn problems_beyond_the_first_ten_are_only_counted() {
        let data = "0123456789\n".repeat(1000);
        let mut printer = Printer::new(Vec::new(), 1, Text::Checked);
        let mut out = Vec::new();
        printer.feed(data.as_bytes(), &mut out);
        printer.finish(&mut out);
        assert!(out.is_empty());
        assert_eq!(printer.problems.kept.len(), 10);
        assert_eq!(printer.problems.total, 1000);
        assert_eq!(printer.problems.hidden(), 990);
        assert_eq!(
            printer.problems.kept[1].to_string(),
            "line longer than 1 bytes (line 2, byte offset 11)"
        );
    }
}
