//! The results of a run: the table, `report.md` and `report.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::machine::Machine;
use super::stats::median;
use super::{Config, Timed};

/// Everything a run produced, as `report.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `aiter bench`.
    pub tool: &'static str,
    /// Version of aiter the measured code is (from `Cargo.lock`).
    pub aiter_version: String,
    /// The command line that produced this report.
    pub command: String,
    /// Seconds since the Unix epoch when the report was made.
    pub generated_unix: u64,
    /// Wall time of the whole run, in seconds.
    pub elapsed_seconds: f64,
    /// The machine and the build.
    pub machine: Machine,
    /// What was asked for.
    pub config: ConfigRecord,
    /// One record per measured (workload, metric, implementation, runtime).
    pub records: Vec<Record>,
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
}

/// One measurement: a metric of one implementation of one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The workload's title, e.g. `line count, 256 MiB`.
    pub workload: String,
    /// What was measured, e.g. `time`, `p99 lateness`.
    pub metric: String,
    /// Who did the work, e.g. `aiter`, `wc -l (process)`.
    pub implementation: String,
    /// The runtime, or `null` for runtime-free peers.
    pub runtime: Option<&'static str>,
    /// The workload's parameters.
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The unit of `samples` and `median`; lower is better.
    pub unit: &'static str,
    /// Every timed sample, in run order.
    pub samples: Vec<f64>,
    /// Median of `samples`.
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// `median` over the best (smallest) median of this workload and metric;
    /// `null` when the best is zero.
    pub ratio_to_best: Option<f64>,
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

    /// The group the record is compared within: `workload: metric`.
    pub fn group(&self) -> String {
        format!("{}: {}", self.workload, self.metric)
    }
}

impl Report {
    /// Builds the records from the timed cases: medians and ratios to the
    /// best per workload and metric, groups in run order, fastest first.
    pub fn new(machine: Machine, config: &Config, timed: &[Timed], elapsed: Duration) -> Self {
        let mut records = Vec::new();
        for case in timed {
            for (i, metric) in case.metrics.iter().enumerate() {
                let samples: Vec<f64> = case.samples.iter().map(|s| s.values[i]).collect();
                let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
                let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                records.push(Record {
                    workload: case.workload.clone(),
                    metric: metric.name.to_owned(),
                    implementation: case.implementation.clone(),
                    runtime: case.runtime.map(|r| r.name()),
                    parameters: case.parameters.clone(),
                    unit: metric.unit,
                    median: median(&samples).unwrap_or(f64::NAN),
                    min,
                    max,
                    samples,
                    ratio_to_best: None,
                    check: case.samples.first().map_or(0, |s| s.check),
                });
            }
        }
        // Group order = first appearance; within a group, best first.
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
            let best = members.first().map_or(0.0, |r| r.median);
            for r in &mut members {
                r.ratio_to_best = (best > 0.0).then(|| r.median / best);
            }
            grouped.extend(members);
        }

        Report {
            tool: "aiter bench",
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
            },
            records: grouped,
        }
    }

    /// The rows of the comparison table: header, then one row per record.
    fn rows(&self) -> Vec<[String; 6]> {
        let mut rows = vec![[
            "workload".to_owned(),
            "implementation".to_owned(),
            "runtime".to_owned(),
            "median".to_owned(),
            "min – max".to_owned(),
            "× best".to_owned(),
        ]];
        let mut previous_group = String::new();
        for r in &self.records {
            let group = r.group();
            rows.push([
                if group == previous_group {
                    String::new()
                } else {
                    group.clone()
                },
                r.implementation.clone(),
                r.runtime.unwrap_or("-").to_owned(),
                format!("{} {}", number(r.median), r.unit),
                format!("{} – {}", number(r.min), number(r.max)),
                r.ratio_to_best
                    .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}")),
            ]);
            previous_group = group;
        }
        rows
    }

    /// The comparison table for the terminal, columns aligned.
    pub fn table(&self) -> String {
        let rows = self.rows();
        let mut widths = [0usize; 6];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            let mut line = String::new();
            for (col, (cell, w)) in row.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                if col >= 3 {
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
                let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                out.push_str(&"-".repeat(total));
                out.push('\n');
            }
        }
        out
    }

    /// `report.md`: the machine, the command, the table.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "# aiter bench report\n");
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| CPU | {} |", m.cpu);
        let _ = writeln!(out, "| cores | {} |", m.cores);
        let _ = writeln!(out, "| memory | {} |", m.memory);
        let _ = writeln!(out, "| OS | {}, kernel {}, {} |", m.os, m.kernel, m.arch);
        let _ = writeln!(out, "| build | {}, {} |", m.build, m.rustc);
        let versions: Vec<String> = m.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "| crates | {} |", versions.join(", "));
        let _ = writeln!(out, "| command | `{}` |", self.command);
        let _ = writeln!(
            out,
            "| run | {} warm-up + {} timed runs per case{}; {:.1} s in all |",
            self.config.warmups,
            self.config.samples,
            if self.config.quick { ", --quick" } else { "" },
            self.elapsed_seconds
        );
        let _ = writeln!(
            out,
            "\nMedians of the timed runs; lower is better; \"× best\" is the median over the best \
             median of the same workload and metric, measured in the same run.\n"
        );
        for (i, row) in self.rows().iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if i == 0 {
                let _ = writeln!(out, "|---|---|---|---:|---:|---:|");
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
mod tests {
    use super::super::{Metric, Sample, SECONDS};
    use super::*;
    use crate::runtime::RuntimeKind;

    fn timed(implementation: &str, runtime: Option<RuntimeKind>, secs: &[f64]) -> Timed {
        Timed {
            workload: "count".to_owned(),
            implementation: implementation.to_owned(),
            runtime,
            parameters: BTreeMap::new(),
            metrics: vec![SECONDS],
            samples: secs
                .iter()
                .map(|&s| Sample {
                    values: vec![s],
                    check: 7,
                })
                .collect(),
        }
    }

    #[test]
    fn records_are_sorted_best_first_with_ratios_to_the_best() {
        let config = Config::new(
            RuntimeKind::ALL.to_vec(),
            None,
            true,
            None,
            vec![],
            "x".into(),
        );
        let cases = [
            timed("slow", Some(RuntimeKind::Smol), &[4.0, 2.0, 3.0]),
            timed("fast", None, &[1.0, 1.5, 0.5]),
        ];
        let report = Report::new(Machine::detect(), &config, &cases, Duration::ZERO);
        let r = &report.records;
        assert_eq!(r[0].implementation, "fast");
        assert_eq!((r[0].median, r[0].min, r[0].max), (1.0, 0.5, 1.5));
        assert_eq!(r[0].ratio_to_best, Some(1.0));
        assert_eq!(r[1].label(), "slow · smol");
        assert_eq!(r[1].ratio_to_best, Some(3.0));
        assert_eq!(r[1].samples, [4.0, 2.0, 3.0]);
        assert_eq!(r[1].check, 7);
        let table = report.table();
        assert!(table.contains("count: time"), "{table}");
        assert!(report.markdown().contains("| 3.00 |"));
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["records"][1]["runtime"], "smol");
    }

    #[test]
    fn several_metrics_make_several_groups() {
        let config = Config::new(
            vec![RuntimeKind::Tokio],
            None,
            true,
            None,
            vec![],
            "x".into(),
        );
        let mut case = timed("aiter", Some(RuntimeKind::Tokio), &[1.0]);
        case.metrics = vec![
            Metric {
                name: "p50",
                unit: "µs",
            },
            Metric {
                name: "p99",
                unit: "µs",
            },
        ];
        case.samples[0].values = vec![10.0, 90.0];
        let report = Report::new(Machine::detect(), &config, &[case], Duration::ZERO);
        assert_eq!(report.records.len(), 2);
        assert_eq!(report.records[1].group(), "count: p99");
        assert_eq!(report.records[1].median, 90.0);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.041_234), "0.0412");
        assert_eq!(number(1.25), "1.25");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(1234.4), "1234");
        assert_eq!(number(0.0), "0");
    }
}
