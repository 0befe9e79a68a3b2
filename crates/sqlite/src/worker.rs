//! The query's thread: it owns the connection and the prepared statement
//! (a `rusqlite::Statement` borrows its `Connection`, so the two live and
//! die together on one thread) and answers page requests in order.
//!
//! Protocol: [`start`] spawns the thread, which opens, prepares, checks and
//! binds, then sends the column names (or the error) on `ready`. It then
//! waits for one [`Job`] on `jobs` (the page server, generic over the row
//! type, boxed so the thread need not be) and runs it. The page server
//! answers [`Request`]s until their sender is dropped. Dropping the
//! `jobs` sender before sending a job ends the thread too. Either way the
//! statement and the connection are closed as the thread returns.

use std::sync::mpsc;
use std::sync::Arc;

use aiter_core::cursor::Page;
use rusqlite::{Batch, Connection, Row, Statement};

use crate::{Column, Database, Query, QueryError, RowPage};

/// The column names of a prepared statement.
pub(crate) type Columns = Arc<[String]>;

/// What the thread runs on its statement once it is ready.
pub(crate) type Job = Box<dyn for<'c> FnOnce(&mut Statement<'c>, &Context) + Send>;

/// What a job knows about its query.
pub(crate) struct Context {
    pub database: Arc<str>,
    pub columns: Columns,
    pub page_size: usize,
}

/// A request for the page starting after `from` rows.
pub(crate) struct Request<T> {
    pub from: u64,
    pub reply: mpsc::SyncSender<Result<RowPage<T>, QueryError>>,
}

/// The ends of a started thread that the caller holds.
pub(crate) struct Worker {
    pub ready: mpsc::Receiver<Result<Columns, QueryError>>,
    pub jobs: mpsc::Sender<Job>,
}

/// A page's first allocation: at most this many rows are reserved up
/// front; a bigger page grows as rows arrive.
const INITIAL_PAGE_CAPACITY: usize = 1_024;

/// Starts the thread for `query` on `database`.
///
/// # Errors
/// `Worker` if the OS refuses a thread.
pub(crate) fn start(database: Database, query: Query) -> Result<Worker, QueryError> {
    let name = database.shared_name();
    let (ready_tx, ready) = mpsc::sync_channel(1);
    let (jobs, jobs_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("aiter-sqlite".into())
        .spawn(move || run(database, query, &ready_tx, &jobs_rx))
        .map_err(|e| QueryError::Worker {
            database: name,
            reason: format!("cannot start: {e}").into(),
        })?;
    Ok(Worker { ready, jobs })
}

fn run(
    database: Database,
    query: Query,
    ready: &mpsc::SyncSender<Result<Columns, QueryError>>,
    jobs: &mpsc::Receiver<Job>,
) {
    let name = database.shared_name();
    let conn = match database.open() {
        Ok(conn) => conn,
        Err(source) => {
            drop(ready.send(Err(QueryError::Open {
                database: name,
                source: Arc::new(source),
            })));
            return;
        }
    };
    let mut statement = match prepare(&conn, &name, &query) {
        Ok(statement) => statement,
        Err(e) => {
            drop(ready.send(Err(e)));
            return;
        }
    };
    let columns: Columns = statement
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    if ready.send(Ok(columns.clone())).is_err() {
        return;
    }
    if let Ok(job) = jobs.recv() {
        let context = Context {
            database: name,
            columns,
            page_size: query.page_size,
        };
        job(&mut statement, &context);
    }
}

/// The one statement of `query`, checked read-only and a query, with its
/// parameters bound.
fn prepare<'c>(
    conn: &'c Connection,
    database: &Arc<str>,
    query: &Query,
) -> Result<Statement<'c>, QueryError> {
    let sql = || Arc::<str>::from(query.sql.as_str());
    let mut batch = Batch::new(conn, &query.sql);
    let mut statement = match batch.next() {
        Ok(Some(statement)) => statement,
        Ok(None) => {
            return Err(QueryError::Empty {
                database: database.clone(),
            })
        }
        Err(source) => {
            return Err(QueryError::Prepare {
                database: database.clone(),
                sql: sql(),
                source: Arc::new(source),
            })
        }
    };
    // Whatever follows (another statement, or text that does not even
    // compile) is not allowed; only blanks, comments and `;` may.
    if !matches!(batch.next(), Ok(None)) {
        return Err(QueryError::MultipleStatements {
            database: database.clone(),
            sql: sql(),
        });
    }
    if !statement.readonly() {
        return Err(QueryError::NotReadOnly {
            database: database.clone(),
            sql: sql(),
        });
    }
    if statement.column_count() == 0 {
        return Err(QueryError::NotAQuery {
            database: database.clone(),
            sql: sql(),
        });
    }
    bind(&mut statement, database, &query.params)?;
    Ok(statement)
}

/// Binds `params` by position (see [`Query`]'s parameter rules).
fn bind(
    statement: &mut Statement<'_>,
    database: &Arc<str>,
    params: &[rusqlite::types::Value],
) -> Result<(), QueryError> {
    let mut used = vec![false; params.len()];
    for index in 1..=statement.parameter_count() {
        let number = match statement.parameter_name(index) {
            None => index,
            Some(name) => positional(name).ok_or_else(|| QueryError::NamedParameter {
                database: database.clone(),
                name: name.into(),
            })?,
        };
        let Some(value) = params.get(number - 1) else {
            return Err(QueryError::MissingParameter {
                database: database.clone(),
                number,
                given: params.len(),
            });
        };
        used[number - 1] = true;
        statement
            .raw_bind_parameter(index, value)
            .map_err(|source| QueryError::Bind {
                database: database.clone(),
                number,
                source: Arc::new(source),
            })?;
    }
    match used.iter().position(|used| !used) {
        Some(unused) => Err(QueryError::UnusedParameter {
            database: database.clone(),
            number: unused + 1,
        }),
        None => Ok(()),
    }
}

/// The number of a positional parameter written `?N` or `$N` (N ≥ 1).
fn positional(name: &str) -> Option<usize> {
    let digits = name.strip_prefix('?').or_else(|| name.strip_prefix('$'))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n >= 1)
}

/// The page server: reads the statement's rows and answers `requests` in
/// order until their sender is dropped.
pub(crate) fn serve<T, M>(
    statement: &mut Statement<'_>,
    context: &Context,
    map_row: M,
    requests: &mpsc::Receiver<Request<T>>,
) where
    M: FnMut(&Row<'_>) -> rusqlite::Result<T>,
{
    let mut reader = Reader {
        context,
        rows: statement.raw_query(),
        position: 0,
        ahead: None,
        failed: None,
        map_row,
    };
    for Request { from, reply } in requests {
        if reply.send(reader.page(from, context.page_size)).is_err() {
            // The cursor was dropped while this page was read.
            break;
        }
    }
}

/// One row read from the statement: `Ok(None)` past the end, `Ok(Some(item))`
/// a row (whose item may be a value error), `Err` a failed step.
type Read<T> = Result<Option<Result<T, QueryError>>, QueryError>;

/// An open statement's rows, read page by page.
struct Reader<'s, T, M> {
    context: &'s Context,
    rows: rusqlite::Rows<'s>,
    /// Rows handed out (or skipped) so far.
    position: u64,
    /// The row after the previous page, read to learn whether that page
    /// was the last.
    ahead: Option<Read<T>>,
    /// The step error that ended the statement: every later page gets it.
    failed: Option<QueryError>,
    map_row: M,
}

impl<T, M: FnMut(&Row<'_>) -> rusqlite::Result<T>> Reader<'_, T, M> {
    /// The next row from the statement.
    fn read(&mut self) -> Read<T> {
        let row = self.position + 1;
        match self.rows.next() {
            Ok(Some(r)) => Ok(Some(
                (self.map_row)(r).map_err(|source| self.value_error(row, source)),
            )),
            Ok(None) => Ok(None),
            Err(source) => Err(QueryError::Step {
                database: self.context.database.clone(),
                row,
                source: Arc::new(source),
            }),
        }
    }

    fn value_error(&self, row: u64, source: rusqlite::Error) -> QueryError {
        use rusqlite::Error as E;
        let columns = &self.context.columns;
        let index = match &source {
            E::FromSqlConversionFailure(i, ..)
            | E::InvalidColumnType(i, ..)
            | E::IntegralValueOutOfRange(i, _)
            | E::InvalidColumnIndex(i) => Some(*i),
            E::InvalidColumnName(name) => columns.iter().position(|c| c == name),
            _ => None,
        };
        let column = index.and_then(|i| {
            columns.get(i).map(|name| Column {
                number: i + 1,
                name: name.as_str().into(),
            })
        });
        QueryError::Value {
            database: self.context.database.clone(),
            row,
            column,
            source: Arc::new(source),
        }
    }

    /// The next row, moving past it; a step error ends the statement.
    fn next(&mut self) -> Read<T> {
        let read = match self.ahead.take() {
            Some(read) => read,
            None => self.read(),
        };
        match &read {
            Ok(Some(_)) => self.position += 1,
            Ok(None) => {}
            Err(e) => self.failed = Some(e.clone()),
        }
        read
    }

    /// Up to `size` rows after the first `from`; `More` unless the rows
    /// ran out.
    fn page(&mut self, from: u64, size: usize) -> Result<RowPage<T>, QueryError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if from < self.position {
            // One cursor asks for pages in order; only a fresh query thread
            // gets a position other than 0 (a resumed cursor), and it skips
            // forward.
            return Err(QueryError::Worker {
                database: self.context.database.clone(),
                reason: format!("the rows before row {} were already read", from + 1).into(),
            });
        }
        while self.position < from {
            if self.next()?.is_none() {
                return Ok(Page::done(Vec::new()));
            }
        }
        let mut items = Vec::with_capacity(size.min(INITIAL_PAGE_CAPACITY));
        while items.len() < size {
            match self.next() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Page::done(items)),
                // The rows before a failed step are delivered; the failure
                // is the next page's, which starts exactly at it.
                Err(_) if !items.is_empty() => return Ok(Page::more(items, self.position)),
                Err(e) => return Err(e),
            }
        }
        // Read one row ahead to know whether this page is the last; a step
        // failure there belongs to the next page and is reported with it.
        let ahead = self.read();
        if matches!(ahead, Ok(None)) {
            return Ok(Page::done(items));
        }
        self.ahead = Some(ahead);
        Ok(Page::more(items, self.position))
    }
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn positional_parameters_are_question_or_dollar_and_a_number_from_1() {
        assert_eq!(positional("?1"), Some(1));
        assert_eq!(positional("$12"), Some(12));
        assert_eq!(positional("?0"), None);
        assert_eq!(positional("$"), None);
        assert_eq!(positional("$a"), None);
        assert_eq!(positional(":1"), None);
        assert_eq!(positional("$1a"), None);
        assert_eq!(positional("?99999999999999999999999"), None);
    }
}
