//! `report.svg`: a hand-written bar chart of a report.
//!
//! One group per workload and metric, one horizontal bar per implementation
//! and runtime, best first. Each group has its own logarithmic axis (groups
//! have different units), with a grid line per power of ten, so a group with
//! a 100× spread keeps every bar readable. A bar ends at the median; the
//! whisker across its end is the 95 % interval. The text beside it gives the
//! median, the ratio to the best and whether the row ties with the best.
//! Bars are coloured by runtime (grey for runtime-free peers, orange for
//! Python); aiter's own bars have bold labels.

use std::fmt::Write as _;

use crate::report::{number, scale, scaled, Record, Report};

const WIDTH: u32 = 1100;
const LABEL_WIDTH: u32 = 330;
const PLOT_WIDTH: u32 = 480;
const BAR_HEIGHT: u32 = 16;
const BAR_GAP: u32 = 5;
const GROUP_TITLE: u32 = 24;
const AXIS: u32 = 16;
const GROUP_GAP: u32 = 16;
const HEADER: u32 = 96;

/// The colour of a record's bar (Tableau 10, readable on white).
fn colour(record: &Record) -> &'static str {
    if record.implementation.starts_with("python") {
        return PYTHON;
    }
    runtime_colour(record.runtime)
}

const PYTHON: &str = "#f28e2b";

/// The colour of a runtime's bars.
fn runtime_colour(runtime: Option<&str>) -> &'static str {
    match runtime {
        Some("tokio") => "#4e79a7",
        Some("async-std") => "#59a14f",
        Some("smol") => "#e15759",
        Some(_) => "#b07aa1",
        None => "#9d9d9d",
    }
}

/// Escapes text for SVG character data and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The records of a report, in groups, in report order.
fn groups(records: &[Record]) -> Vec<(String, Vec<&Record>)> {
    let mut groups: Vec<(String, Vec<&Record>)> = Vec::new();
    for r in records {
        let name = r.group();
        match groups.iter_mut().find(|(g, _)| *g == name) {
            Some((_, members)) => members.push(r),
            None => groups.push((name, vec![r])),
        }
    }
    groups
}

/// A grid label: a power of ten, scaled, without trailing zeros (`1 ms`).
fn tick(value: f64, unit: &str) -> String {
    let (factor, unit) = scale(value, unit);
    let shown = value * factor;
    let digits = if shown >= 1.0 { 0 } else { 3 };
    let text = format!("{shown:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').to_owned()
    } else {
        text
    };
    format!("{text} {unit}")
}

/// A group's logarithmic axis: whole powers of ten around its values.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogAxis {
    /// log10 of the left end.
    low: i32,
    /// log10 of the right end (`> low`).
    high: i32,
}

impl LogAxis {
    /// The axis from the power of ten at or below the smallest positive
    /// value to the one at or above the largest.
    fn around(values: impl IntoIterator<Item = f64>) -> Self {
        let (mut min, mut max) = (f64::INFINITY, 0.0_f64);
        for v in values.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
            min = min.min(v);
            max = max.max(v);
        }
        if !min.is_finite() {
            return LogAxis { low: 0, high: 1 };
        }
        let low = min.log10().floor() as i32;
        let high = (max.log10().ceil() as i32).max(low + 1);
        LogAxis { low, high }
    }

    /// The x offset (0 ..= `PLOT_WIDTH`) of `value`; values at or below
    /// zero sit at the left end.
    fn x(self, value: f64) -> f64 {
        if !(value.is_finite() && value > 0.0) {
            return 0.0;
        }
        let span = f64::from(self.high - self.low);
        let at = (value.log10() - f64::from(self.low)) / span;
        at.clamp(0.0, 1.0) * f64::from(PLOT_WIDTH)
    }
}

/// Draws the chart of `report` as a standalone SVG document.
pub(crate) fn chart(report: &Report) -> String {
    let groups = groups(&report.records);
    let bars: u32 = groups.iter().map(|(_, m)| m.len() as u32).sum();
    let height = HEADER
        + groups.len() as u32 * (GROUP_TITLE + AXIS + GROUP_GAP)
        + bars * (BAR_HEIGHT + BAR_GAP)
        + 10;
    let m = &report.machine;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        svg,
        r##"<title>aiter-bench: medians with 95 % intervals, lower is better</title>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="24" font-size="17" font-weight="bold">aiter-bench — medians with 95 % intervals, lower is better (log scale)</text>
<text x="12" y="44" fill="#555555">{}</text>
<text x="12" y="62" fill="#555555">{}</text>"##,
        escape(&format!(
            "{} · commit {} · aiter {} · {} build · load average {:.2} at start",
            m.date, m.commit, report.aiter_version, m.build.profile, m.load_average_start[0]
        )),
        escape(&m.summary())
    );

    // Legend.
    let mut x = 12;
    for (name, fill) in [
        ("tokio", runtime_colour(Some("tokio"))),
        ("async-std", runtime_colour(Some("async-std"))),
        ("smol", runtime_colour(Some("smol"))),
        ("no runtime (peer)", runtime_colour(None)),
        ("python (asyncio)", PYTHON),
    ] {
        let _ = writeln!(
            svg,
            r##"<rect x="{x}" y="72" width="12" height="12" fill="{fill}"/><text x="{}" y="82">{}</text>"##,
            x + 16,
            escape(name)
        );
        x += 24 + 7 * name.len() as u32 + 12;
    }
    let _ = writeln!(
        svg,
        r##"<text x="{x}" y="82" fill="#555555">whisker: 95 % interval of the median</text>"##
    );

    let mut y = HEADER;
    for (title, members) in &groups {
        let unit = members.first().map_or("", |r| r.unit);
        let _ = writeln!(
            svg,
            r##"<text x="12" y="{}" font-size="14" font-weight="bold">{}</text>"##,
            y + 17,
            escape(title)
        );
        y += GROUP_TITLE;
        let axis = LogAxis::around(
            members
                .iter()
                .flat_map(|r| [r.median, r.interval[0], r.interval[1]]),
        );
        let rows = members.len() as u32 * (BAR_HEIGHT + BAR_GAP);
        for power in axis.low..=axis.high {
            let value = 10f64.powi(power);
            let gx = f64::from(LABEL_WIDTH) + axis.x(value);
            let _ = writeln!(
                svg,
                r##"<line x1="{gx:.1}" y1="{}" x2="{gx:.1}" y2="{}" stroke="#dddddd"/><text x="{gx:.1}" y="{}" text-anchor="middle" font-size="10" fill="#777777">{}</text>"##,
                y + AXIS - 2,
                y + AXIS + rows,
                y + 10,
                escape(&tick(value, unit))
            );
        }
        y += AXIS;
        for r in members {
            let end = axis.x(r.median);
            let length = end.max(1.0);
            let weight = if r.implementation.starts_with("aiter") {
                r##" font-weight="bold""##
            } else {
                ""
            };
            let standing = if r.best {
                " best".to_owned()
            } else if r.tie_with_best {
                " tie".to_owned()
            } else {
                String::new()
            };
            let ratio = r
                .ratio_to_best
                .map_or_else(String::new, |x| format!(" ×{x:.2}"));
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="end"{weight}>{}</text>"##,
                LABEL_WIDTH - 8,
                y + 12,
                escape(&r.label())
            );
            let _ = writeln!(
                svg,
                r##"<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1}" height="{BAR_HEIGHT}" fill="{}"><title>{}</title></rect>"##,
                colour(r),
                escape(&format!(
                    "{}: median {} [{} – {}] {}, {} runs",
                    r.label(),
                    number(r.median),
                    number(r.interval[0]),
                    number(r.interval[1]),
                    r.unit,
                    r.samples.len()
                ))
            );
            let (lo, hi) = (
                f64::from(LABEL_WIDTH) + axis.x(r.interval[0]),
                f64::from(LABEL_WIDTH) + axis.x(r.interval[1]),
            );
            let mid = f64::from(y) + f64::from(BAR_HEIGHT) / 2.0;
            let _ = writeln!(
                svg,
                r##"<path d="M{lo:.1} {mid:.1}H{hi:.1}M{lo:.1} {:.1}V{:.1}M{hi:.1} {:.1}V{:.1}" stroke="#222222" stroke-width="1.3" fill="none"/>"##,
                mid - 5.0,
                mid + 5.0,
                mid - 5.0,
                mid + 5.0
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}">{}</text>"##,
                LABEL_WIDTH + PLOT_WIDTH + 12,
                y + 12,
                escape(&format!("{}{ratio}{standing}", scaled(r.median, r.unit)))
            );
            y += BAR_HEIGHT + BAR_GAP;
        }
        y += GROUP_GAP;
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"a<b & "c">'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&apos;"
        );
    }

    #[test]
    fn grid_labels_are_short() {
        assert_eq!(tick(1e-3, "s"), "1 ms");
        assert_eq!(tick(100.0, "ns/item"), "100 ns/item");
        assert_eq!(tick(1000.0, "ns/item"), "1 µs/item");
        assert_eq!(tick(0.1, "%"), "0.1 %");
    }

    #[test]
    fn the_log_axis_spans_whole_decades_and_keeps_a_100x_spread_readable() {
        let axis = LogAxis::around([0.17, 17.0, 3.0, 0.0]);
        assert_eq!(axis, LogAxis { low: -1, high: 2 });
        // 100× apart is two of the three decades: the smaller bar keeps
        // 7.7 % of the plot (a linear scale would give it 1 %).
        let small = axis.x(0.17);
        let large = axis.x(17.0);
        assert!(small > f64::from(PLOT_WIDTH) * 0.07, "{small}");
        assert!((large - small - f64::from(PLOT_WIDTH) * 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(axis.x(0.0), 0.0);
        assert_eq!(LogAxis::around([5.0]), LogAxis { low: 0, high: 1 });
        assert_eq!(LogAxis::around([]), LogAxis { low: 0, high: 1 });
    }
}
