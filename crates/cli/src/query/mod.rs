//! `aiter query DB SQL`: the rows of a query through aiter's cursor.
//!
//! The DB argument picks the database ([`main`] is the one place that
//! dispatches on it): an SQLite file (opened read-only) or `:memory:`
//! ([`sqlite`]); `--demo` makes a temporary SQLite database ([`demo`]).
//! Rows are paged through `Cursor` with one page of prefetch, so the next
//! page is read while this one is written.
//!
//! Output conventions and exit codes are [`HELP`] (`aiter query --help`).

mod demo;
mod output;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::{report, report_error};
use crate::runtime::RuntimeKind;

pub(crate) use self::demo::DEMO_SQL;

/// The part of `aiter query --help` after the options: formats, errors,
/// exit codes.
pub(crate) const HELP: &str = "\
Output (one line per row):
  TSV (default): fields separated by a tab, as PostgreSQL's COPY text format
    writes them: NULL is \\N; in text, backslash, tab, newline, carriage return,
    backspace, form feed and vertical tab are escaped (\\\\ \\t \\n \\r \\b \\f \\v);
    a BLOB is \\x and lowercase hex (text never yields an unescaped \\x);
    integers in decimal; reals as the shortest text that reads back the same.
  --json: one object per row, keys in column order; a repeated column name
    gets _2, _3, ... (`a`, `a_2`); NULL is null, a BLOB is {\"$blob\":\"<hex>\"},
    an infinite real is 1e999 or -1e999.

SQL: exactly one statement (a trailing ; is fine) that SQLite marks read-only
and that returns columns; anything else is refused before it runs. --param
values are bound as text, in order, to ?1 / $1, ?2 / $2, ... (or to bare ?).

Errors go to stderr as `aiter: ...`. A row whose value cannot be read (TEXT
that is not UTF-8, unless --lossy) is reported and skipped; the rows after it
are still printed.

Exit codes:
  0    every row printed (or the reader closed the pipe)
  1    an error: the database cannot be opened; the SQL is empty, holds more
       than one statement, may write, or does not compile; parameters do not
       match; a row could not be read (the other rows are printed); the query
       failed midway (the rows before are printed)
  2    the command line is wrong
  130, 143  --demo interrupted by SIGINT, SIGTERM (its database removed)";

/// What `aiter query` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The database: an SQLite file or `:memory:`.
    pub db: PathBuf,
    /// The query.
    pub sql: String,
    /// `--param` values, in order.
    pub params: Vec<String>,
    /// Rows per page.
    pub page_size: usize,
    /// One JSON object per row instead of tab-separated values.
    pub json: bool,
    /// A first line of column names (tab-separated output).
    pub header: bool,
    /// Repair invalid UTF-8 instead of reporting the row.
    pub lossy: bool,
    /// `--runtime`.
    pub runtime: RuntimeKind,
}

/// Runs `aiter query`; with `demo`, on a fresh demo database in a temp dir
/// (removed at the end, or on SIGINT/SIGTERM) instead of `settings.db`.
pub(crate) fn main(settings: Settings, demo: bool) -> ExitCode {
    if demo {
        return demo::main(settings);
    }
    if let Some(db) = settings.db.to_str().filter(|db| postgres::is_postgres(db)) {
        return postgres::main(&settings, db);
    }
    sqlite::main(settings)
}
