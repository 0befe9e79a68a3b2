//! The cursor over a real SQLite database (rusqlite, bundled) on every
//! runtime: each page is read from one prepared statement held open across
//! pages (DB-API `fetchmany` style) and handed over through the runtime's
//! blocking pool. See the `aiter-sqlite` crate.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, temp_dir, Runtime};

use aiter_sqlite::QueryError;

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

/// A fresh database with the demo `users` table of `rows` rows.
fn demo_db(rows: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let path = dir.path().join("demo.db");
    aiter_sqlite::create_demo(&path, rows).expect("create the demo database");
    (dir, path)
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

/// A fetch of a counted page.
type CountedFetch<T> =
    std::pin::Pin<Box<dyn Future<Output = Result<Page<Counted<T>, u64>, QueryError>>>>;

/// Wraps a fetch function so that its pages are counted and its calls too.
fn counted<T, Fut>(
    mut fetch: impl FnMut(Option<u64>) -> Fut,
    count: Arc<PageCount>,
    calls: Arc<AtomicUsize>,
) -> impl FnMut(Option<u64>) -> CountedFetch<T>
where
    Fut: Future<Output = Result<Page<Vec<T>, u64>, QueryError>> + 'static,
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

/// The first item of a cursor over `sql` on `path`: for the error cases.
async fn first_item<R: Runtime>(
    rt: R,
    path: &Path,
    sql: &str,
) -> Option<Result<(i64, String), FetchError<QueryError, u64>>> {
    let fetch = aiter_sqlite::pages(rt, path, sql, PAGE, user);
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
    let fetch = counted(
        aiter_sqlite::pages(rt, &path, sql, PAGE, user),
        count.clone(),
        calls.clone(),
    );
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut expected = 1i64;
    while let Some(row) = next(&mut cursor).await {
        let (id, name) = row.expect("no error");
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
    let fetch = aiter_sqlite::pages(
        rt,
        &path,
        "SELECT id, name FROM users ORDER BY id",
        PAGE,
        user,
    );
    let mut pages = pin!(Cursor::new(fetch).prefetch(1).pages());
    let mut sizes = Vec::new();
    while let Some(page) = next(&mut pages).await {
        let page = page.expect("no error");
        sizes.push((page.items.len(), page.items.first().map(|u| u.0), page.next));
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
    let err = first_item(rt, &path, "SELEC id FROM users")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.from(), None, "the first page failed");
    let QueryError::Prepare { sql, .. } = err.error() else {
        panic!("a prepare error: {err}")
    };
    assert_eq!(sql, "SELEC id FROM users");
    assert!(err.to_string().contains("syntax error"), "{err}");
}

async fn a_missing_table_is_a_typed_error_item<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10);
    let err = first_item(rt, &path, "SELECT id, name FROM nope")
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err.error(), QueryError::Prepare { .. }), "{err}");
    assert!(err.to_string().contains("no such table: nope"), "{err}");
}

async fn a_missing_database_file_is_a_typed_error_item<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("missing.db");
    let err = first_item(rt, &path, "SELECT 1, 'x'")
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err.error(), QueryError::Open { .. }), "{err}");
    assert_eq!(err.error().path(), path);
    assert!(!path.exists(), "the file was not created");
}

/// A row that fails mid-query (integer overflow in row 2 500): the rows
/// before it, then one error at the page it belongs to; resuming from that
/// position with a healthy query gives exactly the rest.
async fn a_failing_row_ends_the_stream_at_its_page_and_resume_continues<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(5_000);
    let failing =
        "SELECT id, CASE WHEN id = 2500 THEN abs(-9223372036854775807 - 1) ELSE name END \
                   FROM users ORDER BY id";
    let fetch = aiter_sqlite::pages(rt.clone(), &path, failing, PAGE, user);
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut seen = 0i64;
    let err = loop {
        match next(&mut cursor).await.expect("the error comes first") {
            Ok((id, _)) => {
                seen += 1;
                assert_eq!(id, seen);
            }
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 2_000, "pages 0 and 1 whole");
    assert_eq!(err.from(), Some(&2_000), "the page at row 2000 failed");
    let QueryError::Row { row, .. } = err.error() else {
        panic!("a row error: {err}")
    };
    assert_eq!(*row, 2_499);
    assert_eq!(next(&mut cursor).await.map(|r| r.is_ok()), None);

    let healthy = aiter_sqlite::pages(
        rt,
        &path,
        "SELECT id, name FROM users ORDER BY id",
        PAGE,
        user,
    );
    let mut rest = pin!(Cursor::resume(err.from().copied(), healthy));
    let mut expected = 2_001;
    while let Some(row) = next(&mut rest).await {
        assert_eq!(row.expect("no error").0, expected);
        expected += 1;
    }
    assert_eq!(expected, 5_001);
}

/// The statement is held open across pages (a writer cannot take the
/// database) and dropping the cursor midway closes it (the writer can).
async fn dropping_the_cursor_midway_releases_the_database<R: Runtime>(rt: R) {
    let (_dir, path) = demo_db(10_000);
    let fetch = aiter_sqlite::pages(
        rt,
        &path,
        "SELECT id, name FROM users ORDER BY id",
        PAGE,
        user,
    );
    let mut cursor = Box::pin(Cursor::new(fetch).prefetch(1));
    for id in 1..=1_500 {
        assert_eq!(next(&mut cursor).await.unwrap().unwrap().0, id);
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

on_every_runtime!(
    streams_100k_rows_in_order_holding_at_most_two_pages,
    pages_come_whole,
    bad_sql_is_a_typed_error_item,
    a_missing_table_is_a_typed_error_item,
    a_missing_database_file_is_a_typed_error_item,
    a_failing_row_ends_the_stream_at_its_page_and_resume_continues,
    dropping_the_cursor_midway_releases_the_database,
);
