//! Paging an SQLite query for aiter's [`Cursor`](aiter_core::cursor::Cursor),
//! the way Python's DB-API `cursor.fetchmany(n)` does it: one prepared
//! statement stays open across pages.
//!
//! [`pages`] returns the fetch function of a cursor; [`columns`] gives the
//! column names of a query, [`row_values`] reads a row of unknown shape, and
//! [`create_demo`] makes a demo database.
//!
//! A `rusqlite::Statement` borrows its `Connection`, so the two live together
//! on a thread of their own (one per query, started on the first fetch).
//! Each fetch asks that thread for the next page over a channel and waits
//! for the answer inside the runtime's [`Blocking::unblock`], so the
//! executor is never blocked and the page is read while the consumer works
//! on the previous one. Dropping the cursor drops the channel; the thread
//! then finishes its current page (if any), closes the statement and the
//! connection, and exits.
//!
//! Why not keyset pagination (`WHERE id > ? ORDER BY id LIMIT ?`)? It needs
//! a unique sort key and a rewrite of the query, so it cannot page an
//! arbitrary `SELECT`; a held statement can, and it reads one consistent
//! snapshot for the whole query. The price is a thread per open query and a
//! read lock held until the cursor ends or is dropped.
//!
//! Positions are row offsets (`u64`): the page at `Some(n)` starts with the
//! query's row `n` (counting from 0). A cursor resumed from `Some(n)` runs
//! the query again and skips `n` rows, so resume only makes sense for a
//! query with a deterministic order (`ORDER BY` a unique key).
//!
//! Works with any runtime value that implements [`Blocking`]
//! (`aiter::tokio::Tokio`, `aiter::async_std::AsyncStd`, `aiter::smol::Smol`).
//! The `rusqlite` it is built with is re-exported as [`rusqlite`].
//!
//! # Examples
//! ```
//! use aiter_core::cursor::Cursor;
//! use aiter_core::next;
//! # use core::future::{ready, Ready};
//! # /// A "runtime" whose blocking pool runs the closure at once (use a real one).
//! # #[derive(Clone, Copy)] struct Inline;
//! # impl aiter_core::rt::Blocking for Inline {
//! #     type Task<T: Send + 'static> = Ready<T>;
//! #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
//! # }
//! # let rt = Inline; // e.g. `aiter::tokio::Tokio`
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("demo.db");
//! aiter_sqlite::create_demo(&path, 2_500)?;
//!
//! let fetch = aiter_sqlite::pages(rt, &path, "SELECT id FROM users ORDER BY id", 1_000, |row| {
//!     row.get::<_, i64>(0)
//! });
//! # futures::executor::block_on(async {
//! let mut ids = core::pin::pin!(Cursor::new(fetch).prefetch(1));
//! let mut sum = 0;
//! while let Some(id) = next(&mut ids).await {
//!     sum += id?;
//! }
//! assert_eq!(sum, 2_500 * 2_501 / 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use aiter_core::cursor::Page;
use aiter_core::rt::Blocking;
use rusqlite::{Connection, OpenFlags, Row};

pub use rusqlite;

/// Why a page of an SQLite query could not be fetched.
#[derive(Debug)]
pub enum QueryError {
    /// The database file could not be opened (missing, not a database, no
    /// permission). Files are opened read-only and never created.
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The SQL did not compile: a syntax error, a missing table or column.
    Prepare {
        /// The database file.
        path: PathBuf,
        /// The query.
        sql: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Stepping to row `row` (counting from 0), or reading it, failed.
    Row {
        /// The database file.
        path: PathBuf,
        /// The row's index in the query's result, counting from 0.
        row: u64,
        /// What SQLite (or the row function) said.
        source: rusqlite::Error,
    },
    /// The query's thread could not be started, or died (the row function
    /// panicked).
    Worker {
        /// The database file.
        path: PathBuf,
        /// What happened to the thread.
        reason: String,
    },
}

impl QueryError {
    /// The database file the query ran on.
    pub fn path(&self) -> &Path {
        match self {
            QueryError::Open { path, .. }
            | QueryError::Prepare { path, .. }
            | QueryError::Row { path, .. }
            | QueryError::Worker { path, .. } => path,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Open { path, source } => {
                write!(f, "{}: cannot open database: {source}", path.display())
            }
            QueryError::Prepare { path, sql, source } => {
                write!(f, "{}: cannot prepare `{sql}`: {source}", path.display())
            }
            QueryError::Row { path, row, source } => {
                write!(f, "{}: row {row}: {source}", path.display())
            }
            QueryError::Worker { path, reason } => {
                write!(f, "{}: query thread: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            QueryError::Open { source, .. }
            | QueryError::Prepare { source, .. }
            | QueryError::Row { source, .. } => Some(source),
            QueryError::Worker { .. } => None,
        }
    }
}

/// A page of rows, and where the next starts.
pub type RowPage<T> = Page<Vec<T>, u64>;

/// A request to the query thread: the page starting at row `from`.
struct Request<T> {
    from: u64,
    reply: mpsc::SyncSender<Result<RowPage<T>, QueryError>>,
}

/// The fetch function of a [`Cursor`](aiter_core::cursor::Cursor) over the rows
/// of `sql` on the database at `path`, `page_size` rows per page (at least
/// 1), each row turned into a `T` by `map_row`.
///
/// Nothing happens until the cursor first calls it; then a thread opens
/// the database (read-only), prepares `sql` once, and serves pages from the
/// open statement. Each call returns a `Blocking::unblock` task of `rt`
/// that waits for the page, so it makes progress without being polled.
///
/// # Errors
/// Each page resolves to a [`QueryError`]: `Open` (missing file), `Prepare`
/// (bad SQL, missing table), `Row` (a step or a `map_row` failure), or
/// `Worker`. Open and prepare errors come with the first page.
///
/// # Cancel safety
/// Dropping a fetch's task leaves the page being read on the query thread;
/// the thread notices the dropped reply and stops at that page. The cursor
/// handles this: dropping it mid-fetch loses nothing it had handed out.
///
/// # Examples
/// A missing database is an error item, never a panic (see the crate root
/// for a complete query).
/// ```
/// use aiter_core::cursor::Cursor;
/// use aiter_core::next;
/// use aiter_sqlite::QueryError;
/// # use core::future::{ready, Ready};
/// # #[derive(Clone, Copy)] struct Inline;
/// # impl aiter_core::rt::Blocking for Inline {
/// #     type Task<T: Send + 'static> = Ready<T>;
/// #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
/// # }
/// # futures::executor::block_on(async {
/// let fetch = aiter_sqlite::pages(Inline, "no-such.db", "SELECT 1", 100, aiter_sqlite::row_values);
/// let mut rows = core::pin::pin!(Cursor::new(fetch));
/// let error = next(&mut rows).await.unwrap().unwrap_err();
/// assert!(matches!(error.error(), QueryError::Open { .. }));
/// assert!(next(&mut rows).await.is_none());
/// # });
/// ```
pub fn pages<B, T, M>(
    rt: B,
    path: impl Into<PathBuf>,
    sql: impl Into<String>,
    page_size: usize,
    map_row: M,
) -> impl FnMut(Option<u64>) -> B::Task<Result<RowPage<T>, QueryError>>
where
    B: Blocking,
    T: Send + 'static,
    M: FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    let path = path.into();
    let mut setup = Some((sql.into(), map_row));
    let mut requests: Option<mpsc::Sender<Request<T>>> = None;
    move |from: Option<u64>| {
        let (reply, answer) = mpsc::sync_channel(1);
        let request = Request {
            from: from.unwrap_or(0),
            reply,
        };
        let sent = match (&requests, setup.take()) {
            (Some(tx), _) => tx
                .send(request)
                .map_err(|_| "the query thread died".to_owned()),
            (None, Some((sql, map_row))) => {
                let (tx, rx) = mpsc::channel();
                let worker_path = path.clone();
                let started = std::thread::Builder::new()
                    .name("aiter-sqlite".into())
                    .spawn(move || serve(&worker_path, &sql, page_size.max(1), map_row, rx));
                match started {
                    Ok(_) => {
                        let sent = tx
                            .send(request)
                            .map_err(|_| "the query thread died".to_owned());
                        requests = Some(tx);
                        sent
                    }
                    Err(e) => Err(format!("cannot start: {e}")),
                }
            }
            (None, None) => Err("could not be started earlier".to_owned()),
        };
        let path = path.clone();
        rt.unblock(move || {
            let worker = |reason| QueryError::Worker { path, reason };
            match sent {
                Err(reason) => Err(worker(reason)),
                Ok(()) => answer
                    .recv()
                    .unwrap_or_else(|_| Err(worker("the query thread died".to_owned()))),
            }
        })
    }
}

/// The query thread: opens, prepares, then answers page requests in order
/// until the requests' sender is dropped.
fn serve<T, M>(
    path: &Path,
    sql: &str,
    page_size: usize,
    map_row: M,
    requests: mpsc::Receiver<Request<T>>,
) where
    M: FnMut(&Row<'_>) -> rusqlite::Result<T>,
{
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(path, flags) {
        Ok(conn) => conn,
        Err(source) => {
            let error = || QueryError::Open {
                path: path.to_owned(),
                source: clone_error(&source),
            };
            requests
                .iter()
                .for_each(|r| drop(r.reply.send(Err(error()))));
            return;
        }
    };
    let mut statement = match conn.prepare(sql) {
        Ok(statement) => statement,
        Err(source) => {
            let error = || QueryError::Prepare {
                path: path.to_owned(),
                sql: sql.to_owned(),
                source: clone_error(&source),
            };
            requests
                .iter()
                .for_each(|r| drop(r.reply.send(Err(error()))));
            return;
        }
    };
    let rows = match statement.query([]) {
        Ok(rows) => rows,
        Err(source) => {
            for Request { from, reply } in requests {
                let error = QueryError::Row {
                    path: path.to_owned(),
                    row: from,
                    source: clone_error(&source),
                };
                drop(reply.send(Err(error)));
            }
            return;
        }
    };
    let mut reader = Reader {
        path,
        rows,
        position: 0,
        read_ahead: None,
        map_row,
    };
    for Request { from, reply } in requests {
        if reply.send(reader.page(from, page_size)).is_err() {
            // The cursor was dropped while this page was read.
            break;
        }
    }
}

/// An open statement's rows, read page by page.
struct Reader<'s, T, M> {
    path: &'s Path,
    rows: rusqlite::Rows<'s>,
    /// The index of the next row [`next`](Self::next) returns.
    position: u64,
    /// The row after the previous page, read to learn whether that page
    /// was the last (`Err` if reading it failed).
    read_ahead: Option<Result<T, QueryError>>,
    map_row: M,
}

impl<T, M: FnMut(&Row<'_>) -> rusqlite::Result<T>> Reader<'_, T, M> {
    fn position(&self) -> u64 {
        self.position
    }

    /// The row at `position`, from the statement (`None` past the end).
    fn read(&mut self) -> Result<Option<T>, QueryError> {
        let error = |source| QueryError::Row {
            path: self.path.to_owned(),
            row: self.position,
            source,
        };
        match self.rows.next() {
            Ok(Some(r)) => (self.map_row)(r).map(Some).map_err(error),
            Ok(None) => Ok(None),
            Err(e) => Err(error(e)),
        }
    }

    /// The row at `position`, and moves past it.
    fn next(&mut self) -> Result<Option<T>, QueryError> {
        let row = match self.read_ahead.take() {
            Some(row) => row.map(Some),
            None => self.read(),
        }?;
        self.position += u64::from(row.is_some());
        Ok(row)
    }

    /// Up to `size` rows from row `from`; `More` unless the rows ran out.
    fn page(&mut self, from: u64, size: usize) -> Result<RowPage<T>, QueryError> {
        if from < self.position() {
            // One cursor asks for pages in order; only a fresh query thread
            // gets a position other than 0 (a resumed cursor), and it skips
            // forward.
            return Err(QueryError::Worker {
                path: self.path.to_owned(),
                reason: format!("row {from} was already read"),
            });
        }
        while self.position() < from {
            if self.next()?.is_none() {
                return Ok(Page::done(Vec::new()));
            }
        }
        let mut items = Vec::with_capacity(size);
        while items.len() < size {
            match self.next()? {
                Some(item) => items.push(item),
                None => return Ok(Page::done(items)),
            }
        }
        // Read one row ahead to know whether this page is the last; a
        // failure there belongs to the next page and is reported with it.
        self.read_ahead = match self.read() {
            Ok(None) => return Ok(Page::done(items)),
            Ok(Some(row)) => Some(Ok(row)),
            Err(e) => Some(Err(e)),
        };
        Ok(Page::more(items, self.position))
    }
}

/// `rusqlite::Error` is not `Clone`; errors of open and prepare are sent
/// with every later request, so copy what they say.
fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::InvalidParameterName(other.to_string()),
    }
}

/// The column names `sql` produces (opens and prepares once, blocking).
///
/// # Errors
/// `Open` or `Prepare`, as for [`pages`].
pub fn columns(path: &Path, sql: &str) -> Result<Vec<String>, QueryError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| QueryError::Open {
        path: path.to_owned(),
        source,
    })?;
    let statement = conn.prepare(sql).map_err(|source| QueryError::Prepare {
        path: path.to_owned(),
        sql: sql.to_owned(),
        source,
    })?;
    Ok(statement
        .column_names()
        .into_iter()
        .map(String::from)
        .collect())
}

/// Every column of `row` as an owned SQLite value: a `map_row` for queries
/// whose shape is not known in advance (the CLI).
pub fn row_values(row: &Row<'_>) -> rusqlite::Result<Vec<rusqlite::types::Value>> {
    (0..row.as_ref().column_count())
        .map(|i| row.get(i))
        .collect()
}

/// The demo database: a `users` table of `rows` rows with ids `1..=rows`,
/// names `user-<id>`, emails `user-<id>@example.com` and ages `18 + id % 60`.
///
/// # Errors
/// Any SQLite error creating the file or inserting.
pub fn create_demo(path: &Path, rows: u64) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "CREATE TABLE users (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             email TEXT NOT NULL,
             age INTEGER NOT NULL
         );",
    )?;
    let tx = conn.transaction()?;
    {
        let mut insert =
            tx.prepare("INSERT INTO users (id, name, email, age) VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=rows {
            insert.execute((
                id,
                format!("user-{id}"),
                format!("user-{id}@example.com"),
                18 + id % 60,
            ))?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiter_core::cursor::Cursor;
    use core::future::{ready, Ready};

    /// A blocking "pool" that runs the closure at once.
    #[derive(Clone, Copy)]
    struct Inline;

    impl Blocking for Inline {
        type Task<T: Send + 'static> = Ready<T>;
        fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> {
            ready(f())
        }
    }

    #[test]
    fn the_demo_database_has_its_columns_and_every_row_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        create_demo(&path, 2_345).unwrap();
        assert_eq!(
            columns(&path, "SELECT * FROM users").unwrap(),
            ["id", "name", "email", "age"]
        );
        let fetch = pages(
            Inline,
            &path,
            "SELECT * FROM users ORDER BY id",
            1_000,
            row_values,
        );
        let rows: Vec<_> = futures::executor::block_on(futures::StreamExt::collect::<Vec<_>>(
            Cursor::new(fetch).prefetch(1),
        ));
        assert_eq!(rows.len(), 2_345);
        let last = rows.last().unwrap().as_ref().unwrap();
        use rusqlite::types::Value;
        assert_eq!(
            last,
            &vec![
                Value::Integer(2_345),
                Value::Text("user-2345".into()),
                Value::Text("user-2345@example.com".into()),
                Value::Integer(18 + 2_345 % 60),
            ]
        );
    }

    #[test]
    fn bad_sql_and_a_missing_file_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        create_demo(&path, 3).unwrap();
        let e = columns(&path, "SELEC 1").unwrap_err();
        assert!(matches!(e, QueryError::Prepare { .. }), "{e}");
        assert!(e.to_string().contains("cannot prepare `SELEC 1`"), "{e}");
        let missing = dir.path().join("missing.db");
        let e = columns(&missing, "SELECT 1").unwrap_err();
        assert!(matches!(e, QueryError::Open { .. }), "{e}");
        assert_eq!(e.path(), missing);
        assert!(!missing.exists());
    }
}
