//! Unit tests on a blocking pool that runs the closure at once; the
//! behaviour suite on every runtime is the workspace's
//! `tests/cursor_sqlite.rs`.

use super::*;
use aiter_core::cursor::{Cursor, FetchError};
use core::future::{ready, Ready};
use rusqlite::types::Value;
use rusqlite::Connection;

/// A blocking "pool" that runs the closure at once.
#[derive(Clone, Copy)]
struct Inline;

impl aiter_core::rt::Blocking for Inline {
    type Task<T: Send + 'static> = Ready<T>;
    fn unblock<F: FnOnce() -> T + Send + 'static, T: Send + 'static>(&self, f: F) -> Ready<T> {
        ready(f())
    }
}

type Item<T> = Result<Result<T, QueryError>, FetchError<QueryError, u64>>;

fn collect<T: Send + 'static>(
    database: Database,
    query: Query,
    map_row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Send + 'static,
) -> Vec<Item<T>> {
    let fetch = pages(Inline, database, query, map_row);
    futures::executor::block_on(futures::StreamExt::collect(Cursor::new(fetch).prefetch(1)))
}

fn first_error(database: Database, query: Query) -> QueryError {
    let items = collect(database, query, row_values);
    assert_eq!(items.len(), 1, "one error, then the end");
    items.into_iter().next().unwrap().unwrap_err().into_error()
}

/// An in-memory database with `t(id, s)`, filled by `sql`.
fn memory_with(sql: &'static str) -> Database {
    Database::opener("mem", move || {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(sql)?;
        Ok(conn)
    })
}

#[test]
fn values_of_every_type_come_through() {
    let items = collect(
        Database::memory(),
        Query::new("SELECT 1, 2.5, NULL, 'text', x'00ff'"),
        row_values,
    );
    let row = items.into_iter().next().unwrap().unwrap().unwrap();
    assert_eq!(
        row,
        [
            Value::Integer(1),
            Value::Real(2.5),
            Value::Null,
            Value::Text("text".into()),
            Value::Blob(vec![0, 255])
        ]
    );
}

#[test]
fn invalid_utf8_is_one_value_error_naming_row_and_column_and_the_rest_follow() {
    let sql = "SELECT id, CASE WHEN id = 2 THEN CAST(x'61ff62' AS TEXT) ELSE 'ok' END AS s \
               FROM (SELECT 1 AS id UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY id";
    let items = collect(Database::memory(), Query::new(sql).page_size(2), row_values);
    assert_eq!(items.len(), 3);
    let rows: Vec<_> = items.into_iter().map(|i| i.unwrap()).collect();
    assert_eq!(rows[0].as_ref().unwrap()[0], Value::Integer(1));
    let QueryError::Value {
        row,
        column,
        source,
        ..
    } = rows[1].as_ref().unwrap_err()
    else {
        panic!("a value error: {:?}", rows[1])
    };
    assert_eq!(*row, 2);
    let column = column.as_ref().unwrap();
    assert_eq!((column.number, &*column.name), (2, "s"));
    assert!(matches!(
        **source,
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, _)
    ));
    assert_eq!(rows[2].as_ref().unwrap()[0], Value::Integer(3));

    let lossy = collect(Database::memory(), Query::new(sql), row_values_lossy);
    let row = lossy[1].as_ref().unwrap().as_ref().unwrap();
    assert_eq!(row[1], Value::Text("a\u{FFFD}b".into()));
}

#[test]
fn a_huge_page_size_reserves_nothing_up_front() {
    for size in [usize::MAX, 1 << 32] {
        let fetch = pages(
            Inline,
            Database::memory(),
            Query::new("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3").page_size(size),
            |row| row.get::<_, i64>(0),
        );
        let pages: Vec<_> =
            futures::executor::block_on(futures::StreamExt::collect(Cursor::new(fetch).pages()));
        assert_eq!(pages.len(), 1);
        let page = pages.into_iter().next().unwrap().unwrap();
        assert_eq!(page.items.len(), 3);
        assert!(page.items.capacity() <= 1_024, "{}", page.items.capacity());
        assert!(page.next.is_done());
    }
}

#[test]
fn statements_that_may_write_are_refused_before_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
        .unwrap();
    let copy = dir.path().join("copy.db");
    let writes = [
        format!("VACUUM INTO '{}'", copy.display()),
        "DELETE FROM t".to_owned(),
        "DELETE FROM t RETURNING id".to_owned(),
        "INSERT INTO t VALUES (2) RETURNING id".to_owned(),
        "DROP TABLE t".to_owned(),
        "PRAGMA user_version = 3".to_owned(),
    ];
    for sql in writes {
        // A writable connection: the check is SQLite's, not the flags'.
        let writable = path.clone();
        let database = Database::opener("rw", move || Connection::open(writable));
        let e = first_error(database, Query::new(sql.as_str()));
        assert!(matches!(e, QueryError::NotReadOnly { .. }), "{sql}: {e}");
        assert!(e.to_string().contains("not a read-only statement"), "{e}");
    }
    assert!(!copy.exists(), "VACUUM INTO created nothing");
    let conn = Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    for sql in ["BEGIN", "ATTACH 'x.db' AS x", "SAVEPOINT s"] {
        let e = first_error(Database::path(&path), Query::new(sql));
        assert!(matches!(e, QueryError::NotAQuery { .. }), "{sql}: {e}");
    }
    assert!(!dir.path().join("x.db").exists());
}

#[test]
fn exactly_one_statement_runs() {
    for sql in [
        "SELECT 1;",
        "SELECT 1 ;  ",
        "SELECT 1; -- done",
        "SELECT 1;;",
    ] {
        let items = collect(Database::memory(), Query::new(sql), row_values);
        assert_eq!(items.len(), 1, "{sql}");
        assert!(items[0].as_ref().unwrap().is_ok(), "{sql}");
    }
    for sql in ["SELECT 1; SELECT 2", "SELECT 1; oops"] {
        let e = first_error(Database::memory(), Query::new(sql));
        assert!(matches!(e, QueryError::MultipleStatements { .. }), "{e}");
        assert!(e.to_string().contains("more than one statement"), "{e}");
    }
    for sql in ["", "  ", ";", "-- nothing"] {
        let e = first_error(Database::memory(), Query::new(sql));
        assert!(matches!(e, QueryError::Empty { .. }), "{sql:?}: {e}");
        assert_eq!(e.to_string(), ":memory:: the SQL holds no statement");
    }
}

#[test]
fn parameters_bind_by_position() {
    let rows = |query: Query| -> Vec<Vec<Value>> {
        collect(Database::memory(), query, row_values)
            .into_iter()
            .map(|i| i.unwrap().unwrap())
            .collect()
    };
    assert_eq!(
        rows(Query::new("SELECT $2, $1, $1, typeof($1)").params(["a".to_owned(), "b".to_owned()])),
        [vec![
            Value::Text("b".into()),
            Value::Text("a".into()),
            Value::Text("a".into()),
            Value::Text("text".into())
        ]]
    );
    assert_eq!(
        rows(Query::new("SELECT ?, ?").param(1).param(2.5)),
        [vec![Value::Integer(1), Value::Real(2.5)]]
    );
    let e = first_error(
        Database::memory(),
        Query::new("SELECT ?1, $1").params([1, 2]),
    );
    assert!(
        matches!(e, QueryError::UnusedParameter { number: 2, .. }),
        "{e}"
    );
    let e = first_error(Database::memory(), Query::new("SELECT $2").param(1));
    assert!(
        matches!(
            e,
            QueryError::MissingParameter {
                number: 2,
                given: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        ":memory:: the SQL uses parameter 2 but 1 was given"
    );
    let e = first_error(Database::memory(), Query::new("SELECT :name").param(1));
    assert!(matches!(e, QueryError::NamedParameter { .. }), "{e}");
}

#[test]
fn errors_keep_sqlite_s_error_as_source_and_out_of_the_message() {
    use std::error::Error as _;
    let e = first_error(Database::memory(), Query::new("SELEC 1"));
    assert_eq!(e.to_string(), ":memory:: cannot prepare `SELEC 1`");
    let source = e.source().expect("SQLite's error");
    assert!(source.to_string().contains("syntax error"), "{source}");
    assert!(matches!(
        e.sqlite_error(),
        Some(rusqlite::Error::SqlInputError { .. } | rusqlite::Error::SqliteFailure(..))
    ));
    let e = first_error(Database::path("/no/such/dir/x.db"), Query::new("SELECT 1"));
    assert!(matches!(e, QueryError::Open { .. }), "{e}");
    assert_eq!(e.database(), "/no/such/dir/x.db");
    // A non-SQLite error stays what it is (no made-up SQLite error).
    let e = first_error(
        Database::opener("mine", || Err(rusqlite::Error::InvalidPath("nope".into()))),
        Query::new("SELECT 1"),
    );
    assert!(
        matches!(e.sqlite_error(), Some(rusqlite::Error::InvalidPath(p)) if p.to_str() == Some("nope")),
        "{e:?}"
    );
}

#[test]
fn a_failing_step_says_which_row_and_never_row_0() {
    let overflow = "abs(-9223372036854775807 - 1)";
    let e = first_error(Database::memory(), Query::new(format!("SELECT {overflow}")));
    assert!(matches!(e, QueryError::Step { row: 1, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        ":memory:: the query failed before its first row"
    );
    let items = collect(
        memory_with("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2), (3);"),
        Query::new(format!(
            "SELECT CASE WHEN id = 3 THEN {overflow} ELSE id END FROM t"
        ))
        .page_size(2),
        |row| row.get::<_, i64>(0),
    );
    assert_eq!(items.len(), 3);
    let e = items[2].as_ref().unwrap_err();
    assert_eq!(e.from(), Some(&2));
    assert!(matches!(e.error(), QueryError::Step { row: 3, .. }), "{e}");
    assert_eq!(e.error().to_string(), "mem: the query failed at row 3");
}

#[test]
fn prepare_gives_the_columns_first() {
    let prepared = futures::executor::block_on(prepare(
        Inline,
        Database::memory(),
        Query::new("SELECT 1 AS a, 2 AS a, 3 AS b"),
    ))
    .unwrap();
    assert_eq!(prepared.columns(), ["a", "a", "b"]);
    let rows: Vec<_> = futures::executor::block_on(futures::StreamExt::collect(Cursor::new(
        prepared.pages(row_values),
    )));
    assert_eq!(rows.len(), 1);
    let e = futures::executor::block_on(prepare(Inline, Database::memory(), Query::new("")))
        .unwrap_err();
    assert!(matches!(e, QueryError::Empty { .. }));
}

#[test]
fn an_existing_connection_and_an_opener_with_pragmas() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (v); INSERT INTO t VALUES ('mine');")
        .unwrap();
    let items = collect(
        Database::connection("mine", conn),
        Query::new("SELECT v FROM t"),
        |row| row.get::<_, String>(0),
    );
    assert_eq!(items[0].as_ref().unwrap().as_ref().unwrap(), "mine");
    let tuned = Database::opener("tuned", || {
        let conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "user_version", 42)?;
        Ok(conn)
    });
    let items = collect(tuned, Query::new("PRAGMA user_version"), |row| {
        row.get::<_, i64>(0)
    });
    assert_eq!(*items[0].as_ref().unwrap().as_ref().unwrap(), 42);
}

#[test]
fn public_types_are_send_and_sync_where_it_matters() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<QueryError>();
    send_sync::<Query>();
    send::<Database>();
    send::<Prepared<Inline>>();
}

#[test]
fn a_panicking_row_function_is_a_worker_error_not_a_hang() {
    let items = collect(
        Database::memory(),
        Query::new("SELECT 1"),
        |_row: &rusqlite::Row<'_>| -> rusqlite::Result<i64> { panic!("the row function broke") },
    );
    assert_eq!(items.len(), 1);
    let e = items.into_iter().next().unwrap().unwrap_err().into_error();
    assert!(matches!(e, QueryError::Worker { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        ":memory:: query thread: it stopped (did the row function panic?)"
    );
}
