//! `tail -F` through every runtime adapter, on real files in a temp dir:
//! appends, split writes, truncation, rotation and late files.
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    allow(dead_code, unused_imports)
)]

mod support;
use support::{on_every_runtime, temp_dir, write_file, Runtime};

use std::io::Write;
use std::time::Duration;

use aiter::lines::{follow, Ending, Event, Follow, SharedLine};
use aiter::time::{timeout, Timeout};
use aiter::{next, FusedStream, Stream};

const TICK: Duration = Duration::from_millis(10);
/// Bounded wait for something that must happen.
const PATIENCE: Duration = Duration::from_secs(10);

type Watched<R> = Timeout<Follow<R>, R>;

fn watch<R: Runtime>(rt: &R, path: &std::path::Path) -> Watched<R> {
    timeout(
        rt.clone(),
        follow(rt.clone(), path).interval(TICK),
        PATIENCE,
    )
}

/// The next event, which must come within `PATIENCE`.
async fn event<R: Runtime>(w: &mut Watched<R>) -> Event {
    match next(w).await {
        Some(Ok(Ok(event))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn line<R: Runtime>(w: &mut Watched<R>) -> SharedLine {
    match event(w).await {
        Event::Line(line) => line,
        other => panic!("expected a line, got {other:?}"),
    }
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

async fn sleep<R: Runtime>(rt: &R, d: Duration) {
    aiter::rt::Timer::sleep(rt, d).await;
}

async fn existing_then_appended_lines<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"a\nb\n");
    let mut w = watch(&rt, &path);
    assert_eq!(&*line(&mut w).await, b"a");
    assert_eq!(&*line(&mut w).await, b"b");
    append(&path, b"c\nd\n");
    let c = line(&mut w).await;
    assert_eq!((&*c, c.number(), c.offset()), (&b"c"[..], 3, 4));
    assert_eq!(&*line(&mut w).await, b"d");
}

async fn a_line_written_in_two_writes_comes_out_once_whole<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"first\npar");
    let mut w = watch(&rt, &path);
    assert_eq!(&*line(&mut w).await, b"first");
    // Several checks pass with only `par` in the file: nothing comes out.
    let mut quiet = timeout(
        rt.clone(),
        follow(rt.clone(), &path).interval(TICK),
        TICK * 6,
    );
    match next(&mut quiet).await {
        Some(Ok(Ok(Event::Line(l)))) => assert_eq!(&*l, b"first"),
        other => panic!("expected `first`, got {other:?}"),
    }
    assert!(
        matches!(next(&mut quiet).await, Some(Err(_))),
        "`par` is held back"
    );
    append(&path, b"tial\n");
    let whole = line(&mut w).await;
    assert_eq!((&*whole, whole.ending()), (&b"partial"[..], Ending::Lf));
    match next(&mut quiet).await {
        Some(Ok(Ok(Event::Line(l)))) => assert_eq!(&*l, b"partial"),
        other => panic!("expected `partial`, got {other:?}"),
    }
}

async fn truncation_restarts_at_the_beginning<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"one\ntwo\n");
    let mut w = watch(&rt, &path);
    assert_eq!(&*line(&mut w).await, b"one");
    assert_eq!(&*line(&mut w).await, b"two");
    sleep(&rt, TICK * 3).await;
    // Truncate in place (same file), then write less than was read.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    append(&path, b"x\n");
    assert_eq!(event(&mut w).await, Event::Truncated);
    let x = line(&mut w).await;
    assert_eq!((&*x, x.number(), x.offset()), (&b"x"[..], 1, 0));
}

async fn rotation_finishes_the_old_file_then_reads_the_new_one<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"old1\n");
    let mut w = watch(&rt, &path);
    assert_eq!(&*line(&mut w).await, b"old1");
    // logrotate: the old file gets a last line and a partial one, is
    // renamed, and a new file takes the path.
    append(&path, b"old2\nold-partial");
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    write_file(&dir, "app.log", b"new1\n");
    assert_eq!(&*line(&mut w).await, b"old2");
    let flushed = line(&mut w).await;
    assert_eq!(
        (&*flushed, flushed.ending()),
        (&b"old-partial"[..], Ending::None)
    );
    assert_eq!(event(&mut w).await, Event::Rotated);
    let new1 = line(&mut w).await;
    assert_eq!((&*new1, new1.number(), new1.offset()), (&b"new1"[..], 1, 0));
    append(&path, b"new2\n");
    assert_eq!(&*line(&mut w).await, b"new2");
}

async fn a_file_that_appears_later_is_waited_for<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = dir.path().join("late.log");
    let mut w = watch(&rt, &path);
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(TICK * 5);
            std::fs::write(&path, b"hello\n").unwrap();
        })
    };
    assert_eq!(&*line(&mut w).await, b"hello");
    writer.join().unwrap();
}

async fn a_directory_is_one_error_then_the_end<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let mut f = follow(rt, dir.path());
    let err = next(&mut f).await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: is a directory (line 1, byte offset 0)",
            dir.path().display()
        )
    );
    assert!(next(&mut f).await.is_none());
    assert!(f.is_terminated());
    assert_eq!(f.size_hint(), (0, Some(0)));
}

on_every_runtime!(
    existing_then_appended_lines,
    a_line_written_in_two_writes_comes_out_once_whole,
    truncation_restarts_at_the_beginning,
    rotation_finishes_the_old_file_then_reads_the_new_one,
    a_file_that_appears_later_is_waited_for,
    a_directory_is_one_error_then_the_end,
);
