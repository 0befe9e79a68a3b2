//! Paging an SQLite query for aiter's [`Cursor`](aiter_core::cursor::Cursor),
//! the way Python's DB-API `cursor.fetchmany(n)` does it: one prepared
//! statement stays open across pages.
//!
//! - [`Database`]: where the connection comes from (a file opened
//!   read-only, `:memory:`, or your own opener with pragmas or an existing
//!   connection).
//! - [`Query`]: one SQL statement, its positional parameters, the page size.
//! - [`pages`]: the fetch function of a cursor; [`prepare`] first when you
//!   need the column names ([`Prepared::columns`]) before the rows.
//! - [`row_values`] / [`row_values_lossy`]: rows of unknown shape.
//! - [`QueryError`]: what went wrong, with SQLite's own error as `source()`.
//!
//! Only a single statement that SQLite marks read-only and that returns
//! columns runs; everything else is refused before it runs, whatever the
//! connection allows.
//!
//! # Errors, and what survives them
//! Statement errors (open, prepare, parameters) end the cursor on its first
//! page. A failed step ([`QueryError::Step`]) ends it where it happened;
//! the pages before it are all delivered. A value the row function cannot
//! read (invalid UTF-8 in `TEXT`, a type mismatch) costs only its row: it
//! is one `Err(`[`QueryError::Value`]`)` item, and the rows after it
//! follow. So a cursor's items are `Result<Result<T, QueryError>,
//! FetchError<QueryError, u64>>`: the outer error ends the stream, the inner
//! one is a single row.
//!
//! # How it works
//! A `rusqlite::Statement` borrows its `Connection`, so the two live
//! together on a thread of their own (one per query, started on the first
//! fetch or by [`prepare`]). Each fetch asks that thread for the next page
//! over a channel and waits for the answer inside the runtime's
//! [`Blocking::unblock`](aiter_core::rt::Blocking::unblock), so the
//! executor is never blocked and the page is read while the consumer works
//! on the previous one. A page's memory grows with the rows it holds,
//! whatever the page size. Dropping the cursor drops the channel; the
//! thread then finishes its current page (if any), closes the statement and
//! the connection, and exits.
//!
//! Why not keyset pagination (`WHERE id > ? ORDER BY id LIMIT ?`)? It needs
//! a unique sort key and a rewrite of the query, so it cannot page an
//! arbitrary `SELECT`; a held statement can, and it reads one consistent
//! snapshot for the whole query. The price is a thread per open query and a
//! read lock held until the cursor ends or is dropped.
//!
//! Works with any runtime value that implements
//! [`Blocking`](aiter_core::rt::Blocking) (`aiter::tokio::Tokio`,
//! `aiter::async_std::AsyncStd`, `aiter::smol::Smol`). The `rusqlite` it is
//! built with is re-exported as [`rusqlite`].
//!
//! # Features
//! - `bundled`: compile SQLite into the program (rusqlite's `bundled`).
//!   Off by default: as rusqlite advises for libraries, the application
//!   chooses (the `aiter` command turns it on); without it the system's
//!   `libsqlite3` is linked.
//!
//! # Examples
//! ```
//! use aiter_core::cursor::Cursor;
//! use aiter_core::next;
//! use aiter_sqlite::rusqlite::Connection;
//! use aiter_sqlite::{Database, Query};
//! # use core::future::{ready, Ready};
//! # /// A "runtime" whose blocking pool runs the closure at once (use a real one).
//! # #[derive(Clone, Copy)] struct Inline;
//! # impl aiter_core::rt::Blocking for Inline {
//! #     type Task<T: Send + 'static> = Ready<T>;
//! #     fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> { ready(f()) }
//! # }
//! # let rt = Inline; // e.g. `aiter::tokio::Tokio`
//! // Your own connection: here an in-memory database filled by the opener.
//! let database = Database::opener("users", || {
//!     let conn = Connection::open_in_memory()?;
//!     conn.execute_batch(
//!         "CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER);
//!          WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < 2500)
//!          INSERT INTO users SELECT id, 18 + id % 60 FROM n;",
//!     )?;
//!     Ok(conn)
//! });
//! let query = Query::new("SELECT id FROM users WHERE age >= ?1 ORDER BY id")
//!     .param(18)
//!     .page_size(1_000);
//! let fetch = aiter_sqlite::pages(rt, database, query, |row| row.get::<_, i64>(0));
//! # futures::executor::block_on(async {
//! let mut ids = core::pin::pin!(Cursor::new(fetch).prefetch(1));
//! let mut sum = 0;
//! while let Some(id) = next(&mut ids).await {
//!     sum += id??; // the page failed / this row failed
//! }
//! assert_eq!(sum, 2_500 * 2_501 / 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod database;
mod error;
mod pages;
mod query;
mod values;
mod worker;

pub use rusqlite;

pub use crate::database::Database;
pub use crate::error::{Column, QueryError};
pub use crate::pages::{pages, prepare, Prepared, RowPage};
pub use crate::query::{Query, DEFAULT_PAGE_SIZE};
pub use crate::values::{row_values, row_values_lossy, text_of};

#[cfg(test)]
mod tests;
