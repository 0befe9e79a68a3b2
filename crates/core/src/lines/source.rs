//! Where a reader's bytes come from: the [`Source`] trait, files and stdin.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::path::{Path, PathBuf};

use pin_project_lite::pin_project;

use crate::rt::{Blocking, File, Fs};

/// An async byte source that reads into buffers it is handed, one read at
/// a time: what a [`LineReader`](super::LineReader) and
/// [`Lines`](super::Lines) read from.
///
/// The buffer moves into the source for the duration of a read, so a read
/// can run on another thread (a blocking pool) without copying, and it stays
/// in flight while the reader hands out lines from its other buffer.
///
/// Protocol: the reader calls [`start_read`](Source::start_read) only when no
/// read is in flight, then [`poll_read`](Source::poll_read) until it is
/// `Ready` with the number of bytes written into `buf[start..]` (`Ok(0)`
/// means the end of the input; `buf[start..]` is never empty) and the
/// buffer. Both take the source pinned, so it can hold the read's future
/// without boxing.
///
/// Implemented here by [`FileSource`] (a file opened on first read, read at
/// a tracked offset through a runtime's [`Fs`], or in order when it is not
/// a regular file), [`Stdin`], [`AsyncReadSource`] (any
/// `futures_io::AsyncRead`) and [`MemorySource`] (bytes in memory). Every
/// one writes each byte straight into the reader's buffer: there is no
/// intermediate buffer to copy from.
pub trait Source {
    /// Starts reading into `buf[start..]`.
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize);

    /// Polls the read in flight; registers `cx`'s waker when `Pending`.
    ///
    /// # Panics
    /// May panic if no read was started.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)>;

    /// The path to name in errors, if any.
    fn path(&self) -> Option<&Arc<Path>> {
        None
    }

    /// Whether a started read does nothing until it is polled, as with an
    /// `AsyncRead` (tokio's, async-std's and smol's files start their
    /// blocking read on the first `poll_read`). The reader then polls each
    /// read once as soon as it starts it, so that reading and handing out
    /// lines overlap. Default `false`: the read runs from
    /// [`start_read`](Source::start_read) on (a job on a blocking pool),
    /// or the source schedules its work itself.
    fn polls_to_start(&self) -> bool {
        false
    }
}

pin_project! {
    /// A file read in chunks through a runtime's [`Fs`]: opened by the first
    /// read (never by the constructor), then read with positional reads at
    /// an offset it tracks. A path that is not a regular file (a FIFO,
    /// `/dev/stdin` or `/dev/fd/N` on a pipe, a character device) is read
    /// in order instead, like `cat` reads it ([`Fs::read`]).
    #[must_use = "a source does nothing unless read"]
    pub struct FileSource<R: Fs> {
        rt: R,
        path: Arc<Path>,
        file: Option<File>,
        offset: u64,
        #[pin]
        op: FileOp<R::Open, R::Read>,
    }
}

pin_project! {
    /// The operation in flight.
    #[project = FileOpProj]
    enum FileOp<O, Rd> {
        Idle,
        Opening { #[pin] open: O, buf: Vec<u8>, start: usize },
        Reading { #[pin] read: Rd },
    }
}

impl<R: Fs> FileSource<R> {
    /// A source reading `path` with `rt`, opened on first read.
    pub fn new(rt: R, path: impl Into<PathBuf>) -> Self {
        FileSource {
            rt,
            path: path.into().into(),
            file: None,
            offset: 0,
            op: FileOp::Idle,
        }
    }

    /// The file's path.
    pub fn file_path(&self) -> &Path {
        &self.path
    }

    /// The offset of the next read.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl<R: Fs> Source for FileSource<R> {
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
        let mut this = self.project();
        match this.file {
            Some(file) => {
                let read = read(this.rt, file, *this.offset, buf, start);
                this.op.set(FileOp::Reading { read });
            }
            None => {
                let open = this.rt.open(this.path.to_path_buf());
                this.op.set(FileOp::Opening { open, buf, start });
            }
        }
    }

    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)> {
        let mut this = self.project();
        loop {
            match this.op.as_mut().project() {
                FileOpProj::Opening { open, buf, start } => match core::task::ready!(open.poll(cx))
                {
                    Ok(file) => {
                        let buf = core::mem::take(buf);
                        let read = read(this.rt, &file, *this.offset, buf, *start);
                        *this.file = Some(file);
                        this.op.set(FileOp::Reading { read });
                    }
                    Err(e) => {
                        let buf = core::mem::take(buf);
                        this.op.set(FileOp::Idle);
                        return Poll::Ready((Err(e.into_io_error()), buf));
                    }
                },
                FileOpProj::Reading { read } => {
                    let (result, buf) = core::task::ready!(read.poll(cx));
                    this.op.set(FileOp::Idle);
                    if let Ok(n) = result {
                        *this.offset += n as u64;
                    }
                    return Poll::Ready((result.map_err(|e| e.into_io_error()), buf));
                }
                FileOpProj::Idle => panic!("`FileSource::poll_read` without a read started"),
            }
        }
    }

    fn path(&self) -> Option<&Arc<Path>> {
        Some(&self.path)
    }
}

/// A positional read of a regular file, an in-order read of anything else.
pub(crate) fn read<R: Fs>(rt: &R, file: &File, offset: u64, buf: Vec<u8>, start: usize) -> R::Read {
    if file.is_regular() {
        rt.read_at(file, offset, buf, start)
    } else {
        rt.read(file, buf, start)
    }
}

impl<R: Fs> fmt::Debug for FileSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("open", &self.file.is_some())
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// The task reading stdin.
type StdinRead = (io::Result<usize>, Vec<u8>);

pin_project! {
    /// The process's standard input, read on a runtime's blocking pool.
    ///
    /// Named `-` in errors. Dropping it while a read is in flight leaves
    /// that read running: the bytes it gets are lost.
    #[must_use = "a source does nothing unless read"]
    pub struct Stdin<R: Blocking> {
        rt: R,
        path: Arc<Path>,
        #[pin]
        task: Option<R::Task<StdinRead>>,
    }
}

impl<R: Blocking> Stdin<R> {
    /// Standard input, read with `rt`'s blocking pool.
    pub fn new(rt: R) -> Self {
        Stdin {
            rt,
            path: Path::new("-").into(),
            task: None,
        }
    }
}

impl<R: Blocking> Source for Stdin<R> {
    fn start_read(self: Pin<&mut Self>, mut buf: Vec<u8>, start: usize) {
        let mut this = self.project();
        let task = this.rt.unblock(move || {
            use std::io::Read;
            let mut stdin = std::io::stdin().lock();
            let result = loop {
                match stdin.read(&mut buf[start..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            (result, buf)
        });
        this.task.set(Some(task));
    }

    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)> {
        let mut this = self.project();
        let task = this
            .task
            .as_mut()
            .as_pin_mut()
            .expect("`Stdin::poll_read` without a read started");
        let out = core::task::ready!(task.poll(cx));
        this.task.set(None);
        Poll::Ready(out)
    }

    fn path(&self) -> Option<&Arc<Path>> {
        Some(&self.path)
    }
}

impl<R: Blocking> fmt::Debug for Stdin<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin")
            .field("reading", &self.task.is_some())
            .finish_non_exhaustive()
    }
}

/// Any [`futures_io::AsyncRead`] as a [`Source`]: sockets, child processes,
/// pipes, decompressors (async-compression), smol's and async-std's files.
///
/// Each read goes straight into the reader's buffer (no intermediate
/// buffer, so no extra copy); `Interrupted` errors are retried. A read in
/// flight is only a borrowed buffer: it progresses when the reader is
/// polled. For tokio's `AsyncRead`, use the tokio adapter's
/// `line_reader_from` / `lines_from`.
#[must_use = "a source does nothing unless read"]
pub struct AsyncReadSource<R> {
    reader: R,
    read: Option<(Vec<u8>, usize)>,
}

impl<R> AsyncReadSource<R> {
    /// A source reading `reader`.
    pub fn new(reader: R) -> Self {
        AsyncReadSource { reader, read: None }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably (reading from it directly skips the lines
    /// reader's buffer: bytes already buffered stay there).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

impl<R: futures_io::AsyncRead + Unpin> Source for AsyncReadSource<R> {
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
        self.get_mut().read = Some((buf, start));
    }

    fn polls_to_start(&self) -> bool {
        true
    }

    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)> {
        let this = self.get_mut();
        let (buf, start) = this
            .read
            .as_mut()
            .expect("`AsyncReadSource::poll_read` without a read started");
        let dst = buf.get_mut(*start..).unwrap_or_default();
        let result = loop {
            match Pin::new(&mut this.reader).poll_read(cx, dst) {
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(result) => break result,
                Poll::Pending => return Poll::Pending,
            }
        };
        let (buf, _) = this.read.take().expect("checked above");
        Poll::Ready((result, buf))
    }
}

impl<R> fmt::Debug for AsyncReadSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncReadSource")
            .field("reading", &self.read.is_some())
            .finish_non_exhaustive()
    }
}

/// Bytes in memory as a [`Source`] (a `Vec<u8>`, `&'static [u8]`, `String`,
/// …): each read copies the next piece into the reader's buffer, once.
#[must_use = "a source does nothing unless read"]
pub struct MemorySource<T> {
    data: T,
    pos: usize,
    read: Option<(Vec<u8>, usize)>,
}

impl<T: AsRef<[u8]>> MemorySource<T> {
    /// A source reading `data` from its start.
    pub fn new(data: T) -> Self {
        MemorySource {
            data,
            pos: 0,
            read: None,
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.as_ref().len() - self.pos
    }
}

impl<T: AsRef<[u8]>> Source for MemorySource<T> {
    fn start_read(self: Pin<&mut Self>, buf: Vec<u8>, start: usize) {
        let this = self.get_mut();
        this.read = Some((buf, start));
    }

    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(io::Result<usize>, Vec<u8>)> {
        let this = self.get_mut();
        let (mut buf, start) = this
            .read
            .take()
            .expect("`MemorySource::poll_read` without a read started");
        let data = &this.data.as_ref()[this.pos..];
        let dst = buf.get_mut(start..).unwrap_or_default();
        let n = data.len().min(dst.len());
        dst[..n].copy_from_slice(&data[..n]);
        this.pos += n;
        Poll::Ready((Ok(n), buf))
    }
}

// It never pins `data`.
impl<T> Unpin for MemorySource<T> {}

impl<T> fmt::Debug for MemorySource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySource")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}
