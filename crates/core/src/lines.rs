//! Line reading: a sans-io splitter, an async reader with read-ahead, an
//! owned-line stream and a `tail -F` follower.
//!
//! | you want | use |
//! |---|---|
//! | to split bytes you already have (no I/O, `no_std`, no allocator) | [`LineSplitter`] |
//! | the fastest way through a file or stdin, one line at a time | [`LineReader`] (`next_line` / `next_str`, lends each line: no allocation per line) |
//! | a `Stream` of owned lines, for `merge` and combinators | [`Lines`] (items are [`SharedLine`]s: shared slices of a chunk, no allocation per line) |
//! | to follow a growing, truncated or rotated log (`tail -F`) | [`follow()`] → [`Follow`] (module [`follow`](mod@follow)) |
//!
//! Every reader reads large chunks (1 MiB by default) through a
//! [`Source`] — a file through a runtime's [`Fs`](crate::rt::Fs)
//! ([`FileSource`]), [`Stdin`], or your own — and keeps one read in flight
//! while lines are handed out. Lines end at `\n`; `\n` and `\r\n` are
//! stripped unless endings are kept; a last line without a newline is
//! yielded; an empty input yields nothing. A line longer than the maximum
//! line length (8 MiB by default) is an error naming its line number and
//! byte offset, after which reading goes on; memory stays bounded by the
//! chunk size plus that limit whatever the input holds.

mod splitter;

pub use self::splitter::{Ending, Line, LineBuffer, LineMeta, LineSplitter, LineTooLong, Span};

#[cfg(feature = "std")]
mod error;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod follow;
#[cfg(feature = "std")]
mod job_limit;
#[cfg(feature = "std")]
mod options;
#[cfg(feature = "std")]
mod pump;
#[cfg(feature = "std")]
mod reader;
#[cfg(feature = "std")]
mod shared_line;
#[cfg(feature = "std")]
mod source;
#[cfg(feature = "std")]
mod stream;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use self::{
    error::{LineError, LineErrorKind},
    follow::{follow, Follow, FollowEvent},
    options::{LineOptions, Utf8},
    pump::{DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINE_LENGTH},
    reader::{LineReader, NextLine, NextStr},
    shared_line::SharedLine,
    source::{AsyncReadSource, FileSource, MemorySource, Source, Stdin},
    stream::Lines,
};
