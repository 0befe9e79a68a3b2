//! End-to-end tests of the `aiter-bench` binary: a `--quick` run writes the
//! three reports, and they hold what they promise.

use std::path::Path;
use std::process::{Command, Output};

use quick_xml::events::Event;
use serde_json::Value;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aiter-bench"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("aiter-bench runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn only_rejects_unknown_workloads_and_names_the_known_ones() {
    let out = run(bench().args(["--only", "nope"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("timer") && err.contains("lines"), "{err}");
}

#[test]
fn an_unknown_runtime_is_a_usage_error() {
    let out = run(bench().args(["--runtime", "glommio"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("glommio"));
}

#[test]
fn an_output_directory_it_cannot_create_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let out = run(bench()
        .args(["--quick", "--only", "timer", "--out"])
        .arg(blocker.join("out")));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot create"));
}

/// Parses `path` as XML to the end, returning the root element's name and
/// how many `<rect>` and `<path>` (whisker) elements it holds.
fn parse_svg(path: &Path) -> (String, usize, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root = None;
    let (mut rects, mut paths) = (0, 0);
    let mut depth = 0usize;
    loop {
        match reader.read_event().expect("report.svg is well-formed XML") {
            Event::Start(e) | Event::Empty(e) if depth == 0 && root.is_some() => {
                panic!("a second root element {:?}", e.name());
            }
            Event::Start(e) => {
                let name: String = e.name().as_ref().to_owned();
                root.get_or_insert(name.clone());
                rects += usize::from(name == "rect");
                paths += usize::from(name == "path");
                depth += 1;
            }
            Event::Empty(e) => {
                let name: String = e.name().as_ref().to_owned();
                root.get_or_insert(name.clone());
                rects += usize::from(name == "rect");
                paths += usize::from(name == "path");
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements in report.svg");
    let root = root.expect("report.svg has an element");
    (root, rects, paths)
}

#[test]
fn quick_writes_the_tables_and_all_three_reports() {
    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = run(bench()
        .env("TMPDIR", tmp.path())
        // Every workload but merge (its cases are the slowest in a debug
        // build; its own tests run every merge on every runtime).
        .args(["--quick", "--size", "2M", "--samples", "2"])
        .args(["--only", "lines,generate,cursor,timer", "--out"])
        .arg(out.path()));
    assert!(output.status.success(), "{}", text(&output.stderr));

    let table = text(&output.stdout);
    assert!(table.contains("× best [95 % CI]"), "{table}");
    assert!(table.contains("line count, 2 MiB"), "{table}");
    assert!(table.contains("tick lateness"), "{table}");
    assert!(table.contains("by runtime"), "{table}");

    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    for needle in [
        "| workload | implementation | runtime | median [95 % CI] | × best [95 % CI] | rank |",
        "| workload | implementation | tokio | async-std | smol |",
        "## In-process measurements",
        "## Whole-process measurements",
        "| date | ",
        "| commit | ",
        "| load average | ",
        "| CPU | ",
    ] {
        assert!(
            markdown.contains(needle),
            "report.md lacks {needle:?}:\n{markdown}"
        );
    }

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .expect("report.json is valid JSON");
    assert_eq!(json["tool"], "aiter-bench");
    let machine = &json["machine"];
    assert!(machine["cpu"].is_string() && machine["os"].is_string());
    assert!(machine["cores"].as_u64().unwrap() >= 1);
    let date = machine["date"].as_str().unwrap();
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "{date}"
    );
    assert!(machine["commit"].is_string());
    assert_eq!(machine["load_average_start"].as_array().unwrap().len(), 3);
    assert!(machine["build"]["rustc"]
        .as_str()
        .unwrap()
        .starts_with("rustc"));
    for krate in ["aiter", "tokio", "async-std", "smol", "memchr"] {
        assert!(
            machine["versions"][krate].is_string(),
            "no version of {krate}"
        );
    }
    assert_eq!(json["config"]["size_bytes"], 2 << 20);
    assert_eq!(json["config"]["quick"], true);

    let records = json["records"].as_array().unwrap();
    assert!(!records.is_empty());
    let samples = json["config"]["samples"].as_u64().unwrap() as usize;
    for r in records {
        for field in ["workload", "metric", "implementation", "unit", "scope"] {
            assert!(r[field].is_string(), "{field} missing in {r}");
        }
        let s: Vec<f64> = r["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(s.len(), samples, "{r}");
        assert!(s.iter().all(|&x| x >= 0.0 && x.is_finite()), "{r}");
        let median = r["median"].as_f64().unwrap();
        let (lo, hi) = (
            r["interval"][0].as_f64().unwrap(),
            r["interval"][1].as_f64().unwrap(),
        );
        let (min, max) = (r["min"].as_f64().unwrap(), r["max"].as_f64().unwrap());
        assert!(
            min <= lo && lo <= median && median <= hi && hi <= max,
            "{r}"
        );
        // Exactly one best per group; a tie is never ranked.
        if r["tie_with_best"] == true || r["best"] == true {
            assert!(r["rank"].is_null(), "{r}");
        } else {
            assert!(r["rank"].as_u64().unwrap() >= 2, "{r}");
        }
    }
    // Every runtime ran, and the runtime-free peers too.
    for rt in ["tokio", "async-std", "smol"] {
        assert!(records.iter().any(|r| r["runtime"] == rt), "no {rt} record");
    }
    assert!(records.iter().any(|r| r["runtime"].is_null()));
    // Whole-process rows are apart from the in-process ones.
    assert!(records.iter().any(|r| r["scope"] == "whole process"));
    for r in records.iter().filter(|r| r["scope"] == "whole process") {
        assert!(
            r["implementation"].as_str().unwrap().ends_with("(process)"),
            "{r}"
        );
    }
    // The Python rows ran, or the report says why not.
    let python = records
        .iter()
        .any(|r| r["implementation"] == "python (asyncio)");
    let skipped = json["notes"].as_array().unwrap().iter().any(|n| {
        n.as_str()
            .unwrap()
            .contains("python (asyncio) rows are skipped")
    });
    assert!(
        python != skipped,
        "python rows {python}, skip note {skipped}"
    );
    // Every line-count record counted the file's lines.
    for r in records
        .iter()
        .filter(|r| r["workload"].as_str().unwrap().starts_with("line count"))
    {
        assert_eq!(r["check"], r["parameters"]["lines"], "{r}");
    }
    // The by-runtime rows have the three runtime cells.
    let by_runtime = json["by_runtime"].as_array().unwrap();
    assert!(!by_runtime.is_empty());
    for row in by_runtime {
        let cells = row["cells"].as_object().unwrap();
        let mut keys: Vec<&str> = cells.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["async-std", "smol", "tokio"], "{row}");
    }

    let (root, rects, paths) = parse_svg(&out.path().join("report.svg"));
    assert_eq!(root, "svg");
    assert!(
        rects >= records.len(),
        "{rects} rects for {} records",
        records.len()
    );
    assert!(
        paths >= records.len(),
        "{paths} whiskers for {} records",
        records.len()
    );

    // The generated file lived in a temp dir under TMPDIR, removed at the end.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
}

#[test]
fn one_runtime_runs_only_that_runtime_and_the_peers() {
    let out = tempfile::tempdir().unwrap();
    let output = run(bench()
        .args([
            "--quick",
            "--runtime",
            "smol",
            "--only",
            "timer",
            "--samples",
            "1",
            "--out",
        ])
        .arg(out.path()));
    assert!(output.status.success(), "{}", text(&output.stderr));
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
