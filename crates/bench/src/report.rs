//! The results of a run: the terminal table, `report.md` and `report.json`.
//!
//! Every median comes with its 95 % bootstrap interval (see
//! [`crate::stats::median_interval`]), every ratio to
//! the best of its group too; rows whose interval overlaps the best's are
//! ties, not ranked. In-process and whole-process measurements form separate
//! groups. The by-runtime table puts each implementation's medians on tokio,
//! async-std and smol side by side.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::machine::Machine;
use crate::runtime::RuntimeKind;
use crate::stats::{self, median, Interval};
use crate::{Config, Timed, SCOPE, WHOLE_PROCESS};

/// Everything a run produced, as `report.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `aiter-bench`.
    pub tool: &'static str,
    /// Version of aiter the measured code is.
    pub aiter_version: String,
    /// The command line that produced this report.
    pub command: String,
    /// Seconds since the Unix epoch when the report was made.
    pub generated_unix: u64,
    /// Wall time of the whole run, in seconds.
    pub elapsed_seconds: f64,
    /// The machine, the build, the date, the commit and the load.
    pub machine: Machine,
    /// What was asked for.
    pub config: ConfigRecord,
    /// What was skipped or needs saying (no `python3`, no `wc`, a debug build).
    pub notes: Vec<String>,
    /// Explanations attached to one group (keyed by [`Record::group`]).
    pub group_notes: BTreeMap<String, String>,
    /// One record per measured (workload, metric, implementation, runtime),
    /// grouped, best first.
    pub records: Vec<Record>,
    /// The by-runtime table: one row per group and implementation that runs
    /// on a runtime.
    pub by_runtime: Vec<RuntimeRow>,
}

/// The run's settings, as recorded.
#[derive(Debug, Serialize)]
pub struct ConfigRecord {
    /// Runtimes the runtime-specific cases ran on.
    pub runtimes: Vec<&'static str>,
    /// Size of generated input files, in bytes.
    pub size_bytes: u64,
    /// Whether this was a `--quick` smoke run.
    pub quick: bool,
    /// Untimed runs per case.
    pub warmups: u32,
    /// Timed runs per case.
    pub samples: u32,
    /// Workloads selected with `--only` (empty: all).
    pub only: Vec<String>,
    /// Bootstrap resamples per interval.
    pub resamples: usize,
}

/// One measurement: a metric of one implementation of one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The workload's title, e.g. `line count, 256 MiB`.
    pub workload: String,
    /// What was measured, e.g. `time`, `p99 tick lateness`.
    pub metric: String,
    /// `in process` (timed inside one process) or `whole process` (a
    /// process timed from spawn to exit).
    pub scope: &'static str,
    /// Who did the work, e.g. `aiter`, `wc -l (process)`.
    pub implementation: String,
    /// The runtime, or `null` for runtime-free peers.
    pub runtime: Option<&'static str>,
    /// The workload's parameters.
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The unit of `samples`, `median` and `interval`; lower is better.
    pub unit: &'static str,
    /// Every timed sample, in run order.
    pub samples: Vec<f64>,
    /// Median of `samples`.
    pub median: f64,
    /// 95 % bootstrap interval of the median.
    pub interval: Interval,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// `median` over the best (smallest) median of the group; `null` when
    /// the best is zero.
    pub ratio_to_best: Option<f64>,
    /// 95 % bootstrap interval of `ratio_to_best`.
    pub ratio_interval: Option<Interval>,
    /// Whether this is the best row of its group.
    pub best: bool,
    /// Whether the interval overlaps the best's (a tie: not ranked).
    pub tie_with_best: bool,
    /// Place in the group after the best and its ties (2, 3, …); `null` for
    /// the best and the ties.
    pub rank: Option<usize>,
    /// The result check every run reported (a count or checksum).
    pub check: u64,
}

impl Record {
    /// `implementation · runtime`, or the implementation alone.
    pub fn label(&self) -> String {
        match self.runtime {
            Some(rt) => format!("{} · {rt}", self.implementation),
            None => self.implementation.clone(),
        }
    }

    /// The group the record is compared within: `workload: metric`, with
    /// `(whole process)` for whole-process measurements.
    pub fn group(&self) -> String {
        if self.scope == WHOLE_PROCESS {
            format!("{} (whole process): {}", self.workload, self.metric)
        } else {
            format!("{}: {}", self.workload, self.metric)
        }
    }

    /// `best`, `tie` or the rank.
    pub fn standing(&self) -> String {
        if self.best {
            "best".to_owned()
        } else if self.tie_with_best {
            "tie".to_owned()
        } else {
            self.rank.map_or_else(|| "-".to_owned(), |r| r.to_string())
        }
    }
}

/// One row of the by-runtime table.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeRow {
    /// The group ([`Record::group`]).
    pub group: String,
    /// The implementation.
    pub implementation: String,
    /// The unit of the cells.
    pub unit: &'static str,
    /// The median and interval on each runtime, keyed `tokio`, `async-std`,
    /// `smol`; `null` where it did not run.
    pub cells: BTreeMap<&'static str, Option<Cell>>,
    /// The runtime with the smallest median.
    pub best: Option<&'static str>,
    /// Other runtimes whose interval overlaps the best's.
    pub ties: Vec<&'static str>,
}

/// A median with its interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Cell {
    /// The median.
    pub median: f64,
    /// Its 95 % interval.
    pub interval: Interval,
}

impl Report {
    /// Builds the records from the timed cases: medians, intervals, ratios
    /// to the best per group, ties; groups in run order, best first.
    pub fn new(machine: Machine, config: &Config, timed: &[Timed], elapsed: Duration) -> Self {
        let mut records = Vec::new();
        for case in timed {
            let scope = match case.parameters.get(SCOPE).and_then(|v| v.as_str()) {
                Some(WHOLE_PROCESS) => WHOLE_PROCESS,
                _ => "in process",
            };
            for (i, metric) in case.metrics.iter().enumerate() {
                let samples: Vec<f64> = case.samples.iter().map(|s| s.values[i]).collect();
                let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
                let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let median = median(&samples).unwrap_or(f64::NAN);
                let seed = stats::seed(&format!(
                    "{}|{}|{}|{:?}",
                    case.workload, metric.name, case.implementation, case.runtime
                ));
                records.push(Record {
                    workload: case.workload.clone(),
                    metric: metric.name.to_owned(),
                    scope,
                    implementation: case.implementation.clone(),
                    runtime: case.runtime.map(RuntimeKind::name),
                    parameters: case.parameters.clone(),
                    unit: metric.unit,
                    interval: stats::median_interval(&samples, seed).unwrap_or([median; 2]),
                    median,
                    min,
                    max,
                    samples,
                    ratio_to_best: None,
                    ratio_interval: None,
                    best: false,
                    tie_with_best: false,
                    rank: None,
                    check: case.samples.first().map_or(0, |s| s.check),
                });
            }
        }
        let records = rank(records);
        let by_runtime = by_runtime(&records);
        let mut group_notes = BTreeMap::new();
        if let Some((group, note)) = crate::workloads::cursor::timer_note(&records) {
            group_notes.insert(group, note);
        }
        if let Some((group, note)) = crate::workloads::cursor_postgres::overlap_note(&records) {
            group_notes.insert(group, note);
        }
        group_notes.extend(crate::workloads::merge::oracle_notes(&records));
        Report {
            tool: "aiter-bench",
            aiter_version: machine
                .versions
                .get("aiter")
                .cloned()
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            generated_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            elapsed_seconds: elapsed.as_secs_f64(),
            machine,
            config: ConfigRecord {
                runtimes: config.runtimes.iter().map(|r| r.name()).collect(),
                size_bytes: config.size,
                quick: config.quick,
                warmups: config.warmups,
                samples: config.samples,
                only: config.only.clone(),
                resamples: stats::RESAMPLES,
            },
            notes: config.notes(),
            group_notes,
            records,
            by_runtime,
        }
    }

    /// The rows of the main table for one scope: header, then one row per record.
    fn rows(&self, scope: &str) -> Vec<[String; 6]> {
        let mut rows = vec![[
            "workload".to_owned(),
            "implementation".to_owned(),
            "runtime".to_owned(),
            "median [95 % CI]".to_owned(),
            "× best [95 % CI]".to_owned(),
            "rank".to_owned(),
        ]];
        let mut previous_group = String::new();
        for r in self.records.iter().filter(|r| r.scope == scope) {
            let group = r.group();
            rows.push([
                if group == previous_group {
                    String::new()
                } else {
                    group.clone()
                },
                r.implementation.clone(),
                r.runtime.unwrap_or("-").to_owned(),
                with_interval(r.median, r.interval, r.unit),
                match (r.ratio_to_best, r.ratio_interval) {
                    (Some(x), Some([lo, hi])) => format!("{x:.2} [{lo:.2}–{hi:.2}]"),
                    (Some(x), None) => format!("{x:.2}"),
                    _ => "-".to_owned(),
                },
                r.standing(),
            ]);
            previous_group = group;
        }
        rows
    }

    /// The by-runtime table: header, then one row per [`RuntimeRow`]; the
    /// best runtime's cell is wrapped in `mark`, ties get ` (tie)`.
    fn runtime_rows(&self, mark: &str) -> Vec<[String; 5]> {
        let mut rows = vec![[
            "workload".to_owned(),
            "implementation".to_owned(),
            "tokio".to_owned(),
            "async-std".to_owned(),
            "smol".to_owned(),
        ]];
        let mut previous_group = String::new();
        for row in &self.by_runtime {
            let cell = |rt: &'static str| match row.cells.get(rt).copied().flatten() {
                None => "-".to_owned(),
                Some(c) => {
                    let text = with_interval(c.median, c.interval, row.unit);
                    if row.best == Some(rt) {
                        format!("{mark}{text}{mark}")
                    } else if row.ties.contains(&rt) {
                        format!("{text} (tie)")
                    } else {
                        text
                    }
                }
            };
            rows.push([
                if row.group == previous_group {
                    String::new()
                } else {
                    row.group.clone()
                },
                row.implementation.clone(),
                cell("tokio"),
                cell("async-std"),
                cell("smol"),
            ]);
            previous_group.clone_from(&row.group);
        }
        rows
    }

    /// The tables for the terminal, columns aligned.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for scope in ["in process", WHOLE_PROCESS] {
            let rows = self.rows(scope);
            if rows.len() > 1 {
                let _ = writeln!(out, "\n{scope}:");
                out.push_str(&aligned(&rows, 3));
            }
        }
        let rows = self.runtime_rows("*");
        if rows.len() > 1 {
            let _ = writeln!(
                out,
                "\nby runtime (* best; (tie): interval overlaps the best):"
            );
            out.push_str(&aligned(&rows, 2));
        }
        for note in self.notes.iter().chain(self.group_notes.values()) {
            let _ = writeln!(out, "\nnote: {note}");
        }
        out
    }

    /// `report.md`: the run's facts, the notes, the tables.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "# aiter-bench report, {}\n", m.date);
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| date | {} |", m.date);
        let _ = writeln!(
            out,
            "| commit | `{}` (aiter {}) |",
            m.commit, self.aiter_version
        );
        let _ = writeln!(
            out,
            "| load average | {} at start, {} at the end (1, 5, 15 min) |",
            load(m.load_average_start),
            load(m.load_average_end)
        );
        let _ = writeln!(out, "| CPU | {} ({} cores) |", m.cpu, m.cores);
        let _ = writeln!(out, "| memory | {} |", m.memory);
        let _ = writeln!(out, "| OS | {}, kernel {}, {} |", m.os, m.kernel, m.arch);
        let _ = writeln!(
            out,
            "| build | {}, {}, {} |",
            m.build.profile, m.build.rustc, m.build.target
        );
        let versions: Vec<String> = m.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "| crates | {} |", versions.join(", "));
        let _ = writeln!(
            out,
            "| Python | {} |",
            m.python
                .as_deref()
                .unwrap_or("absent: the python (asyncio) rows are skipped")
        );
        let _ = writeln!(out, "| command | `{}` |", self.command);
        let _ = writeln!(
            out,
            "| run | {} warm-up + {} timed runs per case{}; {:.0} s in all |",
            self.config.warmups,
            self.config.samples,
            if self.config.quick { ", --quick" } else { "" },
            self.elapsed_seconds
        );
        let _ = writeln!(
            out,
            "\nMedians of the timed runs, lower is better, each with its 95 % interval \
             (percentile bootstrap, {} resamples, seeded: the same samples give the same \
             interval). \"× best\" is the median over the best median of the same group, \
             with its own bootstrap interval. A row whose interval overlaps the best's is a \
             **tie**: the run cannot tell them apart, so it is not ranked. Rows timed \
             inside one process and rows timed as whole processes (start-up included) are \
             separate groups.",
            self.config.resamples
        );
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes:\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        let markdown_table = |out: &mut String, rows: &[Vec<String>], align: &str| {
            for (i, row) in rows.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
                if i == 0 {
                    let _ = writeln!(out, "{align}");
                }
            }
        };
        let runtime_rows: Vec<Vec<String>> =
            self.runtime_rows("**").into_iter().map(Vec::from).collect();
        if runtime_rows.len() > 1 {
            let _ = writeln!(
                out,
                "\n## By runtime\n\nOne row per workload and implementation; the best \
                 runtime's median is **bold**, \"(tie)\" marks a runtime whose interval \
                 overlaps the best's.\n"
            );
            markdown_table(&mut out, &runtime_rows, "|---|---|---:|---:|---:|");
        }
        for (scope, title) in [
            ("in process", "In-process measurements"),
            (WHOLE_PROCESS, "Whole-process measurements"),
        ] {
            let rows: Vec<Vec<String>> = self.rows(scope).into_iter().map(Vec::from).collect();
            if rows.len() > 1 {
                let _ = writeln!(out, "\n## {title}\n");
                markdown_table(&mut out, &rows, "|---|---|---|---:|---:|---:|");
            }
        }
        if !self.group_notes.is_empty() {
            let _ = writeln!(out, "\n## Notes on the groups\n");
            for (group, note) in &self.group_notes {
                let _ = writeln!(out, "- **{group}**: {note}");
            }
        }
        out
    }

    /// `report.json`, pretty-printed.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report always serialises");
        text.push('\n');
        text
    }
}

/// Groups `records` (first appearance order), sorts each best first, and
/// fills in ratios, their intervals, ties and ranks.
fn rank(records: Vec<Record>) -> Vec<Record> {
    let mut order: Vec<String> = Vec::new();
    for r in &records {
        if !order.contains(&r.group()) {
            order.push(r.group());
        }
    }
    let mut grouped = Vec::with_capacity(records.len());
    for group in &order {
        let mut members: Vec<Record> = records
            .iter()
            .filter(|r| &r.group() == group)
            .cloned()
            .collect();
        members.sort_by(|a, b| a.median.total_cmp(&b.median));
        let Some(best) = members.first().cloned() else {
            continue;
        };
        let mut next_rank = 2;
        for (i, r) in members.iter_mut().enumerate() {
            r.best = i == 0;
            if best.median > 0.0 {
                r.ratio_to_best = Some(r.median / best.median);
                let seed = stats::seed(&format!("{group}|{}|ratio", r.label()));
                r.ratio_interval = stats::ratio_interval(&r.samples, &best.samples, seed);
            }
            r.tie_with_best = i > 0 && stats::overlap(r.interval, best.interval);
            if i > 0 && !r.tie_with_best {
                r.rank = Some(next_rank);
                next_rank += 1;
            }
        }
        grouped.extend(members);
    }
    grouped
}

/// The by-runtime rows: for each group, each implementation that ran on a
/// runtime, in report order.
fn by_runtime(records: &[Record]) -> Vec<RuntimeRow> {
    let mut rows: Vec<RuntimeRow> = Vec::new();
    for r in records {
        let Some(rt) = r.runtime else { continue };
        let group = r.group();
        let index = match rows
            .iter()
            .position(|row| row.group == group && row.implementation == r.implementation)
        {
            Some(i) => i,
            None => {
                rows.push(RuntimeRow {
                    group,
                    implementation: r.implementation.clone(),
                    unit: r.unit,
                    cells: RuntimeKind::ALL.iter().map(|k| (k.name(), None)).collect(),
                    best: None,
                    ties: Vec::new(),
                });
                rows.len() - 1
            }
        };
        rows[index].cells.insert(
            rt,
            Some(Cell {
                median: r.median,
                interval: r.interval,
            }),
        );
    }
    // Rows keep the order of the group's best record: sort by group order.
    for row in &mut rows {
        let best = row
            .cells
            .iter()
            .filter_map(|(rt, c)| c.map(|c| (*rt, c)))
            .min_by(|a, b| a.1.median.total_cmp(&b.1.median));
        if let Some((best_rt, best_cell)) = best {
            row.best = Some(best_rt);
            row.ties = RuntimeKind::ALL
                .iter()
                .map(|k| k.name())
                .filter(|rt| *rt != best_rt)
                .filter(|rt| {
                    row.cells
                        .get(rt)
                        .copied()
                        .flatten()
                        .is_some_and(|c| stats::overlap(c.interval, best_cell.interval))
                })
                .collect();
        }
    }
    rows
}

/// Aligns `rows` in columns (the first `left` columns to the left), with a
/// rule under the header.
fn aligned<const N: usize>(rows: &[[String; N]], left: usize) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (col, (cell, w)) in row.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if col >= left {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (N - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// `0.52, 0.61, 0.70`.
fn load(avg: [f64; 3]) -> String {
    format!("{:.2}, {:.2}, {:.2}", avg[0], avg[1], avg[2])
}

/// Time units from small to large, with their size in seconds.
const TIME_UNITS: [(&str, f64); 4] = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)];

/// The factor and unit to show `value` (in `unit`) with: time units are
/// scaled to the largest unit in which the value is at least 1 (`30378 µs`
/// becomes `30.4 ms`; a per-item suffix such as `/item` is kept); other
/// units stay.
pub fn scale(value: f64, unit: &str) -> (f64, String) {
    let Some((size, suffix)) = TIME_UNITS.iter().find_map(|&(name, size)| {
        unit.strip_prefix(name)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(|rest| (size, rest))
    }) else {
        return (1.0, unit.to_owned());
    };
    let seconds = value.abs() * size;
    let (name, target) = TIME_UNITS
        .iter()
        .rev()
        .find(|(_, s)| seconds >= *s)
        .copied()
        .unwrap_or(TIME_UNITS[0]);
    (size / target, format!("{name}{suffix}"))
}

/// `30.4 ms`: a value in its unit, scaled for reading.
pub fn scaled(value: f64, unit: &str) -> String {
    let (factor, unit) = scale(value, unit);
    format!("{} {unit}", number(value * factor))
}

/// `30.4 ms [29.8–31.0]`: a median and its interval in the median's unit.
pub fn with_interval(median: f64, interval: Interval, unit: &str) -> String {
    let (factor, unit) = scale(median, unit);
    format!(
        "{} {unit} [{}–{}]",
        number(median * factor),
        number(interval[0] * factor),
        number(interval[1] * factor)
    )
}

/// A measured value with three significant digits (more for large integers).
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests;
