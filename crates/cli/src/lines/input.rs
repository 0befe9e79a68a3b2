//! One input of `aiter lines`: a file read to its end, standard input, or a
//! file followed like `tail -F`, as one stream type so they merge together.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use aiter::lines::{FileSource, Follow, FollowEvent, LineError, Lines, Stdin};
use aiter::Stream;

use super::Settings;
use crate::runtime::CliRuntime;

/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An input's stream: lines (and, when following, truncation and rotation
/// events), or errors naming the file, line and byte offset.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub enum Input<R: CliRuntime> {
    /// A file read once, to its end.
    File(Lines<FileSource<R>>),
    /// Standard input, to its end (also under `--follow`, like `tail -F -`).
    Stdin(Lines<Stdin<R>>),
    /// A file followed by name.
    Follow(Follow<R>),
}

impl<R: CliRuntime> Input<R> {
    /// The input at `path` (`-`: standard input), nothing opened yet.
    ///
    /// Lines are read as bytes (`\n` and `\r\n` stripped); the command
    /// checks or repairs UTF-8 itself, the same way for every kind of input.
    pub fn open(rt: R, path: &Path, settings: &Settings) -> Self {
        let limit = Some(settings.max_line_length);
        if is_stdin(path) {
            Input::Stdin(Lines::stdin(rt).max_line_length(limit))
        } else if settings.follow {
            Input::Follow(
                aiter::lines::follow(rt, path)
                    .interval(settings.interval)
                    .max_line_length(limit),
            )
        } else {
            Input::File(Lines::open(rt, path).max_line_length(limit))
        }
    }
}

impl<R: CliRuntime> Stream for Input<R> {
    type Item = Result<FollowEvent, LineError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = match self.get_mut() {
            Input::File(lines) => Pin::new(lines).poll_next(cx),
            Input::Stdin(lines) => Pin::new(lines).poll_next(cx),
            Input::Follow(follow) => return Pin::new(follow).poll_next(cx),
        };
        item.map(|line| line.map(|line| line.map(FollowEvent::Line)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Input::File(lines) => lines.size_hint(),
            Input::Stdin(lines) => lines.size_hint(),
            Input::Follow(follow) => follow.size_hint(),
        }
    }
}
