//! Paging a PostgreSQL query for aiter's [`Cursor`](aiter_core::cursor::Cursor),
//! each page one round trip to the server, the next one on the wire while
//! the consumer works on this one.
//!
//! Two ways to page, each a fetch function for `Cursor`:
//!
//! - [`pages`]: a server-side cursor. One connection, one transaction
//!   (`BEGIN READ ONLY` unless [`Query::read_write`]), the query bound once
//!   (`DECLARE … NO SCROLL CURSOR FOR …` with its parameters), then
//!   `FETCH n` per page: any `SELECT`, one consistent snapshot. Positions
//!   are row counts; the cursor dies with its connection, and a resumed
//!   cursor declares it again and skips the rows already delivered (exact
//!   only for a query with a deterministic order).
//! - [`keyset`]: `WHERE key > $last ORDER BY key LIMIT n`, each page its
//!   own short transaction. Positions are the last key delivered (in text
//!   form), so a page can run on any connection: after a lost connection
//!   the page is fetched again on a new one, losing and repeating nothing.
//!   Needs a unique, NOT NULL key column.
//!
//! Rows are [`tokio_postgres::SimpleQueryRow`]s: each value in
//! PostgreSQL's text form (`row.get(i) -> Option<&str>`, `None` for NULL),
//! exactly what `psql` prints, for every type. Parameters are sent as text
//! too, their types inferred by the server ([`Param`]).
//!
//! # How pages overlap the consumer
//! Each fetch runs as a task spawned with [`Net::spawn`], and the
//! connection is driven by a task of its own, so with
//! [`Cursor::prefetch`](aiter_core::cursor::Cursor::prefetch)`(1)` the next
//! page's request is sent, and its rows are read from the socket, while the
//! consumer is still busy with the current page.
//!
//! # Runtimes
//! tokio-postgres is used without its `runtime` feature: [`Net`] brings
//! the socket and the executor. The features `tokio`, `smol` and
//! `async-std` implement it for aiter's runtime values (`aiter::tokio::Tokio`,
//! `aiter::smol::Smol`, `aiter::async_std::AsyncStd`) with each runtime's
//! own TCP and unix-socket streams (smol's and async-std's through
//! tokio-util's `Compat` wrapper). TLS is not supported (`NoTls`).
//!
//! # Cancel safety
//! Dropping the cursor drops the fetch in flight: its task finishes the
//! page it is reading, then closes the connection (a read-only
//! transaction is simply abandoned; a read-write one is rolled back).
//!
//! # Examples
//! ```no_run
//! use aiter_core::cursor::Cursor;
//! use aiter_core::next;
//! use aiter_postgres::{Keyset, Query};
//!
//! # async fn run(rt: aiter_rt_tokio::Tokio) -> Result<(), Box<dyn std::error::Error>> {
//! let config = "host=/run/postgresql user=postgres dbname=app".parse()?;
//! let query = Query::new("SELECT id, name FROM users WHERE age > $1").param(30).page_size(500);
//!
//! // A server-side cursor, the next page fetched while this one is used.
//! let mut rows = core::pin::pin!(Cursor::new(aiter_postgres::pages(rt, config, query)).prefetch(1));
//! while let Some(row) = next(&mut rows).await {
//!     let row = row?;
//!     println!("{} {}", row.get(0).unwrap_or("?"), row.get(1).unwrap_or("NULL"));
//! }
//! # Ok(()) }
//! ```
//! A keyset walk that survives a dropped connection:
//! ```no_run
//! # use aiter_core::cursor::Cursor;
//! # use aiter_postgres::{Keyset, Query};
//! # fn run(rt: aiter_rt_tokio::Tokio, config: tokio_postgres::Config) {
//! let fetch = aiter_postgres::keyset(rt, config, Query::new("SELECT id, name FROM users"), Keyset::new("id"));
//! let rows = Cursor::new(fetch).prefetch(1);
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use aiter_core::cursor::Page;
use futures_channel::oneshot;

pub use tokio_postgres;
pub use tokio_postgres::{Config, SimpleQueryRow};

mod error;
mod net;
mod query;
mod session;

pub use self::error::Error;
pub use self::net::{Net, Target};
pub use self::query::{Keyset, Param, Query};

use self::session::Session;

/// A page of rows in text form, continuing from a position `P`.
pub type RowPage<P> = Page<Vec<SimpleQueryRow>, P>;

/// The fetch function of a server-side cursor over `query`, for
/// [`Cursor`](aiter_core::cursor::Cursor): `DECLARE … CURSOR` once, then
/// `FETCH n` per page on the same connection.
///
/// Positions are the number of rows delivered before the page. The first
/// fetch connects; a page shorter than the page size is the last one
/// ([`Continuation::Done`](aiter_core::cursor::Continuation::Done)), so a
/// result that is a multiple of the page size ends with an empty page.
/// Called with a position its connection is not at (a resumed cursor, or
/// after an error), it connects again, declares the cursor again and skips
/// that many rows (`MOVE`): exact only if the query's order is
/// deterministic.
///
/// # Errors
/// Each page's [`Error`]: [`Error::Connect`] when no server answers,
/// [`Error::Query`] for SQL the server refuses (including writes in the
/// read-only transaction), [`Error::ConnectionLost`] when the connection
/// drops. After an error the connection is closed.
///
/// # Cancel safety
/// Dropping the returned future (or the cursor) loses nothing the caller
/// has seen: the page's task finishes, the connection is closed.
pub fn pages<N: Net>(
    net: N,
    config: Config,
    query: Query,
) -> impl FnMut(Option<u64>) -> PageFetch<u64> + Send + 'static {
    let shared = Arc::new((net, config, query));
    let slot = Slot::default();
    move |from| {
        let session = slot.take();
        let (tx, rx) = oneshot::channel();
        let task = {
            let shared = Arc::clone(&shared);
            async move {
                let (net, config, query) = &*shared;
                let _ = tx.send(cursor_page(net, config, query, session, from.unwrap_or(0)).await);
            }
        };
        shared.0.spawn(task);
        PageFetch {
            answer: rx,
            slot: slot.clone(),
        }
    }
}

/// The fetch function of a keyset walk over `query` by `keyset`'s key, for
/// [`Cursor`](aiter_core::cursor::Cursor): each page is `SELECT * FROM
/// (query) WHERE key > $last ORDER BY key LIMIT n`, in a transaction of
/// its own (read-only unless [`Query::read_write`]).
///
/// Positions are the text form of the last key delivered (the server
/// parses it back as the key's type). A connection lost while a page is
/// fetched is replaced and the page fetched again from the same key, up to
/// [`Keyset::reconnects`] times: no row is lost or repeated. Pages see
/// the table as it is when each page runs.
///
/// # Errors
/// As [`pages`], plus [`Error::KeyColumn`] and [`Error::NullKey`].
/// [`Error::ConnectionLost`] comes out only once the reconnects are used
/// up; the cursor's [`FetchError::from`](aiter_core::cursor::FetchError::from)
/// then holds the last key delivered, and a cursor
/// [resumed](aiter_core::cursor::Cursor::resume) from it with a new fetch
/// function continues exactly there.
///
/// # Cancel safety
/// As [`pages`].
pub fn keyset<N: Net>(
    net: N,
    config: Config,
    query: Query,
    keyset: Keyset,
) -> impl FnMut(Option<String>) -> PageFetch<String> + Send + 'static {
    let shared = Arc::new((net, config, query, keyset));
    let slot = Slot::default();
    move |from| {
        let session = slot.take();
        let (tx, rx) = oneshot::channel();
        let task = {
            let shared = Arc::clone(&shared);
            async move {
                let (net, config, query, keyset) = &*shared;
                let _ = tx.send(keyset_page(net, config, query, keyset, session, from).await);
            }
        };
        shared.0.spawn(task);
        PageFetch {
            answer: rx,
            slot: slot.clone(),
        }
    }
}

/// The column names of `query`'s result, in order, from the server
/// (the statement is prepared on a connection of its own, not run).
///
/// # Errors
/// As [`pages`]: the server cannot be reached, or refuses the SQL.
pub async fn columns<N: Net>(
    net: &N,
    config: &Config,
    query: &Query,
) -> Result<Vec<String>, Error> {
    Session::connect(net, config).await?.columns(query).await
}

/// What a page's task hands back: the connection to keep (if the query
/// goes on) and the page.
type Answer<P> = (Option<Session>, Result<RowPage<P>, Error>);

/// The connection between two fetches of one cursor (fetches never
/// overlap: the cursor asks for the next page after the previous one
/// arrived).
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Session>>>);

impl Slot {
    fn take(&self) -> Option<Session> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn put(&self, session: Option<Session>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = session;
    }
}

/// One page of [`pages`]: the cursor of `session` if it is at `from`, else
/// a new one.
async fn cursor_page<N: Net>(
    net: &N,
    config: &Config,
    query: &Query,
    session: Option<Session>,
    from: u64,
) -> Answer<u64> {
    let mut session = match session {
        Some(session) if session.fetched == from => session,
        _ => match Session::open_cursor(net, config, query, from).await {
            Ok(session) => session,
            Err(e) => return (None, Err(e)),
        },
    };
    let rows = match session.fetch(query.page_size).await {
        Ok(rows) => rows,
        Err(e) => return (None, Err(e)),
    };
    if (rows.len() as u64) < query.page_size {
        if !query.read_only {
            if let Err(e) = session.commit().await {
                return (None, Err(e));
            }
        }
        (None, Ok(Page::done(rows)))
    } else {
        let next = session.fetched;
        (Some(session), Ok(Page::more(rows, next)))
    }
}

/// One page of [`keyset`], on `session` or a new connection, again on a
/// new one after a lost connection (as often as the keyset allows).
async fn keyset_page<N: Net>(
    net: &N,
    config: &Config,
    query: &Query,
    keyset: &Keyset,
    mut session: Option<Session>,
    after: Option<String>,
) -> Answer<String> {
    let mut reconnects = 0;
    loop {
        let mut current = match session.take() {
            Some(current) => current,
            None => match Session::connect(net, config).await {
                Ok(current) => current,
                Err(e) => return (None, Err(e)),
            },
        };
        let rows = match current.keyset_page(query, keyset, after.as_deref()).await {
            Ok(rows) => rows,
            Err(e) if e.is_connection_lost() && reconnects < keyset.reconnects => {
                reconnects += 1;
                continue;
            }
            Err(e) => return (None, Err(e)),
        };
        if (rows.len() as u64) < query.page_size {
            return (None, Ok(Page::done(rows)));
        }
        let Some(last) = rows.last() else {
            return (None, Ok(Page::done(rows)));
        };
        let Some(at) = last.columns().iter().position(|c| c.name() == keyset.key) else {
            return (
                None,
                Err(Error::KeyColumn {
                    key: keyset.key.clone(),
                }),
            );
        };
        let Some(key) = last.get(at).map(str::to_owned) else {
            return (
                None,
                Err(Error::NullKey {
                    key: keyset.key.clone(),
                }),
            );
        };
        return (Some(current), Ok(Page::more(rows, key)));
    }
}

/// The future of one page: the answer of the page's task.
///
/// # Cancel safety
/// Dropping it drops the page (the task finishes and closes the
/// connection).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PageFetch<P> {
    answer: oneshot::Receiver<Answer<P>>,
    slot: Slot,
}

impl<P> fmt::Debug for PageFetch<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageFetch").finish_non_exhaustive()
    }
}

impl<P> Future for PageFetch<P> {
    type Output = Result<RowPage<P>, Error>;

    /// `Ready` once the page's task answered (the connection, if the query
    /// goes on, is kept for the next fetch), or with [`Error::Worker`] if
    /// the task was dropped unanswered; `Pending` until then, with the
    /// waker registered on the answer.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match ready!(Pin::new(&mut self.answer).poll(cx)) {
            Ok((session, page)) => {
                self.slot.put(session);
                Poll::Ready(page)
            }
            Err(oneshot::Canceled) => Poll::Ready(Err(Error::Worker)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[cfg(feature = "smol")]
    #[test]
    fn fetch_functions_and_their_futures_are_send() {
        let config = Config::new();
        let mut pages = pages(aiter_rt_smol::Smol, config.clone(), Query::new("SELECT 1"));
        let mut walk = keyset(
            aiter_rt_smol::Smol,
            config,
            Query::new("SELECT 1"),
            Keyset::new("k"),
        );
        assert_send(&pages);
        assert_send(&walk);
        smol::block_on(async {
            // No host: the page's task answers with an error.
            let page = pages(None);
            assert_send(&page);
            assert!(matches!(page.await, Err(Error::NoHost)));
            assert!(matches!(walk(None).await, Err(Error::NoHost)));
        });
    }
}
