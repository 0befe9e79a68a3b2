//! The cursor over a real PostgreSQL server on every runtime: a server-side
//! cursor (`DECLARE` / `FETCH n`) and keyset pages, through
//! `aiter-postgres`. The server comes from `tests/support/postgres.rs`
//! (`AITER_TEST_POSTGRES`, or a throwaway cluster of this process).
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, postgres, Runtime};

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use aiter::cursor::Cursor;
use aiter::{next, FusedStream};
use aiter_postgres::tokio_postgres::error::SqlState;
use aiter_postgres::{Config, Error, Keyset, Net, Query, SimpleQueryRow};

/// What a test needs of its runtime value.
trait PgRuntime: Runtime + Net {}
impl<T: Runtime + Net> PgRuntime for T {}

/// The test server's settings with an `application_name` of its own, so a
/// test can find (and kill) its cursor's backend; `None`: no server (the
/// support module said why).
fn config() -> Option<(Config, String)> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = postgres::server()?;
    let name = format!(
        "aiter-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut config: Config = server.parse().expect("AITER_TEST_POSTGRES parses");
    config.application_name(&name);
    Some((config, name))
}

/// Column `i` of `row` as an integer.
fn int(row: &SimpleQueryRow, i: usize) -> i64 {
    row.get(i).expect("not NULL").parse().expect("an integer")
}

/// Every row of a cursor, stopping at the first error.
async fn collect<S>(stream: S) -> (Vec<SimpleQueryRow>, Option<S::Item>)
where
    S: aiter::Stream<Item = Result<SimpleQueryRow, aiter::cursor::FetchError<Error, u64>>>,
{
    let mut stream = pin!(stream);
    let mut rows = Vec::new();
    while let Some(item) = next(&mut stream).await {
        match item {
            Ok(row) => rows.push(row),
            Err(e) => return (rows, Some(Err(e))),
        }
    }
    (rows, None)
}

async fn pages_deliver_every_row_in_order<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    // 10 000 rows in pages of 1 000, and a result that is an exact
    // multiple of the page size (its last page is empty).
    for (rows, page) in [(10_000, 1_000), (3_000, 1_000), (0, 10), (1, 1)] {
        let query = Query::new(format!(
            "SELECT g, 'row ' || g, NULL FROM generate_series(1, {rows}) AS g ORDER BY g"
        ))
        .page_size(page);
        let fetch = aiter_postgres::pages(rt.clone(), config.clone(), query);
        let (got, error) = collect(Cursor::new(fetch).prefetch(1)).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(got.len(), rows as usize);
        for (i, row) in got.iter().enumerate() {
            let n = i as i64 + 1;
            assert_eq!(int(row, 0), n);
            assert_eq!(row.get(1), Some(format!("row {n}").as_str()));
            assert_eq!(row.get(2), None);
        }
    }
}

async fn values_come_in_postgres_text_form<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    let query = Query::new(
        "SELECT 1.50::numeric, 1e15::float8, true, '\\x00ff'::bytea, ARRAY[1, NULL, 3], \
         '{\"a\": 1}'::jsonb, 'a\tb\nc\\d'",
    );
    let fetch = aiter_postgres::pages(rt, config, query);
    let (rows, error) = collect(Cursor::new(fetch)).await;
    assert!(error.is_none(), "{error:?}");
    let values: Vec<_> = (0..7).map(|i| rows[0].get(i).unwrap()).collect();
    assert_eq!(
        values,
        [
            "1.50",
            "1e+15",
            "t",
            "\\x00ff",
            "{1,NULL,3}",
            "{\"a\": 1}",
            "a\tb\nc\\d"
        ]
    );
}

async fn params_are_bound_with_server_inferred_types<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    let query = Query::new("SELECT g, $2, $3::int IS NULL FROM generate_series(1, $1) AS g;")
        .param(2_500)
        .param("it's $2; -- not SQL")
        .param(aiter_postgres::Param::NULL)
        .page_size(1_000);
    let fetch = aiter_postgres::pages(rt, config, query);
    let (rows, error) = collect(Cursor::new(fetch).prefetch(1)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rows.len(), 2_500);
    assert_eq!(rows[2_499].get(1), Some("it's $2; -- not SQL"));
    assert_eq!(rows[0].get(2), Some("t"));
}

async fn the_transaction_is_read_only_unless_asked<R: PgRuntime>(rt: R) {
    let Some((config, name)) = config() else {
        return;
    };
    let sql = "SELECT current_setting('transaction_read_only')";
    for (query, expected) in [
        (Query::new(sql), "on"),
        (Query::new(sql).read_write(), "off"),
    ] {
        let fetch = aiter_postgres::pages(rt.clone(), config.clone(), query);
        let (rows, error) = collect(Cursor::new(fetch)).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(rows[0].get(0), Some(expected));
    }
    // A function that writes is refused by the read-only transaction.
    let server = postgres::server().unwrap();
    let sequence = name.replace('-', "_");
    postgres::psql(server, &format!("CREATE SEQUENCE {sequence}"));
    let sql = format!("SELECT nextval('{sequence}')");
    let fetch = aiter_postgres::pages(rt.clone(), config.clone(), Query::new(&sql));
    let (_, error) = collect(Cursor::new(fetch)).await;
    let error = error.expect("an error").unwrap_err().into_error();
    assert!(matches!(error, Error::Query { .. }), "{error:?}");
    assert_eq!(error.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
    let fetch = aiter_postgres::pages(rt, config, Query::new(&sql).read_write());
    let (rows, error) = collect(Cursor::new(fetch)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rows[0].get(0), Some("1"));
    postgres::psql(server, &format!("DROP SEQUENCE {sequence}"));
}

async fn bad_sql_is_a_query_error_with_the_server_code<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    for (sql, code) in [
        (
            "SELECT * FROM aiter_no_such_table",
            SqlState::UNDEFINED_TABLE,
        ),
        ("SELECT 1; SELECT 2", SqlState::SYNTAX_ERROR),
        ("SELEC 1", SqlState::SYNTAX_ERROR),
        (
            "SELECT 1 / (g - 5) FROM generate_series(1, 9) AS g",
            SqlState::DIVISION_BY_ZERO,
        ),
    ] {
        let fetch = aiter_postgres::pages(rt.clone(), config.clone(), Query::new(sql).page_size(2));
        let mut cursor = pin!(Cursor::new(fetch));
        let error = loop {
            match next(&mut cursor).await.expect("an error before the end") {
                Ok(_) => continue,
                Err(e) => break e.into_error(),
            }
        };
        assert!(matches!(error, Error::Query { .. }), "{sql}: {error:?}");
        assert_eq!(error.code(), Some(&code), "{sql}: {error:?}");
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(next(&mut cursor).await.map(|r| r.is_ok()), None);
        assert!(cursor.is_terminated());
    }
}

async fn no_server_is_a_connect_error<R: PgRuntime>(rt: R) {
    let dir = support::temp_dir();
    let config: Config = format!("host={} user=postgres", dir.path().display())
        .parse()
        .unwrap();
    let fetch = aiter_postgres::pages(rt.clone(), config.clone(), Query::new("SELECT 1"));
    let (_, error) = collect(Cursor::new(fetch)).await;
    let error = error.expect("an error").unwrap_err().into_error();
    let Error::Connect { target, source } = &error else {
        panic!("{error:?}")
    };
    assert!(target.ends_with(".s.PGSQL.5432"), "{target}");
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(error
        .to_string()
        .starts_with("cannot connect to server at socket "));
    let columns = aiter_postgres::columns(&rt, &config, &Query::new("SELECT 1")).await;
    assert!(matches!(columns, Err(Error::Connect { .. })));
}

async fn columns_are_named_without_running_the_query<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    let query = Query::new("SELECT 1 AS a, 2 AS a, 'x' AS \"B c\" WHERE false");
    let columns = aiter_postgres::columns(&rt, &config, &query).await.unwrap();
    assert_eq!(columns, ["a", "a", "B c"]);
}

async fn keyset_walks_in_key_order<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    // Text keys: the position is the key's text, parsed back by the server.
    let query = Query::new(
        "SELECT lpad(g::text, 5, '0') AS k, g FROM generate_series(1, 5000) AS g WHERE g % $1 <> 0",
    )
    .param(7)
    .page_size(700);
    let fetch = aiter_postgres::keyset(rt, config, query, Keyset::new("k"));
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut got = Vec::new();
    while let Some(row) = next(&mut cursor).await {
        got.push(int(&row.unwrap(), 1));
    }
    let expected: Vec<i64> = (1..=5000).filter(|g| g % 7 != 0).collect();
    assert_eq!(got, expected);
}

async fn keyset_errors_name_the_key<R: PgRuntime>(rt: R) {
    let Some((config, _)) = config() else { return };
    for (sql, key) in [
        ("SELECT g AS id FROM generate_series(1, 10) AS g", "nope"),
        (
            "SELECT NULL::int AS id FROM generate_series(1, 10) AS g",
            "id",
        ),
    ] {
        let fetch = aiter_postgres::keyset(
            rt.clone(),
            config.clone(),
            Query::new(sql).page_size(3),
            Keyset::new(key),
        );
        let (_, error) = collect_keyset(Cursor::new(fetch)).await;
        let error = error.expect("an error");
        assert!(
            matches!(error, Error::Query { .. } | Error::NullKey { .. }),
            "{sql}: {error:?}"
        );
    }
}

async fn collect_keyset<S>(stream: S) -> (Vec<SimpleQueryRow>, Option<Error>)
where
    S: aiter::Stream<Item = Result<SimpleQueryRow, aiter::cursor::FetchError<Error, String>>>,
{
    let mut stream = pin!(stream);
    let mut rows = Vec::new();
    while let Some(item) = next(&mut stream).await {
        match item {
            Ok(row) => rows.push(row),
            Err(e) => return (rows, Some(e.into_error())),
        }
    }
    (rows, None)
}

/// The regression the keyset mode exists for: the backend serving the
/// walk is terminated mid-stream; the walk goes on on a new connection
/// from the last key delivered, losing and repeating nothing.
async fn keyset_resumes_after_the_backend_is_killed<R: PgRuntime>(rt: R) {
    let Some((config, name)) = config() else {
        return;
    };
    let server = postgres::server().unwrap().to_owned();
    let query =
        Query::new("SELECT g AS id, pg_backend_pid() AS pid FROM generate_series(1, 10000) AS g")
            .page_size(1_000);
    let fetch = aiter_postgres::keyset(rt.clone(), config, query, Keyset::new("id"));
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let (mut ids, mut pids) = (Vec::new(), Vec::new());
    while let Some(row) = next(&mut cursor).await {
        let row = row.expect("the walk survives the kill");
        ids.push(int(&row, 0));
        pids.push(int(&row, 1));
        if ids.len() == 2_500 {
            let (server, name) = (server.clone(), name.clone());
            let killed = rt
                .unblock(move || postgres::terminate(&server, &name))
                .await;
            assert_eq!(killed, 1, "the walk's backend was running");
        }
    }
    assert_eq!(ids, (1..=10_000).collect::<Vec<_>>());
    pids.dedup();
    assert!(pids.len() >= 2, "a new backend took over: {pids:?}");
}

/// Without reconnects, the kill ends the walk with `ConnectionLost`; a
/// cursor resumed from the error's position finishes it exactly.
async fn keyset_resumes_from_the_error_position<R: PgRuntime>(rt: R) {
    let Some((config, name)) = config() else {
        return;
    };
    let server = postgres::server().unwrap().to_owned();
    let query = Query::new("SELECT g AS id FROM generate_series(1, 6000) AS g").page_size(1_000);
    let keys = Keyset::new("id").reconnects(0);
    let fetch = aiter_postgres::keyset(rt.clone(), config.clone(), query.clone(), keys.clone());
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut ids = Vec::new();
    let error = loop {
        match next(&mut cursor).await.expect("an error before the end") {
            Ok(row) => ids.push(int(&row, 0)),
            Err(e) => break e,
        }
        if ids.len() == 1_500 {
            let (server, name) = (server.clone(), name.clone());
            rt.unblock(move || postgres::terminate(&server, &name))
                .await;
        }
    };
    assert!(error.error().is_connection_lost(), "{error:?}");
    assert_eq!(error.error().code(), Some(&SqlState::ADMIN_SHUTDOWN));
    let from = error.from().cloned();
    assert_eq!(
        from.as_deref(),
        Some(ids.last().unwrap().to_string().as_str())
    );
    let fetch = aiter_postgres::keyset(rt, config, query, keys);
    let (rest, error) = collect_keyset(Cursor::resume(from, fetch)).await;
    assert!(error.is_none(), "{error:?}");
    ids.extend(rest.iter().map(|row| int(row, 0)));
    assert_eq!(ids, (1..=6_000).collect::<Vec<_>>());
}

/// The server-side cursor dies with its connection: the error comes after
/// every row before it, and a cursor resumed from its position (a row
/// count) declares the query again and skips what was delivered.
async fn cursor_killed_mid_stream_errors_then_resumes<R: PgRuntime>(rt: R) {
    let Some((config, name)) = config() else {
        return;
    };
    let server = postgres::server().unwrap().to_owned();
    let query = Query::new("SELECT g FROM generate_series(1, 8000) AS g ORDER BY g").page_size(500);
    let fetch = aiter_postgres::pages(rt.clone(), config.clone(), query.clone());
    let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
    let mut got = Vec::new();
    let error = loop {
        match next(&mut cursor).await.expect("an error before the end") {
            Ok(row) => got.push(int(&row, 0)),
            Err(e) => break e,
        }
        if got.len() == 1_200 {
            let (server, name) = (server.clone(), name.clone());
            rt.unblock(move || postgres::terminate(&server, &name))
                .await;
        }
    };
    assert!(error.error().is_connection_lost(), "{error:?}");
    assert!(next(&mut cursor).await.is_none());
    // What came is a prefix of the answer.
    assert_eq!(got, (1..=got.len() as i64).collect::<Vec<_>>());
    assert_eq!(error.from(), Some(&(got.len() as u64)));
    let fetch = aiter_postgres::pages(rt, config, query);
    let (rest, error) = collect(Cursor::resume(error.from().copied(), fetch)).await;
    assert!(error.is_none(), "{error:?}");
    got.extend(rest.iter().map(|row| int(row, 0)));
    assert_eq!(got, (1..=8_000).collect::<Vec<_>>());
}

/// Dropping the cursor mid-stream closes its connection (no backend is
/// left behind).
async fn dropping_the_cursor_closes_its_connection<R: PgRuntime>(rt: R) {
    let Some((config, name)) = config() else {
        return;
    };
    let server = postgres::server().unwrap().to_owned();
    let count = move || {
        let out = postgres::psql(
            &server,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"),
        );
        String::from_utf8(out)
            .unwrap()
            .trim()
            .parse::<usize>()
            .unwrap()
    };
    {
        let query = Query::new("SELECT g FROM generate_series(1, 100000) AS g").page_size(100);
        let fetch = aiter_postgres::pages(rt.clone(), config, query);
        let mut cursor = pin!(Cursor::new(fetch).prefetch(1));
        for _ in 0..250 {
            next(&mut cursor).await.unwrap().unwrap();
        }
        let count = count.clone();
        assert_eq!(rt.unblock(count).await, 1);
    }
    let mut left = usize::MAX;
    for _ in 0..200 {
        let count = count.clone();
        left = rt.unblock(count).await;
        if left == 0 {
            break;
        }
        rt.sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(left, 0, "the dropped cursor's backend is gone");
}

/// A `next` future dropped while its page is on the wire loses nothing:
/// the page arrives for the next call.
async fn next_dropped_mid_fetch_loses_nothing<R: PgRuntime>(rt: R) {
    use futures::FutureExt;
    let Some((config, _)) = config() else { return };
    for (sql, keyset) in [
        (
            "SELECT g FROM generate_series(1, 3000) AS g ORDER BY g",
            false,
        ),
        ("SELECT g FROM generate_series(1, 3000) AS g", true),
    ] {
        let query = Query::new(sql).page_size(250);
        let mut got = Vec::new();
        let mut dropped = 0;
        macro_rules! drain {
            ($cursor:expr) => {{
                let mut cursor = pin!($cursor);
                loop {
                    // Poll once and drop the future if the page is not there yet.
                    match next(&mut cursor).now_or_never() {
                        Some(Some(row)) => got.push(int(&row.unwrap(), 0)),
                        Some(None) => break,
                        None => {
                            dropped += 1;
                            rt.sleep(std::time::Duration::from_micros(200)).await;
                        }
                    }
                }
            }};
        }
        if keyset {
            drain!(Cursor::new(aiter_postgres::keyset(
                rt.clone(),
                config.clone(),
                query,
                Keyset::new("g")
            ))
            .prefetch(1));
        } else {
            drain!(
                Cursor::new(aiter_postgres::pages(rt.clone(), config.clone(), query)).prefetch(1)
            );
        }
        assert_eq!(got, (1..=3_000).collect::<Vec<_>>());
        assert!(dropped > 0, "some polls found the page on the wire");
    }
}

on_every_runtime!(
    next_dropped_mid_fetch_loses_nothing,
    pages_deliver_every_row_in_order,
    values_come_in_postgres_text_form,
    params_are_bound_with_server_inferred_types,
    the_transaction_is_read_only_unless_asked,
    bad_sql_is_a_query_error_with_the_server_code,
    no_server_is_a_connect_error,
    columns_are_named_without_running_the_query,
    keyset_walks_in_key_order,
    keyset_errors_name_the_key,
    keyset_resumes_after_the_backend_is_killed,
    keyset_resumes_from_the_error_position,
    cursor_killed_mid_stream_errors_then_resumes,
    dropping_the_cursor_closes_its_connection,
);
