//! The Python rows: the same workloads written the way Python programs write
//! them (`peers.py`: a chunked async file reader, an asyncio merge with one
//! task per stream and a queue, an async generator, a paged cursor with an
//! awaited fetch), standard library only, run on the same data beside aiter
//! and reported as `python (asyncio)`.
//!
//! Each run is one `python3` process that times its own work (start-up
//! excluded) and prints its metrics and result check as JSON; the runner
//! checks that result like any other case's. Without `python3` the rows are
//! skipped and the report says so.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

use crate::{BenchError, Case, Config, Metric, Sample};

/// The implementation name of the Python rows.
pub const IMPLEMENTATION: &str = "python (asyncio)";

/// The Python programs, run with `python3 -c`.
const SCRIPT: &str = include_str!("peers.py");

/// Workloads that have a Python row.
const WORKLOADS: [&str; 4] = ["lines", "merge", "generate", "cursor"];

/// `python3 --version` (`Python 3.11.7`), or `None` when there is no
/// `python3` on `PATH`; asked once per process.
pub fn version() -> Option<String> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new("python3").arg("--version").output().ok()?;
            out.status.success().then(|| {
                let text = if out.stdout.is_empty() {
                    out.stderr
                } else {
                    out.stdout
                };
                String::from_utf8_lossy(&text).trim().to_owned()
            })
        })
        .clone()
}

/// A `python (asyncio)` case of `workload`: each run is
/// `python3 -c peers.py WORKLOAD ARGS…`, which must report one value per
/// metric and the check. `None` (with a note) when there is no `python3`.
pub fn case(
    config: &Config,
    workload: &str,
    parameters: BTreeMap<String, serde_json::Value>,
    metrics: Vec<Metric>,
    args: Vec<String>,
) -> Option<Case> {
    if version().is_none() {
        config.note("no `python3` on PATH: the python (asyncio) rows are skipped");
        return None;
    }
    Some(Case {
        workload: workload.to_owned(),
        implementation: IMPLEMENTATION.to_owned(),
        runtime: None,
        parameters,
        metrics,
        routine: Box::new(move || run(&args)),
    })
}

/// One run of `peers.py` with `args`.
fn run(args: &[String]) -> Result<Sample, BenchError> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .output()
        .map_err(|e| BenchError(format!("cannot run python3: {e}")))?;
    if !out.status.success() {
        return Err(BenchError(format!(
            "python3 peers.py {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Reads `{"values": [...], "check": N}`.
fn parse(stdout: &str) -> Result<Sample, BenchError> {
    let bad = |why: &str| BenchError(format!("python3 printed {stdout:?}: {why}"));
    let json: serde_json::Value =
        serde_json::from_str(stdout.trim()).map_err(|e| bad(&e.to_string()))?;
    let values = json["values"]
        .as_array()
        .ok_or_else(|| bad("no `values` array"))?
        .iter()
        .map(|v| v.as_f64().ok_or_else(|| bad("a value is not a number")))
        .collect::<Result<Vec<f64>, _>>()?;
    let check = json["check"]
        .as_u64()
        .ok_or_else(|| bad("no unsigned `check`"))?;
    Ok(Sample { values, check })
}

/// The Python cases derived from another workload's cases, for workloads
/// whose file does not add them itself (merge: one per `merge SHAPE, N=…`
/// title, from its `shape`, `inputs` and `items` parameters). Notes the
/// skip when `python3` is absent.
pub fn derived_cases(workload: &str, cases: &[Case], config: &Config) -> Vec<Case> {
    if !WORKLOADS.contains(&workload) {
        return Vec::new();
    }
    if version().is_none() {
        config.note("no `python3` on PATH: the python (asyncio) rows are skipped");
        return Vec::new();
    }
    if workload != "merge" {
        return Vec::new();
    }
    let mut derived: Vec<Case> = Vec::new();
    for c in cases {
        if derived.iter().any(|d| d.workload == c.workload) {
            continue;
        }
        let p = &c.parameters;
        // A title whose cases say `"python": false` has no Python row
        // (merge at N = 65536: tens of seconds per run).
        if p.get("python").and_then(serde_json::Value::as_bool) == Some(false) {
            continue;
        }
        let (Some(shape), Some(inputs), Some(items)) = (
            p.get("shape").and_then(|v| v.as_str()),
            p.get("inputs").and_then(serde_json::Value::as_u64),
            p.get("items").and_then(serde_json::Value::as_u64),
        ) else {
            continue;
        };
        let args = vec![
            "merge".to_owned(),
            shape.to_owned(),
            inputs.to_string(),
            items.to_string(),
        ];
        // peers.py reports the first metric (time per item) only.
        let metrics = c.metrics[..1].to_vec();
        if let Some(case) = case(config, &c.workload, p.clone(), metrics, args) {
            derived.push(case);
        }
    }
    derived
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_is_parsed_and_bad_output_is_an_error() {
        let s = parse("{\"values\": [1.5, 2], \"check\": 42, \"extra\": 1}\n").unwrap();
        assert_eq!(s.values, [1.5, 2.0]);
        assert_eq!(s.check, 42);
        for bad in [
            "",
            "nope",
            "{\"values\": [1]}",
            "{\"values\": [\"a\"], \"check\": 1}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_python_workload_agrees_with_the_rust_checks() {
        if version().is_none() {
            eprintln!("no python3: skipped");
            return;
        }
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // merge: the sum of 0..items, whatever the shape.
        for shape in ["ready", "sparse"] {
            let s = run(&args(&["merge", shape, "16", "1600"])).unwrap();
            assert_eq!(s.check, (0..1600u64).sum::<u64>(), "{shape}");
        }
        let s = run(&args(&["generate", "1000"])).unwrap();
        assert_eq!(s.check, (0..1000u64).sum::<u64>());
        let s = run(&args(&["cursor", "3", "10", "1", "1"])).unwrap();
        assert_eq!(s.check, (0..30u64).sum::<u64>());
        assert_eq!(s.values.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.txt");
        std::fs::write(&path, "a\nbb\n\nccc\n").unwrap();
        let s = run(&args(&["lines", path.to_str().unwrap(), "3"])).unwrap();
        assert_eq!(s.check, 4);
    }
}
