//! End-to-end tests of `aiter query postgresql://…`: the built binary
//! against a real server (see `tests/support/postgres.rs` at the
//! repository's root), its output compared byte for byte with `psql -At -F
//! '<TAB>' -P 'null=\N'`.

#[path = "../../../tests/support/postgres.rs"]
mod postgres;

use std::io::Read;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aiter_postgres::tokio_postgres::config::Host;
use aiter_postgres::Config;
use assert_cmd::Command;

const RUNTIMES: [&str; 3] = ["tokio", "async-std", "smol"];

fn aiter() -> Command {
    let mut command = Command::cargo_bin("aiter").expect("the aiter binary is built");
    // As `postgres::psql` runs psql: the same session time zone.
    command.env("PGTZ", "UTC").env_remove("PGDATESTYLE");
    command
}

/// `server` with `application_name=name` added (key=value or URL form).
fn named(server: &str, name: &str) -> String {
    if server.starts_with("postgres://") || server.starts_with("postgresql://") {
        let sep = if server.contains('?') { '&' } else { '?' };
        format!("{server}{sep}application_name={name}")
    } else {
        format!("{server} application_name={name}")
    }
}

/// Every PostgreSQL type psql prints in its own way, NULLs, tabs and
/// newlines inside values, a type with no binary output (aclitem[]).
const TYPES_SQL: &str = "SELECT 1, NULL, true, false, 0.1::float8, 1e15::float8, 1e-5::float8, \
    1e23::float8, 123456789012345, 'NaN'::float8, '-Infinity'::float8, 1.50::numeric, \
    '\\x00ff'::bytea, ARRAY[1, NULL, 3], ARRAY['a b', 'c\"d'], '{\"a\": 1}'::jsonb, \
    '2024-01-02 03:04:05.5+00'::timestamptz, '1 day 02:03:04'::interval, inet '1.2.3.4', \
    E'tab\\there\\nnew line\\\\', '', 'NULL', relacl \
    FROM pg_class WHERE relname = 'pg_class'";

#[test]
fn output_is_byte_identical_to_psql_on_every_runtime() {
    let Some(server) = postgres::server() else {
        return;
    };
    let many = "SELECT g, md5(g::text), CASE WHEN g % 3 = 0 THEN NULL ELSE g * 0.5 END \
                FROM generate_series(1, 5000) AS g ORDER BY g";
    for sql in [
        TYPES_SQL,
        many,
        "SELECT 1 WHERE false",
        "VALUES (1, 'a'), (2, NULL);",
    ] {
        let expected = postgres::psql(server, sql);
        for runtime in RUNTIMES {
            for page_size in ["1", "7", "1000"] {
                let assert = aiter()
                    .args([
                        "query",
                        server,
                        sql,
                        "--runtime",
                        runtime,
                        "--page-size",
                        page_size,
                    ])
                    .assert()
                    .success();
                assert!(
                    assert.get_output().stdout == expected,
                    "{runtime}, page size {page_size}, `{sql}`:\naiter:\n{}\npsql:\n{}",
                    String::from_utf8_lossy(&assert.get_output().stdout),
                    String::from_utf8_lossy(&expected)
                );
            }
        }
    }
}

#[test]
fn unix_socket_urls_and_key_value_strings_reach_the_server() {
    let Some(server) = postgres::server() else {
        return;
    };
    let config: Config = server.parse().unwrap();
    let Some(Host::Unix(dir)) = config.get_hosts().first() else {
        eprintln!("the test server is not on a unix socket: nothing to check");
        return;
    };
    let user = config.get_user().unwrap_or("postgres");
    let db = config.get_dbname().unwrap_or(user);
    let url = format!("postgresql:///{db}?host={}&user={user}", dir.display());
    let key_value = format!("host={} user={user} dbname={db}", dir.display());
    for target in [url, key_value] {
        aiter()
            .args(["query", &target, "SELECT current_user, 42"])
            .assert()
            .success()
            .stdout(format!("{user}\t42\n"));
    }
    // As libpq: settings the string leaves out come from PG* variables.
    aiter()
        .args(["query", &format!("dbname={db}"), "SELECT 7"])
        .env("PGHOST", dir)
        .env("PGUSER", user)
        .assert()
        .success()
        .stdout("7\n");
}

#[test]
fn params_header_and_json() {
    let Some(server) = postgres::server() else {
        return;
    };
    let sql = "SELECT g AS a, $2 AS a, $3::date AS d FROM generate_series(1, $1) AS g";
    let args = [
        "query",
        server,
        sql,
        "--param",
        "2",
        "--param",
        "x\ty",
        "--param",
        "2024-02-29",
    ];
    aiter()
        .args(args)
        .arg("--header")
        .assert()
        .success()
        .stdout("a\ta\td\n1\tx\ty\t2024-02-29\n2\tx\ty\t2024-02-29\n");
    aiter().args(args).arg("--json").assert().success().stdout(
        "{\"a\":\"1\",\"a_2\":\"x\\ty\",\"d\":\"2024-02-29\"}\n\
             {\"a\":\"2\",\"a_2\":\"x\\ty\",\"d\":\"2024-02-29\"}\n",
    );
    // No rows: the header alone.
    aiter()
        .args(["query", server, "SELECT 1 AS x WHERE false", "--header"])
        .assert()
        .success()
        .stdout("x\n");
}

#[test]
fn errors_are_clear_messages_with_exit_code_1() {
    let Some(server) = postgres::server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("host={} user=postgres", dir.path().display());
    let cases = [
        (
            nowhere.as_str(),
            "SELECT 1",
            "cannot connect to server at socket ",
        ),
        (
            server,
            "SELECT * FROM aiter_no_such_table",
            "relation \"aiter_no_such_table\" does not exist",
        ),
        (
            server,
            "SELECT 1; SELECT 2",
            "cannot insert multiple commands",
        ),
        (server, "DELETE FROM pg_class", "syntax error"),
        (
            server,
            "SELECT nextval('aiter_no_such_seq')",
            "does not exist",
        ),
        (
            "host='unterminated",
            "SELECT 1",
            "invalid connection string",
        ),
    ];
    for (db, sql, message) in cases {
        for runtime in RUNTIMES {
            let assert = aiter()
                .args(["query", db, sql, "--runtime", runtime])
                .assert()
                .code(1);
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
            assert!(stderr.starts_with("aiter: "), "{sql}: {stderr}");
            assert!(stderr.contains(message), "{sql}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
    }
    // A failure mid-stream: the rows before it, then the error.
    let assert = aiter()
        .args([
            "query",
            server,
            "SELECT 10 / (5 - g) FROM generate_series(1, 9) AS g",
        ])
        .args(["--page-size", "2"])
        .assert()
        .code(1);
    assert_eq!(assert.get_output().stdout, b"2\n3\n5\n10\n");
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("division by zero"));
}

/// The backend is terminated (`pg_terminate_backend`) while `aiter query`
/// streams: the command ends with a clear error and exit code 1 — no hang,
/// no panic — and what it printed is a prefix of the answer.
#[test]
fn a_backend_killed_mid_stream_ends_with_exit_1_and_a_prefix_on_every_runtime() {
    let Some(server) = postgres::server() else {
        return;
    };
    for runtime in RUNTIMES {
        let name = format!("aiter-cli-kill-{}-{runtime}", std::process::id());
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiter"))
            .args(["query", &named(server, &name)])
            .arg("SELECT g FROM generate_series(1, 5000000) AS g ORDER BY g")
            .args(["--runtime", runtime])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        // Read some rows, then kill the backend while the command waits
        // for the pipe, then read the rest (on a thread, with a deadline).
        let mut out = vec![0; 64 << 10];
        stdout.read_exact(&mut out).unwrap();
        assert_eq!(
            postgres::terminate(server, &name),
            1,
            "{runtime}: the backend ran"
        );
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            let _ = tx.send((rest, err));
        });
        let started = Instant::now();
        let (rest, err) = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{runtime}: aiter query hangs after the kill"));
        out.extend(rest);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{runtime}: {err}");
        assert!(started.elapsed() < Duration::from_secs(60));
        assert!(
            err.starts_with("aiter: connection to the server lost"),
            "{runtime}: {err}"
        );
        assert!(
            err.contains("terminating connection due to administrator command"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        // A prefix of "1\n2\n…": every complete line in order, the last
        // line possibly cut short only if output ended mid-line (it must not).
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'), "{runtime}: output ends mid-row");
        for (i, line) in text.lines().enumerate() {
            assert_eq!(line, (i + 1).to_string(), "{runtime}: row {}", i + 1);
        }
        assert!(
            text.lines().count() < 5_000_000,
            "{runtime}: the kill came too late"
        );
    }
}
