//! The cursor against a real PostgreSQL server: a table of `rows` rows of
//! `(int, text, numeric, NULL-able text)` paged by `aiter-postgres`'s
//! server-side cursor ([`aiter_postgres::pages`]: `DECLARE … CURSOR`, then
//! one `FETCH n` round trip per page) through aiter's `Cursor` with
//! prefetch off and prefetch 1, on each runtime; the peer is
//! tokio-postgres's own row stream (`query_raw`: one `Execute`, no paging,
//! the socket read as fast as the consumer reads), on the same runtime's
//! socket and spawner ([`Net`]).
//!
//! The consumer works `C` per page (a blocking `thread::sleep` after each
//! page's last row: the executor is not polling, as with real work; a
//! sleep rather than a spin, so the overlap shows on a loaded machine
//! too). Two metrics per run: the total time, and the mean wait for the
//! next page: from the end of the consumer's work on a page to the next
//! page's first row (every page but the first, whose wait includes the
//! connection). Without prefetch that wait is the page latency: a `FETCH`
//! round trip and its rows; with prefetch 1 it is what prefetch did not
//! hide. For `query_raw` it is the wait for the next row only: its later
//! rows may still be arriving, which shows in its time. [`overlap_note`]
//! turns the medians into the share of the page latency prefetch 1
//! overlaps with the consumer, per runtime, in the report. Every run checks
//! the row count and sums the first column (the check).
//!
//! The server: `AITER_BENCH_POSTGRES` (a libpq connection string), else
//! `AITER_TEST_POSTGRES` (set by the repository's CI script), else a
//! throwaway cluster of this run started by the repository's
//! `.ci/postgres serve DIR` (initdb in a temp dir, unix socket, trust
//! auth; the cluster stops when its stdin closes, at the end of the
//! workload). With no server the workload is skipped with a note. The
//! table (`aiter_bench_cursor_<rows>`) is created for the run and dropped
//! after it.
//!
//! Executors: as everywhere in the bench, async-std's and smol's
//! `block_on`; tokio's is a multi-thread runtime with one worker, so that
//! the connection and fetch tasks `aiter-postgres` spawns run while the
//! consumer blocks (on a current-thread runtime nothing but the consumer
//! runs until it awaits, so no prefetch can overlap).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use aiter::cursor::Cursor;
use aiter::next;
use aiter_postgres::tokio_postgres::config::Host;
use aiter_postgres::tokio_postgres::{self, NoTls};
use aiter_postgres::{Config as PgConfig, Net, Query, Target};
use futures::TryStreamExt;

use crate::bench::report::Record;
use crate::bench::{BenchError, Case, Config, Metric, Sample, Workload, SECONDS};
use crate::runtime::RuntimeKind;

/// The PostgreSQL cursor workload (`--only cursor-postgres`).
#[derive(Debug)]
pub struct CursorPostgres;

/// The mean wait for the next page: see the module docs.
const WAIT: Metric = Metric {
    name: "wait for the next page",
    unit: "ms",
};

/// Rows per page (`FETCH n`).
pub const PAGE: u64 = 1_000;
/// Consumer time per page.
pub const C: Duration = Duration::from_millis(2);

/// The variable naming the server to bench against.
pub const ENV: &str = "AITER_BENCH_POSTGRES";
/// The tests' server variable, accepted as a fallback.
const TEST_ENV: &str = "AITER_TEST_POSTGRES";

/// How a case reads the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `pages` + `Cursor` without prefetch.
    Off,
    /// `pages` + `Cursor::prefetch(1)`.
    Prefetch,
    /// tokio-postgres's `query_raw` row stream.
    QueryRaw,
}

impl Reader {
    /// Every reader, in report order.
    pub const ALL: [Reader; 3] = [Reader::Off, Reader::Prefetch, Reader::QueryRaw];

    /// The implementation name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Reader::Off => "aiter-postgres pages, prefetch off",
            Reader::Prefetch => "aiter-postgres pages, prefetch 1",
            Reader::QueryRaw => "tokio-postgres query_raw (row stream)",
        }
    }
}

impl Workload for CursorPostgres {
    fn name(&self) -> &'static str {
        "cursor-postgres"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let rows: u64 = if config.quick { 20_000 } else { 100_000 };
        let server = match Server::find_or_start() {
            Ok(server) => server,
            Err(why) => {
                config.note(format!(
                    "cursor-postgres skipped: no PostgreSQL server ({why}); set {ENV} to a \
                     libpq connection string or install PostgreSQL"
                ));
                return Ok(Vec::new());
            }
        };
        let fixture = Rc::new(Fixture::create(server, rows)?);
        let workload = format!(
            "cursor on PostgreSQL, {rows} rows, pages of {PAGE}, C = {} ms",
            C.as_millis()
        );
        let mut parameters = BTreeMap::new();
        parameters.insert("rows".to_owned(), rows.into());
        parameters.insert("page_rows".to_owned(), PAGE.into());
        parameters.insert(
            "consumer_ms_per_page".to_owned(),
            (C.as_millis() as u64).into(),
        );
        parameters.insert("server".to_owned(), fixture.server.origin.clone().into());
        let mut cases = Vec::new();
        for kind in RuntimeKind::ALL {
            for reader in Reader::ALL {
                let fixture = Rc::clone(&fixture);
                cases.push(Case {
                    workload: workload.clone(),
                    implementation: reader.name().to_owned(),
                    runtime: Some(kind),
                    parameters: parameters.clone(),
                    metrics: vec![SECONDS, WAIT],
                    routine: Box::new(move || {
                        let run = Run {
                            reader,
                            config: fixture.config.clone(),
                            sql: fixture.sql(),
                        };
                        let outcome = block_on(kind, run)?;
                        fixture.check(&outcome)?;
                        let waits = u32::try_from(outcome.waits.max(1)).unwrap_or(u32::MAX);
                        Ok(Sample {
                            values: vec![
                                outcome.elapsed.as_secs_f64(),
                                (outcome.waited / waits).as_secs_f64() * 1e3,
                            ],
                            check: outcome.sum,
                        })
                    }),
                });
            }
        }
        Ok(cases)
    }
}

/// The report's note on the wait-per-page group: per runtime, the page
/// latency (the wait without prefetch), what prefetch 1 still waits and
/// the share of the latency it overlaps, and what `query_raw` waits.
/// Returns the group and the note, or `None` without this workload's
/// records.
pub fn overlap_note(records: &[Record]) -> Option<(String, String)> {
    let wait = |reader: Reader, rt: RuntimeKind| {
        records.iter().find(|r| {
            r.metric == WAIT.name
                && r.implementation == reader.name()
                && r.runtime == Some(rt.name())
        })
    };
    let mut group = None;
    let mut parts = Vec::new();
    for rt in RuntimeKind::ALL {
        let (Some(off), Some(on)) = (wait(Reader::Off, rt), wait(Reader::Prefetch, rt)) else {
            continue;
        };
        group.get_or_insert_with(|| off.group());
        let overlapped = if off.median > 0.0 {
            100.0 * (1.0 - on.median / off.median)
        } else {
            0.0
        };
        let peer = wait(Reader::QueryRaw, rt)
            .map_or_else(String::new, |r| format!(", query_raw {}", millis(r.median)));
        parts.push(format!(
            "{rt}: page latency {}, prefetch 1 waits {} ({overlapped:.0} % overlapped){peer}",
            millis(off.median),
            millis(on.median)
        ));
    }
    Some((
        group?,
        format!(
            "Page latency is the wait for the next page without prefetch (one FETCH round trip \
             and its rows); the overlap is the share of it prefetch 1 hides behind the \
             consumer's {} ms per page; query_raw's wait is for the next row only. {}.",
            C.as_millis(),
            parts.join("; ")
        ),
    ))
}

/// `ms` milliseconds for reading: `1.25 ms`, or `45 µs` below 0.1 ms.
fn millis(ms: f64) -> String {
    if ms < 0.1 {
        format!("{:.0} µs", ms * 1e3)
    } else {
        format!("{ms:.2} ms")
    }
}

/// A server: its connection string, where it came from, and the cluster
/// process when this run started one.
struct Server {
    conninfo: String,
    origin: String,
    /// Held for its `Drop`: the cluster lives as long as the server.
    _cluster: Option<Cluster>,
}

/// A cluster of `.ci/postgres serve`: stopped when its stdin closes.
struct Cluster {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // End of file on the script's stdin: it stops the cluster and
        // removes its directory; wait for that.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Server {
    fn find_or_start() -> Result<Server, String> {
        for var in [ENV, TEST_ENV] {
            if let Ok(conninfo) = std::env::var(var) {
                if !conninfo.trim().is_empty() {
                    return Ok(Server {
                        conninfo,
                        origin: var.to_owned(),
                        _cluster: None,
                    });
                }
            }
        }
        let script = script()?;
        let dir = std::env::temp_dir().join(format!("aiter-bench-pg-{}", std::process::id()));
        let mut child = Command::new("bash")
            .arg(&script)
            .arg("serve")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
        if read.is_err() || line.trim().is_empty() {
            drop(child.stdin.take());
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            let status = child.wait().map_err(|e| e.to_string())?;
            let why = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            return Err(format!(".ci/postgres serve failed ({status}): {why}"));
        }
        let stdin = child.stdin.take();
        Ok(Server {
            conninfo: line.trim().to_owned(),
            origin: "throwaway cluster (.ci/postgres)".to_owned(),
            _cluster: Some(Cluster { child, stdin }),
        })
    }
}

/// The repository's `.ci/postgres`, found above this crate.
fn script() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(".ci/postgres"))
        .find(|script| script.is_file())
        .ok_or_else(|| "no .ci/postgres script above the bench crate".to_owned())
}

/// The server with the workload's table; drops the table, then stops a
/// cluster of this run, when the last case is dropped.
struct Fixture {
    config: PgConfig,
    table: String,
    rows: u64,
    // Dropped after `drop` has run: the cluster outlives the DROP TABLE.
    server: Server,
}

impl Fixture {
    fn create(server: Server, rows: u64) -> Result<Fixture, BenchError> {
        let config: PgConfig = server.conninfo.parse().map_err(|e| {
            BenchError(format!(
                "cursor-postgres: bad connection string from {}: {e}",
                server.origin
            ))
        })?;
        let table = format!("aiter_bench_cursor_{rows}");
        let sql = format!(
            "DROP TABLE IF EXISTS {table}; \
             CREATE TABLE {table} AS SELECT g AS id, 'user ' || g AS name, \
             (g * 1.25)::numeric(12, 2) AS score, \
             CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END AS note \
             FROM generate_series(1, {rows}) AS g; ANALYZE {table}"
        );
        simple_query(&config, &sql).map_err(|e| {
            BenchError(format!(
                "cursor-postgres: cannot create the table on {}: {e}",
                server.origin
            ))
        })?;
        Ok(Fixture {
            config,
            table,
            rows,
            server,
        })
    }

    fn sql(&self) -> String {
        format!(
            "SELECT id, name, score, note FROM {} ORDER BY id",
            self.table
        )
    }

    fn check(&self, outcome: &Outcome) -> Result<(), BenchError> {
        let expected = self.rows * (self.rows + 1) / 2;
        if outcome.count != self.rows || outcome.sum != expected {
            return Err(BenchError(format!(
                "read {} rows summing to {}, expected {} rows summing to {expected}",
                outcome.count, outcome.sum, self.rows
            )));
        }
        Ok(())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Err(e) = simple_query(
            &self.config,
            &format!("DROP TABLE IF EXISTS {}", self.table),
        ) {
            eprintln!(
                "aiter-bench: cursor-postgres: cannot drop {}: {e}",
                self.table
            );
        }
    }
}

/// Runs `sql` (statements separated by `;`) on a connection of its own.
fn simple_query(config: &PgConfig, sql: &str) -> Result<(), String> {
    let config = config.clone();
    let sql = sql.to_owned();
    let runtime = tokio_runtime().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let client = connect(aiter::tokio::Tokio, &config).await?;
        client
            .simple_query(&sql)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

/// The first place `config` names, as aiter-postgres's [`Target`].
fn target(config: &PgConfig) -> Result<Target, String> {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(Host::Unix(dir)) => Ok(Target::Unix(dir.join(format!(".s.PGSQL.{port}")))),
        Some(Host::Tcp(host)) => Ok(Target::Tcp {
            host: host.clone(),
            port,
        }),
        None => Err("the connection string names no host".to_owned()),
    }
}

/// A tokio-postgres client on `net`'s socket, its connection driven by a
/// task spawned on `net`.
async fn connect<N: Net>(net: N, config: &PgConfig) -> Result<tokio_postgres::Client, String> {
    let target = target(config)?;
    let socket = net
        .connect(&target)
        .await
        .map_err(|e| format!("cannot connect to {target}: {e}"))?;
    let (client, connection) = config
        .connect_raw(socket, NoTls)
        .await
        .map_err(|e| e.to_string())?;
    net.spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// What one run read and how long it took.
#[derive(Debug)]
struct Outcome {
    elapsed: Duration,
    /// The total wait for the next page (see the module docs).
    waited: Duration,
    /// How many waits `waited` sums.
    waits: u64,
    count: u64,
    sum: u64,
}

/// One run of a reader.
struct Run {
    reader: Reader,
    config: PgConfig,
    sql: String,
}

impl Run {
    async fn go<N: Net>(self, net: N) -> Result<Outcome, String> {
        let mut consumer = Consumer::default();
        let started = Instant::now();
        match self.reader {
            Reader::Off | Reader::Prefetch => {
                let prefetch = usize::from(self.reader == Reader::Prefetch);
                let fetch =
                    aiter_postgres::pages(net, self.config, Query::new(self.sql).page_size(PAGE));
                let mut rows = pin!(Cursor::new(fetch).prefetch(prefetch));
                while let Some(row) = next(&mut rows).await {
                    let row = row.map_err(|e| e.to_string())?;
                    let id = row.get(0).and_then(|id| id.parse::<u64>().ok());
                    consumer.row(id, row.get(3).map(str::len))?;
                }
            }
            Reader::QueryRaw => {
                let client = connect(net, &self.config).await?;
                let rows = client
                    .query_raw(
                        &self.sql,
                        std::iter::empty::<&(dyn tokio_postgres::types::ToSql + Sync)>(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let mut rows = pin!(rows);
                while let Some(row) = rows.try_next().await.map_err(|e| e.to_string())? {
                    let id = row
                        .try_get::<_, i32>(0)
                        .ok()
                        .and_then(|id| u64::try_from(id).ok());
                    let note = row
                        .try_get::<_, Option<&str>>(3)
                        .map_err(|e| e.to_string())?;
                    consumer.row(id, note.map(str::len))?;
                }
            }
        }
        Ok(Outcome {
            elapsed: started.elapsed(),
            waited: consumer.waited,
            waits: consumer.waits,
            count: consumer.count,
            sum: consumer.sum,
        })
    }
}

/// Counts and sums the rows, working `C` after each page's last row, and
/// times the wait from the end of that work to the next row.
#[derive(Default)]
struct Consumer {
    count: u64,
    sum: u64,
    /// When the work on the last page ended, until the next row comes.
    worked: Option<Instant>,
    waited: Duration,
    waits: u64,
}

impl Consumer {
    fn row(&mut self, id: Option<u64>, note: Option<usize>) -> Result<(), String> {
        if let Some(worked) = self.worked.take() {
            self.waited += worked.elapsed();
            self.waits += 1;
        }
        let id = id.ok_or_else(|| format!("row {}: no integer id", self.count + 1))?;
        std::hint::black_box(note);
        self.count += 1;
        self.sum += id;
        if self.count.is_multiple_of(PAGE) {
            std::thread::sleep(C);
            self.worked = Some(Instant::now());
        }
        Ok(())
    }
}

/// tokio with one worker thread for the spawned tasks (see the module docs).
fn tokio_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// Runs `run` on `kind`'s executor with its runtime value as the [`Net`].
fn block_on(kind: RuntimeKind, run: Run) -> Result<Outcome, BenchError> {
    let outcome = match kind {
        RuntimeKind::Tokio => tokio_runtime()?.block_on(run.go(aiter::tokio::Tokio)),
        RuntimeKind::AsyncStd => async_std::task::block_on(run.go(aiter::async_std::AsyncStd)),
        RuntimeKind::Smol => smol::block_on(run.go(aiter::smol::Smol)),
    };
    outcome.map_err(BenchError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_first_host() {
        let config: PgConfig = "host=/tmp/pg port=5433 user=postgres".parse().unwrap();
        assert_eq!(
            target(&config).unwrap(),
            Target::Unix("/tmp/pg/.s.PGSQL.5433".into())
        );
        let config: PgConfig = "postgresql://db.example/app".parse().unwrap();
        assert_eq!(
            target(&config).unwrap(),
            Target::Tcp {
                host: "db.example".into(),
                port: 5432
            }
        );
    }

    #[test]
    fn the_note_gives_each_runtimes_page_latency_and_overlap() {
        let timed = |reader: Reader, kind: RuntimeKind, wait_ms: f64| crate::bench::Timed {
            workload: "cursor on PostgreSQL".to_owned(),
            implementation: reader.name().to_owned(),
            runtime: Some(kind),
            parameters: BTreeMap::new(),
            metrics: vec![SECONDS, WAIT],
            samples: vec![
                Sample {
                    values: vec![0.3, wait_ms],
                    check: 1,
                };
                3
            ],
        };
        let config = Config::new(
            RuntimeKind::ALL.to_vec(),
            None,
            true,
            None,
            vec![],
            "x".into(),
        );
        let report = |timed: &[crate::bench::Timed]| {
            crate::bench::report::Report::new(
                crate::machine::Machine::detect(),
                &config,
                timed,
                Duration::ZERO,
            )
        };
        let cases = [
            timed(Reader::Off, RuntimeKind::Tokio, 1.0),
            timed(Reader::Prefetch, RuntimeKind::Tokio, 0.1),
            timed(Reader::QueryRaw, RuntimeKind::Tokio, 0.004),
            timed(Reader::Off, RuntimeKind::Smol, 2.0),
            timed(Reader::Prefetch, RuntimeKind::Smol, 0.05),
        ];
        let (group, note) = overlap_note(&report(&cases).records).unwrap();
        assert_eq!(group, "cursor on PostgreSQL: wait for the next page");
        assert!(
            note.contains(
                "tokio: page latency 1.00 ms, prefetch 1 waits 0.10 ms (90 % overlapped), \
                 query_raw 4 µs; smol: page latency 2.00 ms, prefetch 1 waits 50 µs (98 % overlapped)."
            ),
            "{note}"
        );
        assert!(!note.contains("async-std"), "{note}");
        // Without the wait records (another workload): no note.
        let records: Vec<Record> = report(&cases)
            .records
            .into_iter()
            .filter(|r| r.metric != WAIT.name)
            .collect();
        assert!(!records.is_empty());
        assert!(overlap_note(&records).is_none());
    }

    #[test]
    fn the_consumer_sums_ids_and_works_once_per_page() {
        let mut consumer = Consumer::default();
        for id in 1..=2 * PAGE {
            consumer.row(Some(id), None).unwrap();
        }
        assert_eq!(consumer.count, 2 * PAGE);
        assert_eq!(consumer.sum, PAGE * (2 * PAGE + 1));
        // The wait after the first page's work; the second's is pending.
        assert_eq!(consumer.waits, 1);
        assert!(consumer.worked.is_some());
        assert!(consumer.row(None, None).unwrap_err().contains("row 2001"));
        assert_eq!(consumer.waits, 2);
    }
}
