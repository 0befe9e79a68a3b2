//! Reading rows of unknown shape without trusting the data.

use rusqlite::types::{Type, Value, ValueRef};
use rusqlite::Row;

/// Every column of `row` as an owned SQLite value: a row function for
/// queries whose shape is not known in advance.
///
/// Never panics on stored data (rusqlite's `Value::from(ValueRef)` does on
/// invalid UTF-8).
///
/// # Errors
/// A `TEXT` value that is not valid UTF-8 (SQLite stores whatever bytes it
/// is given) is `rusqlite::Error::FromSqlConversionFailure` naming the
/// column; through [`pages`](crate::pages) it becomes one
/// [`QueryError::Value`](crate::QueryError::Value) item for that row.
pub fn row_values(row: &Row<'_>) -> rusqlite::Result<Vec<Value>> {
    values(row, Text::Strict)
}

/// Like [`row_values`], but invalid UTF-8 in a `TEXT` value is repaired:
/// each invalid sequence becomes U+FFFD (`String::from_utf8_lossy`).
///
/// # Errors
/// None from the data; only rusqlite's column access could fail.
pub fn row_values_lossy(row: &Row<'_>) -> rusqlite::Result<Vec<Value>> {
    values(row, Text::Lossy)
}

/// Column `index` of `row` as text, checked: invalid UTF-8 is
/// `FromSqlConversionFailure(index, Text, Utf8Error)`. Only for `TEXT`
/// values' bytes.
///
/// # Errors
/// Invalid UTF-8.
pub fn text_of(index: usize, bytes: &[u8]) -> rusqlite::Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

#[derive(Clone, Copy)]
enum Text {
    Strict,
    Lossy,
}

fn values(row: &Row<'_>, text: Text) -> rusqlite::Result<Vec<Value>> {
    let count = row.as_ref().column_count();
    let mut values = Vec::with_capacity(count);
    for i in 0..count {
        values.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(bytes) => Value::Text(match text {
                Text::Strict => text_of(i, bytes)?.to_owned(),
                Text::Lossy => String::from_utf8_lossy(bytes).into_owned(),
            }),
            ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
        });
    }
    Ok(values)
}
