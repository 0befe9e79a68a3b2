//! Line reading through every runtime adapter: the lending reader and the
//! owned-line stream on real files.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, reference_lines, temp_dir, write_file, Choppy, Rng, Runtime};

use std::io::ErrorKind;

use aiter::lines::{
    Ending, FileSource, Follow, LineError, LineErrorKind, LineReader, Lines, SharedLine, Source,
};
use aiter::{next, FusedStream, Stream};
use futures::StreamExt;

/// A deterministic log-like file: lines of 0..300 bytes, some CRLF, and the
/// lines the obvious way (`split`), for comparison.
fn log_like(lines: usize, seed: u64) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut rng = seed | 1;
    let mut data = Vec::new();
    let mut want = Vec::new();
    for i in 0..lines {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let len = (rng % 300) as usize;
        let line: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
        data.extend_from_slice(&line);
        data.extend_from_slice(if rng.is_multiple_of(7) {
            b"\r\n"
        } else {
            b"\n"
        });
        want.push(line);
    }
    (data, want)
}

async fn lending_reader_reads_every_line_of_a_file<R: Runtime>(rt: R) {
    let dir = temp_dir();
    // Large chunks on a larger file, tiny ones (many short reads) on a small one.
    for (lines, chunk) in [
        (20_000, aiter::lines::DEFAULT_CHUNK_SIZE),
        (20_000, 4096),
        (200, 7),
    ] {
        let (data, want) = log_like(lines, 7);
        let path = write_file(&dir, "app.log", &data);
        let mut reader = LineReader::open(rt.clone(), &path).chunk_size(chunk);
        let mut n = 0;
        let mut offset = 0;
        while let Some(line) = reader.next_line().await {
            let line = line.expect("no errors");
            assert_eq!(line.as_bytes(), want[n], "line {n} with chunk {chunk}");
            assert_eq!((line.number(), line.offset()), (n as u64 + 1, offset));
            offset += (line.as_bytes().len() + line.ending().len()) as u64;
            n += 1;
        }
        assert_eq!(n, want.len());
        assert!(reader.next_line().await.is_none(), "fused");
        assert!(reader.is_terminated());
    }
}

async fn the_stream_yields_owned_lines_that_outlive_the_reader<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let (data, want) = log_like(5_000, 11);
    let path = write_file(&dir, "app.log", &data);
    let lines: Vec<SharedLine> = Lines::open(rt, &path)
        .chunk_size(1000)
        .map(|l| l.expect("no errors"))
        .collect()
        .await;
    assert_eq!(lines.len(), want.len());
    for (got, want) in lines.iter().zip(&want) {
        assert_eq!(got.as_bytes(), &want[..]);
    }
}

async fn streams_merge_and_keep_each_files_order<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let a = write_file(&dir, "a.log", b"a1\na2\na3\n");
    let b = write_file(&dir, "b.log", b"b1\nb2\n");
    let merged = futures::stream::select(Lines::open(rt.clone(), a), Lines::open(rt, b));
    let got: Vec<String> = merged
        .map(|l| l.unwrap().to_str().unwrap().to_owned())
        .collect()
        .await;
    assert_eq!(got.len(), 5);
    let only = |p: char| {
        got.iter()
            .filter(|l| l.starts_with(p))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(only('a'), ["a1", "a2", "a3"]);
    assert_eq!(only('b'), ["b1", "b2"]);
}

async fn empty_file_newline_and_missing_final_newline<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let read = |name: &str, data: &[u8]| {
        let path = write_file(&dir, name, data);
        let rt = rt.clone();
        async move {
            Lines::open(rt, path)
                .map(|l| {
                    let l = l.unwrap();
                    (l.to_vec(), l.ending())
                })
                .collect::<Vec<_>>()
                .await
        }
    };
    assert_eq!(read("empty", b"").await, []);
    assert_eq!(read("newline", b"\n").await, [(vec![], Ending::Lf)]);
    assert_eq!(
        read("crlf", b"x\r\ny").await,
        [(b"x".to_vec(), Ending::CrLf), (b"y".to_vec(), Ending::None)]
    );
    let kept: Vec<Vec<u8>> = Lines::open(rt, write_file(&dir, "kept", b"x\r\ny\n"))
        .keep_endings(true)
        .map(|l| l.unwrap().to_vec())
        .collect()
        .await;
    assert_eq!(kept, [b"x\r\n".to_vec(), b"y\n".to_vec()]);
}

async fn a_missing_file_is_one_error_naming_it<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("nope.log");
    let mut reader = LineReader::open(rt, &path);
    let err: LineError = reader.next_line().await.unwrap().unwrap_err();
    assert!(matches!(err.kind(), LineErrorKind::Io(e) if e.kind() == ErrorKind::NotFound));
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(
        err.to_string(),
        format!("{}: cannot read (line 1, byte offset 0)", path.display())
    );
    let source = std::error::Error::source(&err).expect("the I/O error is the source");
    assert_eq!(
        source.downcast_ref::<std::io::Error>().map(|e| e.kind()),
        Some(ErrorKind::NotFound)
    );
    assert!(
        reader.next_line().await.is_none(),
        "ended after an I/O error"
    );
}

async fn a_too_long_line_is_skipped_and_reading_goes_on<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let mut data = b"first\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', 100_000));
    data.extend_from_slice(b"\nlast\n");
    let path = write_file(&dir, "long.log", &data);
    let mut reader = LineReader::open(rt.clone(), &path)
        .chunk_size(4096)
        .max_line_length(Some(1024));
    assert_eq!(
        reader.next_line().await.unwrap().unwrap().as_bytes(),
        b"first"
    );
    let err = reader.next_line().await.unwrap().unwrap_err();
    assert!(matches!(err.kind(), LineErrorKind::TooLong { limit: 1024 }));
    assert_eq!((err.line(), err.offset()), (2, 6));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line longer than 1024 bytes (line 2, byte offset 6)",
            path.display()
        )
    );
    let last = reader.next_line().await.unwrap().unwrap();
    assert_eq!((last.as_bytes(), last.number()), (&b"last"[..], 3));
    assert!(reader.next_line().await.is_none());

    // No limit: the whole line comes out.
    let mut reader = LineReader::open(rt, &path)
        .chunk_size(4096)
        .max_line_length(None);
    reader.next_line().await;
    assert_eq!(
        reader.next_line().await.unwrap().unwrap().as_bytes().len(),
        100_000
    );
}

async fn invalid_utf8_is_an_error_in_text_mode_only<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "bad.log", b"ok\nbad\xff\nfine\n");
    let mut reader = LineReader::open(rt.clone(), &path);
    assert_eq!(reader.next_str().await.unwrap().unwrap(), "ok");
    let err = reader.next_str().await.unwrap().unwrap_err();
    assert_eq!((err.line(), err.offset()), (2, 6));
    assert_eq!(
        err.to_string(),
        format!("{}: invalid UTF-8 (line 2, byte offset 6)", path.display())
    );
    assert_eq!(reader.next_str().await.unwrap().unwrap(), "fine");
    assert!(reader.next_str().await.is_none());

    let mut lossy = LineReader::open(rt.clone(), &path).lossy(true);
    lossy.next_str().await;
    assert_eq!(lossy.next_str().await.unwrap().unwrap(), "bad\u{fffd}");

    let bytes: Vec<_> = Lines::open(rt, &path).collect().await;
    assert!(
        bytes.iter().all(Result::is_ok),
        "bytes mode never fails on content"
    );
}

async fn the_stream_is_fused_with_an_honest_size_hint<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "two", b"1\n2\n");
    let mut lines = Lines::open(rt, &path);
    assert_eq!(lines.size_hint(), (0, None));
    assert!(!lines.is_terminated());
    assert!(next(&mut lines).await.is_some());
    assert!(next(&mut lines).await.is_some());
    assert!(next(&mut lines).await.is_none());
    assert!(lines.is_terminated());
    assert_eq!(lines.size_hint(), (0, Some(0)));
    assert!(next(&mut lines).await.is_none());
}

async fn dropped_next_line_futures_lose_nothing<R: Runtime>(rt: R) {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Context;
    let dir = temp_dir();
    let (data, want) = log_like(3_000, 3);
    let path = write_file(&dir, "app.log", &data);
    let mut reader = LineReader::open(rt, &path).chunk_size(1 << 12);
    let mut n = 0;
    loop {
        // Poll once with a no-op waker and drop the future if it is not ready,
        // then await a fresh one: every line must still come, in order.
        {
            let mut fut = reader.next_line();
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            if let std::task::Poll::Ready(item) = Pin::new(&mut fut).poll(&mut cx) {
                match item {
                    Some(line) => {
                        assert_eq!(line.unwrap().as_bytes(), want[n]);
                        n += 1;
                        continue;
                    }
                    None => break,
                }
            }
        }
        match reader.next_line().await {
            Some(line) => {
                assert_eq!(line.unwrap().as_bytes(), want[n]);
                n += 1;
            }
            None => break,
        }
    }
    assert_eq!(n, want.len());
}

// ---- Every source: files, FIFOs, /dev/fd, AsyncReads, memory ----

/// The sources suite's input: log-like lines (some CRLF, an empty one), a
/// 3 MiB line, and a last line without a newline.
fn fixture(seed: u64) -> Vec<u8> {
    let (mut data, _) = log_like(300, seed);
    data.extend_from_slice(b"\n");
    data.extend(std::iter::repeat_n(b'L', 3 << 20));
    data.extend_from_slice(b"\r\nafter the long one\nno newline at the end");
    data
}

/// Every line of `reader`, checking numbers and offsets on the way.
async fn read_all<S: Source>(mut reader: LineReader<S>, what: &str) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut offset = 0;
    while let Some(line) = reader.next_line().await {
        let line = line.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            (line.number(), line.offset()),
            (got.len() as u64 + 1, offset),
            "{what}"
        );
        offset += (line.as_bytes().len() + line.ending().len()) as u64;
        got.push(line.as_bytes().to_vec());
    }
    assert!(reader.is_terminated(), "{what}");
    got
}

/// Every line of `lines` (the owned-line stream).
async fn stream_all<S: Source>(lines: Lines<S>, what: &str) -> Vec<Vec<u8>> {
    lines
        .map(|l| l.unwrap_or_else(|e| panic!("{what}: {e}")).to_vec())
        .collect()
        .await
}

/// Asserts equality without printing megabytes on failure.
fn same(got: &[Vec<u8>], want: &[Vec<u8>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: line count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w,
            "{what}: line {} differs ({} vs {} bytes)",
            i + 1,
            g.len(),
            w.len()
        );
    }
}

/// Writes `data` to a fresh writer thread's `open()` of `path` in random
/// pieces of up to 64 KiB, pausing now and then: a slow writer.
fn slow_writer_thread(
    path: std::path::PathBuf,
    data: Vec<u8>,
    seed: u64,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use std::io::Write;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open the FIFO");
        let mut rng = Rng::new(seed);
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(64 << 10) as usize).min(rest.len());
            out.write_all(&rest[..n]).expect("write");
            rest = &rest[n..];
            if rng.below(8) == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    })
}

/// Writes `data` into `sink` in random pieces of up to 64 KiB, sleeping
/// on the runtime's timer now and then, then closes it: a slow writer
/// task to run beside the reader.
async fn slow_writer<R: Runtime, W>(rt: R, mut sink: W, data: Vec<u8>, seed: u64)
where
    W: futures::io::AsyncWrite + Unpin,
{
    use futures::AsyncWriteExt;
    let mut rng = Rng::new(seed);
    let mut rest = &data[..];
    while !rest.is_empty() {
        let n = (1 + rng.below(64 << 10) as usize).min(rest.len());
        sink.write_all(&rest[..n]).await.expect("write");
        rest = &rest[n..];
        if rng.below(8) == 0 {
            rt.sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    sink.close().await.expect("close");
}

async fn every_source_regular_file<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let data = fixture(1);
    let want = reference_lines(&data);
    let path = write_file(&dir, "app.log", &data);
    same(
        &read_all(LineReader::open(rt.clone(), &path).chunk_size(1000), "file").await,
        &want,
        "file",
    );
    same(
        &stream_all(Lines::open(rt, &path), "file stream").await,
        &want,
        "file stream",
    );
}

#[cfg(unix)]
async fn every_source_fifo_with_a_slow_writer<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let data = fixture(2);
    let want = reference_lines(&data);
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for pass in 0..2 {
        let writer = slow_writer_thread(fifo.clone(), data.clone(), pass);
        let got = if pass == 0 {
            read_all(LineReader::open(rt.clone(), &fifo), "fifo").await
        } else {
            stream_all(
                Lines::open(rt.clone(), &fifo).chunk_size(4096),
                "fifo stream",
            )
            .await
        };
        writer.join().expect("writer");
        same(&got, &want, "fifo");
    }
}

#[cfg(unix)]
async fn every_source_dev_fd_of_a_pipe<R: Runtime>(rt: R) {
    use std::os::fd::AsRawFd;
    let dir = temp_dir();
    let data = fixture(3);
    let want = reference_lines(&data);
    let path = write_file(&dir, "app.log", &data);
    for pass in 0..2 {
        // `cat`'s output is a pipe: `/dev/fd/N` names it, like `<(cmd)`.
        let mut cat = std::process::Command::new("cat")
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("cat");
        let fd = cat.stdout.as_ref().expect("piped").as_raw_fd();
        let dev_fd = std::path::PathBuf::from(format!("/dev/fd/{fd}"));
        let got = if pass == 0 {
            read_all(LineReader::open(rt.clone(), &dev_fd), "/dev/fd").await
        } else {
            stream_all(Lines::open(rt.clone(), &dev_fd), "/dev/fd stream").await
        };
        drop(cat.stdout.take());
        assert!(cat.wait().expect("cat ends").success());
        same(&got, &want, "/dev/fd");
    }
}

#[cfg(unix)]
async fn every_source_character_devices<R: Runtime>(rt: R) {
    assert!(
        read_all(LineReader::open(rt.clone(), "/dev/null"), "/dev/null")
            .await
            .is_empty()
    );
    // An endless device without newlines: one too-long error naming it.
    let mut zero = LineReader::open(rt, "/dev/zero")
        .chunk_size(4096)
        .max_line_length(Some(10_000));
    let err = zero.next_line().await.unwrap().unwrap_err();
    assert!(
        matches!(err.kind(), LineErrorKind::TooLong { limit: 10_000 }),
        "{err}"
    );
    assert_eq!((err.line(), err.offset()), (1, 0));
    assert_eq!(err.path(), Some(std::path::Path::new("/dev/zero")));
}

async fn every_source_futures_async_read_short_reads_and_pending<R: Runtime>(_rt: R) {
    let data = fixture(4);
    let want = reference_lines(&data);
    let got = read_all(
        LineReader::from_async_read(Choppy::new(data.clone(), 4)),
        "AsyncRead",
    )
    .await;
    same(&got, &want, "AsyncRead");
    let got = stream_all(
        Lines::from_async_read(Choppy::new(data, 5)),
        "AsyncRead stream",
    )
    .await;
    same(&got, &want, "AsyncRead stream");
}

async fn every_source_futures_async_read_slow_writer<R: Runtime>(rt: R) {
    let data = fixture(5);
    let want = reference_lines(&data);
    for pass in 0..2u64 {
        // smol's in-memory pipe: a `futures_io` reader and writer.
        let (reader, sink) = piper::pipe(8192);
        let write = slow_writer(rt.clone(), sink, data.clone(), pass);
        let got = if pass == 0 {
            futures::join!(
                read_all(LineReader::from_async_read(reader), "AsyncRead slow"),
                write
            )
            .0
        } else {
            futures::join!(
                stream_all(Lines::from_async_read(reader), "AsyncRead slow stream"),
                write
            )
            .0
        };
        same(&got, &want, "AsyncRead slow writer");
    }
}

#[cfg(feature = "tokio")]
async fn every_source_tokio_async_read_short_reads_and_pending<R: Runtime>(_rt: R) {
    let data = fixture(6);
    let want = reference_lines(&data);
    let got = read_all(
        aiter::tokio::line_reader_from(Choppy::new(data.clone(), 6)),
        "tokio AsyncRead",
    )
    .await;
    same(&got, &want, "tokio AsyncRead");
    let got = stream_all(
        aiter::tokio::lines_from(Choppy::new(data, 7)),
        "tokio AsyncRead stream",
    )
    .await;
    same(&got, &want, "tokio AsyncRead stream");
}

#[cfg(feature = "tokio")]
async fn every_source_tokio_async_read_slow_writer<R: Runtime>(rt: R) {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let data = fixture(8);
    let want = reference_lines(&data);
    for pass in 0..2u64 {
        // tokio's in-memory pipe needs no tokio runtime.
        let (tx, rx) = tokio::io::duplex(8192);
        let write = slow_writer(rt.clone(), tx.compat_write(), data.clone(), pass);
        let got = if pass == 0 {
            futures::join!(
                read_all(aiter::tokio::line_reader_from(rx), "tokio slow"),
                write
            )
            .0
        } else {
            futures::join!(
                stream_all(aiter::tokio::lines_from(rx), "tokio slow stream"),
                write
            )
            .0
        };
        same(&got, &want, "tokio slow writer");
    }
}

async fn every_source_bytes_in_memory<R: Runtime>(_rt: R) {
    let data = fixture(9);
    let want = reference_lines(&data);
    same(
        &read_all(LineReader::from_bytes(data.clone()), "memory").await,
        &want,
        "memory",
    );
    same(
        &stream_all(Lines::from_bytes(&data[..]).chunk_size(7), "memory stream").await,
        &want,
        "memory stream",
    );
    assert!(read_all(LineReader::from_bytes(b""), "empty")
        .await
        .is_empty());
}

#[cfg(unix)]
mod unix_sources {
    use super::*;
    on_every_runtime!(
        every_source_fifo_with_a_slow_writer,
        every_source_dev_fd_of_a_pipe,
        every_source_character_devices,
    );
}

#[cfg(feature = "tokio")]
mod tokio_sources {
    use super::*;
    on_every_runtime!(
        every_source_tokio_async_read_short_reads_and_pending,
        every_source_tokio_async_read_slow_writer,
    );
}

on_every_runtime!(
    every_source_regular_file,
    every_source_futures_async_read_short_reads_and_pending,
    every_source_futures_async_read_slow_writer,
    every_source_bytes_in_memory,
    lending_reader_reads_every_line_of_a_file,
    the_stream_yields_owned_lines_that_outlive_the_reader,
    streams_merge_and_keep_each_files_order,
    empty_file_newline_and_missing_final_newline,
    a_missing_file_is_one_error_naming_it,
    a_too_long_line_is_skipped_and_reading_goes_on,
    invalid_utf8_is_an_error_in_text_mode_only,
    the_stream_is_fused_with_an_honest_size_hint,
    dropped_next_line_futures_lose_nothing,
);

#[test]
fn public_types_are_send_sync_unpin() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    send_sync_unpin::<SharedLine>();
    send_sync_unpin::<LineError>();
    send_sync_unpin::<aiter::lines::FollowEvent>();
    send_sync_unpin::<aiter::lines::LineSplitter<Vec<u8>>>();
    #[cfg(feature = "tokio")]
    {
        use aiter::tokio::Tokio;
        send_sync_unpin::<LineReader<FileSource<Tokio>>>();
        send_sync_unpin::<Lines<FileSource<Tokio>>>();
        send_sync_unpin::<Follow<Tokio>>();
        send_sync_unpin::<aiter::lines::NextLine<'static, FileSource<Tokio>>>();
        send_sync_unpin::<LineReader<aiter::lines::Stdin<Tokio>>>();
    }
    #[cfg(feature = "smol")]
    {
        use aiter::smol::Smol;
        send_sync_unpin::<LineReader<FileSource<Smol>>>();
        send_sync_unpin::<Lines<FileSource<Smol>>>();
        send_sync_unpin::<Follow<Smol>>();
    }
    #[cfg(feature = "async-std")]
    {
        use aiter::async_std::AsyncStd;
        send_sync_unpin::<LineReader<FileSource<AsyncStd>>>();
        send_sync_unpin::<Lines<FileSource<AsyncStd>>>();
        send_sync_unpin::<Follow<AsyncStd>>();
    }
}

#[cfg(feature = "tokio")]
#[test]
fn readers_built_outside_a_runtime_do_not_panic_or_open() {
    let reader = aiter::tokio::line_reader("/definitely/not/here");
    let lines = aiter::tokio::lines("/definitely/not/here");
    let follow = aiter::tokio::follow("/definitely/not/here");
    assert!(format!("{reader:?}").contains("open: false"));
    drop((reader, lines, follow));
}

/// Takes every line of `reader` with a no-op waker, dropping each
/// `next_line` future after 1 to 3 polls if it is not ready (re-polling a
/// source that needs a real wake-up a bounded number of times).
fn read_dropping_futures<S: Source>(reader: &mut LineReader<S>, seed: u64) -> Vec<Vec<u8>> {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut rng = Rng::new(seed);
    let mut got = Vec::new();
    loop {
        let polls = 1 + rng.below(3);
        let mut fut = reader.next_line();
        for _ in 0..polls {
            if let Poll::Ready(item) = Pin::new(&mut fut).poll(&mut cx) {
                match item {
                    Some(line) => got.push(line.expect("no errors").as_bytes().to_vec()),
                    None => return got,
                }
                break;
            }
        }
    }
}

fn lines_input() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop::collection::vec(
        prop_oneof![
            Just(b'\n'),
            Just(b'\r'),
            Just(b'a'),
            Just(b'b'),
            any::<u8>()
        ],
        0..400,
    )
}

proptest::proptest! {
    #![proptest_config(support::proptest_config(128))]

    #[test]
    fn every_async_read_source_matches_the_reference_when_futures_are_dropped(
        input in lines_input(),
        seed in proptest::prelude::any::<u64>(),
        max_read in 1usize..16,
        chunk in 1usize..48,
    ) {
        let want = reference_lines(&input);
        let mut reader = LineReader::from_async_read(Choppy::with_max(input.clone(), seed, max_read))
            .chunk_size(chunk)
            .max_line_length(None);
        proptest::prop_assert_eq!(read_dropping_futures(&mut reader, seed ^ 1), want.clone());
        let mut reader = LineReader::from_bytes(input.clone()).chunk_size(chunk).max_line_length(None);
        proptest::prop_assert_eq!(read_dropping_futures(&mut reader, seed ^ 2), want.clone());
        #[cfg(feature = "tokio")]
        {
            let mut reader = aiter::tokio::line_reader_from(Choppy::with_max(input.clone(), seed, max_read))
                .chunk_size(chunk)
                .max_line_length(None);
            proptest::prop_assert_eq!(read_dropping_futures(&mut reader, seed ^ 3), want);
        }
    }
}

#[cfg(all(unix, feature = "smol", feature = "tokio"))]
proptest::proptest! {
    #![proptest_config(support::proptest_config(24))]

    /// Files and FIFOs: blocking reads in flight when a future is dropped
    /// stay in the source, so the next call picks them up.
    #[test]
    fn file_sources_match_the_reference_when_futures_are_dropped(
        input in lines_input(),
        seed in proptest::prelude::any::<u64>(),
        chunk in 1usize..48,
    ) {
        let want = reference_lines(&input);
        let dir = temp_dir();
        let path = write_file(&dir, "in.log", &input);
        let got = support::smol(async {
            let mut reader = LineReader::open(aiter::smol::Smol, &path).chunk_size(chunk).max_line_length(None);
            read_dropping_futures(&mut reader, seed)
        });
        proptest::prop_assert_eq!(got, want.clone());
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        proptest::prop_assert!(made.success());
        let writer = slow_writer_thread(fifo.clone(), input.clone(), seed);
        let got = support::tokio_multi_thread(async {
            let mut reader = LineReader::open(aiter::tokio::Tokio, &fifo).chunk_size(chunk).max_line_length(None);
            read_dropping_futures(&mut reader, seed)
        });
        writer.join().expect("writer");
        proptest::prop_assert_eq!(got, want);
    }
}
