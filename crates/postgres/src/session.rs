//! One connection and what runs on it: the cursor of [`pages`](crate::pages)
//! (`DECLARE … CURSOR` / `FETCH n`) and the statements of
//! [`keyset`](crate::keyset).
//!
//! Rows are fetched with the simple-query protocol, so they arrive in
//! PostgreSQL's text form, exactly as `psql` prints them; the `DECLARE`
//! goes through the extended protocol to take bind parameters. Requests
//! that do not depend on each other's answers (`BEGIN`, `DECLARE`) are
//! pipelined: one round trip.

use futures_channel::oneshot;
use futures_util::future::join;
use futures_util::TryStreamExt;
use std::pin::pin;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage, SimpleQueryRow, Statement};

use crate::net::{targets, Net};
use crate::query::{Keyset, Param, Query};
use crate::Error;

/// The name of the cursor [`pages`](crate::pages) declares.
const CURSOR: &str = "aiter_cursor";

/// The name of the cursor of one keyset page.
const KEYSET_CURSOR: &str = "aiter_keyset_cursor";

/// A connection to the server, driven by a task of its own.
pub(crate) struct Session {
    client: Client,
    /// The connection task's outcome: why the connection ended.
    ended: Option<oneshot::Receiver<Result<(), tokio_postgres::Error>>>,
    /// Rows fetched so far through [`CURSOR`].
    pub(crate) fetched: u64,
    /// Keyset mode: the prepared `DECLARE` of a page after a key.
    keyset_after: Option<Statement>,
}

impl Session {
    /// Connects to the first target of `config` that answers and spawns
    /// the connection's task on `net`.
    pub(crate) async fn connect<N: Net>(net: &N, config: &Config) -> Result<Session, Error> {
        let mut error = Error::NoHost;
        for target in targets(config)? {
            let socket = match net.connect(&target).await {
                Ok(socket) => socket,
                Err(source) => {
                    error = Error::Connect {
                        target: target.to_string(),
                        source,
                    };
                    continue;
                }
            };
            let (client, connection) =
                config
                    .connect_raw(socket, NoTls)
                    .await
                    .map_err(|source| Error::Startup {
                        target: target.to_string(),
                        source,
                    })?;
            let (tx, rx) = oneshot::channel();
            net.spawn(async move {
                let _ = tx.send(connection.await);
            });
            return Ok(Session {
                client,
                ended: Some(rx),
                fetched: 0,
                keyset_after: None,
            });
        }
        Err(error)
    }

    /// Connects, opens the transaction and declares the cursor of `query`,
    /// then skips `skip` rows.
    pub(crate) async fn open_cursor<N: Net>(
        net: &N,
        config: &Config,
        query: &Query,
        skip: u64,
    ) -> Result<Session, Error> {
        let mut session = Session::connect(net, config).await?;
        let declare = format!("DECLARE {CURSOR} NO SCROLL CURSOR FOR {}", query.body());
        let params = query.bind();
        let (begun, declared) = join(
            session.client.batch_execute(query.begin()),
            session.client.execute(declare.as_str(), &params),
        )
        .await;
        if let Err(e) = begun.and(declared) {
            return Err(session.fail(e).await);
        }
        if skip > 0 {
            let count = count(skip);
            if let Err(e) = session
                .client
                .batch_execute(&format!("MOVE {count} IN {CURSOR}"))
                .await
            {
                return Err(session.fail(e).await);
            }
            session.fetched = skip;
        }
        Ok(session)
    }

    /// The next `n` rows of the cursor.
    pub(crate) async fn fetch(&mut self, n: u64) -> Result<Vec<SimpleQueryRow>, Error> {
        let sql = format!("FETCH {} FROM {CURSOR}", count(n));
        match rows(&self.client, &sql).await {
            Ok(rows) => {
                self.fetched += rows.len() as u64;
                Ok(rows)
            }
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Commits the transaction (a read-write query's last page).
    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        match self.client.batch_execute("COMMIT").await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// One keyset page: at most `query`'s page size of rows whose key is
    /// greater than `after` (all rows from the first when `None`), in key
    /// order, in a transaction of its own.
    pub(crate) async fn keyset_page(
        &mut self,
        query: &Query,
        keyset: &Keyset,
        after: Option<&str>,
    ) -> Result<Vec<SimpleQueryRow>, Error> {
        let mut params = query.bind();
        let last;
        let declared = match after {
            None => {
                let sql = keyset_declare(query, keyset, None);
                join(
                    self.client.batch_execute(query.begin()),
                    self.client.execute(sql.as_str(), &params),
                )
                .await
            }
            Some(key) => {
                last = Param::from(key);
                params.push(&last);
                if self.keyset_after.is_none() {
                    let sql = keyset_declare(query, keyset, Some(params.len()));
                    match self.client.prepare(&sql).await {
                        Ok(statement) => self.keyset_after = Some(statement),
                        Err(e) => return Err(self.fail(e).await),
                    }
                }
                let statement = self.keyset_after.as_ref().expect("prepared above");
                join(
                    self.client.batch_execute(query.begin()),
                    self.client.execute(statement, &params),
                )
                .await
            }
        };
        if let Err(e) = declared.0.and(declared.1) {
            return Err(self.fail(e).await);
        }
        match rows(
            &self.client,
            &format!("FETCH ALL FROM {KEYSET_CURSOR}; COMMIT"),
        )
        .await
        {
            Ok(rows) => Ok(rows),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// The column names of `query`'s result (the statement is prepared,
    /// not run).
    pub(crate) async fn columns(&mut self, query: &Query) -> Result<Vec<String>, Error> {
        match self.client.prepare(query.body()).await {
            Ok(statement) => Ok(statement
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// The error of a failed request: when the connection is gone, the
    /// reason the connection task saw (the server's `FATAL` message, the
    /// socket error) rather than tokio-postgres's bare "connection closed".
    async fn fail(&mut self, e: tokio_postgres::Error) -> Error {
        if e.is_closed() {
            if let Some(ended) = self.ended.take() {
                if let Ok(Err(reason)) = ended.await {
                    return match Error::statement(reason) {
                        Error::Query { source } => Error::ConnectionLost { source },
                        lost => lost,
                    };
                }
            }
        }
        Error::statement(e)
    }
}

/// `FORWARD n`, or `ALL` where `n` is beyond PostgreSQL's bigint counts.
fn count(n: u64) -> String {
    if n >= i64::MAX as u64 {
        "ALL".to_owned()
    } else {
        format!("FORWARD {n}")
    }
}

/// The `DECLARE` of a keyset page: after the key in parameter `$after`,
/// or from the first row.
fn keyset_declare(query: &Query, keyset: &Keyset, after: Option<usize>) -> String {
    let key = keyset.quoted_key();
    let filter = after.map_or(String::new(), |n| {
        format!(" WHERE aiter_keyset.{key} > ${n}")
    });
    let limit = if query.page_size >= i64::MAX as u64 {
        "ALL".to_owned()
    } else {
        query.page_size.to_string()
    };
    format!(
        "DECLARE {KEYSET_CURSOR} NO SCROLL CURSOR FOR SELECT * FROM ({}) AS aiter_keyset{filter} \
         ORDER BY aiter_keyset.{key} LIMIT {limit}",
        query.body()
    )
}

/// The rows `sql` returns, through the simple-query protocol (text form).
async fn rows(client: &Client, sql: &str) -> Result<Vec<SimpleQueryRow>, tokio_postgres::Error> {
    let mut messages = pin!(client.simple_query_raw(sql).await?);
    let mut rows = Vec::new();
    while let Some(message) = messages.try_next().await? {
        if let SimpleQueryMessage::Row(row) = message {
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_beyond_bigint_fetch_all() {
        assert_eq!(count(1_000), "FORWARD 1000");
        assert_eq!(count(u64::MAX), "ALL");
    }

    #[test]
    fn keyset_pages_wrap_the_query() {
        let query = Query::new("SELECT id FROM t WHERE a = $1;")
            .param("x")
            .page_size(10);
        assert_eq!(
            keyset_declare(&query, &Keyset::new("id"), Some(2)),
            "DECLARE aiter_keyset_cursor NO SCROLL CURSOR FOR SELECT * FROM \
             (SELECT id FROM t WHERE a = $1) AS aiter_keyset WHERE aiter_keyset.\"id\" > $2 \
             ORDER BY aiter_keyset.\"id\" LIMIT 10"
        );
    }
}
