//! `aiter lines` used as an adversary would: thousands of files under a
//! low descriptor limit, floods of bad lines, signals while stdout is
//! blocked, a closed stdout, `--last`. Every test runs on every runtime;
//! peak memory is the child's `ru_maxrss` from `wait4`.
#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNTIMES: [&str; 3] = ["tokio", "async-std", "smol"];

/// Peak RSS allowed for the many-files and error-flood runs.
const RSS_LIMIT: u64 = 64 << 20;

fn aiter_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("aiter")
}

/// A finished child: exit code (or `128 + signal`), output, peak RSS in bytes.
struct Finished {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    max_rss: u64,
}

impl Finished {
    fn stderr_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Waits for `child` with `wait4`, reading its piped stdout and stderr on
/// threads meanwhile.
fn finish(mut child: Child) -> Finished {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes).unwrap();
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let (status, max_rss) = wait4(&child);
    Finished {
        code: status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        max_rss,
    }
}

/// Reaps `child`: (exit code or `128 + signal`, peak RSS in bytes).
fn wait4(child: &Child) -> (i32, u64) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the call;
        // `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(
            std::io::Error::last_os_error().kind(),
            std::io::ErrorKind::Interrupted
        );
    }
    let status = std::process::ExitStatus::from_raw(status);
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    // Linux reports ru_maxrss in KiB.
    (code, u64::try_from(usage.ru_maxrss).unwrap() * 1024)
}

/// `aiter ARGS` under `sh -c 'ulimit -n 256; exec …'` in `dir`.
fn under_fd_limit(dir: &Path, args: &[String]) -> Command {
    let mut command = Command::new("sh");
    command
        .current_dir(dir)
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(aiter_path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// 2000 files of one 12-byte line each, named `f0000` … `f1999`.
fn many_files() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..2000).map(|i| format!("f{i:04}")).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::write(dir.path().join(name), format!("line {i:06}\n")).unwrap();
    }
    (dir, names)
}

#[test]
fn two_thousand_files_under_ulimit_256_print_every_line_on_every_runtime() {
    let (dir, names) = many_files();
    for runtime in RUNTIMES {
        let mut args = vec![
            "lines".to_owned(),
            "--runtime".to_owned(),
            runtime.to_owned(),
        ];
        args.extend(names.iter().cloned());
        let done = finish(under_fd_limit(dir.path(), &args).spawn().unwrap());
        assert_eq!(done.code, 0, "{runtime}: {:?}", done.stderr_lines());
        assert!(
            done.stderr.is_empty(),
            "{runtime}: {:?}",
            done.stderr_lines()
        );
        let mut lines: Vec<String> = String::from_utf8(done.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        let expected: Vec<String> = (0..2000).map(|i| format!("f{i:04}:line {i:06}")).collect();
        assert_eq!(lines, expected, "{runtime}");
        assert!(
            done.max_rss <= RSS_LIMIT,
            "{runtime}: peak RSS {} MiB",
            done.max_rss >> 20
        );
    }
}

#[test]
fn two_thousand_files_under_ulimit_256_are_counted_on_every_runtime() {
    let (dir, names) = many_files();
    for runtime in RUNTIMES {
        let mut args = vec![
            "lines".to_owned(),
            "-c".to_owned(),
            "--runtime".to_owned(),
            runtime.to_owned(),
        ];
        args.extend(names.iter().cloned());
        let done = finish(under_fd_limit(dir.path(), &args).spawn().unwrap());
        assert_eq!(done.code, 0, "{runtime}: {:?}", done.stderr_lines());
        let out = String::from_utf8(done.stdout).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2001, "{runtime}");
        for (i, line) in lines[..2000].iter().enumerate() {
            assert_eq!(*line, format!("   1 f{i:04}"), "{runtime}");
        }
        assert_eq!(lines[2000], "2000 total", "{runtime}");
        assert!(
            done.max_rss <= RSS_LIMIT,
            "{runtime}: peak RSS {} MiB",
            done.max_rss >> 20
        );
    }
}

/// A file of a million 2-byte lines.
fn million_lines() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&b"ab\n".repeat(1_000_000)).unwrap();
    file
}

fn run(args: &[&str], path: &Path) -> Finished {
    finish(
        Command::new(aiter_path())
            .args(args)
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn a_million_bad_lines_print_ten_errors_and_a_count_in_flat_memory_on_every_runtime() {
    let file = million_lines();
    let name = file.path().display().to_string();
    for runtime in RUNTIMES {
        for count in [false, true] {
            let mut args = vec!["lines", "--max-line-length", "1", "--runtime", runtime];
            if count {
                args.push("--count");
            }
            let done = run(&args, file.path());
            let what = format!("{runtime} count={count}");
            assert_eq!(done.code, 1, "{what}");
            let lines = done.stderr_lines();
            assert_eq!(lines.len(), 11, "{what}: {lines:?}");
            assert_eq!(
                lines[0],
                format!("aiter: {name}: line longer than 1 bytes (line 1, byte offset 0)")
            );
            assert_eq!(
                lines[9],
                format!("aiter: {name}: line longer than 1 bytes (line 10, byte offset 27)")
            );
            assert_eq!(
                lines[10],
                format!("aiter: {name}: 999990 more errors not shown")
            );
            if count {
                assert_eq!(done.stdout, format!("1000000 {name}\n").into_bytes());
            } else {
                assert!(done.stdout.is_empty(), "{what}");
            }
            assert!(
                done.max_rss <= RSS_LIMIT,
                "{what}: peak RSS {} MiB",
                done.max_rss >> 20
            );
        }
    }
}

#[test]
fn a_binary_file_prints_at_most_eleven_error_lines_on_every_runtime() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    // Deterministic noise with plenty of newlines and invalid UTF-8.
    let mut x = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    file.write_all(&noise).unwrap();
    for runtime in RUNTIMES {
        let done = run(&["lines", "--runtime", runtime], file.path());
        assert_eq!(done.code, 1, "{runtime}");
        let lines = done.stderr_lines();
        assert_eq!(lines.len(), 11, "{runtime}: {lines:?}");
        assert!(lines[10].ends_with("more errors not shown"), "{runtime}");
    }
}

/// `aiter lines ARGS` with a stdout pipe that nobody reads.
fn spawn_blocked(args: &[&str]) -> (Child, std::process::ChildStdout) {
    let mut child = Command::new(aiter_path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, stdout)
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Gives a child time to fill its stdout pipe (64 KiB) and block on it.
fn until_blocked() {
    std::thread::sleep(Duration::from_millis(700));
}

#[test]
fn signals_end_a_read_blocked_on_stdout_within_a_second_with_128_plus_signal_on_every_runtime() {
    let mut big = tempfile::NamedTempFile::new().unwrap();
    big.write_all("a log line of some length\n".repeat(400_000).as_bytes())
        .unwrap();
    let path = big.path().display().to_string();
    for runtime in RUNTIMES {
        for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
            let (child, stdout) = spawn_blocked(&["lines", "--runtime", runtime, &path]);
            until_blocked();
            let sent = Instant::now();
            kill(&child, signal);
            let (status, _) = wait4(&child);
            let took = sent.elapsed();
            drop(stdout);
            assert_eq!(status, code, "{runtime} {signal}");
            assert!(
                took < Duration::from_secs(1),
                "{runtime} {signal}: {took:?}"
            );
        }
    }
}

#[test]
fn ctrl_c_ends_a_follow_blocked_on_stdout_within_a_second_on_every_runtime() {
    let mut big = tempfile::NamedTempFile::new().unwrap();
    big.write_all("a log line of some length\n".repeat(400_000).as_bytes())
        .unwrap();
    let path = big.path().display().to_string();
    for runtime in RUNTIMES {
        let (child, stdout) = spawn_blocked(&["lines", "-F", "--runtime", runtime, &path]);
        until_blocked();
        let sent = Instant::now();
        kill(&child, "-INT");
        let (status, _) = wait4(&child);
        let took = sent.elapsed();
        drop(stdout);
        // The output could not all be written: not a success.
        assert_ne!(status, 0, "{runtime}");
        assert!(took < Duration::from_secs(1), "{runtime}: {took:?}");
    }
}

#[test]
fn ctrl_c_under_follow_prints_the_unfinished_line_of_stdin_and_exits_0_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "from the file\n").unwrap();
    for runtime in RUNTIMES {
        let mut child = Command::new(aiter_path())
            .args(["lines", "-F", "--interval", "20", "--runtime", runtime, "-"])
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"typed\nhalf a li").unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        kill(&child, "-INT");
        let done = finish(child);
        drop(stdin);
        assert_eq!(done.code, 0, "{runtime}: {:?}", done.stderr_lines());
        let out = String::from_utf8(done.stdout).unwrap();
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort_unstable();
        let l = log.display().to_string();
        let expected = ["-:half a li", "-:typed", &format!("{l}:from the file")];
        assert_eq!(lines, expected, "{runtime}");
        assert!(out.ends_with('\n'), "{runtime}");
    }
}

#[test]
fn a_closed_stdout_is_one_error_and_exit_1_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "one\n").unwrap();
    for runtime in RUNTIMES {
        for count in [false, true] {
            let out = Command::new("sh")
                .arg("-c")
                .arg("exec \"$0\" \"$@\" >&-")
                .arg(aiter_path())
                .args(["lines", "--runtime", runtime])
                .args(count.then_some("-c"))
                .arg(&log)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{runtime} {count}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                "aiter: standard output is closed\n",
                "{runtime} {count}"
            );
        }
        // `>/dev/null` is not closed.
        let out = Command::new(aiter_path())
            .args(["lines", "--runtime", runtime])
            .arg(&log)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{runtime}");
        // Nor is `/dev/null` opened read-write, as Python's `subprocess.DEVNULL`
        // and daemon(3) hand it over.
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap();
        let out = Command::new(aiter_path())
            .args(["lines", "--runtime", runtime])
            .arg(&log)
            .stdout(null)
            .output()
            .unwrap();
        assert!(out.status.success(), "{runtime}: {out:?}");
    }
}

#[test]
fn a_closed_pipe_is_quiet_with_141_like_cat_on_every_runtime() {
    let mut big = tempfile::NamedTempFile::new().unwrap();
    big.write_all("line\n".repeat(2_000_000).as_bytes())
        .unwrap();
    for runtime in RUNTIMES {
        for count in [false, true] {
            let mut child = Command::new(aiter_path())
                .args(["lines", "--runtime", runtime])
                .args(count.then_some("--count"))
                .arg(big.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let mut first = [0u8; 1];
            stdout.read_exact(&mut first).unwrap();
            drop(stdout);
            let done = finish(child);
            if count {
                // One short line, written before the pipe closed.
                assert_eq!(done.code, 0, "{runtime}");
            } else {
                assert_eq!(done.code, 141, "{runtime}");
            }
            assert!(
                done.stderr.is_empty(),
                "{runtime}: {:?}",
                done.stderr_lines()
            );
        }
    }
}

#[test]
fn a_zero_max_line_length_is_a_usage_error() {
    let out = Command::new(aiter_path())
        .args(["lines", "--max-line-length", "0", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn last_n_lines_of_files_and_stdin_like_tail_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(&a, "1\n2\r\n3\n4").unwrap();
    let many: String = (0..100_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(&b, &many).unwrap();
    for runtime in RUNTIMES {
        let out = Command::new(aiter_path())
            .args(["lines", "--no-prefix", "-n", "2", "--runtime", runtime])
            .arg(&a)
            .output()
            .unwrap();
        assert!(out.status.success(), "{runtime}");
        assert_eq!(out.stdout, b"3\n4\n", "{runtime}");
        let out = Command::new(aiter_path())
            .args(["lines", "--last", "3", "--runtime", runtime])
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"99997\n99998\n99999\n", "{runtime}");
        let mut child = Command::new(aiter_path())
            .args(["lines", "-n", "2", "--runtime", runtime, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"x\ny\r\nz").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.stdout, b"y\nz\n", "{runtime}");
        let out = Command::new(aiter_path())
            .args(["lines", "-n", "0", "--runtime", runtime])
            .arg(&a)
            .output()
            .unwrap();
        assert!(out.stdout.is_empty(), "{runtime}");
    }
}

#[test]
fn ctrl_c_under_follow_prints_the_held_partial_line_of_a_file_and_exits_0_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    for runtime in RUNTIMES {
        std::fs::write(&log, "full\npart").unwrap();
        let child = Command::new(aiter_path())
            .args(["lines", "-F", "--interval", "20", "--runtime", runtime])
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        kill(&child, "-INT");
        let done = finish(child);
        assert_eq!(done.code, 0, "{runtime}: {:?}", done.stderr_lines());
        assert_eq!(
            String::from_utf8(done.stdout).unwrap(),
            "full\npart\n",
            "{runtime}"
        );
    }
}

#[test]
fn last_then_follow_prints_the_last_lines_then_appends_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    for runtime in RUNTIMES {
        std::fs::write(&log, "old 1\nold 2\nold 3\n").unwrap();
        for (n, expected) in [("1", vec!["old 3", "new"]), ("0", vec!["new"])] {
            let child = Command::new(aiter_path())
                .args([
                    "lines",
                    "-F",
                    "-n",
                    n,
                    "--interval",
                    "20",
                    "--runtime",
                    runtime,
                ])
                .arg(&log)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(400));
            std::fs::OpenOptions::new()
                .append(true)
                .open(&log)
                .unwrap()
                .write_all(b"new\n")
                .unwrap();
            std::thread::sleep(Duration::from_millis(400));
            kill(&child, "-INT");
            let done = finish(child);
            assert_eq!(done.code, 0, "{runtime} -n {n}");
            let out = String::from_utf8(done.stdout).unwrap();
            assert_eq!(
                out.lines().collect::<Vec<_>>(),
                expected,
                "{runtime} -n {n}"
            );
            std::fs::write(&log, "old 1\nold 2\nold 3\n").unwrap();
        }
    }
}

#[test]
fn a_fifo_is_read_like_cat_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    for runtime in RUNTIMES {
        let fifo = dir.path().join(format!("fifo-{runtime}"));
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                w.write_all(b"through\r\na fifo").unwrap();
            })
        };
        let out = Command::new(aiter_path())
            .args(["lines", "--runtime", runtime])
            .arg(&fifo)
            .output()
            .unwrap();
        writer.join().unwrap();
        assert!(
            out.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"through\na fifo\n", "{runtime}");
    }
}

#[test]
fn output_is_exact_crlf_becomes_lf_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    let mut data = Vec::new();
    for i in 0..50_000 {
        if i % 3 == 0 {
            data.extend_from_slice(format!("crlf {i}\r\n").as_bytes());
        } else {
            data.extend_from_slice(format!("lf {i} é\n").as_bytes());
        }
    }
    data.extend_from_slice(b"no newline at the end");
    std::fs::write(&path, &data).unwrap();
    let expected: Vec<u8> = String::from_utf8(data)
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes()
        .into_iter()
        .chain(*b"\n")
        .collect();
    for runtime in RUNTIMES {
        let out = Command::new(aiter_path())
            .args(["lines", "--runtime", runtime])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{runtime}");
        assert!(out.stdout == expected, "{runtime}: output differs");
    }
}

#[test]
fn following_500_files_keeps_the_thread_count_small_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..500).map(|i| format!("f{i:03}")).collect();
    for runtime in RUNTIMES {
        for name in &names {
            std::fs::write(dir.path().join(name), format!("{name} first\n")).unwrap();
        }
        let child = Command::new(aiter_path())
            .current_dir(dir.path())
            .args(["lines", "-F", "--interval", "50", "--runtime", runtime])
            .args(&names)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("f250"))
            .unwrap()
            .write_all(b"appended\n")
            .unwrap();
        let mut threads = 0;
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(100));
            let now =
                std::fs::read_dir(format!("/proc/{}/task", child.id())).map_or(0, Iterator::count);
            threads = threads.max(now);
        }
        kill(&child, "-INT");
        let done = finish(child);
        assert_eq!(done.code, 0, "{runtime}: {:?}", done.stderr_lines());
        assert!(threads <= 32, "{runtime}: {threads} threads");
        let out = String::from_utf8(done.stdout).unwrap();
        assert_eq!(out.lines().count(), 501, "{runtime}");
        assert!(out.contains("f250:appended\n"), "{runtime}");
    }
}

#[test]
fn process_substitution_and_dev_stdin_are_read_like_cat_on_every_runtime() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    for runtime in RUNTIMES {
        let out = Command::new("bash")
            .arg("-c")
            .arg(
                "printf 'a\\r\\nb' | \"$0\" lines --runtime \"$1\" <(printf 'p\\nq\\n') /dev/stdin",
            )
            .arg(aiter_path())
            .arg(runtime)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines: Vec<&str> = text
            .lines()
            .map(|l| l.rsplit(':').next().unwrap())
            .collect();
        lines.sort_unstable();
        assert_eq!(lines, ["a", "b", "p", "q"], "{runtime}: {text}");
    }
}
