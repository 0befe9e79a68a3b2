use std::fmt;
use std::sync::Arc;

/// Why an SQLite query, or one of its values, could not be read.
///
/// Each variant names the database ([`database`](QueryError::database)).
/// `Display` says what went wrong in aiter's terms; SQLite's own error,
/// when there is one, is the [`source`](std::error::Error::source) (and
/// [`sqlite_error`](QueryError::sqlite_error)), never repeated in the
/// message: print the chain (as `anyhow` does) to see both.
///
/// Errors are cheap to clone: the SQLite error is shared (`Arc`), so an
/// open or prepare failure reaches every page that asks, unchanged.
///
/// Rows are counted from 1 (the first row of the result is row 1) and
/// columns from 1, as SQLite's shell and most tools show them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum QueryError {
    /// The database could not be opened (missing file, not a database, no
    /// permission, the caller's opener failed). Paths are opened read-only
    /// and never created.
    Open {
        /// The database ([`Database::name`](crate::Database::name)).
        database: Arc<str>,
        /// What SQLite said.
        source: Arc<rusqlite::Error>,
    },
    /// The SQL did not compile: a syntax error, a missing table or column.
    Prepare {
        /// The database.
        database: Arc<str>,
        /// The SQL.
        sql: Arc<str>,
        /// What SQLite said.
        source: Arc<rusqlite::Error>,
    },
    /// The SQL holds no statement: it is empty, blank, or only comments
    /// and semicolons.
    Empty {
        /// The database.
        database: Arc<str>,
    },
    /// The SQL holds more than one statement (a trailing `;` is fine).
    MultipleStatements {
        /// The database.
        database: Arc<str>,
        /// The SQL.
        sql: Arc<str>,
    },
    /// The statement may write: SQLite does not mark it read-only
    /// (`sqlite3_stmt_readonly`). `INSERT`, `UPDATE`, `DELETE` (also with
    /// `RETURNING`), DDL, `VACUUM` (also `VACUUM INTO`), writing `PRAGMA`s
    /// are refused before they run.
    NotReadOnly {
        /// The database.
        database: Arc<str>,
        /// The SQL.
        sql: Arc<str>,
    },
    /// The statement returns no columns, so it is not a query: `BEGIN`,
    /// `ATTACH`, `DETACH`, `SAVEPOINT` and the like are refused before they
    /// run.
    NotAQuery {
        /// The database.
        database: Arc<str>,
        /// The SQL.
        sql: Arc<str>,
    },
    /// The SQL uses positional parameter `number` (`?N`, `$N` or the
    /// `number`-th `?`), but fewer values were given.
    MissingParameter {
        /// The database.
        database: Arc<str>,
        /// The parameter's number, from 1.
        number: usize,
        /// How many values were given.
        given: usize,
    },
    /// Value `number` was given but the SQL uses no parameter with that
    /// number.
    UnusedParameter {
        /// The database.
        database: Arc<str>,
        /// The value's number, from 1.
        number: usize,
    },
    /// The SQL uses a named parameter (`:name`, `@name`, `$name`); only
    /// positional ones (`?`, `?N`, `$N`) are bound.
    NamedParameter {
        /// The database.
        database: Arc<str>,
        /// The parameter as written in the SQL.
        name: Arc<str>,
    },
    /// SQLite refused a parameter's value.
    Bind {
        /// The database.
        database: Arc<str>,
        /// The parameter's number, from 1.
        number: usize,
        /// What SQLite said.
        source: Arc<rusqlite::Error>,
    },
    /// Stepping to row `row` failed (a run-time error such as an integer
    /// overflow, a busy or corrupt database). The statement cannot go on:
    /// this ends the query. Row 1 means no row had been produced yet.
    Step {
        /// The database.
        database: Arc<str>,
        /// The row SQLite was computing, from 1.
        row: u64,
        /// What SQLite said.
        source: Arc<rusqlite::Error>,
    },
    /// Row `row` was read but one of its values could not be turned into
    /// the caller's type (invalid UTF-8 in a `TEXT` value, a type
    /// mismatch): the row function failed. Only this row is lost; the
    /// query goes on with the next.
    Value {
        /// The database.
        database: Arc<str>,
        /// The row, from 1.
        row: u64,
        /// The column the error names, if it names one.
        column: Option<Column>,
        /// What the row function (or rusqlite) said.
        source: Arc<rusqlite::Error>,
    },
    /// The query's thread could not be started, or died (the row function
    /// panicked).
    Worker {
        /// The database.
        database: Arc<str>,
        /// What happened to the thread.
        reason: Arc<str>,
    },
}

/// A column of a query's result, as an error names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    /// Its position, from 1.
    pub number: usize,
    /// Its name (`AS` alias or expression text, as SQLite names it).
    pub name: Arc<str>,
}

impl fmt::Display for Column {
    /// `3 (email)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number, self.name)
    }
}

impl QueryError {
    /// The database the query ran on, as [`Database::name`](crate::Database::name)
    /// gives it.
    pub fn database(&self) -> &str {
        match self {
            QueryError::Open { database, .. }
            | QueryError::Prepare { database, .. }
            | QueryError::Empty { database }
            | QueryError::MultipleStatements { database, .. }
            | QueryError::NotReadOnly { database, .. }
            | QueryError::NotAQuery { database, .. }
            | QueryError::MissingParameter { database, .. }
            | QueryError::UnusedParameter { database, .. }
            | QueryError::NamedParameter { database, .. }
            | QueryError::Bind { database, .. }
            | QueryError::Step { database, .. }
            | QueryError::Value { database, .. }
            | QueryError::Worker { database, .. } => database,
        }
    }

    /// SQLite's (or rusqlite's) own error, the one [`source`](std::error::Error::source)
    /// returns, if there is one.
    pub fn sqlite_error(&self) -> Option<&rusqlite::Error> {
        match self {
            QueryError::Open { source, .. }
            | QueryError::Prepare { source, .. }
            | QueryError::Bind { source, .. }
            | QueryError::Step { source, .. }
            | QueryError::Value { source, .. } => Some(source),
            QueryError::Empty { .. }
            | QueryError::MultipleStatements { .. }
            | QueryError::NotReadOnly { .. }
            | QueryError::NotAQuery { .. }
            | QueryError::MissingParameter { .. }
            | QueryError::UnusedParameter { .. }
            | QueryError::NamedParameter { .. }
            | QueryError::Worker { .. } => None,
        }
    }

    /// The row the error belongs to, from 1 (`Step` and `Value`).
    pub fn row(&self) -> Option<u64> {
        match self {
            QueryError::Step { row, .. } | QueryError::Value { row, .. } => Some(*row),
            _ => None,
        }
    }
}

/// `DATABASE: what went wrong`, without the SQLite error (see
/// [`source`](std::error::Error::source)).
impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.database())?;
        match self {
            QueryError::Open { .. } => f.write_str("cannot open the database"),
            QueryError::Prepare { sql, .. } => write!(f, "cannot prepare `{sql}`"),
            QueryError::Empty { .. } => f.write_str("the SQL holds no statement"),
            QueryError::MultipleStatements { sql, .. } => write!(
                f,
                "`{sql}` holds more than one statement (one query at a time)"
            ),
            QueryError::NotReadOnly { sql, .. } => write!(
                f,
                "refused `{sql}`: not a read-only statement (only statements SQLite marks read-only run)"
            ),
            QueryError::NotAQuery { sql, .. } => {
                write!(f, "refused `{sql}`: not a query (it returns no columns)")
            }
            QueryError::MissingParameter { number, given, .. } => write!(
                f,
                "the SQL uses parameter {number} but {given} {} given",
                if *given == 1 { "was" } else { "were" }
            ),
            QueryError::UnusedParameter { number, .. } => write!(
                f,
                "parameter {number} was given but the SQL does not use it"
            ),
            QueryError::NamedParameter { name, .. } => write!(
                f,
                "named parameter `{name}`: only positional parameters (?, ?N, $N) are bound"
            ),
            QueryError::Bind { number, .. } => write!(f, "cannot bind parameter {number}"),
            QueryError::Step { row: 1, .. } => f.write_str("the query failed before its first row"),
            QueryError::Step { row, .. } => write!(f, "the query failed at row {row}"),
            QueryError::Value {
                row,
                column: Some(column),
                ..
            } => write!(f, "row {row}, column {column}: cannot read the value"),
            QueryError::Value { row, .. } => write!(f, "row {row}: cannot read the row"),
            QueryError::Worker { reason, .. } => write!(f, "query thread: {reason}"),
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.sqlite_error()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
