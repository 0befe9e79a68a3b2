//! End-to-end tests of the `aiter` binary.

use std::path::Path;

use assert_cmd::Command;
use quick_xml::events::Event;
use serde_json::Value;

fn aiter() -> Command {
    Command::cargo_bin("aiter").expect("the aiter binary is built")
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn help_lists_the_subcommands() {
    let assert = aiter().arg("--help").assert().success();
    let out = stdout_of(&assert);
    for sub in ["lines", "query", "bench"] {
        assert!(out.contains(sub), "--help lacks {sub}:\n{out}");
    }
}

#[test]
fn version_prints_the_package_version() {
    let assert = aiter().arg("--version").assert().success();
    assert_eq!(
        stdout_of(&assert).trim(),
        format!("aiter {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_subcommand_offers_the_three_runtimes() {
    for sub in ["lines", "query", "bench"] {
        let assert = aiter().args([sub, "--help"]).assert().success();
        let out = stdout_of(&assert);
        for rt in ["tokio", "async-std", "smol"] {
            assert!(out.contains(rt), "`{sub} --help` lacks {rt}:\n{out}");
        }
    }
}

#[test]
fn an_unknown_runtime_is_a_usage_error() {
    let assert = aiter()
        .args(["bench", "--runtime", "glommio"])
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("glommio"));
}

#[test]
fn bench_only_rejects_unknown_workloads_and_names_the_known_ones() {
    let assert = aiter().args(["bench", "--only", "nope"]).assert().code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("timer") && err.contains("lines"), "{err}");
}

#[test]
fn bench_reports_an_output_directory_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let assert = aiter()
        .args(["bench", "--quick", "--only", "timer", "--out"])
        .arg(blocker.join("out"))
        .assert()
        .code(1);
    assert!(stderr_of(&assert).contains("cannot create"));
}

/// Parses `path` as XML to the end, returning the root element's name and
/// how many `<rect>` elements it holds.
fn parse_svg(path: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root = None;
    let mut rects = 0;
    let mut depth = 0usize;
    loop {
        match reader.read_event().expect("report.svg is well-formed XML") {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                root.get_or_insert(name.clone());
                rects += usize::from(name == "rect");
                depth += 1;
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                root.get_or_insert(name.clone());
                rects += usize::from(name == "rect");
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements in report.svg");
    (root.expect("report.svg has an element"), rects)
}

#[test]
fn bench_quick_writes_the_table_and_all_three_reports() {
    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let assert = aiter()
        .env("TMPDIR", tmp.path())
        .args(["bench", "--quick", "--size", "4M", "--out"])
        .arg(out.path())
        .assert()
        .success();

    let table = stdout_of(&assert);
    assert!(table.contains("× best"), "{table}");
    assert!(table.contains("line count, 4 MiB"), "{table}");
    assert!(table.contains("tick lateness"), "{table}");

    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(markdown.contains("| workload | implementation | runtime | median |"));
    assert!(markdown.contains("| CPU |"));

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .expect("report.json is valid JSON");
    assert_eq!(json["tool"], "aiter bench");
    assert_eq!(json["aiter_version"], env!("CARGO_PKG_VERSION"));
    let machine = &json["machine"];
    assert!(machine["cpu"].is_string() && machine["os"].is_string());
    assert!(machine["kernel"].is_string());
    assert!(machine["cores"].as_u64().unwrap() >= 1);
    for krate in ["aiter", "tokio", "async-std", "smol", "memchr"] {
        assert!(
            machine["versions"][krate].is_string(),
            "no version of {krate}"
        );
    }
    assert_eq!(json["config"]["size_bytes"], 4 << 20);
    assert_eq!(json["config"]["quick"], true);

    let records = json["records"].as_array().unwrap();
    assert!(!records.is_empty());
    let samples = json["config"]["samples"].as_u64().unwrap() as usize;
    for r in records {
        for field in ["workload", "metric", "implementation", "unit"] {
            assert!(r[field].is_string(), "{field} missing in {r}");
        }
        assert!(r["parameters"].is_object(), "{r}");
        assert!(r["runtime"].is_string() || r["runtime"].is_null(), "{r}");
        let s: Vec<f64> = r["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(s.len(), samples, "{r}");
        let median = r["median"].as_f64().unwrap();
        let (min, max) = (r["min"].as_f64().unwrap(), r["max"].as_f64().unwrap());
        assert!(min <= median && median <= max, "{r}");
        assert!(s.iter().all(|&x| x >= 0.0 && x.is_finite()), "{r}");
    }
    // Every runtime ran, and the runtime-free peers too.
    for rt in ["tokio", "async-std", "smol"] {
        assert!(records.iter().any(|r| r["runtime"] == rt), "no {rt} record");
    }
    assert!(records.iter().any(|r| r["runtime"].is_null()));
    // Every line-count record counted the same lines: the file's.
    let lines: Vec<&Value> = records
        .iter()
        .filter(|r| r["workload"].as_str().unwrap().starts_with("line count"))
        .collect();
    assert!(lines.len() >= 5);
    for r in &lines {
        assert_eq!(r["check"], r["parameters"]["lines"], "{r}");
    }

    let (root, rects) = parse_svg(&out.path().join("report.svg"));
    assert_eq!(root, "svg");
    assert!(
        rects >= records.len(),
        "{rects} rects for {} records",
        records.len()
    );

    // The generated file lived in a temp dir under TMPDIR, removed at the end.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
}

#[test]
fn bench_with_one_runtime_runs_only_that_runtime_and_the_peers() {
    let out = tempfile::tempdir().unwrap();
    aiter()
        .args([
            "bench",
            "--quick",
            "--runtime",
            "smol",
            "--only",
            "timer",
            "--samples",
            "1",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let records = json["records"].as_array().unwrap();
    assert_eq!(json["config"]["runtimes"], serde_json::json!(["smol"]));
    assert!(!records.is_empty());
    for r in records {
        assert_eq!(r["runtime"], "smol", "{r}");
        assert!(
            r["workload"].as_str().unwrap().starts_with("interval"),
            "{r}"
        );
    }
}
