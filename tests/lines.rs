//! Line reading through every runtime adapter: the lending reader and the
//! owned-line stream on real files.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, temp_dir, write_file, Runtime};

use std::io::ErrorKind;

use aiter::lines::{
    Ending, FileSource, Follow, LineError, LineErrorKind, LineReader, Lines, SharedLine,
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
        data.extend_from_slice(if rng % 7 == 0 { b"\r\n" } else { b"\n" });
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
        format!(
            "{}: no such file or directory (line 1, byte offset 0)",
            path.display()
        )
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

on_every_runtime!(
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
    send_sync_unpin::<aiter::lines::Event>();
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
