//! [`Lines`]: a `Stream` of owned lines.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::path::PathBuf;

use futures_core::{FusedStream, Stream};

use super::error::LineError;
use super::options::{LineOptions, Utf8};
use super::pump::{Pump, Reads, SharedBuf};
use super::reader::text;
use super::shared_line::SharedLine;
use super::source::{AsyncReadSource, FileSource, MemorySource, Source, Stdin};
use crate::rt::{Blocking, Fs};

/// A `Stream` of owned lines ([`SharedLine`]), for `merge` and the rest
/// of the ecosystem.
///
/// Reads like [`LineReader`](super::LineReader) (large chunks, one read
/// in flight, same endings, limits and errors); each line is a shared
/// slice of its chunk, so there is no allocation or copy per line: one
/// `Arc` per chunk read, plus a fresh buffer when lines of the chunk
/// being replaced are still held.
///
/// Bytes mode by default (never fails on content); [`text`](Self::text)
/// checks UTF-8, [`lossy`](Self::lossy) repairs it.
///
/// The stream ends (`None`, for good) when the source ends and every line
/// was yielded, or after an I/O error.
///
/// # Errors
/// Items are `Err(`[`LineError`]`)` naming path, line number and byte
/// offset: a line too long (skipped, the stream goes on), invalid UTF-8
/// in text mode (skipped, goes on), an I/O error (the stream then ends).
///
/// # Cancel safety
/// Dropping a `next` future on it loses nothing: bytes and the read in
/// flight are kept in the stream.
///
/// # Examples
/// ```
/// use aiter_core::lines::{Lines, Source};
/// use aiter_core::next;
/// # use core::{pin::Pin, task::{Context, Poll}};
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
/// // With a runtime: `Lines::open(aiter::smol::Smol, "app.log")`.
/// let mut lines = Lines::new(Bytes(b"a\nb\xff\nc\n", None, 0)).text(true);
/// assert_eq!(next(&mut lines).await.unwrap().unwrap().to_str(), Ok("a"));
/// let bad = next(&mut lines).await.unwrap().unwrap_err();
/// assert_eq!((bad.line(), bad.offset()), (2, 3));
/// assert_eq!(&*next(&mut lines).await.unwrap().unwrap(), b"c");
/// assert!(next(&mut lines).await.is_none());
/// # });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Lines<S> {
    /// Boxed so the stream is `Unpin` whatever the source's futures are.
    source: Pin<Box<S>>,
    pump: Pump<SharedBuf>,
    options: LineOptions,
}

impl<S: Source> Lines<S> {
    /// A stream of the lines of `source`. Nothing is read (or opened) until
    /// the first poll.
    pub fn new(source: S) -> Self {
        let options = LineOptions::default();
        Lines {
            source: Box::pin(source),
            pump: Pump::new(&options),
            options,
        }
    }

    /// Bytes per read (default 1 MiB, the first read at most 64 KiB; at least 1).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.options.chunk_size = bytes;
        self.pump.set_options(&self.options);
        self
    }

    /// The maximum line length in bytes, without the ending (default
    /// 8 MiB); `None` for no limit.
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

    /// What to do about UTF-8: bytes (the default), checked (an invalid
    /// line is an error item) or lossily repaired.
    pub fn utf8(mut self, utf8: Utf8) -> Self {
        self.options.utf8 = utf8;
        self
    }

    /// Shorthand: `true` is [`Utf8::Checked`], `false` [`Utf8::Bytes`].
    pub fn text(self, text: bool) -> Self {
        self.utf8(if text { Utf8::Checked } else { Utf8::Bytes })
    }

    /// Shorthand: `true` is [`Utf8::Lossy`]; `false` turns lossy repair off
    /// (back to [`Utf8::Checked`]) and leaves any other mode as it is.
    pub fn lossy(self, lossy: bool) -> Self {
        let utf8 = match (lossy, self.options.utf8) {
            (true, _) => Utf8::Lossy,
            (false, Utf8::Lossy) => Utf8::Checked,
            (false, other) => other,
        };
        self.utf8(utf8)
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

    /// The source.
    pub fn source(&self) -> &S {
        self.source.as_ref().get_ref()
    }
}

impl<R: Fs> Lines<FileSource<R>> {
    /// The lines of the file at `path`, opened with `rt` on the first poll.
    pub fn open(rt: R, path: impl Into<PathBuf>) -> Self {
        Lines::new(FileSource::new(rt, path))
    }
}

impl<R: futures_io::AsyncRead + Unpin> Lines<AsyncReadSource<R>> {
    /// A stream of the lines of any [`futures_io::AsyncRead`]: a socket, a child
    /// process's output, a pipe, a decompressor, smol's or async-std's
    /// files. Each byte goes straight from `reader` into this reader's
    /// buffer. Errors name no path. For tokio's `AsyncRead`, use
    /// `aiter::tokio::lines_from`.
    pub fn from_async_read(reader: R) -> Self {
        Lines::new(AsyncReadSource::new(reader))
    }
}

impl<T: AsRef<[u8]>> Lines<MemorySource<T>> {
    /// A stream of the lines of bytes in memory (a `Vec<u8>`, a `&'static [u8]`, a
    /// `String`, …).
    pub fn from_bytes(data: T) -> Self {
        Lines::new(MemorySource::new(data))
    }
}

impl<R: Blocking> Lines<Stdin<R>> {
    /// The lines of standard input, read on `rt`'s blocking pool.
    pub fn stdin(rt: R) -> Self {
        Lines::new(Stdin::new(rt))
    }
}

impl<S: Source> Stream for Lines<S> {
    type Item = Result<SharedLine, LineError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let pump = &mut this.pump;
        let item = core::task::ready!(pump.poll_span(this.source.as_mut(), cx));
        let Some(item) = item else {
            return Poll::Ready(None);
        };
        let result = item.and_then(|span| {
            let line = SharedLine::new(&pump.splitter.buffer().0, span);
            check_utf8(
                line,
                this.options.utf8,
                this.source.as_ref().get_ref().path(),
            )
        });
        Poll::Ready(Some(result))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.pump.reads == Reads::Done {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

/// Checks (or repairs) an owned line as `utf8` says.
pub(crate) fn check_utf8(
    line: SharedLine,
    utf8: Utf8,
    path: Option<&alloc::sync::Arc<std::path::Path>>,
) -> Result<SharedLine, LineError> {
    if utf8 == Utf8::Bytes {
        return Ok(line);
    }
    match text(&line_ref(&line), utf8 == Utf8::Lossy, path) {
        Ok(alloc::borrow::Cow::Borrowed(_)) => Ok(line),
        Ok(alloc::borrow::Cow::Owned(repaired)) => {
            Ok(line.with_bytes(String::into_bytes(repaired)))
        }
        Err(e) => Err(e),
    }
}

/// A borrowed view of a shared line, for the UTF-8 check.
fn line_ref(line: &SharedLine) -> super::splitter::Line<'_> {
    super::splitter::Line::from_parts(line.as_bytes(), line.meta())
}

impl<S: Source> FusedStream for Lines<S> {
    fn is_terminated(&self) -> bool {
        self.pump.reads == Reads::Done
    }
}

impl<S: fmt::Debug> fmt::Debug for Lines<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("source", &self.source)
            .field("splitter", &self.pump.splitter)
            .field("reads", &self.pump.reads)
            .finish_non_exhaustive()
    }
}
