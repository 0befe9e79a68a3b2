use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};

/// Where a query's connection comes from: a file opened read-only, a fresh
/// in-memory database, or the caller's own opener.
///
/// The connection is opened on the query's thread when the query starts
/// (the first fetch, or [`prepare`](crate::prepare)), used by that query
/// alone, and closed when the query ends or its cursor is dropped.
///
/// Whatever the source, only statements SQLite marks read-only run (see
/// [`QueryError::NotReadOnly`](crate::QueryError::NotReadOnly)).
///
/// # Examples
/// ```
/// use aiter_sqlite::Database;
/// use aiter_sqlite::rusqlite::{Connection, OpenFlags};
///
/// let file = Database::path("app.db");
/// assert_eq!(file.name(), "app.db");
/// assert_eq!(Database::memory().name(), ":memory:");
/// // Pragmas, a busy timeout, extensions: open it yourself.
/// let tuned = Database::opener("app.db (tuned)", || {
///     let conn = Connection::open_with_flags("app.db", OpenFlags::SQLITE_OPEN_READ_ONLY)?;
///     conn.busy_timeout(std::time::Duration::from_secs(5))?;
///     conn.pragma_update(None, "cache_size", -64_000)?;
///     Ok(conn)
/// });
/// assert_eq!(tuned.name(), "app.db (tuned)");
/// // A connection you already have (rusqlite's `Connection` is `Send`).
/// let conn = Connection::open_in_memory()?;
/// let mine = Database::connection("scratch", conn);
/// # Ok::<(), aiter_sqlite::rusqlite::Error>(())
/// ```
pub struct Database {
    name: Arc<str>,
    source: Source,
}

type Opener = Box<dyn FnOnce() -> rusqlite::Result<Connection> + Send>;

enum Source {
    Path(PathBuf),
    Memory,
    Opener(Opener),
}

impl Database {
    /// The SQLite file at `path`, opened read-only: a missing file is an
    /// [`Open`](crate::QueryError::Open) error, never created. Named by
    /// the path as given.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Database {
            name: path.display().to_string().into(),
            source: Source::Path(path),
        }
    }

    /// A fresh, empty in-memory database (`:memory:`), gone when the query
    /// ends: for queries that read no table (`SELECT 1`, `VALUES …`,
    /// `WITH RECURSIVE …`).
    pub fn memory() -> Self {
        Database {
            name: ":memory:".into(),
            source: Source::Memory,
        }
    }

    /// A connection made by `open`, called once on the query's thread:
    /// flags, pragmas, a busy timeout, attached databases, functions.
    /// `name` is what errors call the database.
    pub fn opener(
        name: impl Into<String>,
        open: impl FnOnce() -> rusqlite::Result<Connection> + Send + 'static,
    ) -> Self {
        Database {
            name: name.into().into(),
            source: Source::Opener(Box::new(open)),
        }
    }

    /// A connection the caller already has, moved to the query's thread
    /// and closed when the query ends. `name` is what errors call it.
    pub fn connection(name: impl Into<String>, connection: Connection) -> Self {
        Database::opener(name, move || Ok(connection))
    }

    /// What errors call this database: the path, `:memory:`, or the name
    /// given to [`opener`](Database::opener) or
    /// [`connection`](Database::connection).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn shared_name(&self) -> Arc<str> {
        self.name.clone()
    }

    /// Opens the connection (on the query's thread).
    pub(crate) fn open(self) -> rusqlite::Result<Connection> {
        match self.source {
            Source::Path(path) => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            Source::Memory => Connection::open_in_memory(),
            Source::Opener(open) => open(),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Path(_) => "path",
            Source::Memory => "memory",
            Source::Opener(_) => "opener",
        };
        f.debug_struct("Database")
            .field("name", &self.name)
            .field("source", &source)
            .finish()
    }
}
