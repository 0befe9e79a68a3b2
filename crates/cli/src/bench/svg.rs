//! `report.svg`: a hand-written bar chart of a report.
//!
//! One group per workload and metric, one horizontal bar per
//! implementation and runtime, best first. Groups have different units, so
//! each bar's length is its median over the slowest median of its group,
//! and the text beside it gives the median and the ratio to the best.
//! Bars are coloured by runtime (grey for runtime-free peers); aiter's own
//! bars have bold labels.

use std::fmt::Write as _;

use super::report::{number, Record, Report};

const WIDTH: u32 = 960;
const LABEL_WIDTH: u32 = 300;
const BAR_WIDTH: u32 = 460;
const BAR_HEIGHT: u32 = 16;
const BAR_GAP: u32 = 4;
const GROUP_TITLE: u32 = 26;
const GROUP_GAP: u32 = 14;
const HEADER: u32 = 78;

/// The colour of a runtime's bars (Tableau 10, readable on white).
fn colour(runtime: Option<&str>) -> &'static str {
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

/// Draws the chart of `report` as a standalone SVG document.
pub fn chart(report: &Report) -> String {
    let groups = groups(&report.records);
    let bars: u32 = groups.iter().map(|(_, m)| m.len() as u32).sum();
    let height = HEADER
        + groups.len() as u32 * (GROUP_TITLE + GROUP_GAP)
        + bars * (BAR_HEIGHT + BAR_GAP)
        + 10;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        svg,
        r##"<title>aiter bench: medians, lower is better</title>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="24" font-size="17" font-weight="bold">aiter bench — medians, lower is better</text>
<text x="12" y="44" fill="#555555">{}</text>"##,
        escape(&format!(
            "{} · aiter {} · {} build",
            report.machine.summary(),
            report.aiter_version,
            report.machine.build
        ))
    );

    // Legend.
    let mut x = 12;
    for (name, runtime) in [
        ("tokio", Some("tokio")),
        ("async-std", Some("async-std")),
        ("smol", Some("smol")),
        ("no runtime (peer)", None),
    ] {
        let _ = writeln!(
            svg,
            r##"<rect x="{x}" y="56" width="12" height="12" fill="{}"/><text x="{}" y="66">{}</text>"##,
            colour(runtime),
            x + 16,
            escape(name)
        );
        x += 24 + 7 * name.len() as u32 + 12;
    }

    let mut y = HEADER;
    for (title, members) in &groups {
        let unit = members.first().map_or("", |r| r.unit);
        let _ = writeln!(
            svg,
            r##"<text x="12" y="{}" font-size="14" font-weight="bold">{} ({})</text>"##,
            y + 18,
            escape(title),
            escape(unit)
        );
        y += GROUP_TITLE;
        let slowest = members
            .iter()
            .map(|r| r.median)
            .filter(|m| m.is_finite())
            .fold(0.0_f64, f64::max);
        for r in members {
            let fraction = if slowest > 0.0 && r.median.is_finite() {
                (r.median / slowest).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let length = ((f64::from(BAR_WIDTH) * fraction).round() as u32).max(1);
            let weight = if r.implementation.starts_with("aiter") {
                r##" font-weight="bold""##
            } else {
                ""
            };
            let ratio = r
                .ratio_to_best
                .map_or_else(String::new, |x| format!(" (×{x:.2})"));
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="end"{weight}>{}</text>"##,
                LABEL_WIDTH - 8,
                y + 12,
                escape(&r.label())
            );
            let _ = writeln!(
                svg,
                r##"<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{}"><title>{}</title></rect>"##,
                colour(r.runtime),
                escape(&format!(
                    "{}: {} {} median of {} runs",
                    r.label(),
                    number(r.median),
                    r.unit,
                    r.samples.len()
                ))
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}">{}</text>"##,
                LABEL_WIDTH + length + 6,
                y + 12,
                escape(&format!("{} {}{ratio}", number(r.median), r.unit))
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
}
