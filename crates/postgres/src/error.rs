//! [`Error`]: why a page of a PostgreSQL query could not be fetched.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use tokio_postgres::error::SqlState;

/// Why a page of a PostgreSQL query could not be fetched.
///
/// `Display` says what failed; the underlying error (the server's message,
/// the socket's `io::Error`) comes from [`source()`](StdError::source), so
/// print the chain (as `anyhow` or the `aiter` command do) to see it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection settings name no host (set `host`, e.g.
    /// `host=/run/postgresql`).
    NoHost,
    /// No server could be reached at `target`: nothing listening, no socket
    /// file, connection refused.
    Connect {
        /// Where: `socket /run/postgresql/.s.PGSQL.5432` or `host:port`.
        target: String,
        /// What the socket said.
        source: io::Error,
    },
    /// A server was reached at `target` but the session did not start:
    /// authentication failed, no such database or role, too many
    /// connections.
    Startup {
        /// Where: as in [`Error::Connect`].
        target: String,
        /// What tokio-postgres (or the server) said.
        source: tokio_postgres::Error,
    },
    /// A statement failed on the server: a syntax error, a missing table, a
    /// write refused by the read-only transaction, a division by zero in row
    /// 5 000.
    Query {
        /// What the server (or tokio-postgres) said.
        source: tokio_postgres::Error,
    },
    /// The connection was lost while fetching: the backend was terminated
    /// (`pg_terminate_backend`), the server shut down, the socket failed.
    /// See [`is_connection_lost`](Error::is_connection_lost).
    ConnectionLost {
        /// What tokio-postgres (or the server) said.
        source: tokio_postgres::Error,
    },
    /// Keyset mode: the key column is not a column of the query's result.
    KeyColumn {
        /// The key column's name.
        key: String,
    },
    /// Keyset mode: a row's key is NULL, so the next page cannot start after
    /// it (the key must be unique and NOT NULL).
    NullKey {
        /// The key column's name.
        key: String,
    },
    /// The task fetching the page ended before it answered: its executor
    /// shut down.
    Worker,
}

impl Error {
    /// `true` if the connection to the server was lost (as opposed to a
    /// query the server refused): the query may succeed on a new
    /// connection.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Error::ConnectionLost { .. })
    }

    /// The server's SQLSTATE code, if the server reported the error.
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            Error::Startup { source, .. }
            | Error::Query { source }
            | Error::ConnectionLost { source } => source.code(),
            _ => None,
        }
    }

    /// A failed statement: [`Error::ConnectionLost`] if the failure means
    /// the connection is gone, else [`Error::Query`].
    pub(crate) fn statement(source: tokio_postgres::Error) -> Self {
        if lost(&source) {
            Error::ConnectionLost { source }
        } else {
            Error::Query { source }
        }
    }
}

/// Whether a tokio-postgres error means the connection is gone.
fn lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        return [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::IDLE_SESSION_TIMEOUT,
            SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
        ]
        .contains(code);
    }
    // An I/O error on the socket (reset, broken pipe, unexpected EOF).
    e.source().is_some_and(|s| s.is::<io::Error>())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoHost => f.write_str("no host to connect to (set host=…)"),
            Error::Connect { target, .. } => write!(f, "cannot connect to server at {target}"),
            Error::Startup { target, .. } => {
                write!(f, "the server at {target} refused the session")
            }
            Error::Query { .. } => f.write_str("query failed"),
            Error::ConnectionLost { .. } => f.write_str("connection to the server lost"),
            Error::KeyColumn { key } => {
                write!(f, "keyset: the query has no result column `{key}`")
            }
            Error::NullKey { key } => {
                write!(
                    f,
                    "keyset: a row's key `{key}` is NULL (the key must be NOT NULL)"
                )
            }
            Error::Worker => f.write_str("the page's task ended before it answered"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Connect { source, .. } => Some(source),
            Error::Startup { source, .. }
            | Error::Query { source }
            | Error::ConnectionLost { source } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_the_cause_to_source() {
        let e = Error::Connect {
            target: "socket /tmp/.s.PGSQL.5432".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to server at socket /tmp/.s.PGSQL.5432"
        );
        assert!(e.source().is_some());
        assert!(!e.is_connection_lost());
        assert!(Error::NoHost.source().is_none());
    }

    #[test]
    fn errors_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
