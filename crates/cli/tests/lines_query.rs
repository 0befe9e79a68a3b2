//! End-to-end tests of `aiter lines` (query: `query.rs`): the built binary on
//! real temp files. Each test runs on the default runtime (tokio); the
//! `*_on_every_runtime` tests run on all three.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RUNTIMES: [&str; 3] = ["tokio", "async-std", "smol"];

mod support;

use support::{aiter, stderr_of, stdout_of};

/// Writes `files` (name, contents) into a fresh temp dir.
fn files(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = files
        .iter()
        .map(|(name, contents)| {
            let path = dir.path().join(name);
            std::fs::write(&path, contents).unwrap();
            path
        })
        .collect();
    (dir, paths)
}

/// `n` numbered lines `NAME-k`.
fn numbered(name: &str, n: usize) -> String {
    (0..n).map(|k| format!("{name}-{k}\n")).collect()
}

/// The output lines grouped by their `PREFIX:`, in output order.
fn by_prefix(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let (prefix, rest) = line.rsplit_once(':').expect("a prefixed line");
        groups
            .entry(prefix.to_owned())
            .or_default()
            .push(rest.to_owned());
    }
    groups
}

fn merged_output_has_every_line_once_in_file_order_with_prefixes(runtime: &str) {
    let (a, b, c) = (numbered("a", 3000), numbered("b", 10), numbered("c", 777));
    let (_dir, paths) = files(&[
        ("a.log", a.as_bytes()),
        ("b.log", b.as_bytes()),
        ("c.log", c.as_bytes()),
    ]);
    let assert = aiter()
        .arg("lines")
        .args(&paths)
        .args(["--runtime", runtime])
        .assert()
        .success();
    assert!(stderr_of(&assert).is_empty(), "{}", stderr_of(&assert));
    let groups = by_prefix(&stdout_of(&assert));
    assert_eq!(groups.len(), 3);
    for (path, expected) in paths.iter().zip([&a, &b, &c]) {
        let got = &groups[&path.display().to_string()];
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(got, &expected, "{runtime}: {}", path.display());
    }
}

#[test]
fn merged_output_of_several_files_on_every_runtime() {
    for runtime in RUNTIMES {
        merged_output_has_every_line_once_in_file_order_with_prefixes(runtime);
    }
}

#[test]
fn one_file_is_printed_as_it_is_and_crlf_becomes_lf() {
    let (_dir, paths) = files(&[("a.log", b"one\r\ntwo\n\nlast without newline")]);
    let assert = aiter().arg("lines").args(&paths).assert().success();
    assert_eq!(stdout_of(&assert), "one\ntwo\n\nlast without newline\n");
}

#[test]
fn prefix_flags_override_the_default() {
    let (_dir, paths) = files(&[("a.log", b"x\n"), ("b.log", b"y\n")]);
    let assert = aiter()
        .arg("lines")
        .args(&paths)
        .arg("--no-prefix")
        .assert()
        .success();
    let mut got: Vec<String> = stdout_of(&assert).lines().map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, ["x", "y"]);
    let assert = aiter()
        .arg("lines")
        .arg(&paths[0])
        .arg("--prefix")
        .assert()
        .success();
    assert_eq!(stdout_of(&assert), format!("{}:x\n", paths[0].display()));
}

#[test]
fn stdin_is_dash() {
    let (_dir, paths) = files(&[("a.log", b"file\n")]);
    let assert = aiter()
        .args(["lines", "-"])
        .arg(&paths[0])
        .write_stdin("in-1\r\nin-2\n")
        .assert()
        .success();
    let groups = by_prefix(&stdout_of(&assert));
    assert_eq!(groups["-"], ["in-1", "in-2"]);
    assert_eq!(groups[&paths[0].display().to_string()], ["file"]);
}

/// Counts lines the way aiter does: every `\n`, plus a last line without one.
fn reference_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[test]
fn count_matches_a_reference_with_a_total_on_every_runtime() {
    let big = numbered("big", 50_000);
    let contents: [&[u8]; 4] = [big.as_bytes(), b"", b"a\r\nb\r\nno newline", b"\n\n\n"];
    let (_dir, paths) = files(&[
        ("big.log", contents[0]),
        ("empty.log", contents[1]),
        ("crlf.log", contents[2]),
        ("blank.log", contents[3]),
    ]);
    let counts: Vec<usize> = contents.iter().map(|c| reference_count(c)).collect();
    let total: usize = counts.iter().sum();
    let width = total.to_string().len();
    let mut expected = String::new();
    for (path, n) in paths.iter().zip(&counts) {
        expected.push_str(&format!("{n:>width$} {}\n", path.display()));
    }
    expected.push_str(&format!("{total:>width$} total\n"));
    for runtime in RUNTIMES {
        let assert = aiter()
            .args(["lines", "--count", "--runtime", runtime])
            .args(&paths)
            .assert()
            .success();
        assert_eq!(stdout_of(&assert), expected, "{runtime}");
    }
    // One file: no padding, no total.
    let assert = aiter()
        .args(["lines", "--count"])
        .arg(&paths[0])
        .assert()
        .success();
    assert_eq!(
        stdout_of(&assert),
        format!("50000 {}\n", paths[0].display())
    );
}

#[test]
fn count_reports_bad_inputs_and_counts_the_others() {
    let (dir, paths) = files(&[("a.log", b"1\n2\n")]);
    let missing = dir.path().join("missing.log");
    let assert = aiter()
        .args(["lines", "--count"])
        .arg(&paths[0])
        .arg(&missing)
        .arg(dir.path())
        .assert()
        .code(1);
    assert_eq!(
        stdout_of(&assert),
        format!("2 {}\n2 total\n", paths[0].display())
    );
    let err = stderr_of(&assert);
    assert!(
        err.contains(&format!(
            "aiter: {}: no such file or directory",
            missing.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("aiter: {}: is a directory", dir.path().display())),
        "{err}"
    );
}

/// Runs `aiter lines` on a good file and `bad`, returning (stdout, stderr)
/// after checking exit code 1 and that the good file was printed whole.
fn with_a_bad_input(bad: &Path, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.log");
    let text = numbered("good", 500);
    std::fs::write(&good, &text).unwrap();
    let assert = aiter()
        .arg("lines")
        .arg(&good)
        .arg(bad)
        .args(extra)
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    let groups = by_prefix(&out);
    let expected: Vec<&str> = text.lines().collect();
    assert_eq!(groups[&good.display().to_string()], expected);
    (out, stderr_of(&assert))
}

#[test]
fn a_missing_file_is_reported_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let (_, err) = with_a_bad_input(&missing, &[]);
    assert_eq!(
        err,
        format!("aiter: {}: no such file or directory\n", missing.display())
    );
}

#[test]
fn a_directory_is_reported_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = with_a_bad_input(dir.path(), &[]);
    assert_eq!(
        err,
        format!("aiter: {}: is a directory\n", dir.path().display())
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_reported_and_the_others_go_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.log");
    std::fs::write(&locked, "secret\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        // Running as root: permissions do not stop us; nothing to test.
        eprintln!("skipped: this user can read a mode-000 file");
        return;
    }
    let (_, err) = with_a_bad_input(&locked, &[]);
    assert_eq!(
        err,
        format!("aiter: {}: permission denied\n", locked.display())
    );
}

#[test]
fn a_line_over_the_limit_is_reported_with_line_and_offset_and_skipped() {
    let (_dir, paths) = files(&[("long.log", b"short\n0123456789abcdef\nafter\n")]);
    let (out, err) = with_a_bad_input(&paths[0], &["--max-line-length", "10"]);
    assert_eq!(
        err,
        format!(
            "aiter: {}: line longer than 10 bytes (line 2, byte offset 6)\n",
            paths[0].display()
        )
    );
    let groups = by_prefix(&out);
    assert_eq!(groups[&paths[0].display().to_string()], ["short", "after"]);
}

#[test]
fn invalid_utf8_is_reported_unless_lossy_or_bytes() {
    let (_dir, paths) = files(&[("bin.log", b"ok\nbad \xff here\nok too\n")]);
    let (out, err) = with_a_bad_input(&paths[0], &[]);
    assert_eq!(
        err,
        format!(
            "aiter: {}: invalid UTF-8 (line 2, byte offset 7)\n",
            paths[0].display()
        )
    );
    assert_eq!(
        by_prefix(&out)[&paths[0].display().to_string()],
        ["ok", "ok too"]
    );

    let assert = aiter()
        .arg("lines")
        .arg(&paths[0])
        .arg("--lossy")
        .assert()
        .success();
    assert_eq!(stdout_of(&assert), "ok\nbad \u{FFFD} here\nok too\n");
    let assert = aiter()
        .arg("lines")
        .arg(&paths[0])
        .arg("--bytes")
        .assert()
        .success();
    assert_eq!(
        assert.get_output().stdout,
        b"ok\nbad \xff here\nok too\n".to_vec()
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_141_like_cat() {
    let (_dir, paths) = files(&[("big.log", numbered("line", 400_000).as_bytes())]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiter"))
        .arg("lines")
        .arg(&paths[0])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4096];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"line-0\nline-1\n"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads a child's stdout on a thread, so tests can wait for lines with a
/// timeout.
struct Lines {
    received: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(child: &mut Child) -> Self {
        let stdout = child.stdout.take().unwrap();
        let (tx, received) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            received,
            seen: Vec::new(),
        }
    }

    /// Waits (up to 10 s) until `line` has been printed.
    fn wait_for(&mut self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.seen.iter().any(|l| l == line) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no {line:?} within 10 s; saw {:?}", self.seen),
            }
        }
    }

    /// Everything printed until stdout closed.
    fn rest(mut self) -> Vec<String> {
        while let Ok(l) = self.received.recv_timeout(Duration::from_secs(10)) {
            self.seen.push(l);
        }
        self.seen
    }
}

fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn follow_through_appends_truncation_and_rotation(runtime: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let later = dir.path().join("later.log");
    std::fs::write(&log, "first\n").unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiter"))
        .args([
            "lines",
            "--follow",
            "--interval",
            "20",
            "--runtime",
            runtime,
        ])
        .arg(&log)
        .arg(&later)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(&mut child);
    let (l, n) = (log.display().to_string(), later.display().to_string());
    lines.wait_for(&format!("{l}:first"));

    let append = |path: &Path, text: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append(&log, "appended\n");
    lines.wait_for(&format!("{l}:appended"));
    // A file that did not exist yet.
    append(&later, "born\n");
    lines.wait_for(&format!("{n}:born"));
    // Truncation: shorter than what was read, then new lines.
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    append(&log, "after truncate\n");
    lines.wait_for(&format!("{l}:after truncate"));
    // Rotation: the old file is moved away, a new one takes its name.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, "rotated in\n").unwrap();
    lines.wait_for(&format!("{l}:rotated in"));
    // A line written just before SIGTERM is printed (flushed) too.
    append(&later, "last words\n");
    lines.wait_for(&format!("{n}:last words"));

    terminate(&child);
    let seen = lines.rest();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{runtime}: {:?}", out.status);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("aiter: {l}: file truncated")),
        "{err}"
    );
    assert!(err.contains(&format!("aiter: {l}: file replaced")), "{err}");
    let expected = [
        format!("{l}:first"),
        format!("{l}:appended"),
        format!("{l}:after truncate"),
        format!("{l}:rotated in"),
    ];
    let of_log: Vec<&String> = seen
        .iter()
        .filter(|s| s.starts_with(&format!("{l}:")))
        .collect();
    assert_eq!(of_log, expected.iter().collect::<Vec<_>>(), "{runtime}");
}

#[cfg(unix)]
#[test]
fn follow_appends_truncation_rotation_and_sigterm_on_every_runtime() {
    for runtime in RUNTIMES {
        follow_through_appends_truncation_and_rotation(runtime);
    }
}

#[cfg(unix)]
#[test]
fn sigint_flushes_and_exits_130_while_reading_stdin() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiter"))
        .args(["lines", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"typed\nhalf").unwrap();
        stdin.flush().unwrap();
    }
    let mut lines = Lines::of(&mut child);
    lines.wait_for("typed");
    std::thread::sleep(Duration::from_millis(100));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // stdin stays open: the command must not wait for its end.
    let started = Instant::now();
    let seen = lines.rest();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    // Like `cat`: interrupted is not success; what was read is printed,
    // the unfinished line completed.
    assert_eq!(out.status.code(), Some(130), "{:?}", out.status);
    assert_eq!(seen, ["typed", "half"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
