//! Standard output of `aiter lines`: buffered, prefixed, and quiet about a
//! closed pipe.

use std::borrow::Cow;
use std::io::{self, Write};

/// What stops the output.
#[derive(Debug)]
pub enum WriteError {
    /// The reader of the pipe went away (`aiter lines big.log | head`):
    /// stop quietly, with exit code 0.
    Closed,
    /// Any other write failure (a full disk): reported, exit code 1.
    Failed(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            WriteError::Closed
        } else {
            WriteError::Failed(e)
        }
    }
}

/// How each line is written: the UTF-8 policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// Lines must be UTF-8; an invalid line is reported and skipped.
    Checked,
    /// Invalid UTF-8 is replaced with U+FFFD.
    Lossy,
    /// Bytes pass through untouched (`--bytes`).
    Bytes,
}

/// A line rejected as text: `valid_up_to` bytes of it are valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8 {
    /// Valid bytes at the start of the line.
    pub valid_up_to: usize,
}

/// Buffered standard output writing `PREFIX:line\n` records.
pub struct Output<W: Write> {
    out: io::BufWriter<W>,
    /// `FILE:` per input index, or none.
    prefixes: Option<Vec<Vec<u8>>>,
    text: Text,
}

impl<W: Write> Output<W> {
    /// Lines of input `i` are prefixed with `prefixes[i]` (`None`: no prefix).
    pub fn new(out: W, prefixes: Option<Vec<Vec<u8>>>, text: Text) -> Self {
        Output {
            out: io::BufWriter::with_capacity(128 << 10, out),
            prefixes,
            text,
        }
    }

    /// Writes `line` of input `input` (without its ending), then `\n`.
    ///
    /// # Errors
    /// `Ok(Err(InvalidUtf8))` when the line is not UTF-8 in checked mode
    /// (nothing written); `Err` when writing fails.
    pub fn line(
        &mut self,
        input: usize,
        line: &[u8],
    ) -> Result<Result<(), InvalidUtf8>, WriteError> {
        let line: Cow<'_, [u8]> = match self.text {
            Text::Bytes => Cow::Borrowed(line),
            Text::Checked => match std::str::from_utf8(line) {
                Ok(_) => Cow::Borrowed(line),
                Err(e) => {
                    return Ok(Err(InvalidUtf8 {
                        valid_up_to: e.valid_up_to(),
                    }))
                }
            },
            Text::Lossy => match String::from_utf8_lossy(line) {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
        };
        if let Some(prefixes) = &self.prefixes {
            self.out.write_all(&prefixes[input])?;
        }
        self.out.write_all(&line)?;
        self.out.write_all(b"\n")?;
        Ok(Ok(()))
    }

    /// Writes out what is buffered.
    ///
    /// # Errors
    /// As for [`line`](Self::line).
    pub fn flush(&mut self) -> Result<(), WriteError> {
        Ok(self.out.flush()?)
    }

    /// Whether anything waits in the buffer.
    pub fn is_buffering(&self) -> bool {
        !self.out.buffer().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_get_their_prefix_and_a_newline() {
        let mut out = Output::new(
            Vec::new(),
            Some(vec![b"a:".to_vec(), b"b:".to_vec()]),
            Text::Checked,
        );
        out.line(1, b"x").unwrap().unwrap();
        out.line(0, b"").unwrap().unwrap();
        assert_eq!(
            out.line(0, b"ok\xffno").unwrap(),
            Err(InvalidUtf8 { valid_up_to: 2 })
        );
        out.flush().unwrap();
        assert_eq!(out.out.get_ref(), b"b:x\na:\n");
    }

    #[test]
    fn lossy_repairs_and_bytes_pass_through() {
        let mut lossy = Output::new(Vec::new(), None, Text::Lossy);
        lossy.line(0, b"a\xffb").unwrap().unwrap();
        lossy.flush().unwrap();
        assert_eq!(lossy.out.get_ref(), "a\u{FFFD}b\n".as_bytes());
        let mut bytes = Output::new(Vec::new(), None, Text::Bytes);
        bytes.line(0, b"a\xffb\r").unwrap().unwrap();
        bytes.flush().unwrap();
        assert_eq!(bytes.out.get_ref(), b"a\xffb\r\n");
    }

    #[test]
    fn a_closed_pipe_is_not_a_failure() {
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(matches!(WriteError::from(closed), WriteError::Closed));
        let full = io::Error::other("disk full");
        assert!(matches!(WriteError::from(full), WriteError::Failed(_)));
    }
}
