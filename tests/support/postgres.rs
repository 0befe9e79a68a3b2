//! The PostgreSQL server of the tests, shared by the root behaviour suite
//! and the command's tests (`#[path]`-included there).
//!
//! [`server`] is the libpq connection string of:
//! - `AITER_TEST_POSTGRES`, if set (`.ci/run` starts a cluster and sets it);
//! - otherwise a throwaway cluster of this test process: `.ci/postgres
//!   serve DIR` (initdb in a temp dir, unix socket there, trust auth, as the
//!   `postgres` user when run as root). The script stops the cluster and
//!   removes the directory when its stdin reaches end of file, which
//!   happens when this process exits, however it exits: no postmaster
//!   outlives the tests.
//!
//! If no server can be had, the tests fail when `CI=true`; elsewhere they
//! print why and pass without running (a machine without PostgreSQL).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The variable naming the server to test against.
pub(crate) const ENV: &str = "AITER_TEST_POSTGRES";

/// The test server's connection string, or `None` (after a message on
/// stderr) when there is none outside CI.
///
/// # Panics
/// With `CI=true`, when no server can be had: CI never skips these tests.
pub(crate) fn server() -> Option<&'static str> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(find_or_start) {
        Ok(server) => Some(server),
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true and no PostgreSQL server for the tests: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: no PostgreSQL server for the tests ({why}); set {ENV} or install PostgreSQL");
            None
        }
    }
}

fn find_or_start() -> Result<String, String> {
    match std::env::var(ENV) {
        Ok(server) if !server.trim().is_empty() => Ok(server),
        _ => start(),
    }
}

/// The repository's root: the first ancestor of this crate holding
/// `.ci/postgres`.
fn script() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(".ci/postgres"))
        .find(|script| script.is_file())
        .ok_or_else(|| "no .ci/postgres script above the crate".to_owned())
}

/// Starts `.ci/postgres serve` and keeps its stdin open for the life of
/// the process.
fn start() -> Result<String, String> {
    static KEEP_ALIVE: Mutex<Vec<ChildStdin>> = Mutex::new(Vec::new());
    let dir = std::env::temp_dir().join(format!("aiter-pg-{}", std::process::id()));
    let mut child = Command::new("bash")
        .arg(script()?)
        .arg("serve")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run .ci/postgres: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading .ci/postgres: {e}"))?;
    if line.trim().is_empty() {
        let status = child.wait().map_err(|e| e.to_string())?;
        return Err(format!(".ci/postgres serve failed ({status})"));
    }
    KEEP_ALIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(child.stdin.take().expect("piped stdin"));
    Ok(line.trim().to_owned())
}

/// Runs `sql` with `psql -At -F TAB -P null=\N` on the test server and
/// returns its standard output (what `aiter query` must match byte for
/// byte).
///
/// # Panics
/// If psql cannot run or fails.
pub(crate) fn psql(server: &str, sql: &str) -> Vec<u8> {
    let output = Command::new("psql")
        .args([
            server,
            "-X",
            "-At",
            "-F",
            "\t",
            "-P",
            "null=\\N",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(["-c", sql])
        .env("PGTZ", "UTC")
        .env_remove("PGDATESTYLE")
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql failed on `{sql}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Terminates every backend whose `application_name` is `name`
/// (`pg_terminate_backend`) and waits until they are gone; returns how
/// many there were.
pub(crate) fn terminate(server: &str, name: &str) -> usize {
    let killed = psql(
        server,
        &format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{name}') AS k"
        ),
    );
    let killed: usize = String::from_utf8_lossy(&killed)
        .trim()
        .parse()
        .expect("a count");
    for _ in 0..500 {
        let left = psql(
            server,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"),
        );
        if String::from_utf8_lossy(&left).trim() == "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    killed
}
