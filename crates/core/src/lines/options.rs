//! [`LineOptions`]: the reading settings shared by every line reader.

use super::pump::{DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINE_LENGTH};

/// What a reader does about UTF-8: one three-way choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Utf8 {
    /// Lines are bytes, never checked (the default): content never fails.
    #[default]
    Bytes,
    /// Each line is checked: an invalid one is an error naming the byte
    /// offset of its first invalid byte, then reading goes on.
    Checked,
    /// Each line is checked and invalid bytes are replaced with U+FFFD
    /// (allocating for such lines only).
    Lossy,
}

/// The reading settings of [`LineReader`](super::LineReader),
/// [`Lines`](super::Lines) and [`Follow`](super::Follow): one value, set
/// with `with_options` or with each reader's builder methods.
///
/// # Examples
/// ```
/// use aiter_core::lines::{LineOptions, LineReader, Utf8};
///
/// let mut options = LineOptions::default();
/// options.chunk_size = 64 * 1024;
/// options.utf8 = Utf8::Lossy;
/// let reader = LineReader::from_bytes(b"a\nb\n").with_options(options);
/// assert_eq!(reader.options().utf8, Utf8::Lossy);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LineOptions {
    /// Bytes per read (default 1 MiB; a reader's first read is at most
    /// 64 KiB, a follower's default is 64 KiB; at least 1). Smaller reads
    /// cost one blocking-pool hop each; larger ones cost memory (two
    /// chunks per reader).
    pub chunk_size: usize,
    /// The maximum line length in bytes, without the ending (default
    /// 8 MiB); `None` for no limit (memory then grows with the longest line).
    pub max_line_length: Option<usize>,
    /// Keeps each line's `\n` / `\r\n` (default: stripped).
    pub keep_endings: bool,
    /// What to do about UTF-8 (default: [`Utf8::Bytes`]). The lending
    /// reader's `next_line` always lends bytes; its `next_str` checks
    /// unless this is [`Utf8::Lossy`].
    pub utf8: Utf8,
}

impl Default for LineOptions {
    fn default() -> Self {
        LineOptions {
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_line_length: Some(DEFAULT_MAX_LINE_LENGTH),
            keep_endings: false,
            utf8: Utf8::Bytes,
        }
    }
}
