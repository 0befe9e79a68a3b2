use super::*;
use crate::{Metric, Sample, SECONDS};

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

fn config() -> Config {
    Config::new(
        RuntimeKind::ALL.to_vec(),
        None,
        true,
        None,
        vec![],
        "x".into(),
    )
}

#[test]
fn records_are_sorted_best_first_with_ratios_intervals_and_ties() {
    let cases = [
        timed("slow", Some(RuntimeKind::Smol), &[4.0, 2.0, 3.0, 3.1, 2.9]),
        timed("fast", None, &[1.0, 1.5, 0.5, 1.1, 0.9]),
        timed("close", None, &[1.2, 1.4, 0.8, 1.3, 1.0]),
    ];
    let report = Report::new(Machine::detect(), &config(), &cases, Duration::ZERO);
    let r = &report.records;
    assert_eq!(r[0].implementation, "fast");
    assert_eq!((r[0].median, r[0].min, r[0].max), (1.0, 0.5, 1.5));
    assert!(r[0].best && r[0].rank.is_none());
    assert!(r[0].interval[0] <= 1.0 && 1.0 <= r[0].interval[1]);
    assert_eq!(r[0].ratio_to_best, Some(1.0));
    // "close" overlaps the best: a tie, not ranked.
    assert_eq!(r[1].implementation, "close");
    assert!(r[1].tie_with_best && r[1].rank.is_none(), "{:?}", r[1]);
    assert_eq!(r[1].standing(), "tie");
    // "slow" is clearly behind: ranked 2, its ratio interval around 3.
    assert_eq!(r[2].label(), "slow · smol");
    assert_eq!(r[2].ratio_to_best, Some(3.0));
    let [lo, hi] = r[2].ratio_interval.unwrap();
    assert!(lo <= 3.0 && 3.0 <= hi, "{lo} {hi}");
    assert_eq!(r[2].rank, Some(2));
    assert!(!r[2].tie_with_best);
    assert_eq!(r[2].samples, [4.0, 2.0, 3.0, 3.1, 2.9]);
    assert_eq!(r[2].check, 7);
    let table = report.table();
    assert!(table.contains("count: time"), "{table}");
    let markdown = report.markdown();
    assert!(markdown.contains("| 3.00 ["), "{markdown}");
    assert!(markdown.contains("| tie |"), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["records"][2]["runtime"], "smol");
    assert_eq!(json["records"][2]["interval"].as_array().unwrap().len(), 2);
}

#[test]
fn the_by_runtime_table_has_the_three_runtime_columns_and_marks_the_best() {
    let cases = [
        timed("aiter", Some(RuntimeKind::Tokio), &[3.0, 3.1, 2.9, 3.0]),
        timed("aiter", Some(RuntimeKind::AsyncStd), &[2.0, 2.1, 1.9, 2.0]),
        timed("aiter", Some(RuntimeKind::Smol), &[1.0, 1.1, 0.9, 1.0]),
        timed("peer", Some(RuntimeKind::Tokio), &[5.0]),
        timed("std", None, &[0.5]),
    ];
    let report = Report::new(Machine::detect(), &config(), &cases, Duration::ZERO);
    assert_eq!(report.by_runtime.len(), 2, "{:?}", report.by_runtime);
    let aiter = &report.by_runtime[0];
    assert_eq!(aiter.implementation, "aiter");
    assert_eq!(aiter.best, Some("smol"));
    assert!(aiter.ties.is_empty());
    let peer = &report.by_runtime[1];
    assert!(peer.cells["async-std"].is_none() && peer.cells["smol"].is_none());

    let markdown = report.markdown();
    let header = markdown
        .lines()
        .find(|l| l.starts_with("| workload | implementation | tokio"))
        .expect("a by-runtime table");
    assert_eq!(
        header,
        "| workload | implementation | tokio | async-std | smol |"
    );
    let row = markdown
        .lines()
        .find(|l| l.starts_with("| count: time | aiter |"))
        .expect("the aiter row");
    assert_eq!(row.matches(" | ").count(), 4, "{row}");
    assert!(row.contains("| **1.00 s ["), "{row}");
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    let cells = &json["by_runtime"][0]["cells"];
    for rt in ["tokio", "async-std", "smol"] {
        assert!(cells[rt]["median"].is_number(), "{rt}: {cells}");
    }
}

#[test]
fn whole_process_rows_are_a_group_of_their_own() {
    let mut process = timed(
        "aiter lines --count (process)",
        Some(RuntimeKind::Tokio),
        &[2.0],
    );
    process
        .parameters
        .insert(SCOPE.to_owned(), WHOLE_PROCESS.into());
    let cases = [process, timed("aiter", Some(RuntimeKind::Tokio), &[1.0])];
    let report = Report::new(Machine::detect(), &config(), &cases, Duration::ZERO);
    assert_eq!(report.records.len(), 2);
    assert!(
        report.records.iter().all(|r| r.best),
        "two groups, two bests"
    );
    assert_eq!(report.records[0].group(), "count (whole process): time");
    let markdown = report.markdown();
    assert!(markdown.contains("## In-process measurements"));
    assert!(markdown.contains("## Whole-process measurements"));
}

#[test]
fn several_metrics_make_several_groups() {
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
    let report = Report::new(Machine::detect(), &config(), &[case], Duration::ZERO);
    assert_eq!(report.records.len(), 2);
    assert_eq!(report.records[1].group(), "count: p99");
    assert_eq!(report.records[1].median, 90.0);
}

#[test]
fn units_are_scaled_for_reading() {
    assert_eq!(scaled(30_378.0, "µs"), "30.4 ms");
    assert_eq!(scaled(0.041_234, "s"), "41.2 ms");
    assert_eq!(scaled(1.25, "s"), "1.25 s");
    assert_eq!(scaled(17_000.0, "ns/item"), "17.0 µs/item");
    assert_eq!(scaled(86.0, "ns/item"), "86.0 ns/item");
    assert_eq!(scaled(33.3, "%"), "33.3 %");
    assert_eq!(
        with_interval(0.0305, [0.0298, 0.031], "s"),
        "30.5 ms [29.8–31.0]"
    );
}

#[test]
fn numbers_keep_three_significant_digits() {
    assert_eq!(number(0.041_234), "0.0412");
    assert_eq!(number(1.25), "1.25");
    assert_eq!(number(12.345), "12.3");
    assert_eq!(number(1234.4), "1234");
    assert_eq!(number(0.0), "0");
}
