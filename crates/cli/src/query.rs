//! `aiter query DB SQL`: the rows of an SQLite query through aiter's cursor.
//!
//! Rows come from [`aiter_sqlite::pages`] (one prepared statement held on a
//! query thread, each page awaited through the runtime's blocking pool) via
//! [`Cursor`] with one page of prefetch, so the next page is read while this
//! one is written. Each row is one line: tab-separated values, or a JSON
//! object keyed by column name (`--json`).
//!
//! Text values are written as they are in JSON; in tab-separated output a
//! tab, newline, carriage return or backslash inside a value is escaped
//! (`\t`, `\n`, `\r`, `\\`) so every row stays one line. NULL is an empty
//! field (JSON `null`); blobs are hex (`X'…'` in TSV, a `"…"` hex string in
//! JSON).
//!
//! Errors (missing database, bad SQL, a failing row) are one message on
//! stderr and exit code 1, after the rows before them; a closed stdout pipe
//! ends quietly with 0.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::pin::pin;
use std::process::ExitCode;

use aiter::cursor::Cursor;
use aiter_sqlite::rusqlite::types::Value;

use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};

mod postgres;

/// The default SQL of `aiter query --demo`.
pub const DEMO_SQL: &str = "SELECT * FROM users";

/// Rows in the demo database.
pub const DEMO_ROWS: u64 = 100_000;

/// What `aiter query` was asked to do.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database file.
    pub db: PathBuf,
    /// The query.
    pub sql: String,
    /// Rows per page.
    pub page_size: usize,
    /// One JSON object per row instead of tab-separated values.
    pub json: bool,
    /// A first line of column names (tab-separated output).
    pub header: bool,
    /// `--runtime`.
    pub runtime: RuntimeKind,
    /// `--param`: bind parameters `$1`, `$2`, … (PostgreSQL only here).
    pub params: Vec<String>,
}

/// Runs `aiter query`; with `demo`, on a fresh demo database in a temp dir
/// (removed at the end) instead of `settings.db`.
pub fn main(mut settings: Settings, demo: bool) -> ExitCode {
    if let Some(db) = settings
        .db
        .to_str()
        .filter(|db| !demo && postgres::is_postgres(db))
    {
        return postgres::main(&settings, db);
    }
    if !settings.params.is_empty() {
        report(format_args!(
            "--param is not supported for SQLite databases"
        ));
        return ExitCode::FAILURE;
    }
    let _dir = if demo {
        match make_demo() {
            Ok((dir, path)) => {
                settings.db = path;
                Some(dir)
            }
            Err(e) => {
                report(format_args!(
                    "query --demo: cannot create the demo database: {e}"
                ));
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    match runtime::block_on(settings.runtime, Query(settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            report(format_args!("cannot start the runtime: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// A temp dir holding `demo.db`: a `users` table of [`DEMO_ROWS`] rows.
fn make_demo() -> Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>> {
    let dir = tempfile::Builder::new().prefix("aiter-demo-").tempdir()?;
    let path = dir.path().join("demo.db");
    aiter_sqlite::create_demo(&path, DEMO_ROWS)?;
    Ok((dir, path))
}

fn report(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "aiter: {message}");
}

/// The query on a runtime; `true` if every row was written.
struct Query(Settings);

impl OnRuntime for Query {
    type Output = bool;

    async fn run<R: CliRuntime>(self, rt: R) -> bool {
        let Settings {
            db,
            sql,
            page_size,
            json,
            header,
            ..
        } = self.0;
        if !db.exists() {
            report(format_args!("{}: no such file or directory", db.display()));
            return false;
        }
        // Column names (and an early, clear error for bad SQL).
        let columns = {
            let (db, sql) = (db.clone(), sql.clone());
            rt.unblock(move || aiter_sqlite::columns(&db, &sql)).await
        };
        let columns = match columns {
            Ok(columns) => columns,
            Err(e) => {
                report(format_args!("{e}"));
                return false;
            }
        };
        let keys: Vec<String> = columns
            .iter()
            .map(|c| serde_json::to_string(c).expect("a string serialises"))
            .collect();

        let fetch = aiter_sqlite::pages(rt, &db, sql, page_size, aiter_sqlite::row_values);
        let mut rows = pin!(Cursor::new(fetch).prefetch(1));
        let mut out = BufWriter::with_capacity(128 << 10, io::stdout().lock());
        let result: io::Result<bool> = async {
            if header && !json {
                let names: Vec<String> = columns.iter().map(|c| escaped(c)).collect();
                writeln!(out, "{}", names.join("\t"))?;
            }
            while let Some(row) = aiter::next(&mut rows).await {
                match row {
                    Ok(values) if json => write_json(&mut out, &keys, &values)?,
                    Ok(values) => write_tsv(&mut out, &values)?,
                    Err(e) => {
                        out.flush()?;
                        report(format_args!("{}", e.error()));
                        return Ok(false);
                    }
                }
            }
            out.flush()?;
            Ok(true)
        }
        .await;
        match result {
            Ok(ok) => ok,
            // `aiter query … | head`: the reader has what it wanted.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => true,
            Err(e) => {
                report(format_args!("write error: {e}"));
                false
            }
        }
    }
}

/// `s` with tab, newline, carriage return and backslash escaped.
fn escaped(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    write_escaped(&mut out, s).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

/// Writes one row as tab-separated values and a newline.
fn write_tsv(out: &mut impl Write, values: &[Value]) -> io::Result<()> {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.write_all(b"\t")?;
        }
        match value {
            Value::Null => {}
            Value::Integer(n) => write!(out, "{n}")?,
            Value::Real(x) => write!(out, "{x:?}")?,
            Value::Text(s) => write_escaped(out, s)?,
            Value::Blob(b) => {
                out.write_all(b"X'")?;
                write_hex(out, b)?;
                out.write_all(b"'")?;
            }
        }
    }
    out.write_all(b"\n")
}

/// Writes `s` with tab, newline, carriage return and backslash escaped.
fn write_escaped(out: &mut impl Write, s: &str) -> io::Result<()> {
    let mut rest = s.as_bytes();
    while let Some(at) = rest
        .iter()
        .position(|b| matches!(b, b'\t' | b'\n' | b'\r' | b'\\'))
    {
        out.write_all(&rest[..at])?;
        out.write_all(match rest[at] {
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => b"\\\\",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest)
}

fn write_hex(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    for b in bytes {
        write!(out, "{b:02X}")?;
    }
    Ok(())
}

/// Writes one row as a JSON object (keys in column order) and a newline.
/// `keys` are the column names, already JSON-encoded.
fn write_json(out: &mut impl Write, keys: &[String], values: &[Value]) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(key.as_bytes())?;
        out.write_all(b":")?;
        match value {
            Value::Null => out.write_all(b"null")?,
            Value::Integer(n) => write!(out, "{n}")?,
            Value::Real(x) => serde_json::to_writer(&mut *out, x)?,
            Value::Text(s) => serde_json::to_writer(&mut *out, s)?,
            Value::Blob(b) => {
                out.write_all(b"\"")?;
                write_hex(out, b)?;
                out.write_all(b"\"")?;
            }
        }
    }
    out.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Vec<Value> {
        vec![
            Value::Integer(-7),
            Value::Real(1.0),
            Value::Null,
            Value::Text("a\tb\nc\\d \"q\"".to_owned()),
            Value::Blob(vec![0x00, 0xAB]),
        ]
    }

    #[test]
    fn tsv_keeps_one_row_per_line() {
        let mut out = Vec::new();
        write_tsv(&mut out, &row()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-7\t1.0\t\ta\\tb\\nc\\\\d \"q\"\tX'00AB'\n"
        );
    }

    #[test]
    fn json_rows_parse_with_keys_in_column_order() {
        let keys: Vec<String> = ["i", "r", "n", "t", "b"]
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        let mut out = Vec::new();
        write_json(&mut out, &keys, &row()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("{\"i\":-7,\"r\":1.0,\"n\":null,"),
            "{text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["t"], "a\tb\nc\\d \"q\"");
        assert_eq!(parsed["b"], "00AB");
        assert!(parsed["n"].is_null());
    }
}
