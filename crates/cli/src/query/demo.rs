//! `aiter query --demo`: a temporary SQLite database with a `users` table,
//! removed when the command ends, normally or by SIGINT/SIGTERM.
//!
//! A watcher thread (signal-hook) owns the cleanup on a signal: it removes
//! the directory and exits with `128 + signal`, whatever the query is doing
//! (even blocked writing to a full pipe). The directory lives in a mutex
//! that is held while it is created, so a signal in between still finds it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use aiter_sqlite::rusqlite::Connection;
use signal_hook::consts::{SIGINT, SIGTERM};
use tempfile::TempDir;

use super::{report, sqlite, Settings};

/// The default SQL of `aiter query --demo`.
pub(crate) const DEMO_SQL: &str = "SELECT * FROM users";

/// Rows in the demo database.
const DEMO_ROWS: u64 = 100_000;

/// Makes the demo database, runs the query on it, removes it.
pub(super) fn main(mut settings: Settings) -> ExitCode {
    let dir = match DemoDir::watched() {
        Ok(dir) => dir,
        Err(e) => {
            report(format_args!("query --demo: cannot watch for signals: {e}"));
            return ExitCode::FAILURE;
        }
    };
    settings.db = match dir.create() {
        Ok(path) => path,
        Err(e) => {
            report(format_args!(
                "query --demo: cannot create the demo database: {e}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let code = sqlite::main(settings);
    drop(dir);
    code
}

/// The demo's temp dir, removed on drop or by the signal watcher.
struct DemoDir {
    dir: Arc<Mutex<Option<TempDir>>>,
}

impl DemoDir {
    /// Starts the signal watcher (no directory yet).
    fn watched() -> std::io::Result<Self> {
        let dir = Arc::new(Mutex::new(None::<TempDir>));
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let watched = dir.clone();
        std::thread::Builder::new()
            .name("aiter-demo-cleanup".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let mut dir = watched.lock().unwrap_or_else(PoisonError::into_inner);
                    drop(dir.take());
                    std::process::exit(128 + signal);
                }
            })?;
        Ok(DemoDir { dir })
    }

    /// Creates the directory and `demo.db` in it.
    fn create(&self) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let path = {
            let mut slot = self.dir.lock().unwrap_or_else(PoisonError::into_inner);
            let dir = tempfile::Builder::new().prefix("aiter-demo-").tempdir()?;
            let path = dir.path().join("demo.db");
            *slot = Some(dir);
            path
        };
        create_demo(&path, DEMO_ROWS)?;
        Ok(path)
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let mut dir = self.dir.lock().unwrap_or_else(PoisonError::into_inner);
        drop(dir.take());
    }
}

/// The demo database: a `users` table of `rows` rows with ids `1..=rows`,
/// names `user-<id>`, emails `user-<id>@example.com` and ages `18 + id % 60`.
fn create_demo(path: &std::path::Path, rows: u64) -> Result<(), aiter_sqlite::rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!(
        "CREATE TABLE users (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             email TEXT NOT NULL,
             age INTEGER NOT NULL
         );
         WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {rows})
         INSERT INTO users SELECT id, 'user-' || id, 'user-' || id || '@example.com', 18 + id % 60
         FROM n;"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_database_has_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        create_demo(&path, 2_345).unwrap();
        let conn = Connection::open(&path).unwrap();
        let (n, last): (i64, String) = conn
            .query_row(
                "SELECT count(*), max(email) FILTER (WHERE id = 2345) FROM users",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, last.as_str()), (2_345, "user-2345@example.com"));
    }
}
