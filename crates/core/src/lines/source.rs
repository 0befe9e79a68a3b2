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
/// a tracked offset through a runtime's [`Fs`]) and [`Stdin`].
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
}

pin_project! {
    /// A file read in chunks through a runtime's [`Fs`]: opened by the first
    /// read (never by the constructor), then read with positional reads at
    /// an offset it tracks.
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
                let read = this.rt.read_at(file, *this.offset, buf, start);
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
                        let read = this.rt.read_at(&file, *this.offset, buf, *start);
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
