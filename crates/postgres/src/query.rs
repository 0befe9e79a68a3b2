//! [`Query`]: the SQL, its parameters and how it is paged; [`Keyset`].

use std::error::Error as StdError;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};

/// A query to page: its SQL, bind parameters, page size and transaction
/// mode. One value serves [`pages`](crate::pages),
/// [`keyset`](crate::keyset) and [`columns`](crate::columns).
///
/// The SQL is one `SELECT` (or `VALUES`, `TABLE`), as `DECLARE … CURSOR
/// FOR` takes it; a trailing `;` is fine, a second statement is an error.
///
/// # Examples
/// ```
/// use aiter_postgres::Query;
///
/// let query = Query::new("SELECT id, name FROM users WHERE age > $1 AND city = $2")
///     .param("30")
///     .param("Lyon")
///     .page_size(500);
/// assert_eq!(query.get_page_size(), 500);
/// ```
#[derive(Clone, Debug)]
pub struct Query {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
    pub(crate) page_size: u64,
    pub(crate) read_only: bool,
}

impl Query {
    /// A query of `sql`: no parameters, pages of 1 000 rows, in a read-only
    /// transaction.
    pub fn new(sql: impl Into<String>) -> Self {
        Query {
            sql: sql.into(),
            params: Vec::new(),
            page_size: 1_000,
            read_only: true,
        }
    }

    /// Binds the next parameter (`$1`, then `$2`, …) to `value`'s text.
    ///
    /// Parameters are sent in text form with their type left to the server
    /// (as `psql`'s `\bind` and libpq's `PQexecParams` with no types do): `"42"`
    /// becomes an `int4` where the query compares it with one, a `date`
    /// where it needs a date. Use [`Param::NULL`] for NULL.
    pub fn param(mut self, value: impl Into<Param>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Rows per page (default 1 000); 0 is taken as 1. Memory grows with
    /// the rows a page actually holds, never with this number.
    pub fn page_size(mut self, rows: u64) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// Runs the query in a read-write transaction instead of the default
    /// `BEGIN READ ONLY` (the transaction is committed after the last page).
    pub fn read_write(mut self) -> Self {
        self.read_only = false;
        self
    }

    /// The SQL.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Rows per page.
    pub fn get_page_size(&self) -> u64 {
        self.page_size
    }

    /// The SQL without trailing `;` and white space (it is wrapped in
    /// `DECLARE … CURSOR FOR` or a subquery).
    pub(crate) fn body(&self) -> &str {
        self.sql
            .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
    }

    /// `BEGIN READ ONLY` or `BEGIN`.
    pub(crate) fn begin(&self) -> &'static str {
        if self.read_only {
            "BEGIN READ ONLY"
        } else {
            "BEGIN"
        }
    }

    /// The bind parameters, as tokio-postgres takes them.
    pub(crate) fn bind(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A bind parameter: a value in PostgreSQL's text form, or NULL; its type
/// is the server's inference. Made from `&str`, `String`, `Option<…>` of
/// those, and the integers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param(Option<String>);

impl Param {
    /// SQL NULL.
    pub const NULL: Param = Param(None);

    /// The value's text, `None` for NULL.
    pub fn as_text(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param(Some(value.to_owned()))
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param(Some(value))
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(value: Option<T>) -> Self {
        value.map_or(Param::NULL, Into::into)
    }
}

macro_rules! param_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Param {
            fn from(value: $t) -> Self {
                Param(Some(value.to_string()))
            }
        }
    )*};
}
param_from_integer!(i16, i32, i64, u16, u32, u64);

impl ToSql for Param {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    /// Any type: the server parses the text.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// Keyset paging: how [`keyset`](crate::keyset) walks a query by a key.
///
/// Each page is its own statement, `SELECT * FROM (sql) WHERE key > $last
/// ORDER BY key LIMIT n`, so a page needs nothing from the connection the
/// previous one came on: after a lost connection the page is fetched again
/// on a new one, from the last key delivered, losing and repeating nothing.
///
/// # Examples
/// ```
/// use aiter_postgres::Keyset;
///
/// let by_id = Keyset::new("id").reconnects(3);
/// assert_eq!(by_id.key(), "id");
/// ```
#[derive(Clone, Debug)]
pub struct Keyset {
    pub(crate) key: String,
    pub(crate) reconnects: u32,
}

impl Keyset {
    /// Pages ordered by the result column `key`, which must be unique and
    /// NOT NULL (a primary key). Reconnects once per page by default.
    pub fn new(key: impl Into<String>) -> Self {
        Keyset {
            key: key.into(),
            reconnects: 1,
        }
    }

    /// How many times one page is tried again on a new connection after
    /// the connection was lost (default 1; 0: the error ends the cursor,
    /// which can be [resumed](aiter_core::cursor::Cursor::resume) from the
    /// error's position).
    pub fn reconnects(mut self, attempts: u32) -> Self {
        self.reconnects = attempts;
        self
    }

    /// The key column.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key column as a quoted SQL identifier.
    pub(crate) fn quoted_key(&self) -> String {
        format!("\"{}\"", self.key.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_drops_trailing_semicolons_only() {
        assert_eq!(Query::new("SELECT 1 ;\n ").body(), "SELECT 1");
        assert_eq!(Query::new("SELECT ';'").body(), "SELECT ';'");
    }

    #[test]
    fn page_size_is_at_least_one() {
        assert_eq!(Query::new("x").page_size(0).get_page_size(), 1);
        assert_eq!(
            Query::new("x").page_size(u64::MAX).get_page_size(),
            u64::MAX
        );
    }

    #[test]
    fn params_are_text_or_null() {
        let q = Query::new("x")
            .param("a")
            .param(7_i64)
            .param(Param::NULL)
            .param(None::<&str>);
        let texts: Vec<_> = q.params.iter().map(Param::as_text).collect();
        assert_eq!(texts, [Some("a"), Some("7"), None, None]);
    }

    #[test]
    fn keys_are_quoted_identifiers() {
        assert_eq!(Keyset::new("Id").quoted_key(), "\"Id\"");
        assert_eq!(Keyset::new("a\"b").quoted_key(), "\"a\"\"b\"");
    }
}
