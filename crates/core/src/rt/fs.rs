//! File access: the [`Fs`] trait a runtime implements, and the `std`-file
//! implementation a [`Blocking`] runtime opts into with [`StdFs`].

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use super::Blocking;

/// File access for chunked reading, as a runtime supplies it.
///
/// A runtime either opts into the implementation written once here, with
/// one line, `impl StdFs for MyRuntime {}` (see [`StdFs`]: `std::fs` calls
/// in the runtime's [`Blocking`] pool, reading straight into the caller's
/// buffer), or implements `Fs` its own way: an in-memory file system for
/// tests, a runtime with its own asynchronous file I/O. Such an
/// implementation opens [`File`]s with [`File::new`] around a handle of its
/// own and finds that handle again with [`File::handle`].
///
/// Each future owns what it needs, so a read can stay in flight while the
/// caller works on another buffer.
///
/// # Examples
/// A file system of byte strings in memory, with no blocking pool at all:
/// ```
/// use core::future::{ready, Ready};
/// use std::collections::HashMap;
/// use std::io;
/// use std::path::PathBuf;
/// use std::sync::Arc;
/// use aiter_core::lines::LineReader;
/// use aiter_core::rt::{File, FileMeta, Fs, FsError};
///
/// #[derive(Clone, Default)]
/// struct Memory(Arc<HashMap<PathBuf, Arc<[u8]>>>);
///
/// impl Fs for Memory {
///     type Open = Ready<Result<File, FsError>>;
///     type Read = Ready<(Result<usize, FsError>, Vec<u8>)>;
///     type Metadata = Ready<Result<FileMeta, FsError>>;
///
///     fn open(&self, path: PathBuf) -> Self::Open {
///         ready(match self.0.get(&path) {
///             Some(bytes) => Ok(File::new(path, true, bytes.clone())),
///             None => Err(FsError::new(path, None, io::ErrorKind::NotFound.into())),
///         })
///     }
///     fn read_at(&self, file: &File, offset: u64, mut buf: Vec<u8>, start: usize) -> Self::Read {
///         let bytes = file.handle::<Arc<[u8]>>().expect("opened here");
///         let rest = bytes.get(offset as usize..).unwrap_or_default();
///         let n = rest.len().min(buf.len() - start);
///         buf[start..start + n].copy_from_slice(&rest[..n]);
///         ready((Ok(n), buf))
///     }
///     fn read(&self, file: &File, buf: Vec<u8>, start: usize) -> Self::Read {
///         self.read_at(file, 0, buf, start)
///     }
///     fn metadata(&self, file: &File) -> Self::Metadata {
///         let len = file.handle::<Arc<[u8]>>().map_or(0, |b| b.len() as u64);
///         ready(Ok(FileMeta { len, id: None, is_dir: false }))
///     }
///     fn path_metadata(&self, path: PathBuf) -> Self::Metadata {
///         let open = self.open(path).into_inner();
///         ready(open.and_then(|file| self.metadata(&file).into_inner()))
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let files = HashMap::from([(PathBuf::from("a.log"), Arc::from(&b"one\ntwo\n"[..]))]);
/// let mut reader = LineReader::open(Memory(Arc::new(files)), "a.log");
/// assert_eq!(reader.next_line().await.unwrap().unwrap().as_bytes(), b"one");
/// assert_eq!(reader.next_line().await.unwrap().unwrap().as_bytes(), b"two");
/// assert!(reader.next_line().await.is_none());
/// # });
/// ```
pub trait Fs {
    /// Future of [`open`](Fs::open).
    type Open: Future<Output = Result<File, FsError>>;
    /// Future of [`read_at`](Fs::read_at).
    type Read: Future<Output = (Result<usize, FsError>, Vec<u8>)>;
    /// Future of [`metadata`](Fs::metadata) and [`path_metadata`](Fs::path_metadata).
    type Metadata: Future<Output = Result<FileMeta, FsError>>;

    /// Opens `path` for reading.
    ///
    /// # Errors
    /// A [`FsError`] naming the path: not found, permission denied, or
    /// [`io::ErrorKind::IsADirectory`] for a directory (which `std` would open).
    fn open(&self, path: PathBuf) -> Self::Open;

    /// Reads from `file` at byte `offset` into `buf[start..]`, resolving to
    /// the number of bytes read (0 at the end of the file) and the buffer.
    ///
    /// # Errors
    /// A [`FsError`] naming the path and the offset. An empty `buf[start..]`
    /// is an [`io::ErrorKind::InvalidInput`] error, so `Ok(0)` always means
    /// end of file.
    fn read_at(&self, file: &File, offset: u64, buf: Vec<u8>, start: usize) -> Self::Read;

    /// Reads from `file` at its current position into `buf[start..]`, for
    /// files that are not regular ([`File::is_regular`]): pipes, FIFOs,
    /// terminals, character devices, read in order like `cat` does.
    /// Resolves like [`read_at`](Fs::read_at); reads of one file must not
    /// overlap.
    ///
    /// # Errors
    /// As [`read_at`](Fs::read_at) (the error names no offset).
    fn read(&self, file: &File, buf: Vec<u8>, start: usize) -> Self::Read;

    /// The current length and identity of an open file.
    fn metadata(&self, file: &File) -> Self::Metadata;

    /// The current length and identity of whatever `path` names now
    /// (following symbolic links), for noticing rotation.
    fn path_metadata(&self, path: PathBuf) -> Self::Metadata;
}

/// Opts a [`Blocking`] runtime into the `std`-file [`Fs`], written once
/// here: `impl StdFs for MyRuntime {}`.
///
/// Every operation is one `std::fs` call (or one positional read) in the
/// runtime's blocking pool, one hop per call, reading straight into the
/// caller's buffer (no intermediate copy, unlike `tokio::fs::File`). Its
/// files are [`File`]s around a `std::fs::File`; a [`File`] opened by
/// another [`Fs`] is refused with an [`io::ErrorKind::InvalidInput`] error.
///
/// A runtime that does not opt in implements [`Fs`] itself.
///
/// # Examples
/// ```
/// use core::future::{ready, Ready};
/// use aiter_core::rt::{Blocking, StdFs};
///
/// /// Runs blocking work inline (a test runtime).
/// struct Inline;
/// impl Blocking for Inline {
///     type Task<T: Send + 'static> = Ready<T>;
///     fn unblock<F, T>(&self, f: F) -> Ready<T>
///     where
///         F: FnOnce() -> T + Send + 'static,
///         T: Send + 'static,
///     {
///         ready(f())
///     }
/// }
/// impl StdFs for Inline {}
///
/// let reader = aiter_core::lines::LineReader::open(Inline, "app.log");
/// # drop(reader);
/// ```
pub trait StdFs: Blocking {}

impl<R: StdFs + ?Sized> StdFs for &R {}

/// An open file, cheap to clone (shared), remembering its path.
///
/// The [`StdFs`] implementation keeps a `std::fs::File` in it; a runtime
/// with its own [`Fs`] keeps whatever handle it needs ([`File::new`]).
#[derive(Clone)]
pub struct File {
    handle: Arc<dyn Any + Send + Sync>,
    path: Arc<Path>,
    regular: bool,
}

impl File {
    /// A file opened by a runtime's own [`Fs`]: its `path`, whether it is
    /// `regular` (read with [`Fs::read_at`] and followed by length; otherwise
    /// read in order with [`Fs::read`]) and the runtime's `handle` for it.
    pub fn new<H: Any + Send + Sync>(path: impl Into<Arc<Path>>, regular: bool, handle: H) -> Self {
        File {
            handle: Arc::new(handle),
            path: path.into(),
            regular,
        }
    }

    /// The handle the file was made with, if it is an `H`: the runtime's
    /// own (see [`File::new`]), or a `std::fs::File` for a file opened by
    /// the [`StdFs`] implementation.
    pub fn handle<H: Any>(&self) -> Option<&H> {
        (*self.handle).downcast_ref()
    }

    /// Whether it is a regular file (read with positional reads, and
    /// followed by length); otherwise (a FIFO, `/dev/stdin` on a pipe, a
    /// character device) it is read in order with [`Fs::read`].
    pub fn is_regular(&self) -> bool {
        self.regular
    }

    /// The `std` file, for a file opened by the [`StdFs`] implementation.
    pub(crate) fn std_file(&self) -> Option<&std::fs::File> {
        self.handle()
    }

    /// The `std` file, or the error for a file another [`Fs`] opened.
    fn std_or_err(&self, offset: Option<u64>) -> Result<&std::fs::File, FsError> {
        self.std_file().ok_or_else(|| {
            FsError::new(
                self.path.clone(),
                offset,
                io::Error::new(io::ErrorKind::InvalidInput, "not a file of this runtime"),
            )
        })
    }

    /// The path the file was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path, shared.
    pub fn shared_path(&self) -> Arc<Path> {
        self.path.clone()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("regular", &self.regular)
            .finish()
    }
}

/// A file's identity: device and inode on Unix.
///
/// Two opens of the same path name the same file exactly when their ids are
/// equal; a changed id means the path was rotated to a new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    /// Device number (0 where the platform has none).
    pub dev: u64,
    /// Inode number (0 where the platform has none).
    pub ino: u64,
}

/// What a follower needs to know about a file right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// Current length in bytes.
    pub len: u64,
    /// Identity, where the platform has one (`None` elsewhere).
    pub id: Option<FileId>,
    /// Whether it is a directory.
    pub is_dir: bool,
}

impl FileMeta {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            Some(FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        };
        #[cfg(not(unix))]
        let id = None;
        FileMeta {
            len: meta.len(),
            id,
            is_dir: meta.is_dir(),
        }
    }
}

/// A file operation failed: the path, the byte offset (for reads) and the
/// cause, an [`io::Error`] given by [`source`](core::error::Error::source)
/// (and [`io_error`](FsError::io_error)), not repeated in the message.
#[derive(Debug)]
pub struct FsError {
    path: Arc<Path>,
    offset: Option<u64>,
    source: io::Error,
}

impl FsError {
    /// A new error about `path`.
    pub fn new(path: impl Into<Arc<Path>>, offset: Option<u64>, source: io::Error) -> Self {
        FsError {
            path: path.into(),
            offset,
            source,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The byte offset of a failed read.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The kind of the underlying I/O error.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }

    /// Gives back the underlying I/O error.
    pub fn into_io_error(self) -> io::Error {
        self.source
    }
}

/// `PATH` or `PATH (byte offset N)`: what failed is the underlying I/O
/// error, the [`source`](core::error::Error::source), which the message
/// leaves out (a reporter printing the chain shows it once).
impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(offset) = self.offset {
            write!(f, " (byte offset {offset})")?;
        }
        Ok(())
    }
}

impl core::error::Error for FsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<FsError> for io::Error {
    fn from(e: FsError) -> io::Error {
        let kind = e.kind();
        io::Error::new(kind, e)
    }
}

fn open_blocking(path: PathBuf) -> Result<File, FsError> {
    let path: Arc<Path> = path.into();
    let fail = |e| FsError::new(path.clone(), None, e);
    let file = std::fs::File::open(&path).map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
    if meta.is_dir() {
        return Err(fail(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    Ok(File::new(path, meta.is_file(), file))
}

/// Reads at the file's position, retrying on `Interrupted`.
fn read_blocking(file: &std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    if buf.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "read into an empty buffer",
        ));
    }
    let mut file = file;
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

pub(crate) fn read_at_blocking(
    file: &std::fs::File,
    offset: u64,
    buf: &mut [u8],
) -> io::Result<usize> {
    if buf.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "read_at into an empty buffer",
        ));
    }
    loop {
        #[cfg(unix)]
        let result = std::os::unix::fs::FileExt::read_at(file, buf, offset);
        #[cfg(windows)]
        let result = std::os::windows::fs::FileExt::seek_read(file, buf, offset);
        #[cfg(not(any(unix, windows)))]
        let result = {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = file;
            f.seek(SeekFrom::Start(offset)).and_then(|_| f.read(buf))
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// What a [`scan_at`] job gives back: the bytes scanned (or the error that
/// stopped it), the buffer and the scan's state.
pub type Scanned<S> = (Result<u64, FsError>, Vec<u8>, S);

/// Reads `len` bytes of `file` from byte `offset` (fewer only at the end
/// of the file) through `buf`, one `buf`-full at a time, and hands each
/// piece to `scan` with `state`, all in one job on the blocking pool.
///
/// For whole-file passes that need no line handed out (counting lines,
/// checksums): each byte is touched by the core that just copied it out of
/// the page cache, while it is still in that core's cache, and one pool hop
/// covers `len` bytes. Keep `buf` small (cache-sized, e.g. 128 KiB) and
/// `len` moderate (a few MiB): dropping the returned future cannot stop a
/// job that has started, so `len` bounds the work done after cancellation.
/// Resolves to the number of bytes scanned (less than `len` only at the end
/// of the file), the buffer and the state.
///
/// # Errors
/// A [`FsError`] naming the path and the offset of the failed read; the
/// state has then seen every byte before that offset.
pub fn scan_at<R, S, F>(
    rt: &R,
    file: &File,
    offset: u64,
    len: u64,
    mut buf: Vec<u8>,
    mut state: S,
    scan: F,
) -> R::Task<Scanned<S>>
where
    R: Blocking + ?Sized,
    S: Send + 'static,
    F: Fn(&mut S, &[u8]) + Send + 'static,
{
    let file = file.clone();
    rt.unblock(move || {
        // The kernel's copy into a destination that is not cache-line
        // aligned (a large `Vec` from glibc's `mmap` path starts 16 bytes
        // into a page) measured 3x slower here (system time of a 256 MiB
        // count: 200 ms against 60 ms): read into the aligned part of a
        // large buffer.
        let skew = if buf.len() >= 4096 {
            buf.as_ptr().align_offset(64).min(buf.len())
        } else {
            0
        };
        let piece = buf.len() - skew;
        let std = match file.std_or_err(Some(offset)) {
            Ok(std) => std,
            Err(e) => return (Err(e), buf, state),
        };
        let mut done = 0u64;
        while done < len && piece > 0 {
            let at = offset + done;
            let want = usize::try_from(len - done).map_or(piece, |rest| rest.min(piece));
            let dst = &mut buf[skew..skew + want];
            match read_at_blocking(std, at, dst) {
                Ok(0) => break,
                Ok(n) => {
                    scan(&mut state, &dst[..n]);
                    done += n as u64;
                }
                Err(e) => {
                    return (
                        Err(FsError::new(file.path.clone(), Some(at), e)),
                        buf,
                        state,
                    )
                }
            }
        }
        (Ok(done), buf, state)
    })
}

impl<B: StdFs + ?Sized> Fs for B {
    type Open = B::Task<Result<File, FsError>>;
    type Read = B::Task<(Result<usize, FsError>, Vec<u8>)>;
    type Metadata = B::Task<Result<FileMeta, FsError>>;

    fn open(&self, path: PathBuf) -> Self::Open {
        self.unblock(move || open_blocking(path))
    }

    fn read_at(&self, file: &File, offset: u64, mut buf: Vec<u8>, start: usize) -> Self::Read {
        let file = file.clone();
        self.unblock(move || {
            let dst = buf.get_mut(start..).unwrap_or_default();
            let result = file.std_or_err(Some(offset)).and_then(|std| {
                read_at_blocking(std, offset, dst)
                    .map_err(|e| FsError::new(file.path.clone(), Some(offset), e))
            });
            (result, buf)
        })
    }

    fn read(&self, file: &File, mut buf: Vec<u8>, start: usize) -> Self::Read {
        let file = file.clone();
        self.unblock(move || {
            let dst = buf.get_mut(start..).unwrap_or_default();
            let result = file.std_or_err(None).and_then(|std| {
                read_blocking(std, dst).map_err(|e| FsError::new(file.path.clone(), None, e))
            });
            (result, buf)
        })
    }

    fn metadata(&self, file: &File) -> Self::Metadata {
        let file = file.clone();
        self.unblock(move || {
            file.std_or_err(None)?
                .metadata()
                .map(|m| FileMeta::of(&m))
                .map_err(|e| FsError::new(file.path.clone(), None, e))
        })
    }

    fn path_metadata(&self, path: PathBuf) -> Self::Metadata {
        self.unblock(move || {
            std::fs::metadata(&path)
                .map(|m| FileMeta::of(&m))
                .map_err(|e| FsError::new(path, None, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Inline;
    use futures::executor::block_on;
    use std::io::Write;

    /// Resolves to its value after one `Pending` (waking at once), as a
    /// truly asynchronous file system would.
    struct Later<T>(Option<T>, bool);
    impl<T: Unpin> Future for Later<T> {
        type Output = T;
        fn poll(
            mut self: core::pin::Pin<&mut Self>,
            cx: &mut core::task::Context<'_>,
        ) -> core::task::Poll<T> {
            if core::mem::replace(&mut self.1, true) {
                core::task::Poll::Ready(self.0.take().expect("polled after completion"))
            } else {
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
        }
    }
    fn later<T>(value: T) -> Later<T> {
        Later(Some(value), false)
    }

    /// A runtime whose own `Fs` serves files from memory: not `StdFs`, no
    /// `std::fs::File` anywhere. Its blocking pool (which `Follow` needs)
    /// counts its jobs, so tests can show file access never uses it.
    #[derive(Clone, Default)]
    struct Memory {
        files: Arc<std::collections::HashMap<PathBuf, Arc<[u8]>>>,
        reads: Arc<core::sync::atomic::AtomicUsize>,
        unblocks: Arc<core::sync::atomic::AtomicUsize>,
    }

    impl Blocking for Memory {
        type Task<T: Send + 'static> = core::future::Ready<T>;
        fn unblock<F, T>(&self, f: F) -> Self::Task<T>
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            self.unblocks
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            core::future::ready(f())
        }
    }

    /// A clock that never moves and sleeps that end at once.
    impl crate::rt::Timer for Memory {
        type Sleep = core::future::Ready<()>;
        fn sleep(&self, _: core::time::Duration) -> Self::Sleep {
            core::future::ready(())
        }
        fn now(&self) -> core::time::Duration {
            core::time::Duration::ZERO
        }
    }

    impl Memory {
        fn with(files: &[(&str, &[u8])]) -> Self {
            let files = files
                .iter()
                .map(|(path, bytes)| (PathBuf::from(path), Arc::from(*bytes)))
                .collect();
            Memory {
                files: Arc::new(files),
                ..Memory::default()
            }
        }

        fn bytes(&self, file: &File) -> Result<Arc<[u8]>, FsError> {
            file.handle::<Arc<[u8]>>().cloned().ok_or_else(|| {
                FsError::new(file.shared_path(), None, io::ErrorKind::InvalidInput.into())
            })
        }
    }

    impl Fs for Memory {
        type Open = Later<Result<File, FsError>>;
        type Read = Later<(Result<usize, FsError>, Vec<u8>)>;
        type Metadata = Later<Result<FileMeta, FsError>>;

        fn open(&self, path: PathBuf) -> Self::Open {
            later(match self.files.get(&path) {
                Some(bytes) => Ok(File::new(path, true, bytes.clone())),
                None => Err(FsError::new(path, None, io::ErrorKind::NotFound.into())),
            })
        }

        fn read_at(&self, file: &File, offset: u64, mut buf: Vec<u8>, start: usize) -> Self::Read {
            self.reads
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            let result = self.bytes(file).map(|bytes| {
                let rest = usize::try_from(offset)
                    .ok()
                    .and_then(|at| bytes.get(at..))
                    .unwrap_or_default();
                // Short reads of at most 3 bytes.
                let n = rest.len().min(buf.len() - start).min(3);
                buf[start..start + n].copy_from_slice(&rest[..n]);
                n
            });
            later((result, buf))
        }

        fn read(&self, file: &File, buf: Vec<u8>, start: usize) -> Self::Read {
            self.read_at(file, 0, buf, start)
        }

        fn metadata(&self, file: &File) -> Self::Metadata {
            later(self.bytes(file).map(|bytes| FileMeta {
                len: bytes.len() as u64,
                id: None,
                is_dir: false,
            }))
        }

        fn path_metadata(&self, path: PathBuf) -> Self::Metadata {
            later(match self.files.get(&path) {
                Some(bytes) => Ok(FileMeta {
                    len: bytes.len() as u64,
                    id: None,
                    is_dir: false,
                }),
                None => Err(FsError::new(path, None, io::ErrorKind::NotFound.into())),
            })
        }
    }

    #[test]
    fn a_runtime_supplies_its_own_file_access() {
        use crate::lines::{LineErrorKind, LineReader, Lines};
        use futures::StreamExt;

        let rt = Memory::with(&[("app.log", b"first\nsecond line\nlast")]);
        let mut reader = LineReader::open(rt.clone(), "app.log");
        let mut lines = alloc::vec![];
        block_on(async {
            while let Some(line) = reader.next_line().await {
                lines.push(line.unwrap().as_bytes().to_vec());
            }
        });
        assert_eq!(lines, [&b"first"[..], b"second line", b"last"]);
        assert!(
            rt.reads.load(core::sync::atomic::Ordering::Relaxed) > 8,
            "read through the runtime's own short reads"
        );

        let owned: Vec<_> = block_on(Lines::open(rt.clone(), "app.log").collect());
        assert_eq!(owned.len(), 3);

        let mut missing = LineReader::open(rt.clone(), "gone.log");
        let err = block_on(missing.next_line()).unwrap().unwrap_err();
        assert!(matches!(err.kind(), LineErrorKind::Io(e) if e.kind() == io::ErrorKind::NotFound));
        assert_eq!(err.path(), Some(Path::new("gone.log")));

        assert_eq!(
            rt.unblocks.load(core::sync::atomic::Ordering::Relaxed),
            0,
            "no file access went through the blocking pool"
        );

        // A file of another `Fs` is refused, not misread.
        let file = block_on(rt.open("app.log".into())).unwrap();
        let (result, _) = block_on(Inline.read_at(&file, 0, alloc::vec![0; 8], 0));
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_follower_reads_and_checks_through_the_runtimes_own_file_access() {
        use crate::lines::{follow, FollowEvent};

        let rt = Memory::with(&[("app.log", b"one\ntwo\n")]);
        let mut log = follow(rt.clone(), "app.log").notify(false);
        block_on(async {
            for want in [&b"one"[..], b"two"] {
                match crate::next(&mut log).await {
                    Some(Ok(FollowEvent::Line(line))) => assert_eq!(line.as_bytes(), want),
                    other => panic!("{other:?}"),
                }
            }
        });
        assert_eq!(log.position(), 8);
        assert_eq!(
            rt.unblocks.load(core::sync::atomic::Ordering::Relaxed),
            0,
            "no file access went through the blocking pool"
        );

        // Reading back from the end needs a std file: a typed error, not a
        // silent read from the start.
        let mut log = follow(rt, "app.log").notify(false).last_lines(1);
        let err = block_on(crate::next(&mut log)).unwrap().unwrap_err();
        assert!(
            matches!(err.kind(), crate::lines::LineErrorKind::Io(e) if e.kind() == io::ErrorKind::Unsupported),
            "{err:?}"
        );
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(alloc::format!(
            "aiter-core-fs-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        dir.join(name)
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no file system isolation off")]
    fn reads_chunks_at_offsets_into_the_callers_buffer() {
        let path = temp_path("chunks");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"hello world")
            .unwrap();
        let file = block_on(Inline.open(path.clone())).unwrap();
        assert_eq!(file.path(), path.as_path());
        let (n, buf) = block_on(Inline.read_at(&file, 6, alloc::vec![b'.'; 8], 2));
        assert_eq!(n.unwrap(), 5);
        assert_eq!(&buf[..7], b"..world");
        let (n, _) = block_on(Inline.read_at(&file, 11, alloc::vec![0; 4], 0));
        assert_eq!(n.unwrap(), 0, "end of file");
        let meta = block_on(Inline.metadata(&file)).unwrap();
        assert_eq!(meta.len, 11);
        assert!(!meta.is_dir);
        assert_eq!(
            block_on(Inline.path_metadata(path.clone())).unwrap().id,
            meta.id
        );
        let (err, _) = block_on(Inline.read_at(&file, 0, alloc::vec![0; 4], 4));
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no file system isolation off")]
    fn scan_at_covers_the_range_in_buffer_sized_pieces() {
        let path = temp_path("scan");
        std::fs::write(&path, b"a\nbb\nccc\n").unwrap();
        let file = block_on(Inline.open(path)).unwrap();
        let newlines = |count: &mut (usize, usize), b: &[u8]| {
            count.0 += 1;
            count.1 += b.iter().filter(|&&c| c == b'\n').count();
        };
        let (n, _, pieces) = block_on(scan_at(
            &Inline,
            &file,
            2,
            5,
            alloc::vec![0; 2],
            (0, 0),
            newlines,
        ));
        assert_eq!(n.unwrap(), 5);
        assert_eq!(pieces, (3, 1), "bb|\nc|c in 2-byte pieces");
        let (n, _, count) = block_on(scan_at(
            &Inline,
            &file,
            4,
            100,
            alloc::vec![0; 4],
            (0, 0),
            newlines,
        ));
        assert_eq!(n.unwrap(), 5, "short only at the end of the file");
        assert_eq!(count.1, 2);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no file system isolation off")]
    fn missing_file_and_directory_are_typed_errors_naming_the_path() {
        let missing = temp_path("missing-file");
        let err = block_on(Inline.open(missing.clone())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(err.path(), missing.as_path());
        assert!(alloc::string::ToString::to_string(&err).contains("missing-file"));

        let dir = temp_path("a-dir");
        std::fs::create_dir_all(&dir).unwrap();
        let err = block_on(Inline.open(dir.clone())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        assert_eq!(
            alloc::string::ToString::to_string(&err),
            alloc::format!("{}", dir.display()),
            "the cause is the source, not in the message"
        );
        let source = core::error::Error::source(&err).unwrap();
        assert_eq!(
            source.downcast_ref::<io::Error>().unwrap().kind(),
            io::ErrorKind::IsADirectory
        );
    }
}
