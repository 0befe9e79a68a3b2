//! `aiter query postgresql://… SQL`: the rows of a PostgreSQL query through
//! aiter's cursor, printed as `psql -At -F '<TAB>' -P 'null=\N'` prints them.
//!
//! The DB argument is a libpq URL (`postgresql://user@host:port/db`,
//! `postgresql:///db?host=/run/postgresql&user=postgres` for a unix socket)
//! or a `key=value` string (`host=/tmp dbname=app`). As with libpq, settings
//! it leaves out come from `PGHOST`, `PGPORT`, `PGUSER` and `PGDATABASE`,
//! then the defaults (the socket directory `/var/run/postgresql`, else
//! `/tmp`; the OS user). No TLS: use a unix socket or a trusted network.
//!
//! Rows come from [`aiter_postgres::pages`] (a server-side cursor in a
//! read-only transaction, `FETCH --page-size` rows per round trip) via
//! [`Cursor`] with one page of prefetch; the page tasks and the connection
//! run on the runtime's other threads (tokio runs multi-threaded here), so
//! the next page comes over the socket while this one is written.
//!
//! Values are PostgreSQL's text form, written verbatim (like psql, tabs and
//! newlines inside a value are not escaped); NULL is `\N`. `--header`
//! first prints the column names. `--json` prints one object per row, keys
//! in column order (a repeated name gets `_2`, `_3`, …), every value a JSON
//! string of its text form (exact for numeric, dates, arrays…) or `null`.
//!
//! Exit codes: 0 when every row was written (or stdout was closed early);
//! 1 after a clear message when the server cannot be reached, refuses the
//! SQL, or the connection drops mid-stream (the rows printed before are a
//! prefix of the answer).

use std::io::{self, BufWriter, Write};
use std::pin::pin;
use std::process::ExitCode;

use aiter::cursor::Cursor;
use aiter_postgres::{Config, Net, Query, SimpleQueryRow};

use super::Settings;
use crate::report::{chain, report};
use crate::runtime::RuntimeKind;

/// Whether `db` names a PostgreSQL server rather than an SQLite file: a
/// `postgres://` or `postgresql://` URL, or a libpq `key=value` string.
pub(super) fn is_postgres(db: &str) -> bool {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return true;
    }
    let key = db.trim_start();
    let end = key
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(key.len());
    end > 0 && key[end..].trim_start().starts_with('=')
}

/// Runs `aiter query` against the server `settings.db` names.
pub(super) fn main(settings: &Settings, db: &str) -> ExitCode {
    let config = match config(db, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => {
            report(&e);
            return ExitCode::FAILURE;
        }
    };
    let ok = match settings.runtime {
        RuntimeKind::Tokio => {
            // Multi-threaded, so the connection and the page tasks run on a
            // worker while this thread writes rows.
            match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let ok = runtime.block_on(run(aiter::tokio::Tokio, settings, config));
                    runtime.shutdown_background();
                    ok
                }
                Err(e) => {
                    report(format_args!("cannot start the runtime: {e}"));
                    false
                }
            }
        }
        RuntimeKind::AsyncStd => {
            async_std::task::block_on(run(aiter::async_std::AsyncStd, settings, config))
        }
        RuntimeKind::Smol => smol::block_on(run(aiter::smol::Smol, settings, config)),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The connection settings of `db`, completed as libpq does from the
/// environment (`env` looks a variable up) and its defaults.
fn config(db: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
    let mut config: Config = db
        .parse()
        .map_err(|e| format!("invalid connection string `{db}`: {}", chain(&e)))?;
    if config.get_hosts().is_empty() {
        let hosts = env("PGHOST").filter(|h| !h.is_empty()).unwrap_or_else(|| {
            let debian = "/var/run/postgresql";
            if std::path::Path::new(debian).is_dir() {
                debian
            } else {
                "/tmp"
            }
            .to_owned()
        });
        for host in hosts.split(',') {
            config.host(host);
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").filter(|p| !p.is_empty()) {
            let port = port
                .parse()
                .map_err(|_| format!("invalid PGPORT `{port}`"))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = env("PGUSER").filter(|u| !u.is_empty()) {
            config.user(user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(dbname) = env("PGDATABASE").filter(|d| !d.is_empty()) {
            config.dbname(dbname);
        }
    }
    Ok(config)
}

/// The query on runtime `net`; `true` if every row was written.
async fn run<N: Net>(net: N, settings: &Settings, config: Config) -> bool {
    let mut query = Query::new(settings.sql.clone())
        .page_size(u64::try_from(settings.page_size).unwrap_or(u64::MAX));
    for param in &settings.params {
        query = query.param(param.as_str());
    }
    // Column names, for the header and the JSON keys.
    let keys = if settings.header || settings.json {
        match aiter_postgres::columns(&net, &config, &query).await {
            Ok(columns) => Some(columns),
            Err(e) => {
                report(chain(&e));
                return false;
            }
        }
    } else {
        None
    };
    let mut rows = pin!(Cursor::new(aiter_postgres::pages(net, config, query)).prefetch(1));
    let mut out = BufWriter::with_capacity(128 << 10, io::stdout().lock());
    let json_keys = keys.as_deref().filter(|_| settings.json).map(json_keys);
    let result: io::Result<bool> = async {
        if let (true, false, Some(names)) = (settings.header, settings.json, &keys) {
            out.write_all(names.join("\t").as_bytes())?;
            out.write_all(b"\n")?;
        }
        while let Some(row) = aiter::next(&mut rows).await {
            match row {
                Ok(row) => match &json_keys {
                    Some(keys) => write_json(&mut out, keys, &row)?,
                    None => write_tsv(&mut out, &row)?,
                },
                Err(e) => {
                    out.flush()?;
                    report(chain(e.error()));
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

/// Writes one row as psql's unaligned, tab-separated output does: values
/// verbatim, NULL as `\N`, then a newline.
fn write_tsv(out: &mut impl Write, row: &SimpleQueryRow) -> io::Result<()> {
    for i in 0..row.len() {
        if i > 0 {
            out.write_all(b"\t")?;
        }
        out.write_all(row.get(i).unwrap_or("\\N").as_bytes())?;
    }
    out.write_all(b"\n")
}

/// The JSON-encoded keys of `columns`, repeats renamed as the SQLite path
/// does ([`unique_names`](super::output::unique_names)).
fn json_keys(columns: &[String]) -> Vec<String> {
    super::output::unique_names(columns)
        .iter()
        .map(|key| serde_json::to_string(key).expect("a string serialises"))
        .collect()
}

/// Writes one row as a JSON object (keys in column order) and a newline:
/// text values as strings, NULL as `null`.
fn write_json(out: &mut impl Write, keys: &[String], row: &SimpleQueryRow) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, key) in keys.iter().enumerate().take(row.len()) {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(key.as_bytes())?;
        out.write_all(b":")?;
        match row.get(i) {
            Some(text) => serde_json::to_writer(&mut *out, text)?,
            None => out.write_all(b"null")?,
        }
    }
    out.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_targets_are_urls_or_key_value_strings() {
        for db in [
            "postgresql:///db?host=/tmp/x&user=postgres",
            "postgres://u@localhost/db",
            "host=/tmp dbname=x",
            " dbname = x",
        ] {
            assert!(is_postgres(db), "{db}");
        }
        for db in ["app.db", "/tmp/a=b.db", "=x", "./x", ""] {
            assert!(!is_postgres(db), "{db}");
        }
    }

    #[test]
    fn missing_settings_come_from_the_environment() {
        let env = |name: &str| match name {
            "PGHOST" => Some("/run/a,db.example".to_owned()),
            "PGPORT" => Some("5433".to_owned()),
            "PGUSER" => Some("alice".to_owned()),
            "PGDATABASE" => Some("shop".to_owned()),
            _ => None,
        };
        let app = config("dbname=app", env).unwrap();
        assert_eq!(app.get_hosts().len(), 2);
        assert_eq!(app.get_ports(), [5433]);
        assert_eq!(app.get_user(), Some("alice"));
        assert_eq!(app.get_dbname(), Some("app"));
        let url = config("postgresql://bob@h:7/x", |_| None).unwrap();
        assert_eq!(url.get_user(), Some("bob"));
        assert_eq!(url.get_ports(), [7]);
        assert!(config("host='unterminated", |_| None).is_err());
        assert!(config("dbname=x", |n| (n == "PGPORT").then(|| "x".into())).is_err());
    }

    #[test]
    fn repeated_column_names_get_suffixes() {
        let names = ["a", "a", "a_2", "b", "a"].map(String::from);
        assert_eq!(
            json_keys(&names),
            ["\"a\"", "\"a_3\"", "\"a_2\"", "\"b\"", "\"a_4\""]
        );
    }
}
