//! Reading an input that is not followed: blocking work for the runtime's
//! pool, opened only when its turn comes.
//!
//! A regular file is read in [`Bulk`] jobs: each reads up to [`JOB_READ`]
//! bytes and turns them into output records on the same thread, while the
//! bytes are still in that core's cache. Anything else (standard input, a
//! FIFO, `<(cmd)`, a terminal) is read one `read` at a time and split on
//! the async side, so lines show as soon as they arrive and an unfinished
//! line is never stuck inside a read that may block for ever.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::printer::Printer;

/// Bytes a [`Bulk`] job reads at most (the work a cancelled job may still do).
pub(super) const JOB_READ: usize = 2 << 20;

/// Output a [`Bulk`] job produces before it hands it over.
pub(super) const JOB_OUT: usize = 256 << 10;

/// The largest read buffer: small enough to stay in a core's cache between
/// the kernel's copy and the scan.
pub(super) const MAX_BUFFER: usize = 128 << 10;

/// The first buffer of an input of unknown size; it doubles while reads fill it.
pub(super) const FIRST_BUFFER: usize = 4 << 10;

/// An input's bytes.
#[derive(Debug)]
pub(super) enum Reader {
    /// A file (of any kind) opened by path.
    File(File),
    /// The process's standard input.
    Stdin(io::Stdin),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self {
                Reader::File(file) => file.read(buf),
                Reader::Stdin(stdin) => stdin.lock().read(buf),
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

/// An opened input.
#[derive(Debug)]
pub(super) struct Opened {
    /// Its bytes.
    pub reader: Reader,
    /// Its length, if it is a regular file (read in [`Bulk`] jobs).
    pub regular_len: Option<u64>,
}

/// Opens `path` (`None`: standard input). Blocks (a FIFO's open waits for
/// a writer).
///
/// # Errors
/// If it cannot be opened, or is a directory.
pub(super) fn open(path: Option<&Path>) -> io::Result<Opened> {
    let Some(path) = path else {
        return Ok(Opened {
            reader: Reader::Stdin(io::stdin()),
            regular_len: None,
        });
    };
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    Ok(Opened {
        regular_len: meta.is_file().then_some(meta.len()),
        reader: Reader::File(file),
    })
}

/// A read buffer for an input of `len` bytes (`None`: unknown): a small
/// file gets a small buffer (room for all of it and the read that sees its
/// end), a large one [`MAX_BUFFER`].
pub(super) fn buffer_for(len: Option<u64>) -> Vec<u8> {
    let size = match len {
        Some(len) => usize::try_from(len.saturating_add(1))
            .unwrap_or(usize::MAX)
            .checked_next_power_of_two()
            .unwrap_or(MAX_BUFFER)
            .clamp(64, MAX_BUFFER),
        None => FIRST_BUFFER,
    };
    vec![0; size]
}

/// Doubles `buf` (up to [`MAX_BUFFER`]) when the last read filled it.
fn grow(buf: &mut Vec<u8>, filled: usize) {
    if filled == buf.len() && buf.len() < MAX_BUFFER {
        buf.resize(buf.len() * 2, 0);
    }
}

/// The part of `buf` reads go into: cache-line aligned when the buffer is
/// large (the kernel's copy into an unaligned destination measured much
/// slower).
fn aligned(buf: &mut [u8]) -> &mut [u8] {
    let skew = if buf.len() >= 4096 {
        buf.as_ptr().align_offset(64).min(buf.len())
    } else {
        0
    };
    &mut buf[skew..]
}

/// How a [`Bulk`] job ended.
#[derive(Debug)]
pub(super) enum Step {
    /// It read its share; more to come.
    More,
    /// The file ended (the last line is in the output).
    End,
    /// Reading failed; the input ends.
    Failed(io::Error),
}

/// A regular file being read and printed on the blocking pool.
#[derive(Debug)]
pub(super) struct Bulk {
    /// The file.
    pub reader: Reader,
    /// The read buffer.
    pub buf: Vec<u8>,
    /// The input's printer.
    pub printer: Printer,
    /// Records made so far (handed to stdout after each job).
    pub out: Vec<u8>,
}

impl Bulk {
    /// Reads until [`JOB_OUT`] bytes of output, [`JOB_READ`] bytes of
    /// input, the end of the file or an error.
    pub(super) fn run(mut self: Box<Self>) -> (Box<Self>, Step) {
        let mut read = 0;
        while read < JOB_READ && self.out.len() < JOB_OUT {
            let dst = aligned(&mut self.buf);
            match self.reader.read(dst) {
                Ok(0) => {
                    self.printer.finish(&mut self.out);
                    return (self, Step::End);
                }
                Ok(n) => {
                    self.printer.feed(&dst[..n], &mut self.out);
                    read += n;
                    let filled = if n == dst.len() { self.buf.len() } else { 0 };
                    grow(&mut self.buf, filled);
                }
                Err(e) => return (self, Step::Failed(e)),
            }
        }
        (self, Step::More)
    }
}

/// One read of a sequential input: its bytes are `buf[..n]`.
#[derive(Debug)]
pub(super) struct Piece {
    /// The input.
    pub reader: Reader,
    /// The buffer, holding the bytes read.
    pub buf: Vec<u8>,
    /// What the read returned (`Ok(0)`: the end).
    pub read: io::Result<usize>,
}

impl Piece {
    /// Reads once from `reader` into `buf` (grown first if the previous
    /// read, of `last` bytes, filled it).
    pub(super) fn read(mut reader: Reader, mut buf: Vec<u8>, last: usize) -> Self {
        grow(&mut buf, last);
        let read = reader.read(&mut buf);
        Piece { reader, buf, read }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_fit_small_files_and_stop_at_the_maximum() {
        assert_eq!(buffer_for(Some(0)).len(), 64);
        assert_eq!(buffer_for(Some(12)).len(), 64);
        assert_eq!(buffer_for(Some(5000)).len(), 8192);
        assert_eq!(buffer_for(Some(1 << 30)).len(), MAX_BUFFER);
        assert_eq!(buffer_for(Some(u64::MAX)).len(), MAX_BUFFER);
        assert_eq!(buffer_for(None).len(), FIRST_BUFFER);
        let mut buf = vec![0; 4];
        grow(&mut buf, 3);
        assert_eq!(buf.len(), 4);
        grow(&mut buf, 4);
        assert_eq!(buf.len(), 8);
    }
}
