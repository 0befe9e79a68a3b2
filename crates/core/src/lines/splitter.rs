//! The sans-io line splitter: bytes in, complete lines out.

use core::fmt;
use core::ops::Range;

use memchr::memchr;

/// Storage for a [`LineSplitter`]: a byte buffer, possibly growable.
///
/// Implemented for `&mut [u8]` and `[u8; N]` (fixed capacity, no
/// allocation) and, with the `alloc` feature, for `Vec<u8>` (grows as a
/// long line needs, up to the splitter's maximum line length).
pub trait LineBuffer {
    /// The whole buffer (not only the filled part).
    fn bytes(&self) -> &[u8];

    /// The whole buffer, writable.
    fn bytes_mut(&mut self) -> &mut [u8];

    /// Makes the buffer at least `len` bytes long, keeping its contents.
    /// Returns `false` if it cannot grow (the default).
    fn grow(&mut self, len: usize) -> bool {
        let _ = len;
        false
    }

    /// Whether [`grow`](LineBuffer::grow) can ever succeed.
    fn can_grow(&self) -> bool {
        false
    }
}

impl LineBuffer for &mut [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

impl<const N: usize> LineBuffer for [u8; N] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

#[cfg(feature = "alloc")]
impl LineBuffer for alloc::vec::Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    fn grow(&mut self, len: usize) -> bool {
        if len > self.len() {
            self.reserve_exact(len - self.len());
            self.resize(len, 0);
        }
        true
    }
    fn can_grow(&self) -> bool {
        true
    }
}

/// How a line ended in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// The input ended without a newline (only the last line).
    None,
}

impl Ending {
    /// The ending's length in bytes: 1, 2 or 0.
    pub fn len(self) -> usize {
        match self {
            Ending::Lf => 1,
            Ending::CrLf => 2,
            Ending::None => 0,
        }
    }

    /// Whether the line had no ending (the input's last line).
    pub fn is_empty(self) -> bool {
        self == Ending::None
    }
}

/// What every line carries besides its bytes: its number, where it starts
/// in the input, and how it ended. Shared by [`Line`], [`SharedLine`](super::SharedLine)
/// and [`Span`]; cheap to copy and keep after the line's bytes are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineMeta {
    number: u64,
    offset: u64,
    ending: Ending,
}

impl LineMeta {
    /// The metadata of line `number` (counting from 1), whose first byte is
    /// at byte `offset` of the input, ended by `ending`.
    pub fn new(number: u64, offset: u64, ending: Ending) -> Self {
        LineMeta {
            number,
            offset,
            ending,
        }
    }

    /// Line number, counting from 1.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Byte offset of the line's first byte in the input.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How the line ended.
    pub fn ending(&self) -> Ending {
        self.ending
    }
}

/// Where a line is in the splitter's buffer and in the input: what
/// [`LineSplitter::next_span`] returns, turned into a [`Line`] by
/// [`LineSplitter::line`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The line's bytes in the buffer (with its ending if the splitter keeps endings).
    pub range: Range<usize>,
    /// The line's number, offset and ending.
    pub meta: LineMeta,
}

/// One line, borrowed from the splitter's (or a reader's) buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    bytes: &'a [u8],
    meta: LineMeta,
}

impl<'a> Line<'a> {
    #[cfg(feature = "std")]
    pub(crate) fn from_parts(bytes: &'a [u8], meta: LineMeta) -> Self {
        Line { bytes, meta }
    }

    /// The line's bytes: without its ending, unless endings are kept.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The line as UTF-8 text.
    ///
    /// # Errors
    /// If the bytes are not valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.bytes)
    }

    /// The line's number, offset and ending, in one value.
    pub fn meta(&self) -> LineMeta {
        self.meta
    }

    /// How the line ended.
    pub fn ending(&self) -> Ending {
        self.meta.ending
    }

    /// Line number, counting from 1.
    pub fn number(&self) -> u64 {
        self.meta.number
    }

    /// Byte offset of the line's first byte in the input.
    pub fn offset(&self) -> u64 {
        self.meta.offset
    }
}

impl fmt::Debug for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Line")
            .field("bytes", &Escaped(self.bytes))
            .field("ending", &self.meta.ending)
            .field("number", &self.meta.number)
            .field("offset", &self.meta.offset)
            .finish()
    }
}

/// Debug-prints bytes as an escaped byte string, without allocating.
pub(crate) struct Escaped<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// A line was longer than the splitter's maximum line length.
///
/// The splitter has skipped it (or is skipping it: the rest, up to the next
/// newline, is discarded as it arrives) and goes on with the next line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineTooLong {
    /// The long line's number, counting from 1.
    pub number: u64,
    /// Byte offset of the long line's first byte.
    pub offset: u64,
    /// The maximum line length that it exceeded.
    pub limit: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line longer than {} bytes (line {}, byte offset {})",
            self.limit, self.number, self.offset
        )
    }
}

impl core::error::Error for LineTooLong {}

/// A sans-io line splitter: bytes in, complete lines out, the partial last
/// line kept until its newline (or the end of the input) arrives.
///
/// It does no I/O and needs no allocator: it works inside the buffer it is
/// given ([`LineBuffer`]). Feed it with [`spare`](Self::spare) +
/// [`commit`](Self::commit) (read straight into the buffer), with
/// [`push`](Self::push) (copy), or with [`swap_in`](Self::swap_in) (hand over
/// a whole filled buffer: only the partial last line is copied); call
/// [`finish`](Self::finish) at the end of the input. Take lines with
/// [`next_line`](Self::next_line) until it returns `None`, then feed more.
///
/// - Lines come out in input order, split at `\n`; the ending (`\n` or
///   `\r\n`) is stripped unless [`keep_endings`](Self::keep_endings) is set.
///   A `\r` not followed by `\n` is content.
/// - At the end of the input a last line without a newline is yielded; an
///   empty input yields nothing; `"\n"` yields one empty line.
/// - Time is linear in the input whatever the line lengths: the newline
///   search (`memchr`) resumes where it stopped and never re-reads bytes,
///   and compaction copies only the partial last line.
///
/// # Errors
/// A line longer than the maximum line length (content, without its ending)
/// is a [`LineTooLong`] error, reported as soon as the buffered part exceeds
/// the limit (so the buffer never holds more than the limit plus one read);
/// its remaining bytes are skipped up to the next newline and splitting goes
/// on. A fixed-size buffer caps the limit at its length − 2.
///
/// # Examples
/// ```
/// use aiter_core::lines::LineSplitter;
///
/// let mut buf = [0u8; 64];
/// let mut s = LineSplitter::new(&mut buf[..]);
/// s.push(b"one\r\ntw");
/// assert_eq!(s.next_line().unwrap().unwrap().as_bytes(), b"one");
/// assert!(s.next_line().is_none(), "`tw` waits for its newline");
/// s.push(b"o\nthree");
/// s.finish();
/// assert_eq!(s.next_line().unwrap().unwrap().as_bytes(), b"two");
/// let last = s.next_line().unwrap().unwrap();
/// assert_eq!((last.as_bytes(), last.number()), (&b"three"[..], 3));
/// assert!(s.next_line().is_none());
/// ```
pub struct LineSplitter<B> {
    buf: B,
    /// First byte of the current (partial) line.
    start: usize,
    /// Where the newline search resumes: `[start, scan)` has no newline.
    scan: usize,
    /// End of the filled part.
    end: usize,
    /// Input offset of `buf[0]` (wrapping): `buf[i]` is at input offset
    /// `origin + i`, so handing out a line needs no offset bookkeeping.
    origin: u64,
    /// Number of the next line.
    number: u64,
    /// Maximum content length; `usize::MAX` for none.
    limit: usize,
    keep_endings: bool,
    mode: Mode,
    eof: bool,
}

/// What the splitter does with the bytes it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Cutting lines.
    Lines,
    /// Discarding the rest of a too-long line, up to its newline.
    Skipping,
}

impl<B: LineBuffer> LineSplitter<B> {
    /// A splitter working in `buf`, with no line length limit other than
    /// what a fixed-size buffer imposes.
    pub fn new(buf: B) -> Self {
        let mut s = LineSplitter {
            buf,
            start: 0,
            scan: 0,
            end: 0,
            origin: 0,
            number: 1,
            limit: usize::MAX,
            keep_endings: false,
            mode: Mode::Lines,
            eof: false,
        };
        s.set_max_line_length(None);
        s
    }

    /// Sets the maximum line length in bytes (without the ending); `None`
    /// for no limit. A fixed-size buffer caps it at its length − 2.
    pub fn set_max_line_length(&mut self, limit: Option<usize>) {
        let mut limit = limit.unwrap_or(usize::MAX);
        if !self.buf.can_grow() {
            limit = limit.min(self.buf.bytes().len().saturating_sub(2));
        }
        self.limit = limit;
    }

    /// The maximum line length in effect (`usize::MAX` for none).
    pub fn line_limit(&self) -> usize {
        self.limit
    }

    /// Keeps each line's `\n` / `\r\n` in the line's bytes.
    pub fn keep_endings(&mut self, keep: bool) {
        self.keep_endings = keep;
    }

    /// Number of the next line (counting from 1).
    pub fn next_number(&self) -> u64 {
        self.number
    }

    /// Input offset of the first byte not yet handed out or skipped.
    pub fn offset(&self) -> u64 {
        self.input_offset(self.start)
    }

    /// Input offset of `buf[i]`.
    #[inline(always)]
    fn input_offset(&self, i: usize) -> u64 {
        self.origin.wrapping_add(i as u64)
    }

    /// Bytes buffered but not yet handed out (the partial line, or lines
    /// not yet taken).
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Whether [`finish`](Self::finish) was called.
    pub fn is_finished(&self) -> bool {
        self.eof
    }

    /// Marks the end of the input: the partial line, if any, becomes the
    /// last line.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Starts over on a new input (after truncation or rotation): forgets
    /// the buffered bytes, numbers lines from 1 and offsets from 0. Keeps
    /// the buffer and the settings.
    pub fn reset(&mut self) {
        self.start = 0;
        self.scan = 0;
        self.end = 0;
        self.origin = 0;
        self.number = 1;
        self.mode = Mode::Lines;
        self.eof = false;
    }

    /// Starts over like [`reset`](Self::reset), with offsets counted from
    /// `offset` (reading resumes there, e.g. the start of a file's last
    /// lines); lines are numbered from 1 again.
    pub fn restart_at(&mut self, offset: u64) {
        self.reset();
        self.origin = offset;
    }

    /// The bytes buffered but not yet handed out: the partial last line
    /// (before [`finish`](Self::finish)), after any complete lines not yet
    /// taken; while the rest of a too-long line is skipped, what was read of it.
    pub fn buffered_bytes(&self) -> &[u8] {
        &self.buf.bytes()[self.start..self.end]
    }

    /// The buffer.
    pub fn buffer(&self) -> &B {
        &self.buf
    }

    /// Room to read into, at least `min` bytes if the buffer can hold them:
    /// compacts the partial line to the front (copying only it) and, if
    /// that is not enough, grows a growable buffer. Write into it, then
    /// [`commit`](Self::commit) the number of bytes written.
    ///
    /// Take every available line first: compaction keeps unread lines, but
    /// a fixed buffer full of them has no room.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        let len = self.buf.bytes().len();
        if len - self.end < min {
            self.compact();
            let len = self.buf.bytes().len();
            if len - self.end < min && self.buf.can_grow() {
                // Double (amortised linear), but never beyond what the
                // longest allowed line plus this read can need.
                let cap = self.limit.saturating_add(2).saturating_add(min);
                let want = (self.end + min).max(len.saturating_mul(2).min(cap));
                self.buf.grow(want);
            }
        }
        &mut self.buf.bytes_mut()[self.end..]
    }

    /// Adds `n` bytes written into [`spare`](Self::spare) to the input.
    ///
    /// # Panics
    /// If `n` is more than the spare room.
    pub fn commit(&mut self, n: usize) {
        assert!(
            n <= self.buf.bytes().len() - self.end,
            "commit beyond the spare room"
        );
        self.end += n;
    }

    /// Copies bytes into the buffer, as much as fits; returns how many.
    /// With a growable buffer (or after taking the lines) that is all.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare(bytes.len());
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.commit(n);
        n
    }

    /// Adds `chunk[data]` to the input by taking over `chunk` as the
    /// buffer, and returns the buffer to reuse for the next read.
    ///
    /// The partial line (if any) is copied in front of `data` when it fits
    /// (`data.start` is headroom reserved for it); otherwise the new bytes
    /// are copied after it instead and `chunk` itself is handed back.
    ///
    /// # Panics
    /// If `data` is out of `chunk`'s bounds.
    pub fn swap_in(&mut self, mut chunk: B, data: Range<usize>) -> B {
        assert!(data.start <= data.end && data.end <= chunk.bytes().len());
        let tail = self.end - self.start;
        if tail <= data.start {
            let to = data.start - tail;
            chunk.bytes_mut()[to..data.start]
                .copy_from_slice(&self.buf.bytes()[self.start..self.end]);
            let scanned = self.scan - self.start;
            self.origin = self.offset().wrapping_sub(to as u64);
            self.start = to;
            self.scan = to + scanned;
            self.end = data.end;
            core::mem::replace(&mut self.buf, chunk)
        } else {
            let bytes = &chunk.bytes()[data];
            let pushed = self.push(bytes);
            debug_assert_eq!(pushed, bytes.len(), "a growable buffer takes all");
            chunk
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.bytes_mut().copy_within(self.start..self.end, 0);
            self.origin = self.offset();
            self.scan -= self.start;
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// The next complete line, as a position in the buffer; `None` when
    /// more input is needed (or, after [`finish`](Self::finish), at the end).
    ///
    /// # Errors
    /// [`LineTooLong`], once per long line; the next call goes on after it.
    #[inline(always)]
    pub fn next_span(&mut self) -> Option<Result<Span, LineTooLong>> {
        if self.mode == Mode::Skipping {
            return self.skip_long_line();
        }
        let bytes = self.buf.bytes();
        match memchr(b'\n', &bytes[self.scan..self.end]) {
            Some(i) => {
                // The hot path, once per line: no branch but the `\r` test
                // and the limit.
                let nl = self.scan + i;
                let start = self.start;
                let crlf = nl > start && bytes[nl - 1] == b'\r';
                let content_end = nl - usize::from(crlf);
                if content_end - start > self.limit {
                    return Some(Err(self.too_long_with_newline(nl)));
                }
                let span = Span {
                    range: start..if self.keep_endings {
                        nl + 1
                    } else {
                        content_end
                    },
                    meta: LineMeta {
                        number: self.number,
                        offset: self.input_offset(start),
                        ending: if crlf { Ending::CrLf } else { Ending::Lf },
                    },
                };
                self.number += 1;
                self.start = nl + 1;
                self.scan = nl + 1;
                Some(Ok(span))
            }
            None => {
                // Never search these bytes again, however long the line.
                self.scan = self.end;
                self.partial()
            }
        }
    }

    /// Discards the rest of a too-long line up to its newline (if it is in
    /// the buffer), then goes on with the next line.
    #[cold]
    #[inline(never)]
    fn skip_long_line(&mut self) -> Option<Result<Span, LineTooLong>> {
        match memchr(b'\n', &self.buf.bytes()[self.scan..self.end]) {
            Some(i) => {
                let next = self.scan + i + 1;
                self.start = next;
                self.scan = next;
                self.mode = Mode::Lines;
                self.next_span()
            }
            None => {
                self.start = self.end;
                self.scan = self.end;
                None
            }
        }
    }

    /// A complete line (its newline at `nl`) longer than the limit: skips
    /// it and describes it.
    #[cold]
    #[inline(never)]
    fn too_long_with_newline(&mut self, nl: usize) -> LineTooLong {
        let err = LineTooLong {
            number: self.number,
            offset: self.offset(),
            limit: self.limit,
        };
        self.number += 1;
        self.start = nl + 1;
        self.scan = nl + 1;
        err
    }

    /// No newline in the buffer: the partial line is too long, the last
    /// line, or waits for more input.
    #[inline(never)]
    fn partial(&mut self) -> Option<Result<Span, LineTooLong>> {
        let len = self.end - self.start;
        if len == 0 {
            return None;
        }
        // A trailing `\r` may be the first half of a `\r\n` ending.
        let maybe_cr = !self.eof && self.buf.bytes()[self.end - 1] == b'\r';
        let content = if maybe_cr { len - 1 } else { len };
        if content > self.limit {
            let err = LineTooLong {
                number: self.number,
                offset: self.offset(),
                limit: self.limit,
            };
            self.number += 1;
            self.start = self.end;
            self.scan = self.end;
            self.mode = Mode::Skipping;
            return Some(Err(err));
        }
        if !self.eof {
            return None;
        }
        let span = Span {
            range: self.start..self.end,
            meta: LineMeta {
                number: self.number,
                offset: self.offset(),
                ending: Ending::None,
            },
        };
        self.number += 1;
        self.start = self.end;
        Some(Ok(span))
    }

    /// The line at `span` (from the last [`next_span`](Self::next_span)).
    #[inline]
    pub fn line(&self, span: &Span) -> Line<'_> {
        Line {
            bytes: &self.buf.bytes()[span.range.clone()],
            meta: span.meta,
        }
    }

    /// The next complete line; `None` when more input is needed (or, after
    /// [`finish`](Self::finish), at the end).
    ///
    /// # Errors
    /// [`LineTooLong`], once per long line; the next call goes on after it.
    #[inline(always)]
    pub fn next_line(&mut self) -> Option<Result<Line<'_>, LineTooLong>> {
        match self.next_span()? {
            Ok(span) => Some(Ok(self.line(&span))),
            Err(e) => Some(Err(e)),
        }
    }

    /// Gives back the buffer.
    pub fn into_buffer(self) -> B {
        self.buf
    }
}

impl<B> fmt::Debug for LineSplitter<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineSplitter")
            .field("buffered", &(self.end - self.start))
            .field("next_number", &self.number)
            .field("offset", &self.origin.wrapping_add(self.start as u64))
            .field("skipping", &(self.mode == Mode::Skipping))
            .field("finished", &self.eof)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// What the reference splitter produces for one line.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) enum Out {
        Line(Vec<u8>, u64, u64),
        TooLong(u64, u64),
    }

    /// The obvious splitter: whole input at once, byte by byte.
    pub(crate) fn reference(input: &[u8], limit: usize, keep: bool) -> Vec<Out> {
        let mut out = Vec::new();
        let mut number = 1;
        let mut offset = 0u64;
        let mut rest = input;
        while !rest.is_empty() {
            let (line, consumed, nl) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], i + 1, true),
                None => (rest, rest.len(), false),
            };
            let content = if nl && line.last() == Some(&b'\r') {
                &line[..line.len() - 1]
            } else {
                line
            };
            if content.len() > limit {
                out.push(Out::TooLong(number, offset));
            } else {
                let bytes = if keep { &rest[..consumed] } else { content };
                out.push(Out::Line(bytes.to_vec(), number, offset));
            }
            number += 1;
            offset += consumed as u64;
            rest = &rest[consumed..];
        }
        out
    }

    fn drain<B: LineBuffer>(s: &mut LineSplitter<B>, out: &mut Vec<Out>) {
        while let Some(item) = s.next_line() {
            out.push(match item {
                Ok(l) => Out::Line(l.as_bytes().to_vec(), l.number(), l.offset()),
                Err(e) => Out::TooLong(e.number, e.offset),
            });
        }
    }

    fn split_in_chunks(input: &[u8], cuts: &[usize], limit: Option<usize>, keep: bool) -> Vec<Out> {
        let mut s = LineSplitter::new(Vec::new());
        s.set_max_line_length(limit);
        s.keep_endings(keep);
        let mut out = Vec::new();
        let mut at = 0;
        for &cut in cuts.iter().chain([&input.len()]) {
            let cut = cut.clamp(at, input.len());
            s.push(&input[at..cut]);
            at = cut;
            drain(&mut s, &mut out);
        }
        s.finish();
        drain(&mut s, &mut out);
        assert!(s.next_line().is_none(), "fused after the end");
        out
    }

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        split_in_chunks(input, &[], None, false)
            .into_iter()
            .map(|o| match o {
                Out::Line(b, ..) => b,
                Out::TooLong(..) => panic!("no limit"),
            })
            .collect()
    }

    #[test]
    fn endings_are_stripped_and_a_last_line_without_newline_is_kept() {
        assert_eq!(lines(b"a\nb\r\nc"), [&b"a"[..], b"b", b"c"]);
        assert_eq!(lines(b""), Vec::<Vec<u8>>::new());
        assert_eq!(lines(b"\n"), [&b""[..]]);
        assert_eq!(lines(b"\n\n"), [&b""[..], b""]);
        assert_eq!(lines(b"x\r"), [&b"x\r"[..]], "a lone \\r is content");
        assert_eq!(lines(b"x\ry\n"), [&b"x\ry"[..]]);
        assert_eq!(lines(b"\r\n"), [&b""[..]]);
    }

    #[test]
    fn endings_can_be_kept() {
        let out = split_in_chunks(b"a\nb\r\nc", &[], None, true);
        assert_eq!(
            out,
            [
                Out::Line(b"a\n".to_vec(), 1, 0),
                Out::Line(b"b\r\n".to_vec(), 2, 2),
                Out::Line(b"c".to_vec(), 3, 5),
            ]
        );
    }

    #[test]
    fn a_crlf_split_across_pushes_is_one_ending() {
        let out = split_in_chunks(b"abc\r\ndef\r\n", &[4], Some(3), false);
        assert_eq!(
            out,
            [
                Out::Line(b"abc".to_vec(), 1, 0),
                Out::Line(b"def".to_vec(), 2, 5)
            ]
        );
    }

    #[test]
    fn a_too_long_line_is_one_error_then_splitting_goes_on() {
        let out = split_in_chunks(b"ok\n0123456789abc\nnext\n", &[5, 9, 12], Some(4), false);
        assert_eq!(
            out,
            [
                Out::Line(b"ok".to_vec(), 1, 0),
                Out::TooLong(2, 3),
                Out::Line(b"next".to_vec(), 3, 17),
            ]
        );
        // Reported before its newline arrives, and its bytes are not kept.
        let mut s = LineSplitter::new(Vec::new());
        s.set_max_line_length(Some(4));
        s.push(b"0123456");
        assert_eq!(
            s.next_line().unwrap().unwrap_err(),
            LineTooLong {
                number: 1,
                offset: 0,
                limit: 4
            }
        );
        assert_eq!(s.buffered(), 0);
        s.push(b"789");
        assert!(s.next_line().is_none());
        assert_eq!(s.buffered(), 0);
        s.push(b"\nz");
        s.finish();
        let z = s.next_line().unwrap().unwrap();
        assert_eq!((z.as_bytes(), z.number(), z.offset()), (&b"z"[..], 2, 11));
        assert!(s.next_line().is_none());
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_fine_even_with_its_cr_pending() {
        let out = split_in_chunks(b"abcd\r\nabcd", &[5], Some(4), false);
        assert_eq!(
            out,
            [
                Out::Line(b"abcd".to_vec(), 1, 0),
                Out::Line(b"abcd".to_vec(), 2, 6)
            ]
        );
    }

    #[test]
    fn a_fixed_buffer_needs_no_allocator_and_caps_the_limit() {
        let mut buf = [0u8; 8];
        let mut s = LineSplitter::new(&mut buf[..]);
        assert_eq!(s.line_limit(), 6);
        let mut got = 0;
        for chunk in [&b"ab\ncd"[..], b"ef\ngh", b"ij\n", b"0123456789\nok\n"] {
            let mut rest = chunk;
            while !rest.is_empty() {
                let n = s.push(rest);
                rest = &rest[n..];
                while let Some(line) = s.next_line() {
                    match line {
                        Ok(l) => {
                            got += 1;
                            assert!(
                                [&b"ab"[..], b"cdef", b"ghij", b"ok"].contains(&l.as_bytes()),
                                "{l:?}"
                            );
                        }
                        Err(e) => assert_eq!((e.number, e.limit), (4, 6)),
                    }
                }
            }
        }
        assert_eq!(got, 4);
    }

    #[test]
    fn swap_in_copies_only_the_partial_line_into_the_headroom() {
        let mut s = LineSplitter::new(Vec::new());
        let mut chunk = alloc::vec![0u8; 4 + 6];
        chunk[4..].copy_from_slice(b"ab\ncde");
        let old = s.swap_in(chunk, 4..10);
        assert!(old.is_empty());
        assert_eq!(s.next_line().unwrap().unwrap().as_bytes(), b"ab");
        assert!(s.next_line().is_none());
        let mut chunk = old;
        chunk.resize(10, 0);
        chunk[4..7].copy_from_slice(b"f\ng");
        let back = s.swap_in(chunk, 4..7);
        assert_eq!(back.len(), 10, "the previous buffer comes back for reuse");
        assert_eq!(s.next_line().unwrap().unwrap().as_bytes(), b"cdef");
        // A partial line longer than the headroom: the new bytes are appended.
        let mut chunk = alloc::vec![0u8; 2 + 3];
        chunk[2..].copy_from_slice(b"hi\n");
        s.push(b"long");
        let back = s.swap_in(chunk, 2..5);
        assert_eq!(back.len(), 5);
        let l = s.next_line().unwrap().unwrap();
        assert_eq!(
            (l.as_bytes(), l.number(), l.offset()),
            (&b"glonghi"[..], 3, 8)
        );
    }

    #[test]
    fn reset_starts_numbering_again() {
        let mut s = LineSplitter::new(Vec::new());
        s.push(b"a\nb\npartial");
        while s.next_line().is_some() {}
        s.reset();
        s.push(b"x\n");
        let x = s.next_line().unwrap().unwrap();
        assert_eq!((x.as_bytes(), x.number(), x.offset()), (&b"x"[..], 1, 0));
    }

    #[test]
    fn debug_shows_bytes_escaped() {
        let mut s = LineSplitter::new(Vec::new());
        s.push(b"a\"\xff\n");
        let line = s.next_line().unwrap().unwrap();
        let text = alloc::format!("{line:?}");
        assert!(text.contains(r#"b"a\"\xff""#), "{text}");
        assert!(alloc::format!("{s:?}").contains("LineSplitter"));
    }

    /// Inputs rich in newlines, `\r` and long runs.
    pub(crate) fn input() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            3 => prop::collection::vec(prop::sample::select(&b"ab\r\n\n"[..]), 0..6),
            1 => (0usize..40).prop_map(|n| alloc::vec![b'x'; n]),
            1 => Just(b"\r\n".to_vec()),
        ];
        // Miri interprets every byte: shorter inputs there.
        let pieces = if cfg!(miri) { 10 } else { 24 };
        prop::collection::vec(piece, 0..pieces).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        #[test]
        fn matches_the_reference_at_any_chunk_boundaries(
            input in input(),
            cuts in prop::collection::vec(0usize..300, 0..12),
            limit in prop::option::of(0usize..30),
            keep in any::<bool>(),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let got = split_in_chunks(&input, &cuts, limit, keep);
            prop_assert_eq!(got, reference(&input, limit.unwrap_or(usize::MAX), keep));
        }

        #[test]
        fn swap_in_matches_the_reference(
            input in input(),
            sizes in prop::collection::vec(1usize..40, 1..20),
            headroom in 0usize..8,
            limit in prop::option::of(0usize..30),
        ) {
            let mut s = LineSplitter::new(Vec::new());
            s.set_max_line_length(limit);
            let mut out = Vec::new();
            let mut spare = Vec::new();
            let mut at = 0;
            let mut i = 0;
            while at < input.len() {
                let n = sizes[i % sizes.len()].min(input.len() - at);
                i += 1;
                spare.resize(headroom + n, 0);
                spare[headroom..].copy_from_slice(&input[at..at + n]);
                at += n;
                spare = s.swap_in(spare, headroom..headroom + n);
                drain(&mut s, &mut out);
            }
            s.finish();
            drain(&mut s, &mut out);
            prop_assert_eq!(out, reference(&input, limit.unwrap_or(usize::MAX), false));
        }
    }
}
