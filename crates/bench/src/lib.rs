//! `aiter-bench`: the runtime comparison of aiter.
//!
//! A [`Workload`] (one file each under `workloads/`, listed in
//! [`workloads::registry`]) prepares its fixtures and returns [`Case`]s: one
//! per implementation (aiter on each runtime, each peer, Python's asyncio).
//! The runner ([`run`]) times every case a few times behind a progress bar,
//! checks that every run of every case of a workload produced the same
//! result check (a count or checksum), and turns the samples into
//! [`report::Record`]s: median with a bootstrap 95 % interval, ratio to the
//! best with its interval, ties with the best. [`main`] prints the table and
//! writes `report.md`, `report.json` and `report.svg`.
//!
//! The library exists so that the criterion benches (`benches/` of the
//! workspace root) reuse these workloads instead of copying them.
//!
//! The only `unsafe` is the counting allocator's forwarding to the system
//! allocator, in [`allocs`].
#![deny(unsafe_code)]

pub mod allocs;
mod machine;
pub mod python;
pub mod report;
pub mod runtime;
pub mod size;
pub mod stats;
mod svg;
pub mod workloads;

// The workloads name the runner's items `crate::bench::…`, as when this
// crate was a module of the command.
use crate as bench;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::runtime::RuntimeKind;

pub use self::workloads::workload_name;

/// What `aiter-bench` was asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    /// Runtimes to run the runtime-specific cases on.
    pub runtimes: Vec<RuntimeKind>,
    /// Size of generated input files, in bytes.
    pub size: u64,
    /// `--quick`: a smoke test (fewer samples, fewer timer ticks, smaller file).
    pub quick: bool,
    /// Untimed runs before the samples of each case.
    pub warmups: u32,
    /// Timed runs per case.
    pub samples: u32,
    /// Workload names to run; empty means all.
    pub only: Vec<String>,
    /// Directory for the report files.
    pub out: PathBuf,
    /// The `aiter` executable for the whole-process rows (`None`: look
    /// beside this executable, building it first when run by cargo).
    pub aiter_exe: Option<PathBuf>,
    /// Things the report must say were skipped or adjusted, gathered while
    /// the workloads prepare.
    notes: RefCell<Vec<String>>,
}

impl Config {
    /// Full-run defaults: 256 MiB, 10 samples; `--quick`: 64 MiB, 3 samples.
    pub fn new(
        runtimes: Vec<RuntimeKind>,
        size: Option<u64>,
        quick: bool,
        samples: Option<u32>,
        only: Vec<String>,
        out: PathBuf,
    ) -> Self {
        let default_size = if quick { 64 << 20 } else { 256 << 20 };
        Config {
            runtimes,
            size: size.unwrap_or(default_size),
            quick,
            warmups: 1,
            samples: samples.unwrap_or(if quick { 3 } else { 10 }),
            only,
            out,
            aiter_exe: None,
            notes: RefCell::new(Vec::new()),
        }
    }

    /// Adds a note the report prints (a skipped peer, a missing tool).
    pub fn note(&self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("aiter-bench: {text}");
        let mut notes = self.notes.borrow_mut();
        if !notes.contains(&text) {
            notes.push(text);
        }
    }

    /// The notes so far.
    pub fn notes(&self) -> Vec<String> {
        self.notes.borrow().clone()
    }

    /// Whether a case on `runtime` (`None`: a runtime-free peer) is wanted.
    pub fn wants(&self, runtime: Option<RuntimeKind>) -> bool {
        runtime.is_none_or(|r| self.runtimes.contains(&r))
    }
}

/// A benchmark failure: a fixture that could not be made, a peer that
/// failed, or a result check that did not match.
#[derive(Debug)]
pub struct BenchError(pub String);

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

impl From<std::io::Error> for BenchError {
    fn from(e: std::io::Error) -> Self {
        BenchError(e.to_string())
    }
}

/// One family of measurements (line counting, timer precision, merge, …).
///
/// Each area implements it in its own file under `workloads/` and adds one
/// line to [`workloads::registry`].
pub trait Workload {
    /// The name `--only` selects it by (lower case, no spaces).
    fn name(&self) -> &'static str;

    /// Prepares the fixtures (files in a temp dir the cases own, so they are
    /// removed when the cases are dropped) and returns every case, on every
    /// runtime in [`RuntimeKind::ALL`]; the runner drops the cases on
    /// runtimes not asked for ([`Config::wants`]).
    ///
    /// # Errors
    /// If a fixture cannot be made.
    fn cases(&self, config: &Config) -> Result<Vec<Case>, BenchError>;
}

/// A number a case measures, lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// What it is: `time`, `p50 lateness`, `ns per item`.
    pub name: &'static str,
    /// Its unit as printed: `s`, `µs`, `ns/item`.
    pub unit: &'static str,
}

/// The wall time of a run, in seconds.
pub const SECONDS: Metric = Metric {
    name: "time",
    unit: "s",
};

/// The key of [`Case::parameters`] that marks a whole-process measurement.
pub const SCOPE: &str = "scope";
/// The [`SCOPE`] of a case that times a whole process (start-up included).
pub const WHOLE_PROCESS: &str = "whole process";

/// What one run of a case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// One value per metric of the case, in the order of [`Case::metrics`].
    pub values: Vec<f64>,
    /// The result check (a count, a checksum): every run of every case of a
    /// workload must report the same check.
    pub check: u64,
}

impl Sample {
    /// A run measured by its wall time only.
    pub fn time(elapsed: Duration, check: u64) -> Self {
        Sample {
            values: vec![elapsed.as_secs_f64()],
            check,
        }
    }
}

/// The code timed by a case: one run, returning what it measured.
pub type Routine = Box<dyn FnMut() -> Result<Sample, BenchError>>;

/// One implementation of a workload, ready to time.
pub struct Case {
    /// The workload's title in reports, with its main parameter: `line count, 256 MiB`.
    pub workload: String,
    /// Who does the work: `aiter`, `wc -l (process)`, `tokio BufReader::lines`.
    pub implementation: String,
    /// The runtime it runs on; `None` for runtime-free peers (std, processes).
    pub runtime: Option<RuntimeKind>,
    /// Parameters recorded in `report.json` (sizes, counts, periods).
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// What each run measures.
    pub metrics: Vec<Metric>,
    /// One run.
    pub routine: Routine,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("workload", &self.workload)
            .field("implementation", &self.implementation)
            .field("runtime", &self.runtime)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// A case measured by wall time ([`SECONDS`]).
    pub fn timed(
        workload: impl Into<String>,
        implementation: impl Into<String>,
        runtime: Option<RuntimeKind>,
        parameters: BTreeMap<String, serde_json::Value>,
        routine: impl FnMut() -> Result<Sample, BenchError> + 'static,
    ) -> Self {
        Case {
            workload: workload.into(),
            implementation: implementation.into(),
            runtime,
            parameters,
            metrics: vec![SECONDS],
            routine: Box::new(routine),
        }
    }

    /// Marks the case as timing a whole process (start-up, exit): it is
    /// reported in its own group, apart from the in-process rows.
    #[must_use]
    pub fn whole_process(mut self) -> Self {
        self.parameters
            .insert(SCOPE.to_owned(), WHOLE_PROCESS.into());
        self
    }

    /// The label of the case in progress messages and charts.
    pub fn label(&self) -> String {
        match self.runtime {
            Some(rt) => format!("{} · {}", self.implementation, rt),
            None => self.implementation.clone(),
        }
    }
}

/// The samples of one case, once timed.
#[derive(Debug)]
pub struct Timed {
    /// The case, without its routine.
    pub workload: String,
    /// See [`Case::implementation`].
    pub implementation: String,
    /// See [`Case::runtime`].
    pub runtime: Option<RuntimeKind>,
    /// See [`Case::parameters`].
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// See [`Case::metrics`].
    pub metrics: Vec<Metric>,
    /// Every timed sample, in run order.
    pub samples: Vec<Sample>,
}

/// Prepares every selected workload and times every case.
///
/// # Errors
/// If a workload cannot prepare its fixtures, a run fails, or a result
/// check differs between runs or implementations of a workload.
pub fn run(config: &Config) -> Result<Vec<Timed>, BenchError> {
    let selected: Vec<Box<dyn Workload>> = workloads::registry()
        .into_iter()
        .filter(|w| config.only.is_empty() || config.only.iter().any(|n| n == w.name()))
        .collect();

    let mut cases = Vec::new();
    for workload in &selected {
        let spinner = ProgressBar::new_spinner();
        spinner.set_message(format!("preparing {}", workload.name()));
        spinner.enable_steady_tick(Duration::from_millis(100));
        let prepared = workload.cases(config);
        spinner.finish_and_clear();
        let prepared = prepared?;
        let peers = python::derived_cases(workload.name(), &prepared, config);
        cases.extend(
            prepared
                .into_iter()
                .chain(peers)
                .filter(|c| config.wants(c.runtime)),
        );
    }

    let runs_per_case = u64::from(config.warmups + config.samples);
    let bar = ProgressBar::new(cases.len() as u64 * runs_per_case).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs, {elapsed} · {msg}")
            .expect("valid template"),
    );
    let mut checks: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut timed = Vec::with_capacity(cases.len());
    for mut case in cases {
        let label = case.label();
        bar.set_message(format!("{}: {label}", case.workload));
        let mut samples = Vec::with_capacity(config.samples as usize);
        for run in 0..config.warmups + config.samples {
            let sample = (case.routine)()
                .map_err(|e| BenchError(format!("{}: {label}: {e}", case.workload)))?;
            if sample.values.len() != case.metrics.len() {
                return Err(BenchError(format!(
                    "{}: {label}: measured {} values for {} metrics",
                    case.workload,
                    sample.values.len(),
                    case.metrics.len()
                )));
            }
            let (expected, by) = checks
                .entry(case.workload.clone())
                .or_insert_with(|| (sample.check, label.clone()));
            if sample.check != *expected {
                return Err(BenchError(format!(
                    "{}: {label} reported check {} but {by} reported {expected}",
                    case.workload, sample.check
                )));
            }
            if run >= config.warmups {
                samples.push(sample);
            }
            bar.inc(1);
        }
        timed.push(Timed {
            workload: case.workload,
            implementation: case.implementation,
            runtime: case.runtime,
            parameters: case.parameters,
            metrics: case.metrics,
            samples,
        });
    }
    bar.finish_and_clear();
    Ok(timed)
}

/// Runs the workloads, prints the table, writes the reports.
///
/// # Errors
/// See [`run`]; also if the report files cannot be written.
pub fn main(config: &Config) -> Result<(), BenchError> {
    let started = Instant::now();
    let mut machine = machine::Machine::detect();
    if machine.build.profile == "debug" {
        config.note(
            "this is a debug build: run `cargo run --release -p aiter-bench` for real figures",
        );
    }
    // Fail before the long run, not after it.
    std::fs::create_dir_all(&config.out)
        .map_err(|e| BenchError(format!("cannot create {}: {e}", config.out.display())))?;
    let timed = run(config)?;
    machine.load_average_end = machine::load_average();
    let report = report::Report::new(machine, config, &timed, started.elapsed());
    print!("{}", report.table());
    let write = |name: &str, contents: String| {
        let path = config.out.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| BenchError(format!("cannot write {}: {e}", path.display())))
    };
    write("report.md", report.markdown())?;
    write("report.json", report.json())?;
    write("report.svg", svg::chart(&report))?;
    eprintln!(
        "aiter-bench: wrote report.md, report.json and report.svg to {} in {:.0} s",
        config.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
