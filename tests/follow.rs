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

use aiter::lines::{follow, Ending, Follow, FollowEvent, LineOptions, SharedLine, Utf8};
use aiter::time::{timeout, Timeout};
use aiter::{next, FusedStream, Stream};

const TICK: Duration = Duration::from_millis(10);
/// Bounded wait for something that must happen.
const PATIENCE: Duration = Duration::from_secs(10);

type Watched<R> = Timeout<Follow<R>, R>;

/// A follower of `path` with change notification (and a timer too slow to
/// matter) or without it (checking every `TICK`), giving up after `PATIENCE`.
fn watch<R: Runtime>(rt: &R, path: &std::path::Path, notify: bool) -> Watched<R> {
    timeout(rt.clone(), follower(rt, path, notify), PATIENCE)
}

fn follower<R: Runtime>(rt: &R, path: &std::path::Path, notify: bool) -> Follow<R> {
    let f = follow(rt.clone(), path).notify(notify);
    if notify {
        f.interval(PATIENCE * 10).notified_interval(PATIENCE * 10)
    } else {
        f.interval(TICK)
    }
}

/// Runs each `inner(rt, notify)` with notification and without it (the
/// timer fallback), like GNU tail's tests with `---disable-inotify`.
macro_rules! in_both_modes {
    ($($test:ident => $inner:ident),* $(,)?) => {$(
        async fn $test<R: Runtime>(rt: R) {
            for notify in [true, false] {
                $inner(rt.clone(), notify).await;
            }
        }
    )*};
}

/// The next event, which must come within `PATIENCE`.
async fn event<R: Runtime>(w: &mut Watched<R>) -> FollowEvent {
    match next(w).await {
        Some(Ok(Ok(event))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn line<R: Runtime>(w: &mut Watched<R>) -> SharedLine {
    match event(w).await {
        FollowEvent::Line(line) => line,
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

async fn existing_then_appended_lines_in<R: Runtime>(rt: R, notify: bool) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"a\nb\n");
    let mut w = watch(&rt, &path, notify);
    assert_eq!(&*line(&mut w).await, b"a");
    assert_eq!(&*line(&mut w).await, b"b");
    append(&path, b"c\nd\n");
    let c = line(&mut w).await;
    assert_eq!((&*c, c.number(), c.offset()), (&b"c"[..], 3, 4));
    assert_eq!(&*line(&mut w).await, b"d");
}

async fn a_line_written_in_two_writes_comes_out_once_whole_in<R: Runtime>(rt: R, notify: bool) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"first\npar");
    let mut w = watch(&rt, &path, notify);
    assert_eq!(&*line(&mut w).await, b"first");
    // Several checks pass with only `par` in the file: nothing comes out.
    let mut quiet = timeout(rt.clone(), follower(&rt, &path, notify), TICK * 6);
    match next(&mut quiet).await {
        Some(Ok(Ok(FollowEvent::Line(l)))) => assert_eq!(&*l, b"first"),
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
        Some(Ok(Ok(FollowEvent::Line(l)))) => assert_eq!(&*l, b"partial"),
        other => panic!("expected `partial`, got {other:?}"),
    }
}

async fn truncation_restarts_at_the_beginning_in<R: Runtime>(rt: R, notify: bool) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"one\ntwo\n");
    let mut w = watch(&rt, &path, notify);
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
    assert_eq!(event(&mut w).await, FollowEvent::Truncated);
    let x = line(&mut w).await;
    assert_eq!((&*x, x.number(), x.offset()), (&b"x"[..], 1, 0));
}

async fn rotation_finishes_the_old_file_then_reads_the_new_one_in<R: Runtime>(rt: R, notify: bool) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"old1\n");
    let mut w = watch(&rt, &path, notify);
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
    assert_eq!(event(&mut w).await, FollowEvent::Rotated);
    let new1 = line(&mut w).await;
    assert_eq!((&*new1, new1.number(), new1.offset()), (&b"new1"[..], 1, 0));
    append(&path, b"new2\n");
    assert_eq!(&*line(&mut w).await, b"new2");
}

async fn a_file_that_appears_later_is_waited_for_in<R: Runtime>(rt: R, notify: bool) {
    let dir = temp_dir();
    let path = dir.path().join("late.log");
    let mut w = watch(&rt, &path, notify);
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
            "{}: cannot read (line 1, byte offset 0)",
            dir.path().display()
        )
    );
    let source = std::error::Error::source(&err).expect("the I/O error is the source");
    assert_eq!(
        source.downcast_ref::<std::io::Error>().map(|e| e.kind()),
        Some(std::io::ErrorKind::IsADirectory)
    );
    assert!(next(&mut f).await.is_none());
    assert!(f.is_terminated());
    assert_eq!(f.size_hint(), (0, Some(0)));
}

/// `next` futures dropped whenever a short timer wins, while lines are
/// appended and read in 7-byte chunks: every line comes out once, whole,
/// in order.
async fn dropped_next_futures_lose_no_line_in<R: Runtime>(rt: R, notify: bool) {
    use futures::future::{select, Either};
    let dir = temp_dir();
    let first: String = (0..100).map(|i| format!("line {i}\n")).collect();
    let path = write_file(&dir, "app.log", first.as_bytes());
    let mut f = follower(&rt, &path, notify).chunk_size(7);
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            for i in 100..200 {
                append(&path, format!("line {i}\n").as_bytes());
                if i % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
    };
    let mut got = Vec::new();
    let start = std::time::Instant::now();
    while got.len() < 200 {
        assert!(
            start.elapsed() < PATIENCE,
            "stuck after {} lines",
            got.len()
        );
        let line = std::pin::pin!(next(&mut f));
        let tick = std::pin::pin!(sleep(&rt, Duration::from_micros(300)));
        if let Either::Left((item, _)) = select(line, tick).await {
            match item {
                Some(Ok(FollowEvent::Line(l))) => got.push(l.to_str().unwrap().to_owned()),
                other => panic!("expected a line, got {other:?}"),
            }
        }
    }
    writer.join().unwrap();
    let want: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
    assert_eq!(got, want);
}

in_both_modes!(
    dropped_next_futures_lose_no_line => dropped_next_futures_lose_no_line_in,
    existing_then_appended_lines => existing_then_appended_lines_in,
    a_line_written_in_two_writes_comes_out_once_whole => a_line_written_in_two_writes_comes_out_once_whole_in,
    truncation_restarts_at_the_beginning => truncation_restarts_at_the_beginning_in,
    rotation_finishes_the_old_file_then_reads_the_new_one => rotation_finishes_the_old_file_then_reads_the_new_one_in,
    a_file_that_appears_later_is_waited_for => a_file_that_appears_later_is_waited_for_in,
);

async fn last_lines_zero_gives_only_what_is_appended<R: Runtime>(rt: R) {
    for notify in [true, false] {
        let dir = temp_dir();
        let path = write_file(&dir, "app.log", b"a\nb\nunfinished");
        let mut w = timeout(
            rt.clone(),
            follower(&rt, &path, notify).last_lines(0),
            PATIENCE,
        );
        // Let it reach the end before appending.
        let mut quiet = timeout(
            rt.clone(),
            follower(&rt, &path, notify).last_lines(0),
            TICK * 3,
        );
        assert!(
            matches!(next(&mut quiet).await, Some(Err(_))),
            "nothing old comes out"
        );
        drop(quiet);
        until_read_to(&rt, &mut w, 14).await;
        append(&path, b" line\nc\n");
        // Like `tail -n 0 -F`: the part of the line before the start is not shown.
        let first = line(&mut w).await;
        assert_eq!(
            (&*first, first.number(), first.offset()),
            (&b" line"[..], 1, 14)
        );
        assert_eq!(&*line(&mut w).await, b"c");
    }
}

/// Polls `w` (expecting nothing) until it has read `len` bytes of its file.
async fn until_read_to<R: Runtime>(rt: &R, w: &mut Watched<R>, len: u64) {
    let start = std::time::Instant::now();
    while w.get_ref().position() != len {
        assert!(
            start.elapsed() < PATIENCE,
            "stuck at {}",
            w.get_ref().position()
        );
        poll_a_while(rt, w).await;
    }
}

/// Polls `w` for a few ticks, expecting nothing: it reaches the end of its file.
async fn poll_a_while<R: Runtime>(rt: &R, w: &mut Watched<R>) {
    let mut short = timeout(rt.clone(), w, TICK * 3);
    let item = next(&mut short).await;
    assert!(
        matches!(item, Some(Err(_))),
        "nothing comes out yet: {item:?} {:?}",
        short.get_ref().get_ref()
    );
}

async fn last_lines_n_reads_backwards_from_the_end<R: Runtime>(rt: R) {
    let dir = temp_dir();
    // Larger than one backward block (64 KiB), and ending in a partial line.
    let mut data = Vec::new();
    let mut starts = Vec::new();
    for i in 0..20_000 {
        starts.push(data.len() as u64);
        data.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    data.extend_from_slice(b"partial");
    let path = write_file(&dir, "app.log", &data);
    for (n, first) in [(3u64, 19_998), (15_000, 5_001)] {
        let mut w = timeout(
            rt.clone(),
            follower(&rt, &path, true).last_lines(n),
            PATIENCE,
        );
        let want_first = format!("line {first}");
        let l = line(&mut w).await;
        assert_eq!(&*l, want_first.as_bytes(), "last {n}");
        assert_eq!((l.number(), l.offset()), (1, starts[first]), "last {n}");
    }
    // The one last line is the partial one: held until its newline.
    let mut w = timeout(
        rt.clone(),
        follower(&rt, &path, true).last_lines(1),
        PATIENCE,
    );
    poll_a_while(&rt, &mut w).await;
    assert_eq!(w.get_ref().held_back(), b"partial");
    // More lines than the file has: all of it.
    let mut w = timeout(
        rt.clone(),
        follower(&rt, &path, true).last_lines(1 << 40),
        PATIENCE,
    );
    assert_eq!(&*line(&mut w).await, b"line 0");
}

async fn notification_wakes_the_follower_without_its_timer<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"a\n");
    // Timers of 100 s: only a notification can bring the next line in time.
    let mut w = watch(&rt, &path, true);
    assert_eq!(&*line(&mut w).await, b"a");
    assert!(
        format!("{:?}", w.get_ref()).contains("notified: true"),
        "the hub is up"
    );
    for i in 0..5 {
        poll_a_while(&rt, &mut w).await;
        append(&path, format!("b{i}\n").as_bytes());
        assert_eq!(&*line(&mut w).await, format!("b{i}").as_bytes());
    }
}

async fn without_notification_the_timer_finds_appends<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"a\n");
    let mut w = watch(&rt, &path, false);
    assert_eq!(&*line(&mut w).await, b"a");
    assert!(format!("{:?}", w.get_ref()).contains("notified: false"));
    poll_a_while(&rt, &mut w).await;
    append(&path, b"b\n");
    assert_eq!(&*line(&mut w).await, b"b");
}

async fn the_held_back_partial_line_is_there_when_reading_stops<R: Runtime>(rt: R) {
    for notify in [true, false] {
        let dir = temp_dir();
        let path = write_file(&dir, "app.log", b"a\nparti");
        let mut w = watch(&rt, &path, notify);
        assert_eq!(&*line(&mut w).await, b"a");
        poll_a_while(&rt, &mut w).await;
        append(&path, b"al");
        until_read_to(&rt, &mut w, 9).await;
        assert_eq!(w.get_ref().held_back(), b"partial");
    }
}

#[cfg(unix)]
async fn a_fifo_is_followed_in_order<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut out = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            out.write_all(b"one\ntw").unwrap();
            std::thread::sleep(TICK * 3);
            out.write_all(b"o\n").unwrap();
        })
    };
    let mut w = watch(&rt, &fifo, false);
    assert_eq!(&*line(&mut w).await, b"one");
    assert_eq!(&*line(&mut w).await, b"two");
    writer.join().unwrap();
}

async fn text_modes_check_or_repair_each_line<R: Runtime>(rt: R) {
    let dir = temp_dir();
    let path = write_file(&dir, "app.log", b"ok\nbad\xff\nfine\n");
    let mut w = timeout(
        rt.clone(),
        follow(rt.clone(), &path).utf8(Utf8::Checked),
        PATIENCE,
    );
    assert_eq!(&*line(&mut w).await, b"ok");
    match next(&mut w).await {
        Some(Ok(Err(e))) => {
            assert_eq!((e.line(), e.offset()), (2, 6));
            assert!(e.to_string().contains("invalid UTF-8"), "{e}");
        }
        other => panic!("expected the UTF-8 error, got {other:?}"),
    }
    assert_eq!(&*line(&mut w).await, b"fine", "goes on after it");
    let options = *w.get_ref().options();
    assert_eq!(options.utf8, Utf8::Checked);
    let mut lossy = LineOptions::default();
    lossy.utf8 = Utf8::Lossy;
    let mut w = timeout(rt.clone(), follow(rt, &path).with_options(lossy), PATIENCE);
    line(&mut w).await;
    assert_eq!(line(&mut w).await.to_str(), Ok("bad\u{fffd}"));
}

on_every_runtime!(
    dropped_next_futures_lose_no_line,
    text_modes_check_or_repair_each_line,
    last_lines_zero_gives_only_what_is_appended,
    last_lines_n_reads_backwards_from_the_end,
    notification_wakes_the_follower_without_its_timer,
    without_notification_the_timer_finds_appends,
    the_held_back_partial_line_is_there_when_reading_stops,
    a_fifo_is_followed_in_order,
    existing_then_appended_lines,
    a_line_written_in_two_writes_comes_out_once_whole,
    truncation_restarts_at_the_beginning,
    rotation_finishes_the_old_file_then_reads_the_new_one,
    a_file_that_appears_later_is_waited_for,
    a_directory_is_one_error_then_the_end,
);
