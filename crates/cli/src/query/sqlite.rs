//! `aiter query` on SQLite: [`aiter_sqlite::prepare`] (open, check, bind,
//! column names), then its pages through `Cursor` with one page of
//! prefetch.
//!
//! Each row is formatted into its output line on the query's thread (the
//! row function), so that thread turns SQLite's values into text while
//! this one writes the previous page.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::pin::pin;
use std::process::ExitCode;

use aiter::cursor::Cursor;
use aiter_sqlite::rusqlite::types::ValueRef;
use aiter_sqlite::rusqlite::{self, Row};
use aiter_sqlite::{Database, Query};

use super::output::{self, Cell, Format, Line};
use super::{report, report_error, Settings};
use crate::runtime::{self, CliRuntime, OnRuntime};

/// Runs the query in `settings` on its runtime.
pub(super) fn main(settings: Settings) -> ExitCode {
    match runtime::block_on(settings.runtime, Run(settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            report(format_args!("cannot start the runtime: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// The database the DB argument names.
fn database(db: &Path) -> Option<Database> {
    if db == Path::new(":memory:") {
        return Some(Database::memory());
    }
    if !db.exists() {
        report(format_args!("{}: no such file or directory", db.display()));
        return None;
    }
    Some(Database::path(db))
}

/// The query on a runtime; `true` if every row was written.
struct Run(Settings);

impl OnRuntime for Run {
    type Output = bool;

    async fn run<R: CliRuntime>(self, rt: R) -> bool {
        let Settings {
            db,
            sql,
            params,
            page_size,
            json,
            header,
            lossy,
            ..
        } = self.0;
        let Some(database) = database(&db) else {
            return false;
        };
        let query = Query::new(sql).params(params).page_size(page_size);
        let prepared = match aiter_sqlite::prepare(rt, database, query).await {
            Ok(prepared) => prepared,
            Err(e) => {
                report_error(&e);
                return false;
            }
        };
        let format = if json {
            Format::json(prepared.columns())
        } else {
            Format::Tsv
        };
        let head = (header && !json).then(|| output::tsv_header(prepared.columns()));
        let fetch = prepared.pages(move |row: &Row<'_>| line(row, &format, lossy));
        let mut rows = pin!(Cursor::new(fetch).prefetch(1));
        let mut out = BufWriter::with_capacity(128 << 10, io::stdout().lock());
        let result: io::Result<bool> = async {
            if let Some(head) = head {
                out.write_all(&head)?;
            }
            let mut all_rows = true;
            while let Some(row) = aiter::next(&mut rows).await {
                match row {
                    Ok(Ok(line)) => out.write_all(&line)?,
                    // One row could not be read: say so, go on.
                    Ok(Err(e)) => {
                        out.flush()?;
                        report_error(&e);
                        all_rows = false;
                    }
                    // The query failed: the rows before it are out.
                    Err(e) => {
                        out.flush()?;
                        report_error(e.error());
                        return Ok(false);
                    }
                }
            }
            out.flush()?;
            Ok(all_rows)
        }
        .await;
        match result {
            Ok(ok) => ok,
            // `aiter query … | head`: the reader has what it wanted.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => true,
            Err(e) => {
                report(format_args!("write error: {e}"));
                false
            }
        }
    }
}

/// The output line of `row` (the row function, on the query's thread).
///
/// # Errors
/// A `TEXT` value that is not UTF-8 (unless `lossy`), naming its column.
fn line(row: &Row<'_>, format: &Format, lossy: bool) -> rusqlite::Result<Vec<u8>> {
    let columns = row.as_ref().column_count();
    let mut line = Line::new(format, 16 * columns);
    for i in 0..columns {
        match row.get_ref(i)? {
            ValueRef::Null => line.push(Cell::Null),
            ValueRef::Integer(n) => line.push(Cell::Integer(n)),
            ValueRef::Real(x) => line.push(Cell::Real(x)),
            ValueRef::Text(bytes) if lossy => {
                line.push(Cell::Text(&String::from_utf8_lossy(bytes)));
            }
            ValueRef::Text(bytes) => line.push(Cell::Text(aiter_sqlite::text_of(i, bytes)?)),
            ValueRef::Blob(bytes) => line.push(Cell::Blob(bytes)),
        }
    }
    Ok(line.finish())
}
