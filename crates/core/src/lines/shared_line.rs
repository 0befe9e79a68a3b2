//! [`SharedLine`]: an owned line sharing its reader's chunk.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use super::splitter::{Ending, Escaped, LineMeta, Span};

/// An owned line: a shared slice of the chunk it was read in (a reference
/// count bump, no copy, no allocation per line).
///
/// Holding a line keeps its chunk (one read's worth, 1 MiB by default)
/// alive; the reader then reads into a fresh buffer instead of reusing it.
/// Copy the bytes out (`to_vec`) to keep a few lines for long.
#[derive(Clone)]
pub struct SharedLine {
    chunk: Arc<Vec<u8>>,
    start: usize,
    end: usize,
    meta: LineMeta,
}

impl SharedLine {
    pub(crate) fn new(chunk: &Arc<Vec<u8>>, span: Span) -> Self {
        SharedLine {
            chunk: chunk.clone(),
            start: span.range.start,
            end: span.range.end,
            meta: span.meta,
        }
    }

    /// A line made of `bytes` (for a lossily repaired line).
    pub(crate) fn with_bytes(&self, bytes: Vec<u8>) -> Self {
        SharedLine {
            start: 0,
            end: bytes.len(),
            chunk: Arc::new(bytes),
            ..*self
        }
    }

    /// The line's bytes: without its ending, unless endings are kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.chunk[self.start..self.end]
    }

    /// The line as UTF-8 text. A text-mode [`Lines`](super::Lines) has
    /// already checked, so this only fails in bytes mode.
    ///
    /// # Errors
    /// If the bytes are not valid UTF-8.
    pub fn to_str(&self) -> Result<&str, core::str::Utf8Error> {
        core::str::from_utf8(self.as_bytes())
    }

    /// The line's number, offset and ending, in one value.
    pub fn meta(&self) -> LineMeta {
        self.meta
    }

    /// How the line ended.
    pub fn ending(&self) -> Ending {
        self.meta.ending()
    }

    /// Line number, counting from 1.
    pub fn number(&self) -> u64 {
        self.meta.number()
    }

    /// Byte offset of the line's first byte in the input.
    pub fn offset(&self) -> u64 {
        self.meta.offset()
    }
}

impl Deref for SharedLine {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for SharedLine {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Equal when bytes and metadata (ending, number, offset) are equal.
impl PartialEq for SharedLine {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes() && self.meta == other.meta
    }
}

impl Eq for SharedLine {}

impl fmt::Debug for SharedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLine")
            .field("bytes", &Escaped(self.as_bytes()))
            .field("ending", &self.meta.ending())
            .field("number", &self.meta.number())
            .field("offset", &self.meta.offset())
            .finish()
    }
}
