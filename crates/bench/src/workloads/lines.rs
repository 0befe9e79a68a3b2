//! Line counting on a generated log-like file of `--size` bytes.
//!
//! The file (lines of 20–200 bytes, deterministic, in a temp dir removed
//! when the cases are dropped) is written once and read once before timing,
//! so every case reads from the page cache. Cases, each timed from open to
//! the last line:
//! - `wc -l (process)`: the whole `wc -l FILE` process (skipped if there is
//!   no `wc`);
//! - `read + memchr`: std `read` into a 1 MiB buffer and `memchr_iter`
//!   count: the physical limit of counting;
//! - `read + memchr per line`: the same reads, visiting every `\n` and
//!   summing line lengths: the limit of any reader that hands out lines
//!   one at a time;
//! - each runtime's own `BufReader::lines()` (tokio with its default 8 KiB
//!   buffer, as users write it, and with 1 MiB; async-std and smol with
//!   1 MiB), which also sum the line lengths.
//!
//! Every case checks its line count (and the peers that see lines, their
//! total line bytes) against what the generator wrote.
//!
//! - aiter's `LineReader` ([`AiterLines`], the same code on every runtime):
//!   `next_line` (lent bytes) and `next_str` (lent UTF-8 text), and the
//!   `Lines` stream (owned lines), also summing line lengths;
//! - the same lending reader and stream over each runtime's own file as an
//!   `AsyncRead` ([`AiterFromAsyncRead`]: `aiter::tokio::line_reader_from`
//!   over `tokio::fs::File`, `LineReader::from_async_read` over
//!   `async_std::fs::File` and `smol::fs::File`).
//!
//! - `python (asyncio)`: a chunked async file reader (64 KiB reads on the
//!   default thread pool, an async generator of lines), when `python3` is
//!   present.
//!
//! Whole processes, a group of their own (start-up and exit included):
//! `wc -l (process)` and `aiter lines --count (process)`, the `aiter`
//! command on each runtime.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::{python, BenchError, Case, Config, Sample, Workload, SECONDS};
use crate::runtime::{self, CliRuntime, OnRuntime, RuntimeKind};
use crate::size::Bytes;

/// The line counting workload (`--only lines`).
#[derive(Debug)]
pub struct LineCount;

/// The generated file and what it holds. The temp dir is removed when the
/// last case holding this is dropped.
#[derive(Debug)]
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    expected: LineFile,
}

/// What a generated line file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFile {
    /// File size in bytes.
    pub bytes: u64,
    /// Number of lines (every line ends with `\n`).
    pub lines: u64,
    /// Bytes of all lines without their `\n`.
    pub line_bytes: u64,
}

impl Workload for LineCount {
    fn name(&self) -> &'static str {
        "lines"
    }

    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError> {
        let dir = tempfile::Builder::new().prefix("aiter-bench-").tempdir()?;
        let path = dir.path().join("lines.log");
        let expected = generate(&path, config.size)?;
        // Warm the page cache, and check the generator's own count.
        let (lines, _) = memchr_count(&path)?;
        check_lines(lines, expected.lines)?;
        let fixture = Arc::new(Fixture {
            _dir: dir,
            path,
            expected,
        });

        let workload = format!("line count, {}", Bytes(expected.bytes));
        let mut parameters = BTreeMap::new();
        parameters.insert("file_bytes".to_owned(), expected.bytes.into());
        parameters.insert("lines".to_owned(), expected.lines.into());
        parameters.insert("line_lengths".to_owned(), "20-200 bytes + \\n".into());

        let mut cases = Vec::new();
        if wc_available(&fixture.path) {
            let f = Arc::clone(&fixture);
            cases.push(
                Case::timed(
                    &workload,
                    "wc -l (process)",
                    None,
                    parameters.clone(),
                    move || {
                        let started = Instant::now();
                        let lines = wc_lines(&f.path)?;
                        let elapsed = started.elapsed();
                        check_lines(lines, f.expected.lines)?;
                        Ok(Sample::time(elapsed, lines))
                    },
                )
                .whole_process(),
            );
        } else {
            config.note("no `wc` on PATH: the `wc -l (process)` row is skipped");
        }

        // The `aiter` command itself, the way users run it, process against
        // process.
        match aiter_executable(config) {
            Ok(exe) => {
                for kind in RuntimeKind::ALL {
                    let f = Arc::clone(&fixture);
                    let exe = exe.clone();
                    cases.push(
                        Case::timed(
                            &workload,
                            "aiter lines --count (process)",
                            Some(kind),
                            parameters.clone(),
                            move || {
                                let started = Instant::now();
                                let lines = aiter_count_lines(&exe, kind, &f.path)?;
                                let elapsed = started.elapsed();
                                check_lines(lines, f.expected.lines)?;
                                Ok(Sample::time(elapsed, lines))
                            },
                        )
                        .whole_process(),
                    );
                }
            }
            Err(why) => config.note(format!(
                "the `aiter lines --count (process)` rows are skipped: {why}"
            )),
        }

        let f = Arc::clone(&fixture);
        cases.push(Case::timed(
            &workload,
            "read + memchr (std, 1 MiB)",
            None,
            parameters.clone(),
            move || {
                let (lines, elapsed) = memchr_count(&f.path)?;
                check_lines(lines, f.expected.lines)?;
                Ok(Sample::time(elapsed, lines))
            },
        ));

        let f = Arc::clone(&fixture);
        cases.push(Case::timed(
            &workload,
            "read + memchr per line (std, 1 MiB)",
            None,
            parameters.clone(),
            move || {
                let (counted, elapsed) = memchr_split(&f.path)?;
                counted.check(&f.expected)?;
                Ok(Sample::time(elapsed, counted.lines))
            },
        ));

        let readers = [
            (RuntimeKind::Tokio, 8 << 10),
            (RuntimeKind::Tokio, 1 << 20),
            (RuntimeKind::AsyncStd, 1 << 20),
            (RuntimeKind::Smol, 1 << 20),
        ];
        for (kind, capacity) in readers {
            let f = Arc::clone(&fixture);
            let mut parameters = parameters.clone();
            parameters.insert("buffer_bytes".to_owned(), capacity.into());
            cases.push(Case::timed(
                &workload,
                format!("BufReader::lines ({})", Bytes(capacity as u64)),
                Some(kind),
                parameters,
                move || {
                    let work = NativeLines {
                        path: f.path.clone(),
                        capacity,
                    };
                    let (counted, elapsed) = runtime::block_on(kind, work)??;
                    check_lines(counted.lines, f.expected.lines)?;
                    check_line_bytes(counted.line_bytes, f.expected.line_bytes)?;
                    Ok(Sample::time(elapsed, counted.lines))
                },
            ));
        }
        for kind in RuntimeKind::ALL {
            for api in [AiterApi::NextLine, AiterApi::NextStr, AiterApi::Stream] {
                let f = Arc::clone(&fixture);
                let mut parameters = parameters.clone();
                parameters.insert(
                    "chunk_bytes".to_owned(),
                    aiter::lines::DEFAULT_CHUNK_SIZE.into(),
                );
                cases.push(Case::timed(
                    &workload,
                    api.name(),
                    Some(kind),
                    parameters,
                    move || {
                        let work = AiterLines {
                            path: f.path.clone(),
                            api,
                            chunk: aiter::lines::DEFAULT_CHUNK_SIZE,
                        };
                        let (counted, elapsed) =
                            runtime::block_on(kind, work)?.map_err(|e| BenchError(chain(&e)))?;
                        check_lines(counted.lines, f.expected.lines)?;
                        check_line_bytes(counted.line_bytes, f.expected.line_bytes)?;
                        Ok(Sample::time(elapsed, counted.lines))
                    },
                ));
            }
        }
        for kind in RuntimeKind::ALL {
            for stream in [false, true] {
                let f = Arc::clone(&fixture);
                let mut parameters = parameters.clone();
                parameters.insert(
                    "chunk_bytes".to_owned(),
                    aiter::lines::DEFAULT_CHUNK_SIZE.into(),
                );
                let source = match kind {
                    RuntimeKind::Tokio => "tokio::fs::File",
                    RuntimeKind::AsyncStd => "async_std::fs::File",
                    RuntimeKind::Smol => "smol::fs::File",
                };
                parameters.insert("source".to_owned(), source.into());
                let name = if stream {
                    "aiter Lines (Stream) over AsyncRead"
                } else {
                    "aiter LineReader::next_line over AsyncRead"
                };
                cases.push(Case::timed(
                    &workload,
                    name,
                    Some(kind),
                    parameters,
                    move || {
                        let work = AiterFromAsyncRead {
                            path: f.path.clone(),
                            stream,
                        };
                        let (counted, elapsed) =
                            runtime::block_on(kind, work)?.map_err(BenchError)?;
                        counted.check(&f.expected)?;
                        Ok(Sample::time(elapsed, counted.lines))
                    },
                ));
            }
        }
        let chunk = 64usize << 10;
        let mut python_parameters = parameters.clone();
        python_parameters.insert("chunk_bytes".to_owned(), chunk.into());
        let args = vec![
            "lines".to_owned(),
            fixture.path.display().to_string(),
            chunk.to_string(),
        ];
        if let Some(mut case) =
            python::case(config, &workload, python_parameters, vec![SECONDS], args)
        {
            // The file lives as long as a case holds the fixture.
            let f = Arc::clone(&fixture);
            let mut run = case.routine;
            case.routine = Box::new(move || {
                let _file = &f;
                run()
            });
            cases.push(case);
        }
        Ok(cases)
    }
}

/// The `aiter` executable to time: `--aiter`, else the one beside this
/// executable (or beside the test's `deps/` directory). A release build run
/// by cargo (`cargo run --release -p aiter-bench`) first builds it with
/// `cargo build --release -p aiter-cli`, so the measured command is the
/// checked-out code.
fn aiter_executable(config: &Config) -> Result<PathBuf, String> {
    if let Some(exe) = &config.aiter_exe {
        return if exe.is_file() {
            Ok(exe.clone())
        } else {
            Err(format!("--aiter {} is not a file", exe.display()))
        };
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let name = format!("aiter{}", std::env::consts::EXE_SUFFIX);
    let dir = me.parent().ok_or("this executable has no directory")?;
    if let (false, Some(cargo)) = (cfg!(debug_assertions), std::env::var_os("CARGO")) {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "aiter-cli",
                "--manifest-path",
            ])
            .arg(&manifest)
            .status()
            .map_err(|e| format!("cannot run cargo to build `aiter`: {e}"))?;
        if !status.success() {
            return Err(format!(
                "`cargo build --release -p aiter-cli` failed ({status})"
            ));
        }
    }
    [dir.join(&name), dir.join("..").join(&name)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no `aiter` beside {} (build it with `cargo build -p aiter-cli`, or pass --aiter PATH)",
                me.display()
            )
        })
}

/// Checks the bytes of the lines a reader saw (without their `\n`).
///
/// # Errors
/// The count against the file's.
pub fn check_line_bytes(counted: u64, expected: u64) -> Result<(), BenchError> {
    if counted == expected {
        Ok(())
    } else {
        Err(BenchError(format!(
            "read {counted} line bytes, the file holds {expected}"
        )))
    }
}

/// Checks the number of lines a reader counted.
///
/// # Errors
/// The count against the file's.
pub fn check_lines(counted: u64, expected: u64) -> Result<(), BenchError> {
    if counted == expected {
        Ok(())
    } else {
        Err(BenchError(format!(
            "counted {counted} lines, the file holds {expected}"
        )))
    }
}

/// Lines and their bytes, as counted by a reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// Lines.
    pub lines: u64,
    /// Bytes of the lines without their `\n`.
    pub line_bytes: u64,
}

impl Counted {
    /// Checks the count against what the file holds.
    ///
    /// # Errors
    /// The first count that differs.
    pub fn check(self, expected: &LineFile) -> Result<(), BenchError> {
        check_lines(self.lines, expected.lines)?;
        check_line_bytes(self.line_bytes, expected.line_bytes)
    }
}

/// The runtime's own `BufReader::lines()` over its own async file, with a
/// `capacity`-byte buffer.
#[derive(Debug)]
pub struct NativeLines {
    /// The file.
    pub path: PathBuf,
    /// The buffer's capacity (8 KiB is every runtime's default).
    pub capacity: usize,
}

impl OnRuntime for NativeLines {
    type Output = std::io::Result<(Counted, Duration)>;

    async fn run<R: CliRuntime>(self, _rt: R) -> Self::Output {
        let mut counted = Counted::default();
        let started = Instant::now();
        match R::KIND {
            RuntimeKind::Tokio => {
                use tokio::io::AsyncBufReadExt as _;
                let file = tokio::fs::File::open(&self.path).await?;
                let mut lines = tokio::io::BufReader::with_capacity(self.capacity, file).lines();
                while let Some(line) = lines.next_line().await? {
                    counted.lines += 1;
                    counted.line_bytes += line.len() as u64;
                }
            }
            RuntimeKind::AsyncStd => {
                use async_std::io::prelude::BufReadExt as _;
                use async_std::stream::StreamExt as _;
                let file = async_std::fs::File::open(&self.path).await?;
                let mut lines =
                    async_std::io::BufReader::with_capacity(self.capacity, file).lines();
                while let Some(line) = lines.next().await {
                    counted.lines += 1;
                    counted.line_bytes += line?.len() as u64;
                }
            }
            RuntimeKind::Smol => {
                use smol::io::AsyncBufReadExt as _;
                use smol::stream::StreamExt as _;
                let file = smol::fs::File::open(&self.path).await?;
                let mut lines = smol::io::BufReader::with_capacity(self.capacity, file).lines();
                while let Some(line) = lines.next().await {
                    counted.lines += 1;
                    counted.line_bytes += line?.len() as u64;
                }
            }
        }
        Ok((counted, started.elapsed()))
    }
}

/// Which of aiter's line APIs a case times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiterApi {
    /// `LineReader::next_line`: lent bytes, no UTF-8 check.
    NextLine,
    /// `LineReader::next_str`: lent UTF-8 text (what `BufReader::lines` gives, without the `String`).
    NextStr,
    /// `Lines`: the owned-line `Stream`.
    Stream,
}

impl AiterApi {
    /// The name the report prints.
    pub fn name(self) -> &'static str {
        match self {
            AiterApi::NextLine => "aiter LineReader::next_line",
            AiterApi::NextStr => "aiter LineReader::next_str",
            AiterApi::Stream => "aiter Lines (Stream)",
        }
    }
}

/// aiter's `LineReader` over the file, on the runtime it is given: the
/// same code for every runtime.
#[derive(Debug)]
pub struct AiterLines {
    /// The file.
    pub path: PathBuf,
    /// The API.
    pub api: AiterApi,
    /// The reader's read size (`aiter::lines::DEFAULT_CHUNK_SIZE` in the
    /// report).
    pub chunk: usize,
}

impl OnRuntime for AiterLines {
    type Output = Result<(Counted, Duration), aiter::lines::LineError>;

    async fn run<R: CliRuntime>(self, rt: R) -> Self::Output {
        let mut counted = Counted::default();
        let started = Instant::now();
        let open = || aiter::lines::LineReader::open(rt, &self.path).chunk_size(self.chunk);
        match self.api {
            AiterApi::NextLine => {
                let mut reader = open();
                while let Some(line) = reader.next_line().await {
                    counted.lines += 1;
                    counted.line_bytes += line?.as_bytes().len() as u64;
                }
            }
            AiterApi::NextStr => {
                let mut reader = open();
                while let Some(line) = reader.next_str().await {
                    counted.lines += 1;
                    counted.line_bytes += line?.len() as u64;
                }
            }
            AiterApi::Stream => {
                let mut lines = aiter::lines::Lines::open(rt, &self.path).chunk_size(self.chunk);
                while let Some(line) = aiter::next(&mut lines).await {
                    counted.lines += 1;
                    counted.line_bytes += line?.len() as u64;
                }
            }
        }
        Ok((counted, started.elapsed()))
    }
}

/// aiter over each runtime's own file (`tokio::fs::File`,
/// `async_std::fs::File`, `smol::fs::File`) as an `AsyncRead`: the lending
/// reader (`next_line`) or the `Lines` stream, with the default chunk size.
#[derive(Debug)]
pub struct AiterFromAsyncRead {
    /// The file.
    pub path: PathBuf,
    /// The `Lines` stream rather than the lending reader.
    pub stream: bool,
}

impl OnRuntime for AiterFromAsyncRead {
    type Output = Result<(Counted, Duration), String>;

    async fn run<R: CliRuntime>(self, _rt: R) -> Self::Output {
        let started = Instant::now();
        let (path, stream) = (&self.path, self.stream);
        let open = |e: std::io::Error| e.to_string();
        let counted = match R::KIND {
            RuntimeKind::Tokio => {
                let f = tokio::fs::File::open(path).await.map_err(open)?;
                if stream {
                    owned(aiter::tokio::lines_from(f)).await
                } else {
                    lending(aiter::tokio::line_reader_from(f)).await
                }
            }
            RuntimeKind::AsyncStd => {
                let f = async_std::fs::File::open(path).await.map_err(open)?;
                futures_read(f, stream).await
            }
            RuntimeKind::Smol => {
                let f = smol::fs::File::open(path).await.map_err(open)?;
                futures_read(f, stream).await
            }
        }?;
        Ok((counted, started.elapsed()))
    }
}

/// An error with its causes (`source()`), each after a `: `.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The lending reader or the stream over a `futures_io::AsyncRead`.
async fn futures_read<F: futures::io::AsyncRead + Unpin>(
    f: F,
    stream: bool,
) -> Result<Counted, String> {
    use aiter::lines::{LineReader, Lines};
    if stream {
        owned(Lines::from_async_read(f)).await
    } else {
        lending(LineReader::from_async_read(f)).await
    }
}

/// The lending reader over any source.
async fn lending<S: aiter::lines::Source>(
    mut reader: aiter::lines::LineReader<S>,
) -> Result<Counted, String> {
    let mut counted = Counted::default();
    while let Some(line) = reader.next_line().await {
        counted.line_bytes += line.map_err(|e| chain(&e))?.as_bytes().len() as u64;
        counted.lines += 1;
    }
    Ok(counted)
}

/// The owned-line stream over any source.
async fn owned<S: aiter::lines::Source>(
    mut lines: aiter::lines::Lines<S>,
) -> Result<Counted, String> {
    let mut counted = Counted::default();
    while let Some(line) = aiter::next(&mut lines).await {
        counted.line_bytes += line.map_err(|e| chain(&e))?.len() as u64;
        counted.lines += 1;
    }
    Ok(counted)
}

/// Counts `\n` with std `read` into a 1 MiB buffer and `memchr`; returns
/// the count and the time from open to the end.
///
/// # Errors
/// If the file cannot be read.
pub fn memchr_count(path: &Path) -> Result<(u64, Duration), BenchError> {
    let started = Instant::now();
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok((lines, started.elapsed()))
}

/// Splits into lines with std `read` into a 1 MiB buffer and a
/// `memchr_iter` loop that visits every `\n` and sums the line lengths
/// (a line cut by a read boundary counts once): the limit of any reader
/// that hands out lines one by one. [`memchr_count`] is faster, since
/// `memchr`'s count never stops at a match.
///
/// # Errors
/// If the file cannot be read.
pub fn memchr_split(path: &Path) -> Result<(Counted, Duration), BenchError> {
    let started = Instant::now();
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut counted = Counted::default();
    // Bytes of the line that the last read cut.
    let mut carried = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &buf[..n]) {
            counted.lines += 1;
            counted.line_bytes += carried + (end - start) as u64;
            carried = 0;
            start = end + 1;
        }
        carried += (n - start) as u64;
    }
    if carried > 0 {
        counted.lines += 1;
        counted.line_bytes += carried;
    }
    Ok((counted, started.elapsed()))
}

/// std `BufReader::read_until` into a reused `Vec` with a 1 MiB buffer:
/// the synchronous reference (the criterion bench's; not in the report).
///
/// # Errors
/// If the file cannot be read.
pub fn std_read_until(path: &Path) -> std::io::Result<Counted> {
    use std::io::BufRead as _;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut line = Vec::new();
    let mut counted = Counted::default();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(counted);
        }
        counted.lines += 1;
        counted.line_bytes += (line.len() - usize::from(line.last() == Some(&b'\n'))) as u64;
    }
}

/// Runs `EXE lines --count PATH --runtime KIND` and parses its count.
fn aiter_count_lines(exe: &Path, kind: RuntimeKind, path: &Path) -> Result<u64, BenchError> {
    let out = Command::new(exe)
        .args(["lines", "--count", "--runtime", kind.name()])
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err(BenchError(format!(
            "`aiter lines --count` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            BenchError(format!(
                "cannot read `aiter lines --count` output {stdout:?}"
            ))
        })
}

/// Whether `wc -l` runs here.
fn wc_available(path: &Path) -> bool {
    wc_lines(path).is_ok()
}

/// Runs `wc -l PATH` and parses its count.
fn wc_lines(path: &Path) -> Result<u64, BenchError> {
    let out = Command::new("wc").arg("-l").arg(path).output()?;
    if !out.status.success() {
        return Err(BenchError(format!(
            "`wc -l` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| BenchError(format!("cannot read `wc -l` output {stdout:?}")))
}

/// SplitMix64: a tiny deterministic generator, so every run reads the same file.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

const WORDS: [&str; 24] = [
    "INFO",
    "WARN",
    "DEBUG",
    "GET",
    "POST",
    "/api/v1/users",
    "/api/v1/items/42",
    "status=200",
    "status=404",
    "took=12ms",
    "took=250ms",
    "user_id=4242",
    "worker-3",
    "request",
    "completed",
    "cache",
    "miss",
    "hit",
    "db.query",
    "retry=1",
    "upstream=10.0.0.7:8080",
    "bytes=5120",
    "trace_id=9f86d081884c7d65",
    "ok",
];

/// Writes a log-like file of exactly `size` bytes to `path`: lines of
/// 20–200 bytes plus `\n` (the last line may be shorter so the size is
/// exact), ASCII, the same for the same size.
///
/// # Errors
/// If the file cannot be written.
pub fn generate(path: &Path, size: u64) -> Result<LineFile, BenchError> {
    generate_with_long_lines(path, size, &[])
}

/// [`generate`], plus one line of each length in `long_lines` (bytes
/// without the `\n`), at evenly spaced points of the file; with no long
/// lines, the same file as [`generate`].
///
/// # Errors
/// If the file cannot be written.
pub fn generate_with_long_lines(
    path: &Path,
    size: u64,
    long_lines: &[u64],
) -> Result<LineFile, BenchError> {
    let mut rng = SplitMix64(0x00A1_7E50_11E5);
    // A pool of words to cut lines from.
    let mut pool = Vec::with_capacity(64 << 10);
    while pool.len() < 64 << 10 {
        pool.extend_from_slice(WORDS[rng.next() as usize % WORDS.len()].as_bytes());
        pool.push(b' ');
    }

    let file = File::create(path)
        .map_err(|e| BenchError(format!("cannot create {}: {e}", path.display())))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = LineFile {
        bytes: 0,
        lines: 0,
        line_bytes: 0,
    };
    let mut line = Vec::with_capacity(256);
    let every = size / (long_lines.len() as u64 + 1);
    let mut placed = 0;
    while written.bytes < size {
        let remaining = size - written.bytes;
        line.clear();
        // `0000001234 ` then words from a random place in the pool.
        let seq = format!("{:010} ", written.lines + 1);
        let length = match long_lines.get(placed) {
            Some(&long) if written.bytes >= every * (placed as u64 + 1) => {
                placed += 1;
                let length = long.min(remaining - 1) as usize;
                line.extend_from_slice(&seq.as_bytes()[..seq.len().min(length)]);
                // The pool over and over, from a random place.
                let mut start = rng.next() as usize % pool.len();
                while line.len() < length {
                    let take = (length - line.len()).min(pool.len() - start);
                    line.extend_from_slice(&pool[start..start + take]);
                    start = 0;
                }
                length
            }
            _ => {
                let length = rng.between(20, 200).min(remaining - 1) as usize;
                line.extend_from_slice(&seq.as_bytes()[..seq.len().min(length)]);
                let start = rng.next() as usize % (pool.len() - 256);
                line.extend_from_slice(&pool[start..start + (length - line.len())]);
                length
            }
        };
        line.push(b'\n');
        out.write_all(&line)
            .map_err(|e| BenchError(format!("cannot write {}: {e}", path.display())))?;
        written.bytes += line.len() as u64;
        written.lines += 1;
        written.line_bytes += length as u64;
    }
    out.flush()
        .map_err(|e| BenchError(format!("cannot write {}: {e}", path.display())))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_file_has_the_exact_size_and_what_it_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        for size in [0, 1, 2, 21, 1000, 300_000] {
            let made = generate(&path, size).unwrap();
            let text = std::fs::read(&path).unwrap();
            assert_eq!(text.len() as u64, size);
            assert_eq!(made.bytes, size);
            let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            // `split` yields one empty piece after the final `\n`.
            assert_eq!(made.lines, lines.len() as u64 - 1);
            assert_eq!(made.line_bytes, size - made.lines);
            assert!(text.is_ascii());
            if size == 300_000 {
                let body = &lines[..lines.len() - 2]; // all but the short last line
                assert!(body.iter().all(|l| (20..=200).contains(&l.len())));
            }
        }
    }

    #[test]
    fn long_lines_are_placed_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, long) = (dir.path().join("plain"), dir.path().join("long"));
        let made = generate_with_long_lines(&long, 400_000, &[50_000, 70_000]).unwrap();
        let text = std::fs::read(&long).unwrap();
        assert_eq!(text.len() as u64, 400_000);
        let lengths: Vec<usize> = text.split(|&b| b == b'\n').map(<[u8]>::len).collect();
        assert_eq!(made.lines, lengths.len() as u64 - 1);
        assert_eq!(made.line_bytes, 400_000 - made.lines);
        assert!(lengths.contains(&50_000) && lengths.contains(&70_000));
        assert_eq!(std_read_until(&long).unwrap().lines, made.lines);
        // No long lines: the file `generate` writes.
        generate_with_long_lines(&plain, 50_000, &[]).unwrap();
        generate(&long, 50_000).unwrap();
        assert_eq!(std::fs::read(plain).unwrap(), std::fs::read(long).unwrap());
    }

    #[test]
    fn generation_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        generate(&a, 50_000).unwrap();
        generate(&b, 50_000).unwrap();
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    #[test]
    fn every_reader_counts_every_line_on_every_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let made = generate(&path, 200_000).unwrap();
        assert_eq!(memchr_count(&path).unwrap().0, made.lines);
        memchr_split(&path).unwrap().0.check(&made).unwrap();
        std_read_until(&path).unwrap().check(&made).unwrap();
        for kind in RuntimeKind::ALL {
            for stream in [false, true] {
                let work = AiterFromAsyncRead {
                    path: path.clone(),
                    stream,
                };
                let (counted, _) = runtime::block_on(kind, work).unwrap().unwrap();
                counted.check(&made).unwrap();
            }
        }
        for kind in RuntimeKind::ALL {
            let work = NativeLines {
                path: path.clone(),
                capacity: 8 << 10,
            };
            let (counted, _) = runtime::block_on(kind, work).unwrap().unwrap();
            assert_eq!(
                (counted.lines, counted.line_bytes),
                (made.lines, made.line_bytes),
                "{kind}"
            );
            for api in [AiterApi::NextLine, AiterApi::NextStr, AiterApi::Stream] {
                let work = AiterLines {
                    path: path.clone(),
                    api,
                    chunk: 4 << 10,
                };
                let (counted, _) = runtime::block_on(kind, work).unwrap().unwrap();
                let got = (counted.lines, counted.line_bytes);
                assert_eq!(
                    got,
                    (made.lines, made.line_bytes),
                    "{} on {kind}",
                    api.name()
                );
            }
        }
    }
}
