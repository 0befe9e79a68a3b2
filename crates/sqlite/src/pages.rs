//! The fetch functions a [`Cursor`](aiter_core::cursor::Cursor) calls.

use std::fmt;
use std::future::Future;
use std::mem;
use std::sync::{mpsc, Arc};

use aiter_core::cursor::Page;
use aiter_core::rt::Blocking;
use rusqlite::Row;

use crate::worker::{self, Columns, Job, Request};
use crate::{Database, Query, QueryError};

/// A page of rows, and where the next starts (the number of rows before
/// it). Each row is the row function's item, or the
/// [`QueryError::Value`] that one row's values caused.
pub type RowPage<T> = Page<Vec<Result<T, QueryError>>, u64>;

/// The fetch function of a [`Cursor`](aiter_core::cursor::Cursor) over the
/// rows of `query` on `database`, each row turned into a `T` by `map_row`.
///
/// Nothing happens until the cursor first calls it; then a thread opens
/// the database, prepares the statement once, checks it (exactly one
/// statement, read-only, a query), binds the parameters and serves pages
/// of [`Query::page_size`] rows from the open statement, like DB-API's
/// `fetchmany`. Each call returns a [`Blocking::unblock`] task of `rt`
/// that waits for the page, so the page is read while the consumer works
/// on the previous one (with [`Cursor::prefetch`](aiter_core::cursor::Cursor::prefetch)).
///
/// Positions are row counts: the page at `n` starts after the first `n`
/// rows. A cursor resumed from `Some(n)` runs the query again and skips
/// `n` rows, so resume only makes sense for a deterministic order
/// (`ORDER BY` a unique key).
///
/// # Errors
/// A page fails (the cursor yields one `Err` and ends) with the
/// open, prepare, statement and parameter errors of [`QueryError`] (on the
/// first page, before any row is read), or [`QueryError::Step`] when SQLite
/// cannot produce the next row: the rows before it are delivered first,
/// and the failed page starts exactly at the failed row, so a resumed
/// cursor retries that row. A row whose `map_row` fails is not a page
/// failure: it is one `Err(`[`QueryError::Value`]`)` item in its place
/// among the page's items, and the rows after it still come.
///
/// # Cancel safety
/// Dropping a fetch's task leaves the page being read on the query thread;
/// the thread notices the dropped reply and stops at that page. The cursor
/// handles this: dropping it mid-fetch loses nothing it had handed out.
/// Dropping the fetch function closes the statement and the connection
/// once the page in progress (if any) is read.
///
/// # Examples
/// See the [crate root](crate) for a complete query. A missing database
/// is an error item, never a panic:
/// ```
/// use aiter_core::cursor::Cursor;
/// use aiter_core::next;
/// use aiter_sqlite::{Database, Query, QueryError};
/// # use core::future::{ready, Ready};
/// # #[derive(Clone, Copy)] struct Inline;
/// # impl aiter_core::rt::Blocking for Inline {
/// #     type Task<T: Send + 'static> = Ready<T>;
/// #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
/// # }
/// # futures::executor::block_on(async {
/// let fetch = aiter_sqlite::pages(
///     Inline,
///     Database::path("no-such.db"),
///     Query::new("SELECT 1"),
///     aiter_sqlite::row_values,
/// );
/// let mut rows = core::pin::pin!(Cursor::new(fetch));
/// let error = next(&mut rows).await.unwrap().unwrap_err();
/// assert!(matches!(error.error(), QueryError::Open { .. }));
/// assert!(next(&mut rows).await.is_none());
/// # });
/// ```
pub fn pages<B, T, M>(
    rt: B,
    database: Database,
    query: Query,
    map_row: M,
) -> impl FnMut(Option<u64>) -> B::Task<Result<RowPage<T>, QueryError>>
where
    B: Blocking,
    T: Send + 'static,
    M: FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    let mut fetcher = Fetcher {
        rt,
        database: database.shared_name(),
        state: State::Idle {
            database,
            query,
            map_row,
        },
    };
    move |from| fetcher.fetch(from)
}

/// Starts `query` on `database` and resolves once it is prepared, checked
/// and bound: its [`columns`](Prepared::columns) are known and its rows
/// are ready to be paged ([`Prepared::pages`]).
///
/// Use it rather than [`pages`] when you need the column names before the
/// rows (a header, JSON keys) or want statement errors before building a
/// cursor. The wait runs on `rt`'s blocking pool.
///
/// # Errors
/// The open, prepare, statement and parameter errors of [`QueryError`].
///
/// # Cancel safety
/// Dropping the future (or the [`Prepared`]) closes the statement and the
/// connection on the query's thread.
///
/// # Examples
/// ```
/// use aiter_core::cursor::Cursor;
/// use aiter_core::next;
/// use aiter_sqlite::{Database, Query};
/// # use core::future::{ready, Ready};
/// # #[derive(Clone, Copy)] struct Inline;
/// # impl aiter_core::rt::Blocking for Inline {
/// #     type Task<T: Send + 'static> = Ready<T>;
/// #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
/// # }
/// # futures::executor::block_on(async {
/// let sql = "WITH t(v) AS (VALUES (1), (2), (3)) SELECT ?1 * v AS n, 'x' AS s FROM t";
/// let query = Query::new(sql).param(10);
/// let prepared = aiter_sqlite::prepare(Inline, Database::memory(), query).await?;
/// assert_eq!(prepared.columns(), ["n", "s"]);
/// let mut rows = core::pin::pin!(Cursor::new(prepared.pages(|row| row.get::<_, i64>(0))));
/// let mut all = Vec::new();
/// while let Some(row) = next(&mut rows).await {
///     all.push(row??);
/// }
/// assert_eq!(all, [10, 20, 30]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn prepare<B>(
    rt: B,
    database: Database,
    query: Query,
) -> impl Future<Output = Result<Prepared<B>, QueryError>>
where
    B: Blocking,
{
    let name = database.shared_name();
    let started = worker::start(database, query);
    async move {
        let worker::Worker { ready, jobs } = started?;
        let died = name.clone();
        let columns = rt
            .unblock(move || ready.recv().unwrap_or_else(|_| Err(thread_died(died))))
            .await?;
        Ok(Prepared {
            rt,
            database: name,
            columns,
            jobs,
        })
    }
}

/// A query that is prepared, checked and bound on its thread, waiting to
/// be paged: see [`prepare`].
pub struct Prepared<B> {
    rt: B,
    database: Arc<str>,
    columns: Columns,
    jobs: mpsc::Sender<Job>,
}

impl<B: Blocking> Prepared<B> {
    /// The result's column names, in order (`AS` aliases, or the
    /// expression text; several columns may share a name).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The fetch function over the rows, as [`pages`] returns it (minus
    /// the open and prepare errors, which [`prepare`] already reported).
    pub fn pages<T, M>(
        self,
        map_row: M,
    ) -> impl FnMut(Option<u64>) -> B::Task<Result<RowPage<T>, QueryError>>
    where
        T: Send + 'static,
        M: FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let mut fetcher = Fetcher {
            rt: self.rt,
            database: self.database,
            state: State::Started {
                jobs: self.jobs,
                ready: None,
                map_row,
            },
        };
        move |from| fetcher.fetch(from)
    }
}

impl<B> fmt::Debug for Prepared<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("database", &self.database)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

fn thread_died(database: Arc<str>) -> QueryError {
    QueryError::Worker {
        database,
        reason: "it stopped (did the row function panic?)".into(),
    }
}

/// The state behind a fetch function.
struct Fetcher<B, T, M> {
    rt: B,
    database: Arc<str>,
    state: State<T, M>,
}

enum State<T, M> {
    /// Nothing started yet ([`pages`]).
    Idle {
        database: Database,
        query: Query,
        map_row: M,
    },
    /// The thread runs; `ready` is its prepare answer if nobody awaited
    /// it yet.
    Started {
        jobs: mpsc::Sender<Job>,
        ready: Option<mpsc::Receiver<Result<Columns, QueryError>>>,
        map_row: M,
    },
    /// The page server runs.
    Serving { requests: mpsc::Sender<Request<T>> },
    /// Starting failed.
    Failed(QueryError),
}

impl<B, T, M> Fetcher<B, T, M>
where
    B: Blocking,
    T: Send + 'static,
    M: FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    fn fetch(&mut self, from: Option<u64>) -> B::Task<Result<RowPage<T>, QueryError>> {
        let (reply, answer) = mpsc::sync_channel(1);
        let request = Request {
            from: from.unwrap_or(0),
            reply,
        };
        let died = self.database.clone();
        let (sent, ready) = self.send(request);
        self.rt.unblock(move || {
            sent?;
            if let Some(ready) = ready {
                // The first page of `pages`: the statement's own errors
                // come first.
                ready
                    .recv()
                    .unwrap_or_else(|_| Err(thread_died(died.clone())))?;
            }
            answer.recv().unwrap_or_else(|_| Err(thread_died(died)))
        })
    }

    /// Hands `request` to the query thread, starting it or its page server
    /// first if needed.
    #[allow(clippy::type_complexity, reason = "a private pair")]
    fn send(
        &mut self,
        request: Request<T>,
    ) -> (
        Result<(), QueryError>,
        Option<mpsc::Receiver<Result<Columns, QueryError>>>,
    ) {
        let state = mem::replace(
            &mut self.state,
            State::Failed(thread_died(self.database.clone())),
        );
        let (state, sent, ready) = match state {
            State::Idle {
                database,
                query,
                map_row,
            } => match worker::start(database, query) {
                Ok(worker) => {
                    self.state = State::Started {
                        jobs: worker.jobs,
                        ready: Some(worker.ready),
                        map_row,
                    };
                    return self.send(request);
                }
                Err(e) => (State::Failed(e.clone()), Err(e), None),
            },
            State::Started {
                jobs,
                ready,
                map_row,
            } => {
                let (requests, incoming) = mpsc::channel();
                let sent = requests.send(request);
                debug_assert!(sent.is_ok(), "the receiver is right here");
                let job: Job = Box::new(move |statement, context| {
                    worker::serve(statement, context, map_row, &incoming);
                });
                // If the thread is gone, its prepare answer (when still
                // unread) says why; otherwise the reply never comes.
                drop(jobs.send(job));
                (State::Serving { requests }, Ok(()), ready)
            }
            State::Serving { requests } => {
                let sent = requests
                    .send(request)
                    .map_err(|_| thread_died(self.database.clone()));
                (State::Serving { requests }, sent, None)
            }
            State::Failed(e) => (State::Failed(e.clone()), Err(e), None),
        };
        self.state = state;
        (sent, ready)
    }
}
