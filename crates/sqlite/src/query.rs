use rusqlite::types::Value;

/// Rows per page unless [`Query::page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 1_000;

/// What to run: one SQL statement, its positional parameters, and how many
/// rows each page holds.
///
/// # Parameters
/// Values are bound by position: value 1 to `?1` and `$1`, value 2 to `?2`
/// and `$2`, and so on; a bare `?` takes the number after the largest one
/// before it (SQLite's rule, so `?, ?` are 1 and 2). The same number may
/// appear several times. Use one style per statement: SQLite gives `?N`
/// slot `N` but a `$N` the next free slot, so in `SELECT $2, ?1` both
/// name slot 1. Every parameter the SQL uses needs a value and
/// every value a parameter; named parameters (`:name`, `@name`, `$name`)
/// are refused. See [`QueryError`](crate::QueryError) for each failure.
///
/// # Examples
/// ```
/// use aiter_sqlite::Query;
///
/// let query = Query::new("SELECT name FROM users WHERE age > $1 AND name LIKE $2")
///     .param(30)
///     .param("a%".to_owned())
///     .page_size(500);
/// assert_eq!(query.sql(), "SELECT name FROM users WHERE age > $1 AND name LIKE $2");
/// ```
#[derive(Debug, Clone)]
pub struct Query {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
    pub(crate) page_size: usize,
}

impl Query {
    /// The query `sql`, without parameters, [`DEFAULT_PAGE_SIZE`] rows per
    /// page.
    pub fn new(sql: impl Into<String>) -> Self {
        Query {
            sql: sql.into(),
            params: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Adds the next positional parameter's value.
    pub fn param(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Adds the next positional parameters' values, in order.
    pub fn params<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.params.extend(values.into_iter().map(Into::into));
        self
    }

    /// At most `rows` rows per page (0 counts as 1). A page's memory grows
    /// with the rows it actually holds: a huge page size costs nothing
    /// until there are rows to fill it.
    pub fn page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// The SQL.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}
