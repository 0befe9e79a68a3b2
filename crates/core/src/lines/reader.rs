//! [`LineReader`]: the lending async line reader.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::path::PathBuf;

use futures_core::FusedFuture;

use super::error::{LineError, LineErrorKind};
use super::options::{LineOptions, Utf8};
use super::pump::{Pump, Reads};
use super::source::{AsyncReadSource, FileSource, MemorySource, Source, Stdin};
use super::splitter::{Line, Span};
use crate::rt::{Blocking, Fs};

/// An async line reader that lends each line from its buffer: no
/// allocation per line.
///
/// Reads large chunks ([`chunk_size`](Self::chunk_size), default 1 MiB)
/// from its [`Source`] into two buffers it reuses, keeping **one read in
/// flight** while the caller takes the lines of the previous chunk, so a
/// runtime's blocking-pool hop overlaps with the splitting. Lines come out
/// in input order with `\n` / `\r\n` stripped (unless
/// [`keep_endings`](Self::keep_endings)); the last line is yielded even
/// without a newline; an empty input yields nothing.
///
/// Take lines with [`next_line`](Self::next_line) (bytes, never fails on
/// content) or [`next_str`](Self::next_str) (UTF-8 text). For a
/// `Stream` of owned lines (for `merge` and combinators) use
/// [`Lines`](super::Lines).
///
/// When the source ends, the remaining lines are handed out, then `None`
/// for good.
///
/// # Errors
/// Each error names the path, line number and byte offset ([`LineError`]):
/// - a line longer than [`max_line_length`](Self::max_line_length)
///   (default 8 MiB): one error, the line is skipped, reading goes on;
///   memory stays within two chunks plus the limit whatever the input;
/// - invalid UTF-8 in [`next_str`](Self::next_str) (unless
///   [`lossy`](Self::lossy)): one error, the line is skipped, reading goes on;
/// - opening or reading fails: one error, then `None` for good.
///
/// # Cancel safety
/// `next_line` and `next_str` are cancel-safe: every byte read and the
/// read in flight are kept in the reader, so after a dropped call the
/// next call returns the same line.
///
/// # Examples
/// ```
/// use aiter_core::lines::{LineReader, Source};
/// # use core::{pin::Pin, task::{Context, Poll}};
/// # /// A source that hands out one byte string, in one read.
/// # struct Bytes(&'static [u8], Option<Vec<u8>>, usize);
/// # impl Source for Bytes {
/// #     fn start_read(mut self: Pin<&mut Self>, buf: Vec<u8>, start: usize) { self.1 = Some(buf); self.2 = start; }
/// #     fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(std::io::Result<usize>, Vec<u8>)> {
/// #         let (mut buf, start) = (self.1.take().unwrap(), self.2);
/// #         let n = self.0.len().min(buf.len() - start);
/// #         buf[start..start + n].copy_from_slice(&self.0[..n]);
/// #         self.0 = &self.0[n..];
/// #         Poll::Ready((Ok(n), buf))
/// #     }
/// # }
/// # futures::executor::block_on(async {
/// // With a runtime: `LineReader::open(aiter::tokio::Tokio, "app.log")`.
/// let mut reader = LineReader::new(Bytes(b"GET /\r\nPOST /a\nlast", None, 0));
/// let mut lines = 0;
/// while let Some(line) = reader.next_line().await {
///     let line = line?;
///     assert!(line.as_bytes().len() <= 7);
///     lines += 1;
/// }
/// assert_eq!(lines, 3);
/// # Ok::<(), aiter_core::lines::LineError>(())
/// # }).unwrap();
/// ```
#[must_use = "a reader does nothing unless you call `next_line`"]
pub struct LineReader<S> {
    /// Boxed so the reader is `Unpin` whatever the source's futures are.
    source: Pin<Box<S>>,
    pump: Pump<Vec<u8>>,
    options: LineOptions,
}

impl<S: Source> LineReader<S> {
    /// A reader of `source`. Nothing is read (or opened) until the first poll.
    pub fn new(source: S) -> Self {
        let options = LineOptions::default();
        LineReader {
            source: Box::pin(source),
            pump: Pump::new(&options),
            options,
        }
    }

    /// Bytes per read (default 1 MiB, the first read at most 64 KiB; at least 1). Smaller reads cost one
    /// blocking-pool hop each; larger ones cost memory (two chunks per reader).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.options.chunk_size = bytes;
        self.pump.set_options(&self.options);
        self
    }

    /// The maximum line length in bytes, without the ending (default
    /// 8 MiB); `None` for no limit (memory then grows with the longest line).
    pub fn max_line_length(mut self, limit: Option<usize>) -> Self {
        self.options.max_line_length = limit;
        self.pump.set_options(&self.options);
        self
    }

    /// Keeps each line's `\n` / `\r\n` (default: stripped).
    pub fn keep_endings(mut self, keep: bool) -> Self {
        self.options.keep_endings = keep;
        self.pump.set_options(&self.options);
        self
    }

    /// In [`next_str`](Self::next_str), replaces invalid UTF-8 with U+FFFD
    /// (allocating for such lines only) instead of an error: `true` is
    /// [`Utf8::Lossy`], `false` [`Utf8::Checked`].
    pub fn lossy(self, lossy: bool) -> Self {
        self.utf8(if lossy { Utf8::Lossy } else { Utf8::Checked })
    }

    /// What [`next_str`](Self::next_str) does about invalid UTF-8:
    /// [`Utf8::Lossy`] repairs it, anything else makes it an error
    /// ([`next_line`](Self::next_line) always lends bytes).
    pub fn utf8(mut self, utf8: Utf8) -> Self {
        self.options.utf8 = utf8;
        self
    }

    /// Sets every reading setting at once.
    pub fn with_options(mut self, options: LineOptions) -> Self {
        self.options = options;
        self.pump.set_options(&self.options);
        self
    }

    /// The reading settings.
    pub fn options(&self) -> &LineOptions {
        &self.options
    }

    /// The number of lines handed out (or skipped as errors) so far.
    pub fn line_count(&self) -> u64 {
        self.pump.splitter.next_number() - 1
    }

    /// The source.
    pub fn source(&self) -> &S {
        self.source.as_ref().get_ref()
    }

    /// Whether the reader has ended (`None` from now on).
    pub fn is_terminated(&self) -> bool {
        self.pump.reads == Reads::Done
    }

    fn poll_span(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Span, LineError>>> {
        self.pump.poll_span(self.source.as_mut(), cx)
    }

    /// Polls for the next line, lent from the reader's buffer.
    ///
    /// - `Ready(Some(Ok(line)))`: the next line;
    /// - `Ready(Some(Err(e)))`: a line too long (skipped: polling again goes
    ///   on), or an I/O error (polling again gives `None`);
    /// - `Ready(None)`: the input has ended, and stays so;
    /// - `Pending`: a read is in flight; the source registered `cx`'s waker.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Line<'_>, LineError>>> {
        let this = self.get_mut();
        let item = core::task::ready!(this.pump.poll_span(this.source.as_mut(), cx));
        let pump: &Pump<Vec<u8>> = &this.pump;
        Poll::Ready(item.map(|r| r.map(|span| pump.splitter.line(&span))))
    }

    /// The next line as bytes, lent from the buffer; `None` at the end.
    ///
    /// # Errors
    /// See [`LineReader`]: a too-long line (skipped, goes on) or an I/O
    /// error (then `None`). Bytes are never checked for UTF-8.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future loses nothing.
    pub fn next_line(&mut self) -> NextLine<'_, S> {
        NextLine { reader: Some(self) }
    }

    /// The next line as UTF-8 text, lent from the buffer (allocating only
    /// for a lossily repaired line); `None` at the end.
    ///
    /// # Errors
    /// As [`next_line`](Self::next_line), plus invalid UTF-8 (unless
    /// [`lossy`](Self::lossy)): one error naming the byte offset of the first
    /// invalid byte; the line is skipped and the next call goes on.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future loses nothing.
    pub fn next_str(&mut self) -> NextStr<'_, S> {
        NextStr { reader: Some(self) }
    }
}

impl<R: Fs> LineReader<FileSource<R>> {
    /// A reader of the file at `path`, opened with `rt` on the first poll.
    pub fn open(rt: R, path: impl Into<PathBuf>) -> Self {
        LineReader::new(FileSource::new(rt, path))
    }
}

impl<R: futures_io::AsyncRead + Unpin> LineReader<AsyncReadSource<R>> {
    /// A reader of any [`futures_io::AsyncRead`]: a socket, a child
    /// process's output, a pipe, a decompressor, smol's or async-std's
    /// files. Each byte goes straight from `reader` into this reader's
    /// buffer. Errors name no path. For tokio's `AsyncRead`, use
    /// `aiter::tokio::line_reader_from`.
    pub fn from_async_read(reader: R) -> Self {
        LineReader::new(AsyncReadSource::new(reader))
    }
}

impl<T: AsRef<[u8]>> LineReader<MemorySource<T>> {
    /// A reader of bytes in memory (a `Vec<u8>`, a `&'static [u8]`, a
    /// `String`, …).
    pub fn from_bytes(data: T) -> Self {
        LineReader::new(MemorySource::new(data))
    }
}

impl<R: Blocking> LineReader<Stdin<R>> {
    /// A reader of standard input, read on `rt`'s blocking pool.
    pub fn stdin(rt: R) -> Self {
        LineReader::new(Stdin::new(rt))
    }
}

impl<S: fmt::Debug> fmt::Debug for LineReader<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineReader")
            .field("source", &self.source)
            .field("splitter", &self.pump.splitter)
            .field("reads", &self.pump.reads)
            .finish_non_exhaustive()
    }
}

/// Checks (or lossily repairs) a line as UTF-8.
pub(crate) fn text<'a>(
    line: &Line<'a>,
    lossy: bool,
    path: Option<&alloc::sync::Arc<std::path::Path>>,
) -> Result<Cow<'a, str>, LineError> {
    match core::str::from_utf8(line.as_bytes()) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) if lossy => Ok(String::from_utf8_lossy(line.as_bytes())),
        Err(e) => Err(LineError::new(
            LineErrorKind::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            },
            path.cloned(),
            line.number(),
            line.offset() + e.valid_up_to() as u64,
        )),
    }
}

/// Future of [`LineReader::next_line`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct NextLine<'a, S> {
    /// `None` once completed.
    reader: Option<&'a mut LineReader<S>>,
}

impl<'a, S: Source> Future for NextLine<'a, S> {
    type Output = Option<Result<Line<'a>, LineError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = this
            .reader
            .as_mut()
            .expect("`NextLine` polled after completion");
        let item = core::task::ready!(reader.poll_span(cx));
        let reader: &'a LineReader<S> = this.reader.take().expect("checked above");
        Poll::Ready(item.map(|r| r.map(|span| reader.pump.splitter.line(&span))))
    }
}

impl<S: Source> FusedFuture for NextLine<'_, S> {
    fn is_terminated(&self) -> bool {
        self.reader.is_none()
    }
}

impl<S> fmt::Debug for NextLine<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextLine")
            .field("done", &self.reader.is_none())
            .finish()
    }
}

/// Future of [`LineReader::next_str`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct NextStr<'a, S> {
    /// `None` once completed.
    reader: Option<&'a mut LineReader<S>>,
}

impl<'a, S: Source> Future for NextStr<'a, S> {
    type Output = Option<Result<Cow<'a, str>, LineError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = this
            .reader
            .as_mut()
            .expect("`NextStr` polled after completion");
        let item = core::task::ready!(reader.poll_span(cx));
        let reader: &'a LineReader<S> = this.reader.take().expect("checked above");
        Poll::Ready(item.map(|r| {
            r.and_then(|span| {
                let line = reader.pump.splitter.line(&span);
                text(
                    &line,
                    reader.options.utf8 == Utf8::Lossy,
                    reader.source().path(),
                )
            })
        }))
    }
}

impl<S: Source> FusedFuture for NextStr<'_, S> {
    fn is_terminated(&self) -> bool {
        self.reader.is_none()
    }
}

impl<S> fmt::Debug for NextStr<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextStr")
            .field("done", &self.reader.is_none())
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lines::splitter::tests::{input, reference, Out};
    use crate::lines::Lines;
    use alloc::string::ToString;
    use futures::task::noop_waker_ref;
    use proptest::prelude::*;
    use std::io;

    /// A source that reads from memory in random short reads, returns
    /// `Pending` at random (waking at once), and can fail at an offset.
    pub(crate) struct Scripted {
        data: Vec<u8>,
        pos: usize,
        rng: u64,
        read: Option<(Vec<u8>, usize)>,
        fail_at: Option<usize>,
        pub(crate) reads: usize,
    }

    impl Scripted {
        pub(crate) fn new(data: &[u8], seed: u64) -> Self {
            Scripted {
                data: data.to_vec(),
                pos: 0,
                rng: seed | 1,
                read: None,
                fail_at: None,
                reads: 0,
            }
        }

        fn roll(&mut self, n: u64) -> u64 {
            // xorshift64
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            self.rng % n
        }
    }

    impl Source for Scripted {
        fn start_read(mut self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
            assert!(self.read.is_none(), "one read in flight at most");
            assert!(start < buf.len(), "never an empty read");
            self.read = Some((buf, start));
        }

        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<(io::Result<usize>, Vec<u8>)> {
            if self.roll(3) == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let (mut buf, start) = self.read.take().expect("a read was started");
            self.reads += 1;
            if self.fail_at.is_some_and(|at| self.pos >= at) {
                return Poll::Ready((Err(io::Error::other("disk on fire")), buf));
            }
            let room = buf.len() - start;
            let left = self.data.len() - self.pos;
            let mut n = room.min(left);
            if n > 1 {
                n = 1 + self.roll(n as u64) as usize;
            }
            if let Some(at) = self.fail_at {
                n = n.min(at - self.pos);
            }
            buf[start..start + n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Poll::Ready((Ok(n), buf))
        }
    }

    fn out(item: Result<Line<'_>, LineError>) -> Out {
        match item {
            Ok(l) => Out::Line(l.as_bytes().to_vec(), l.number(), l.offset()),
            Err(e) => {
                assert!(matches!(e.kind(), LineErrorKind::TooLong { .. }), "{e}");
                Out::TooLong(e.line(), e.offset())
            }
        }
    }

    /// Reads everything, dropping `next_line` futures after a random
    /// number of polls.
    fn read_dropping_futures(reader: &mut LineReader<Scripted>, seed: u64) -> Vec<Out> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut rng = seed | 1;
        let mut got = Vec::new();
        loop {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let polls = 1 + rng % 3;
            let mut fut = reader.next_line();
            let mut ready = None;
            for _ in 0..polls {
                if let Poll::Ready(item) = Pin::new(&mut fut).poll(&mut cx) {
                    ready = Some(item.map(out));
                    break;
                }
            }
            drop(fut);
            match ready {
                Some(Some(o)) => got.push(o),
                Some(None) => return got,
                None => {} // dropped mid-read: the next call must go on
            }
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn dropping_next_line_futures_loses_nothing(
            input in input(),
            seed in any::<u64>(),
            chunk in 1usize..48,
            limit in prop::option::of(0usize..30),
        ) {
            let mut reader = LineReader::new(Scripted::new(&input, seed))
                .chunk_size(chunk)
                .max_line_length(limit);
            let got = read_dropping_futures(&mut reader, seed.rotate_left(7));
            prop_assert_eq!(got, reference(&input, limit.unwrap_or(usize::MAX), false));
            prop_assert!(reader.is_terminated());
        }

        #[test]
        fn the_stream_matches_the_reference(
            input in input(),
            seed in any::<u64>(),
            chunk in 1usize..48,
            keep in any::<bool>(),
        ) {
            let mut lines = Lines::new(Scripted::new(&input, seed))
                .chunk_size(chunk)
                .keep_endings(keep)
                .max_line_length(Some(20));
            let mut cx = Context::from_waker(noop_waker_ref());
            let mut got = Vec::new();
            let mut held = Vec::new();
            loop {
                match futures::Stream::poll_next(Pin::new(&mut lines), &mut cx) {
                    Poll::Pending => continue,
                    Poll::Ready(None) => break,
                    Poll::Ready(Some(Ok(l))) => {
                        got.push(Out::Line(l.to_vec(), l.number(), l.offset()));
                        // Keep some lines alive: their chunks must not be reused.
                        if l.number() % 3 == 0 {
                            held.push(l);
                        }
                    }
                    Poll::Ready(Some(Err(e))) => got.push(Out::TooLong(e.line(), e.offset())),
                }
            }
            let want = reference(&input, 20, keep);
            for l in &held {
                prop_assert!(want.contains(&Out::Line(l.to_vec(), l.number(), l.offset())));
            }
            prop_assert_eq!(got, want);
            prop_assert!(futures::stream::FusedStream::is_terminated(&lines));
            prop_assert_eq!(futures::Stream::size_hint(&lines), (0, Some(0)));
        }
    }

    #[test]
    fn an_io_error_names_the_offset_then_the_reader_ends() {
        let mut source = Scripted::new(b"one\ntwo\nthree\n", 5);
        source.fail_at = Some(6);
        let mut reader = LineReader::new(source).chunk_size(4);
        futures::executor::block_on(async {
            assert_eq!(
                reader.next_line().await.unwrap().unwrap().as_bytes(),
                b"one"
            );
            let e = reader.next_line().await.unwrap().unwrap_err();
            assert!(e.is_io());
            assert_eq!((e.line(), e.offset()), (2, 6));
            assert_eq!(e.to_string(), "cannot read (line 2, byte offset 6)");
            let source = core::error::Error::source(&e).map(alloc::string::ToString::to_string);
            assert_eq!(source.as_deref(), Some("disk on fire"));
            assert!(reader.next_line().await.is_none());
            assert!(reader.next_line().await.is_none(), "fused");
            assert!(reader.is_terminated());
        });
    }

    #[test]
    fn text_mode_reports_invalid_utf8_once_and_goes_on() {
        let data = b"ok\nbad \xff here\n\xc3\xa9t\xc3\xa9\n";
        futures::executor::block_on(async {
            let mut reader = LineReader::new(Scripted::new(data, 9));
            assert_eq!(reader.next_str().await.unwrap().unwrap(), "ok");
            let e = reader.next_str().await.unwrap().unwrap_err();
            assert!(matches!(
                e.kind(),
                LineErrorKind::InvalidUtf8 { valid_up_to: 4 }
            ));
            assert_eq!((e.line(), e.offset()), (2, 7));
            assert_eq!(reader.next_str().await.unwrap().unwrap(), "été");
            assert!(reader.next_str().await.is_none());
            assert_eq!(reader.line_count(), 3);

            let mut lossy = LineReader::new(Scripted::new(data, 9)).lossy(true);
            lossy.next_str().await;
            assert_eq!(
                lossy.next_str().await.unwrap().unwrap(),
                "bad \u{fffd} here"
            );

            // Bytes mode never fails on content.
            let mut bytes = LineReader::new(Scripted::new(data, 9));
            let mut n = 0;
            while let Some(line) = bytes.next_line().await {
                line.unwrap();
                n += 1;
            }
            assert_eq!(n, 3);
        });
    }

    #[test]
    fn the_stream_checks_or_repairs_utf8_when_asked() {
        let data = b"a\n\xfe\n";
        futures::executor::block_on(async {
            use futures::StreamExt;
            let got: Vec<_> = Lines::new(Scripted::new(data, 3)).collect().await;
            assert!(got.iter().all(|l| l.is_ok()), "bytes mode");
            let got: Vec<_> = Lines::new(Scripted::new(data, 3))
                .text(true)
                .collect()
                .await;
            assert!(got[1].is_err());
            let got: Vec<_> = Lines::new(Scripted::new(data, 3))
                .lossy(true)
                .collect()
                .await;
            let fixed = got[1].as_ref().unwrap();
            assert_eq!(
                (fixed.to_str(), fixed.number(), fixed.offset()),
                (Ok("\u{fffd}"), 2, 2)
            );
            // `lossy(false)` only turns repair off: it does not turn checking on.
            let bytes = Lines::new(Scripted::new(data, 3)).lossy(false);
            assert_eq!(bytes.options().utf8, crate::lines::Utf8::Bytes);
            let got: Vec<_> = bytes.collect().await;
            assert!(got.iter().all(|l| l.is_ok()));
            let checked = Lines::new(Scripted::new(data, 3)).lossy(true).lossy(false);
            assert_eq!(checked.options().utf8, crate::lines::Utf8::Checked);
        });
    }
}
