//! The reader's error: what went wrong, where.

use alloc::sync::Arc;
use core::fmt;
use std::io;
use std::path::Path;

use super::splitter::LineTooLong;

/// Reading lines failed: what went wrong, in which file, at which line and
/// byte offset.
///
/// Displays as `FILE: what went wrong (line N, byte offset M)` (without the
/// `FILE: ` part when the source has no path). For an I/O error what went
/// wrong is `cannot read` and the [`io::Error`] is the
/// [`source`](core::error::Error::source), left out of the message (a
/// reporter printing the chain shows it once).
#[derive(Debug)]
pub struct LineError {
    kind: LineErrorKind,
    path: Option<Arc<Path>>,
    number: u64,
    offset: u64,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum LineErrorKind {
    /// Opening or reading failed. The reader ends after it.
    Io(io::Error),
    /// The line is longer than the maximum line length (content, without
    /// the ending). The reader skips the line and goes on.
    TooLong {
        /// The maximum line length.
        limit: usize,
    },
    /// The line is not valid UTF-8 (text mode only). The reader skips the
    /// line and goes on.
    InvalidUtf8 {
        /// The number of valid bytes at the start of the line.
        valid_up_to: usize,
    },
}

impl LineError {
    pub(crate) fn new(
        kind: LineErrorKind,
        path: Option<Arc<Path>>,
        number: u64,
        offset: u64,
    ) -> Self {
        LineError {
            kind,
            path,
            number,
            offset,
        }
    }

    pub(crate) fn too_long(e: LineTooLong, path: Option<Arc<Path>>) -> Self {
        LineError::new(
            LineErrorKind::TooLong { limit: e.limit },
            path,
            e.number,
            e.offset,
        )
    }

    /// What went wrong.
    pub fn kind(&self) -> &LineErrorKind {
        &self.kind
    }

    /// The file's path, when the source has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The number (counting from 1) of the line concerned: the long or
    /// invalid line, or the line being read when I/O failed.
    pub fn line(&self) -> u64 {
        self.number
    }

    /// Byte offset in the input: where the long line starts, where the
    /// invalid UTF-8 byte is, or where the failed read started.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether it is an I/O error (after which the reader has ended).
    pub fn is_io(&self) -> bool {
        matches!(self.kind, LineErrorKind::Io(_))
    }

    /// Turns it into an [`io::Error`] of the matching kind
    /// ([`InvalidData`](io::ErrorKind::InvalidData) for content errors)
    /// that still displays the same way, with the same
    /// [`source`](core::error::Error::source).
    pub fn into_io_error(self) -> io::Error {
        let kind = match &self.kind {
            LineErrorKind::Io(e) => e.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        match &self.kind {
            LineErrorKind::Io(_) => f.write_str("cannot read")?,
            LineErrorKind::TooLong { limit } => write!(f, "line longer than {limit} bytes")?,
            LineErrorKind::InvalidUtf8 { .. } => f.write_str("invalid UTF-8")?,
        }
        write!(f, " (line {}, byte offset {})", self.number, self.offset)
    }
}

impl core::error::Error for LineError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match &self.kind {
            LineErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LineError> for io::Error {
    fn from(e: LineError) -> io::Error {
        e.into_io_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn displays_file_what_line_and_offset() {
        let path: Arc<Path> = Path::new("app.log").into();
        let e = LineError::new(
            LineErrorKind::TooLong { limit: 10 },
            Some(path.clone()),
            3,
            42,
        );
        assert_eq!(
            e.to_string(),
            "app.log: line longer than 10 bytes (line 3, byte offset 42)"
        );
        let e = LineError::new(LineErrorKind::InvalidUtf8 { valid_up_to: 1 }, None, 1, 1);
        assert_eq!(e.to_string(), "invalid UTF-8 (line 1, byte offset 1)");
        let e = LineError::new(
            LineErrorKind::Io(io::ErrorKind::NotFound.into()),
            Some(path),
            1,
            0,
        );
        assert_eq!(
            e.to_string(),
            "app.log: cannot read (line 1, byte offset 0)",
            "the cause is the source, not in the message"
        );
        assert!(e.is_io());
        let source = core::error::Error::source(&e).unwrap();
        assert_eq!(
            source.downcast_ref::<io::Error>().unwrap().kind(),
            io::ErrorKind::NotFound
        );
        let io = e.into_io_error();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            io.to_string(),
            "app.log: cannot read (line 1, byte offset 0)"
        );
        let source = core::error::Error::source(&io).unwrap();
        assert_eq!(
            source.downcast_ref::<io::Error>().unwrap().kind(),
            io::ErrorKind::NotFound
        );
    }
}
