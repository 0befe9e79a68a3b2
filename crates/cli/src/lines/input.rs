//! What kind of input a path names, and following a file.

use std::path::Path;

use aiter::lines::Follow;

use super::Settings;
use crate::runtime::CliRuntime;

/// Whether `path` names standard input (`-`).
pub(super) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Whether `path` is read as a stream (to its end, one read at a time)
/// under `--follow`: standard input, or something that exists and is
/// neither a regular file nor a directory (a FIFO, `<(cmd)`, a terminal).
/// Blocks (a `stat`).
pub(super) fn is_stream(path: &Path) -> bool {
    is_stdin(path) || std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
}

/// The file at `path`, followed by name like `tail -F`; nothing opened yet.
///
/// Lines are read as bytes (`\n` and `\r\n` stripped); the command checks
/// or repairs UTF-8 itself, the same way for every kind of input.
pub(super) fn follow<R: CliRuntime>(rt: R, path: &Path, settings: &Settings) -> Follow<R> {
    let follow = aiter::lines::follow(rt, path)
        .interval(settings.interval)
        .max_line_length(Some(settings.max_line_length));
    match settings.last {
        Some(n) => follow.last_lines(n),
        None => follow,
    }
}
