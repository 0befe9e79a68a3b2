//! End-to-end tests of `aiter query`: the built binary on real SQLite files.
//! Each test runs on the default runtime (tokio); the `*_on_every_runtime`
//! tests run on all three.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use aiter_sqlite::rusqlite::Connection;
use serde_json::Value;

const RUNTIMES: [&str; 3] = ["tokio", "async-std", "smol"];

mod support;

use support::{aiter, stderr_of, stdout_of};

/// A database file in a fresh temp dir with a `users(id, name, email)`
/// table of `rows` rows (`user-<id>`, `user-<id>@example.com`).
fn users_db(rows: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
             WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {rows})
             INSERT INTO users SELECT id, 'user-' || id, 'user-' || id || '@example.com' FROM n;"
        ))
        .unwrap();
    (dir, path)
}

fn query(db: &Path, sql: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    aiter().arg("query").arg(db).arg(sql).args(args).assert()
}

fn demo_rows(runtime: &str) {
    let assert = aiter()
        .args(["query", "--demo", "--runtime", runtime])
        .assert()
        .success();
    let out = stdout_of(&assert);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 100_000, "{runtime}");
    assert_eq!(rows[0], "1\tuser-1\tuser-1@example.com\t19");
    assert_eq!(
        rows[99_999],
        "100000\tuser-100000\tuser-100000@example.com\t58"
    );
}

#[test]
fn query_demo_streams_100k_rows_on_every_runtime() {
    for runtime in RUNTIMES {
        demo_rows(runtime);
    }
}

#[test]
fn query_demo_json_lines_parse_with_column_keys() {
    let assert = aiter()
        .args(["query", "--demo", "--json", "--page-size", "333"])
        .assert()
        .success();
    let out = stdout_of(&assert);
    let mut n = 0u64;
    for line in out.lines() {
        let row: Value = serde_json::from_str(line).expect("each line is JSON");
        n += 1;
        assert_eq!(row["id"], n);
        assert_eq!(row["name"], format!("user-{n}"));
        assert_eq!(row["age"], 18 + n % 60);
    }
    assert_eq!(n, 100_000);
}

#[test]
fn query_demo_takes_sql_and_a_header() {
    let assert = aiter()
        .args([
            "query",
            "--demo",
            "--header",
            "SELECT count(*) AS n, NULL AS empty, 'a\tb' AS tab FROM users",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(&assert), "n\tempty\ttab\n100000\t\\N\ta\\tb\n");
}

#[test]
fn query_errors_are_clear_messages_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let assert = query(&missing, "SELECT 1", &[]).code(1);
    assert!(stdout_of(&assert).is_empty());
    assert_eq!(
        stderr_of(&assert),
        format!("aiter: {}: no such file or directory\n", missing.display())
    );
    assert!(!missing.exists(), "a missing database is not created");

    let assert = aiter()
        .args(["query", "--demo", "SELEC oops"])
        .assert()
        .code(1);
    let err = stderr_of(&assert);
    assert!(
        err.starts_with("aiter: ")
            && err.contains("cannot prepare `SELEC oops`: ")
            && err.contains("syntax error"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let not_a_db = dir.path().join("text.db");
    std::fs::write(
        &not_a_db,
        "this is not a database, just some text\n".repeat(100),
    )
    .unwrap();
    let assert = query(&not_a_db, "SELECT * FROM sqlite_master", &[]).code(1);
    let err = stderr_of(&assert);
    assert!(
        err.contains(&not_a_db.display().to_string()) && err.contains("not a database"),
        "{err}"
    );
}

#[test]
fn query_on_a_real_file_with_json_on_every_runtime() {
    let (_dir, db) = users_db(2_500);
    for runtime in RUNTIMES {
        let assert = query(
            &db,
            "SELECT id, email FROM users WHERE id % 2 = 0 ORDER BY id",
            &["--json", "--page-size", "100", "--runtime", runtime],
        )
        .success();
        let rows: Vec<Value> = stdout_of(&assert)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1_250, "{runtime}");
        assert_eq!(rows[1_249]["id"], 2_500);
        assert_eq!(rows[0]["email"], "user-2@example.com");
    }
}

/// Regression: invalid UTF-8 at row 1 500 of 2 500 panicked the query
/// thread and only rows 1–1 000 were printed.
#[test]
fn invalid_utf8_is_one_error_the_rows_after_it_print_and_exit_1_on_every_runtime() {
    let (_dir, db) = users_db(2_500);
    Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE users SET name = CAST(x'757365722dff' AS TEXT) WHERE id = 1500",
            [],
        )
        .unwrap();
    let sql = "SELECT id, name FROM users ORDER BY id";
    for runtime in RUNTIMES {
        let assert = query(&db, sql, &["--runtime", runtime]).code(1);
        let out = stdout_of(&assert);
        let ids: Vec<u32> = out
            .lines()
            .map(|l| l.split('\t').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 2_499, "{runtime}");
        assert_eq!(ids[1_498..1_500], [1_499, 1_501], "{runtime}");
        let err = stderr_of(&assert);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "aiter: {}: row 1500, column 2 (name): cannot read the value: ",
                db.display()
            )) && err.contains("utf-8"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let assert = query(&db, sql, &["--lossy"]).success();
    assert!(stderr_of(&assert).is_empty());
    let out = stdout_of(&assert);
    assert_eq!(out.lines().count(), 2_500);
    assert_eq!(out.lines().nth(1_499), Some("1500\tuser-\u{FFFD}"));
}

/// Regression: `--page-size 4294967296` aborted (a page's memory was
/// reserved up front) and 2^64-1 overflowed, even with `LIMIT 3`.
#[test]
fn huge_page_sizes_cost_only_the_rows_fetched() {
    let (_dir, db) = users_db(10);
    for size in ["4294967296", "18446744073709551615"] {
        let assert = query(
            &db,
            "SELECT id FROM users ORDER BY id LIMIT 3",
            &["--page-size", size],
        )
        .success();
        assert_eq!(stdout_of(&assert), "1\n2\n3\n", "{size}");
    }
    query(&db, "SELECT 1", &["--page-size", "0"]).code(2);
}

/// Regression: `VACUUM INTO 'copy.db'` created a file through the
/// read-only connection.
#[test]
fn statements_that_may_write_are_refused_before_they_run() {
    let (dir, db) = users_db(10);
    let copy = dir.path().join("copy.db");
    for sql in [
        format!("VACUUM INTO '{}'", copy.display()),
        "DELETE FROM users".to_owned(),
        "DELETE FROM users RETURNING id".to_owned(),
        "INSERT INTO users VALUES (11, 'x', 'y') RETURNING id".to_owned(),
        "CREATE TABLE x (a)".to_owned(),
    ] {
        let assert = query(&db, &sql, &[]).code(1);
        assert!(stdout_of(&assert).is_empty());
        let err = stderr_of(&assert);
        assert!(err.contains("not a read-only statement"), "{sql}: {err}");
    }
    assert!(!copy.exists(), "nothing created");
    let assert = query(&db, "ATTACH 'other.db' AS o", &[]).code(1);
    assert!(stderr_of(&assert).contains("not a query"));
    let assert = query(&db, "SELECT count(*) FROM users", &[]).success();
    assert_eq!(stdout_of(&assert), "10\n", "nothing deleted");
}

/// Regression: `SELECT 1; SELECT 2` silently ran the first statement, `""`
/// said "row 0: not an error", errors before any row said "row 0".
#[test]
fn exactly_one_statement_and_errors_never_say_row_0() {
    let memory = Path::new(":memory:");
    let assert = query(memory, "SELECT 1;", &[]).success();
    assert_eq!(stdout_of(&assert), "1\n");
    let assert = query(memory, "SELECT 1; SELECT 2", &[]).code(1);
    assert!(stdout_of(&assert).is_empty());
    assert_eq!(
        stderr_of(&assert),
        "aiter: :memory:: `SELECT 1; SELECT 2` holds more than one statement (one query at a time)\n"
    );
    for sql in ["", "  ;"] {
        let assert = query(memory, sql, &[]).code(1);
        assert_eq!(
            stderr_of(&assert),
            "aiter: :memory:: the SQL holds no statement\n"
        );
    }
    let assert = query(memory, "SELECT abs(-9223372036854775807 - 1)", &[]).code(1);
    let err = stderr_of(&assert);
    assert!(
        err.starts_with("aiter: :memory:: the query failed before its first row: ")
            && err.contains("integer overflow"),
        "{err}"
    );
    assert!(!err.contains("row 0"), "{err}");

    // A step failing midway: the rows before it are out, then the error.
    let (_dir, db) = users_db(3_000);
    let sql = "SELECT CASE WHEN id = 2500 THEN abs(-9223372036854775807 - 1) ELSE id END \
               FROM users";
    let assert = query(&db, sql, &[]).code(1);
    assert_eq!(stdout_of(&assert).lines().count(), 2_499);
    assert!(
        stderr_of(&assert).contains(": the query failed at row 2500: "),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn params_bind_by_position_on_every_runtime() {
    let (_dir, db) = users_db(100);
    for runtime in RUNTIMES {
        let assert = query(
            &db,
            "SELECT id, name FROM users WHERE id > $1 AND name LIKE $2 ORDER BY id",
            &["--param", "95", "--param", "user-9%", "--runtime", runtime],
        )
        .success();
        assert_eq!(
            stdout_of(&assert),
            "96\tuser-96\n97\tuser-97\n98\tuser-98\n99\tuser-99\n"
        );
    }
    let assert = query(
        Path::new(":memory:"),
        "SELECT ?2, ?1, ?1 || ?2, typeof(?1)",
        &["--param", "-a", "--param", "'; DROP TABLE users; --"],
    )
    .success();
    assert_eq!(
        stdout_of(&assert),
        "'; DROP TABLE users; --\t-a\t-a'; DROP TABLE users; --\ttext\n"
    );
    let assert = query(&db, "SELECT ?1, ?2", &["--param", "1"]).code(1);
    assert!(
        stderr_of(&assert).contains("the SQL uses parameter 2 but 1 was given"),
        "{}",
        stderr_of(&assert)
    );
    let assert = query(&db, "SELECT 1", &["--param", "1"]).code(1);
    assert!(stderr_of(&assert).contains("parameter 1 was given but the SQL does not use it"));
}

/// Regression: NULL and `''` printed the same; a literal backslash was
/// ambiguous; BLOBs printed as hex text.
#[test]
fn tsv_tells_null_empty_backslash_and_blob_apart() {
    let assert = query(
        Path::new(":memory:"),
        "SELECT NULL, '', '\\N', 'a\\b', 'tab\there', x'00ff', 'x''00ff''', 2.5, -7",
        &["--header"],
    )
    .success();
    let out = stdout_of(&assert);
    let mut lines = out.lines();
    lines.next().expect("the header");
    assert_eq!(
        lines.next(),
        Some("\\N\t\t\\\\N\ta\\\\b\ttab\\there\t\\x00ff\tx'00ff'\t2.5\t-7")
    );
}

/// Regression: JSON wrote `{"a":1,"a":2}` and BLOBs as hex strings.
#[test]
fn json_keeps_repeated_columns_apart_and_tags_blobs() {
    let assert = query(
        Path::new(":memory:"),
        "SELECT 1 AS a, 2 AS a, x'00ff' AS b, '00ff' AS t, NULL AS n",
        &["--json"],
    )
    .success();
    let out = stdout_of(&assert);
    assert_eq!(
        out,
        "{\"a\":1,\"a_2\":2,\"b\":{\"$blob\":\"00ff\"},\"t\":\"00ff\",\"n\":null}\n"
    );
    let row: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(row.as_object().unwrap().len(), 5);
}

/// Every file in `dir`, recursively (what a demo left behind).
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Regression: an interrupted `--demo` left its `aiter-demo-*/demo.db`
/// behind in the temp directory.
#[test]
fn demo_removes_its_database_on_sigint_sigterm_and_at_exit() {
    let tmp = tempfile::tempdir().unwrap();
    aiter()
        .env("TMPDIR", tmp.path())
        .args(["query", "--demo", "SELECT count(*) FROM users"])
        .assert()
        .success();
    assert_eq!(leftovers(tmp.path()), Vec::<PathBuf>::new());

    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiter"))
            .env("TMPDIR", tmp.path())
            .args(["query", "--demo", "--page-size", "100"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The first row: the database exists and the query runs (then
        // blocks on the pipe nobody reads).
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "1\tuser-1\tuser-1@example.com\t19\n");
        assert_eq!(leftovers(tmp.path()).len(), 1, "the demo directory");
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        let status = child.wait().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(status.code(), Some(code), "{signal}");
        assert_eq!(leftovers(tmp.path()), Vec::<PathBuf>::new(), "{signal}");
    }
}
