//! The machinery shared by the reader and the stream: buffers, read-ahead
//! and the splitter, driven by one poll function.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::error::{LineError, LineErrorKind};
use super::options::LineOptions;
use super::source::Source;
use super::splitter::{LineBuffer, LineSplitter, Span};

/// Default bytes per read: 1 MiB, the fastest of 64 KiB – 4 MiB on all
/// three runtimes in `benches/lines.rs` (group `chunk`). The first read of an
/// input is at most 64 KiB so small files stay cheap.
pub const DEFAULT_CHUNK_SIZE: usize = 1024 * 1024;

/// Bytes of an input's first read, at most: a file that fits never gets
/// full-size buffers.
pub(crate) const FIRST_READ: usize = 64 * 1024;

/// Default maximum line length: 8 MiB (generous: a too-small limit breaks
/// real logs, e.g. Go's 64 KiB `bufio.Scanner`; memory then stays within
/// this plus two chunks per reader).
pub const DEFAULT_MAX_LINE_LENGTH: usize = 8 * 1024 * 1024;

/// Room reserved in front of each read so that a partial line up to this
/// long moves in front of the new bytes without copying them.
pub(crate) const HEADROOM: usize = 16 * 1024;

/// Bytes a buffer holds beyond `HEADROOM` and the read, so that the read
/// can start on a cache-line boundary ([`read_start`]).
pub(crate) const ALIGN_SLACK: usize = 64;

/// Where a read into `buf` starts: `HEADROOM` in, moved up to the next
/// 64-byte boundary. The kernel's copy out of the page cache into a
/// destination a few bytes past a page boundary — where a large `Vec`'s
/// data starts, since glibc's `mmap` path puts 16 bytes of header in front
/// — measured 3x slower here (system time for 256 MiB: 200 ms vs 60 ms).
pub(crate) fn read_start(buf: &[u8]) -> usize {
    let skew = buf
        .as_ptr()
        .wrapping_add(HEADROOM)
        .align_offset(ALIGN_SLACK);
    HEADROOM + if skew < ALIGN_SLACK { skew } else { 0 }
}

/// A buffer that can be handed to a [`Source`] as a `Vec` and back.
pub(crate) trait Chunk: LineBuffer + Sized {
    fn from_vec(v: Vec<u8>) -> Self;
    /// The buffer for the next read: this one if no line still uses it.
    fn into_vec(self) -> Vec<u8>;
}

impl Chunk for Vec<u8> {
    fn from_vec(v: Vec<u8>) -> Self {
        v
    }
    fn into_vec(self) -> Vec<u8> {
        self
    }
}

/// A chunk that owned lines share (a refcount bump per line, no copy).
#[derive(Debug)]
pub(crate) struct SharedBuf(pub(crate) Arc<Vec<u8>>);

impl LineBuffer for SharedBuf {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        // Copies only if a line still holds this chunk (then once per chunk).
        Arc::make_mut(&mut self.0).as_mut_slice()
    }
    fn grow(&mut self, len: usize) -> bool {
        Arc::make_mut(&mut self.0).grow(len)
    }
    fn can_grow(&self) -> bool {
        true
    }
}

impl Chunk for SharedBuf {
    fn from_vec(v: Vec<u8>) -> Self {
        SharedBuf(Arc::new(v))
    }
    fn into_vec(self) -> Vec<u8> {
        Arc::try_unwrap(self.0).unwrap_or_default()
    }
}

/// Where the reads stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// No read in flight; one starts on the next poll.
    Idle,
    /// A read is in flight in the source.
    InFlight,
    /// The source ended; the splitter hands out what is left.
    Ended,
    /// Everything handed out, or an I/O error: `None` from now on.
    Done,
}

/// Buffers + read-ahead + splitter.
#[derive(Debug)]
pub(crate) struct Pump<B> {
    pub(crate) splitter: LineSplitter<B>,
    /// The buffer for the next read (empty until the first one).
    spare: Vec<u8>,
    chunk: usize,
    /// Whether a first read came back full (the input is not small).
    warm: bool,
    pub(crate) reads: Reads,
    /// Input offset of the next read.
    read_offset: u64,
    /// Where in its buffer the read in flight started ([`read_start`]).
    read_start: usize,
    /// The read in flight, when it completed on the poll that started it
    /// (`reads` is still `InFlight`): handed to [`accept`](Self::accept)
    /// once the splitter runs out of lines.
    arrived: Option<(std::io::Result<usize>, Vec<u8>)>,
}

impl<B: Chunk> Pump<B> {
    pub(crate) fn new(options: &LineOptions) -> Self {
        let mut pump = Pump {
            splitter: LineSplitter::new(B::from_vec(Vec::new())),
            spare: Vec::new(),
            chunk: 1,
            warm: false,
            reads: Reads::Idle,
            read_offset: 0,
            read_start: HEADROOM,
            arrived: None,
        };
        pump.set_options(options);
        pump
    }

    pub(crate) fn set_options(&mut self, options: &LineOptions) {
        self.chunk = options.chunk_size.max(1);
        self.splitter.set_max_line_length(options.max_line_length);
        self.splitter.keep_endings(options.keep_endings);
    }

    /// Starts over on a new input whose offsets count from `offset` (a
    /// follower's file from its last lines, truncated, or rotated): the
    /// splitter forgets what it held (hand it out first) and numbers lines
    /// from 1; the buffers and settings stay. The next poll starts a read.
    pub(crate) fn restart_at(&mut self, offset: u64) {
        self.splitter.restart_at(offset);
        self.read_offset = offset;
        self.reads = Reads::Idle;
        if let Some((_, buf)) = self.arrived.take() {
            // A read of the old position that nobody will accept.
            self.spare = buf;
        }
    }

    /// A buffer of exactly one chunk plus headroom, reusing `buf`.
    fn sized(&self, mut buf: Vec<u8>) -> Vec<u8> {
        let chunk = if self.warm {
            self.chunk
        } else {
            self.chunk.min(FIRST_READ)
        };
        let len = HEADROOM + ALIGN_SLACK + chunk;
        if buf.len() > len {
            // It held a long line: give the memory back.
            buf.truncate(len);
            buf.shrink_to_fit();
        } else if buf.len() < len {
            // Its bytes are not needed: a fresh zeroed allocation costs no
            // copy of them and no fill loop (the fill loop is what made
            // small-input tests take minutes under Miri).
            buf = alloc::vec![0; len];
        }
        buf
    }

    /// Starts a read into the spare buffer, if none is in flight, and polls
    /// it once if the source [`polls_to_start`](Source::polls_to_start).
    ///
    /// That first poll matters for a source that does nothing until
    /// polled: a `futures_io`/tokio `AsyncRead` over a file (tokio's,
    /// async-std's and smol's files start their blocking read on the first
    /// `poll_read`), or a socket with bytes waiting. Without it the read
    /// would only start once the lines in hand are used up, and reading
    /// and splitting would take turns instead of overlapping. If the read
    /// completes at once, its result waits in `arrived`. Other sources are
    /// not polled early: a follower's read holds one of the few places for
    /// blocking jobs until it is polled again.
    #[inline]
    fn read_ahead<S: Source + ?Sized>(&mut self, mut source: Pin<&mut S>, cx: &mut Context<'_>) {
        if self.reads == Reads::Idle {
            let spare = core::mem::take(&mut self.spare);
            let buf = self.sized(spare);
            self.read_start = read_start(&buf);
            source.as_mut().start_read(buf, self.read_start);
            self.reads = Reads::InFlight;
            if source.polls_to_start() {
                if let Poll::Ready(done) = source.poll_read(cx) {
                    self.arrived = Some(done);
                }
            }
        }
    }

    /// Handles a completed read of `result` bytes into `buf[read_start..]`.
    pub(crate) fn accept(
        &mut self,
        result: std::io::Result<usize>,
        buf: Vec<u8>,
        path: Option<&Arc<std::path::Path>>,
    ) -> Option<LineError> {
        match result {
            Ok(0) => {
                self.splitter.finish();
                self.spare = buf;
                self.reads = Reads::Ended;
                None
            }
            Ok(n) => {
                let start = self.read_start;
                let room = buf.len().saturating_sub(start);
                let n = n.min(room);
                self.warm |= n == room;
                self.read_offset += n as u64;
                let old = self.splitter.swap_in(B::from_vec(buf), start..start + n);
                self.spare = old.into_vec();
                self.reads = Reads::Idle;
                None
            }
            Err(e) => {
                self.spare = buf;
                self.reads = Reads::Done;
                Some(LineError::new(
                    LineErrorKind::Io(e),
                    path.cloned(),
                    self.splitter.next_number(),
                    self.read_offset,
                ))
            }
        }
    }

    /// The next line's span: the poll logic of every reader and stream.
    ///
    /// `Ready(Some(Ok))` a line is in the splitter's buffer; `Ready(Some(Err))`
    /// a long line (skipped, goes on) or a failed read (then ended);
    /// `Ready(None)` the end, for good; `Pending` the source's read registered
    /// `cx`'s waker. A read is kept in flight while lines are handed out.
    #[inline]
    pub(crate) fn poll_span<S: Source + ?Sized>(
        &mut self,
        mut source: Pin<&mut S>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Span, LineError>>> {
        if self.reads == Reads::Done {
            return Poll::Ready(None);
        }
        loop {
            self.read_ahead(source.as_mut(), cx);
            if let Some(item) = self.splitter.next_span() {
                return Poll::Ready(Some(
                    item.map_err(|e| LineError::too_long(e, source.path().cloned())),
                ));
            }
            match self.reads {
                Reads::InFlight => {
                    let (result, buf) = match self.arrived.take() {
                        Some(done) => done,
                        None => core::task::ready!(source.as_mut().poll_read(cx)),
                    };
                    if let Some(e) = self.accept(result, buf, source.path()) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Reads::Ended | Reads::Done => {
                    self.reads = Reads::Done;
                    return Poll::Ready(None);
                }
                Reads::Idle => unreachable!("a read was just started"),
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use core::pin::Pin;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use core::task::{Context, Poll};

    use crate::lines::LineReader;

    /// An `AsyncRead` that, like tokio's file, starts each read when first
    /// polled and finishes it on a later poll; it counts the reads started.
    struct Lazy {
        chunks: Vec<&'static [u8]>,
        started: Arc<AtomicUsize>,
        in_flight: bool,
    }

    impl futures_io::AsyncRead for Lazy {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<std::io::Result<usize>> {
            if !self.in_flight {
                self.in_flight = true;
                self.started.fetch_add(1, Ordering::SeqCst);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.in_flight = false;
            if self.chunks.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let chunk = self.chunks.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Poll::Ready(Ok(chunk.len()))
        }
    }

    #[test]
    fn the_next_read_starts_while_lines_are_handed_out() {
        let started = Arc::new(AtomicUsize::new(0));
        let mut reader = LineReader::from_async_read(Lazy {
            chunks: alloc::vec![b"a\nb\n", b"c\n"],
            started: started.clone(),
            in_flight: false,
        });
        futures::executor::block_on(async {
            let first = reader.next_line().await.unwrap().unwrap();
            assert_eq!(first.as_bytes(), b"a");
            // The second read was started before "b" was even asked for.
            assert_eq!(started.load(Ordering::SeqCst), 2);
            let mut rest = Vec::new();
            while let Some(line) = reader.next_line().await {
                rest.push(line.unwrap().as_bytes().to_vec());
            }
            assert_eq!(rest, [b"b".to_vec(), b"c".to_vec()]);
        });
    }
}
