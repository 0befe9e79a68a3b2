//! Line reading: a sans-io splitter, an async reader with read-ahead, an
//! owned-line stream and a `tail -F` follower.

mod splitter;

pub use self::splitter::{Ending, Line, LineBuffer, LineSplitter, LineTooLong, Span};
