//! The cursor over a real SQLite database (rusqlite, bundled) on every
//! runtime: each page is read from one prepared statement held open across
//! pages (DB-API `fetchmany` style) and handed over through the runtime's
//! blocking pool. See the `aiter-sqlite` crate.
//!
//! Items are `Result<Result<T, QueryError>, FetchError<..>>`: the outer
//! error ends the cursor (a page failed), the inner one is a single row.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, temp_dir, Runtime};

use aiter_sqlite::{Database, Query, QueryError};

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aiter::cursor::{Cursor, FetchError, Page};
use aiter::{next, FusedStream};

const ROWS: u64 = 100_000;
const PAGE: usize = 1_000;

/// A fresh database with a `users` table of `rows` rows: ids `1..=rows`,
/// names `user-<id>`.
fn demo_db(rows: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let path = dir.path().join("demo.db");
    let conn = rusqlite::Connection::open(&path).expect("create the database");
    conn.execute_batch(&format!(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {rows})
         INSERT INTO users SELECT id, 'user-' || id FROM n;"
    ))
    .expect("fill the database");
    (dir, path)
}

/// `sql` on the file at `path`, `PAGE` rows per page.
fn on_file(path: &Path, sql: &str) -> (Database, Query) {
    (Database::path(path), Query::new(sql).page_size(PAGE))
}

/// Pages alive right now and at most, counted by a guard in each page's
/// items from the moment its fetch resolves until they are dropped.
#[derive(Default)]
struct PageCount {
    alive: AtomicUsize,
    max: AtomicUsize,
}

struct Counted<T> {
    items: std::vec::IntoIter<T>,
    count: Arc<PageCount>,
}

impl<T> Counted<T> {
    fn new(items: Vec<T>, count: Arc<PageCount>) -> Self {
        let alive = count.alive.fetch_add(1, Ordering::SeqCst) + 1;
        count.max.fetch_max(alive, Ordering::SeqCst);
        Counted {
            items: items.into_iter(),
            count,
        }
    }
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        self.count.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T> Iterator for Counted<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.items.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// A page's rows.
type Rows<T> = Vec<Result<T, QueryError>>;

/// A fetch of a counted page.
type CountedFetch<T> = std::pin::Pin<
    Box<dyn Future<Output = Result<Page<Counted<Result<T, QueryError>>, u64>, QueryError>>>,
>;

/// Wraps a fetch function so that its pages are counted and its calls too.
fn counted<T, Fut>(
    mut fetch: impl FnMut(Option<u64>) -> Fut,
    count: Arc<PageCount>,
    calls: Arc<AtomicUsize>,
) -> impl FnMut(Option<u64>) -> CountedFetch<T>
where
    Fut: Future<Output = Result<Page<Rows<T>, u64>, QueryError>> + 'static,
    T: Send + 'static,
{
    move |from| {
        calls.fetch_add(1, Ordering::SeqCst);
        let page = fetch(from);
        let count = count.clone();
        Box::pin(async move {
            let page = page.await?;
            Ok(Page {
                items: Counted::new(page.items, count),
                next: page.next,
            })
        })
    }
}

fn user(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

/// An item of a cursor over `(i64, String)` rows.
type Item = Result<Result<(i64, String), QueryError>, FetchError<QueryError, u64>>;

/// The first item of a cursor over `query` on `database`: for the error
/// cases.
async fn first_item<R: Runtime>(rt: R, database: Database, query: Query) -> Option<Item> {
    let fetch = aiter_sqlite::pages(rt, database, query, user);
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let first = next(&mut cursor).await;
    if matches!(first, Some(Err(_))) {
        assert_eq!(
            next(&mut cursor).await.map(|r| r.is_ok()),
            None,
            "an error ends the cursor"
        );
        assert!(cursor.is_terminated());
    }
    first
}

async fn streams_100k_rows_in_order_holding_at_most_two_pages<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(ROWS);
    let count = Arc::new(PageCount::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let sql = "SELECT id, name FROM users ORDER BY id";
    let (database, query) = on_file(&path, sql);
    let fetch = counted(
        aiter_sqlite::pages(rt, database, query, user),
        count.clone(),
        calls.clone(),
    );
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut expected = 1i64;
    while let Some(row) = next(&mut cursor).await {
        let (id, name) = row.expect("no page error").expect("no row error");
        assert_eq!(id, expected, "every row once, in order");
        assert_eq!(name, format!("user-{id}"));
        if id == 500 {
            // A slow consumer for a moment: the prefetched page arrives
            // meanwhile and is held beside this one.
            std::thread::sleep(Duration::from_millis(100));
        }
        expected += 1;
    }
    assert_eq!(expected - 1, ROWS as i64);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        ROWS as usize / PAGE,
        "one fetch per page"
    );
    assert!(
        count.max.load(Ordering::SeqCst) <= 2,
        "at most two pages held"
    );
    assert_eq!(count.alive.load(Ordering::SeqCst), 0);
}

async fn pages_come_whole<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(2_500);
    let (database, query) = on_file(&path, "SELECT id, name FROM users ORDER BY id");
    let fetch = aiter_sqlite::pages(rt, database, query, user);
    let mut pages = pin!(Cursor::new(fetch).prefetch(1).pages());
    let mut sizes = Vec::new();
    while let Some(page) = next(&mut pages).await {
        let page = page.expect("no error");
        let first = page.items.first().map(|u| u.as_ref().unwrap().0);
        sizes.push((page.items.len(), first, page.next));
    }
    use aiter::cursor::Continuation::{Done, More};
    assert_eq!(
        sizes,
        [
            (1000, Some(1), More(1000)),
            (1000, Some(1001), More(2000)),
            (500, Some(2001), Done)
        ]
    );
}

async fn bad_sql_is_a_typed_error_item<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10);
    let (database, query) = on_file(&path, "SELEC id FROM users");
    let err = first_item(rt, database, query).await.unwrap().unwrap_err();
    assert_eq!(err.from(), None, "the first page failed");
    let QueryError::Prepare { sql, .. } = err.error() else {
        panic!("a prepare error: {err}")
    };
    assert_eq!(&**sql, "SELEC id FROM users");
    let source = std::error::Error::source(err.error()).expect("SQLite's error");
    assert!(source.to_string().contains("syntax error"), "{source}");
}

async fn a_missing_table_is_a_typed_error_item<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10);
    let (database, query) = on_file(&path, "SELECT id, name FROM nope");
    let err = first_item(rt, database, query).await.unwrap().unwrap_err();
    assert!(matches!(err.error(), QueryError::Prepare { .. }), "{err}");
    let source = err.error().sqlite_error().expect("SQLite's error");
    assert!(
        source.to_string().contains("no such table: nope"),
        "{source}"
    );
}

async fn a_missing_database_file_is_a_typed_error_item<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("missing.db");
    let (database, query) = on_file(&path, "SELECT 1, 'x'");
    let err = first_item(rt, database, query).await.unwrap().unwrap_err();
    assert!(matches!(err.error(), QueryError::Open { .. }), "{err}");
    assert_eq!(err.error().database(), path.display().to_string());
    assert!(!path.exists(), "the file was not created");
}

/// A step that fails mid-query (integer overflow in row 2 500): every row
/// before it, then one error for the page starting at it; resuming from
/// that position with a healthy query gives exactly the rest.
async fn a_failing_step_ends_the_stream_after_the_rows_before_it_and_resume_retries_it<
    R: Runtime,
>(
    rt: R,
) {
    let (_dir, path) = demo_db(5_000);
    let failing =
        "SELECT id, CASE WHEN id = 2500 THEN abs(-9223372036854775807 - 1) ELSE name END \
                   FROM users ORDER BY id";
    let (database, query) = on_file(&path, failing);
    let fetch = aiter_sqlite::pages(rt.clone(), database, query, user);
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut seen = 0i64;
    let err = loop {
        match next(&mut cursor).await.expect("the error comes first") {
            Ok(row) => {
                let (id, _) = row.expect("no row error");
                seen += 1;
                assert_eq!(id, seen);
            }
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 2_499, "every row before the failed one");
    assert_eq!(
        err.from(),
        Some(&2_499),
        "the page starting at the failed row"
    );
    let QueryError::Step { row, .. } = err.error() else {
        panic!("a step error: {err}")
    };
    assert_eq!(*row, 2_500, "rows count from 1");
    assert_eq!(next(&mut cursor).await.map(|r| r.is_ok()), None);

    let (database, query) = on_file(&path, "SELECT id, name FROM users ORDER BY id");
    let healthy = aiter_sqlite::pages(rt, database, query, user);
    let mut rest = pin!(Cursor::resume(err.from().copied(), healthy));
    let mut expected = 2_500;
    while let Some(row) = next(&mut rest).await {
        assert_eq!(row.expect("no error").expect("no row error").0, expected);
        expected += 1;
    }
    assert_eq!(expected, 5_001);
}

/// The statement is held open across pages (a writer cannot take the
/// database) and dropping the cursor midway closes it (the writer can).
async fn dropping_the_cursor_midway_releases_the_database<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10_000);
    let (database, query) = on_file(&path, "SELECT id, name FROM users ORDER BY id");
    let fetch = aiter_sqlite::pages(rt, database, query, user);
    let mut cursor = Box::pin(Cursor::new(fetch).prefetch(1));
    for id in 1..=1_500 {
        assert_eq!(next(&mut cursor).await.unwrap().unwrap().unwrap().0, id);
    }
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.busy_timeout(Duration::ZERO).unwrap();
    let delete = || writer.execute("DELETE FROM users WHERE id = 1", []);
    assert!(
        matches!(delete(), Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy),
        "the open statement holds its read lock across pages"
    );
    drop(cursor);
    // The query thread finishes the page it may be reading, then closes.
    writer.busy_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(delete().expect("the database was released"), 1);
}

/// Regression: invalid UTF-8 in a TEXT value panicked the query thread and
/// lost every row after the page before it. Now it is one `Value` error
/// item naming the row and column, and every other row still comes.
async fn invalid_utf8_is_one_row_error_and_the_rows_after_it_come<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(2_500);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE users SET name = CAST(x'757365722dff' AS TEXT) WHERE id = 1500",
        [],
    )
    .unwrap();
    drop(conn);
    let (database, query) = on_file(&path, "SELECT id, name FROM users ORDER BY id");
    let fetch = aiter_sqlite::pages(rt.clone(), database, query, user);
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    while let Some(item) = next(&mut cursor).await {
        match item.expect("no page fails") {
            Ok((id, _)) => good.push(id),
            Err(e) => bad.push(e),
        }
    }
    assert_eq!(good.len(), 2_499);
    assert_eq!(good[1_498..1_500], [1_499, 1_501]);
    assert_eq!(bad.len(), 1);
    let QueryError::Value { row, column, .. } = &bad[0] else {
        panic!("a value error: {}", bad[0])
    };
    assert_eq!(*row, 1_500);
    let column = column.as_ref().expect("the column is named");
    assert_eq!((column.number, &*column.name), (2, "name"));
    assert!(
        bad[0]
            .to_string()
            .ends_with("row 1500, column 2 (name): cannot read the value"),
        "{}",
        bad[0]
    );

    // The row-of-values reader never panics either, and repairs on demand.
    let (database, query) = on_file(&path, "SELECT name FROM users WHERE id = 1500");
    let fetch = aiter_sqlite::pages(rt, database, query, aiter_sqlite::row_values_lossy);
    let mut cursor = pin!(Cursor::new(fetch));
    let row = next(&mut cursor).await.unwrap().unwrap().unwrap();
    assert_eq!(row, [rusqlite::types::Value::Text("user-\u{FFFD}".into())]);
}

/// Regression: a page's memory was reserved from the page size, so a huge
/// one aborted (or overflowed) even for three rows.
async fn a_huge_page_size_holds_only_the_rows_fetched<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10);
    for size in [usize::MAX, 1 << 32] {
        let query = Query::new("SELECT id, name FROM users ORDER BY id LIMIT 3").page_size(size);
        let fetch = aiter_sqlite::pages(rt.clone(), Database::path(&path), query, user);
        let mut pages = pin!(Cursor::new(fetch).prefetch(1).pages());
        let page = next(&mut pages).await.unwrap().expect("no error");
        assert_eq!(page.items.len(), 3);
        assert!(page.items.capacity() <= 1_024, "{}", page.items.capacity());
        assert!(page.next.is_done());
        assert!(next(&mut pages).await.is_none());
    }
}

/// Regression: `VACUUM INTO` went through the read-only connection and
/// created a file. Every statement SQLite does not mark read-only is
/// refused before it runs.
async fn statements_that_may_write_are_refused_and_create_nothing<R: Runtime>(rt: R) {
    let (dir, path) = demo_db(10);
    let copy = dir.path().join("copy.db");
    for sql in [
        format!("VACUUM INTO '{}'", copy.display()),
        "DELETE FROM users".to_owned(),
        "INSERT INTO users VALUES (11, 'x') RETURNING id".to_owned(),
        "DROP TABLE users".to_owned(),
    ] {
        let err = first_item(rt.clone(), Database::path(&path), Query::new(sql.as_str()))
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(err.error(), QueryError::NotReadOnly { .. }),
            "{sql}: {err}"
        );
    }
    assert!(!copy.exists(), "nothing created");
    let (database, query) = on_file(&path, "SELECT count(*), 'n' FROM users");
    let first = first_item(rt, database, query).await.unwrap();
    assert_eq!(first.unwrap().unwrap().0, 10, "nothing deleted");
}

/// Regression: `SELECT 1; SELECT 2` silently ran the first statement and
/// `""` said "row 0: not an error".
async fn exactly_one_statement_and_no_row_0<R: Runtime>(rt: R) {
    let one = first_item(rt.clone(), Database::memory(), Query::new("SELECT 1, 'a';"))
        .await
        .unwrap();
    assert_eq!(one.unwrap().unwrap(), (1, "a".to_owned()));
    let err = first_item(
        rt.clone(),
        Database::memory(),
        Query::new("SELECT 1, 'a'; SELECT 2, 'b'"),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(err.error(), QueryError::MultipleStatements { .. }),
        "{err}"
    );
    for sql in ["", " ;  -- nothing"] {
        let err = first_item(rt.clone(), Database::memory(), Query::new(sql))
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(err.error(), QueryError::Empty { .. }), "{err}");
        assert!(!err.to_string().contains("row"), "{err}");
    }
}

/// Values are bound, not pasted into the SQL.
async fn parameters_are_bound_by_position<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(100);
    let query = Query::new("SELECT id, name FROM users WHERE id > $1 AND name LIKE $2 ORDER BY id")
        .param(90)
        .param("user-9%".to_owned())
        .page_size(3);
    let fetch = aiter_sqlite::pages(rt.clone(), Database::path(&path), query, user);
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut ids = Vec::new();
    while let Some(row) = next(&mut cursor).await {
        ids.push(row.unwrap().unwrap().0);
    }
    assert_eq!(ids, (91..=99).collect::<Vec<_>>());
    let err = first_item(
        rt,
        Database::path(&path),
        Query::new("SELECT ?1, ?2").param(1),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(
            err.error(),
            QueryError::MissingParameter {
                number: 2,
                given: 1,
                ..
            }
        ),
        "{err}"
    );
}

/// `prepare` gives the columns before any row; an opener sets pragmas on
/// the connection the query uses.
async fn prepare_then_page_with_an_opener<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(2_500);
    let opened = path.clone();
    let database = Database::opener("tuned", move || {
        let conn = rusqlite::Connection::open_with_flags(
            opened,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        conn.pragma_update(None, "cache_size", -8_000)?;
        Ok(conn)
    });
    let query = Query::new("SELECT id, name, id AS id FROM users ORDER BY id").page_size(PAGE);
    let prepared = aiter_sqlite::prepare(rt, database, query).await.unwrap();
    assert_eq!(prepared.columns(), ["id", "name", "id"]);
    let mut cursor = pin!(Cursor::new(prepared.pages(user)).prefetch(1));
    let mut n = 0;
    while let Some(row) = next(&mut cursor).await {
        n += 1;
        assert_eq!(row.unwrap().unwrap().0, n);
    }
    assert_eq!(n, 2_500);
}

on_every_runtime!(
    streams_100k_rows_in_order_holding_at_most_two_pages,
    pages_come_whole,
    bad_sql_is_a_typed_error_item,
    a_missing_table_is_a_typed_error_item,
    a_missing_database_file_is_a_typed_error_item,
    a_failing_step_ends_the_stream_after_the_rows_before_it_and_resume_retries_it,
    dropping_the_cursor_midway_releases_the_database,
    invalid_utf8_is_one_row_error_and_the_rows_after_it_come,
    a_huge_page_size_holds_only_the_rows_fetched,
    statements_that_may_write_are_refused_and_create_nothing,
    exactly_one_statement_and_no_row_0,
    parameters_are_bound_by_position,
    prepare_then_page_with_an_opener,
);
