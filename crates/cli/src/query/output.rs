//! The rows of `aiter query` as text: tab-separated values or JSON lines.
//!
//! Database-neutral: a row is a sequence of [`Cell`]s, written by a
//! [`Line`] in a [`Format`]. The conventions are in the module docs of
//! `query` (and `aiter query --help`).

use std::io::Write;

/// One value of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell<'a> {
    /// SQL NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (already checked or repaired UTF-8).
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// How rows are written.
#[derive(Debug, Clone)]
pub(super) enum Format {
    /// Tab-separated values, PostgreSQL COPY text style.
    Tsv,
    /// One JSON object per row; the keys, unique and already encoded with
    /// their `:`.
    Json(Vec<String>),
}

impl Format {
    /// JSON lines keyed by `columns`, repeated names made unique (see
    /// [`unique_names`]).
    pub(super) fn json(columns: &[String]) -> Self {
        Format::Json(
            unique_names(columns)
                .iter()
                .map(|name| {
                    let mut key = serde_json::to_string(name).expect("a string serialises");
                    key.push(':');
                    key
                })
                .collect(),
        )
    }
}

/// The column names as a TSV line (escaped like text values).
pub(super) fn tsv_header(columns: &[String]) -> Vec<u8> {
    let mut line = Line::new(&Format::Tsv, 64);
    for name in columns {
        line.push(Cell::Text(name));
    }
    line.finish()
}

/// `names` with repeats renamed: the first `a` stays `a`, the next ones
/// become `a_2`, `a_3`, … skipping any name already taken (by another
/// column or an earlier rename).
pub(super) fn unique_names(names: &[String]) -> Vec<String> {
    let taken: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut seen = std::collections::HashSet::new();
    let mut renamed: Vec<String> = Vec::with_capacity(names.len());
    let mut extra = std::collections::HashSet::new();
    for name in names {
        if seen.insert(name.as_str()) {
            renamed.push(name.clone());
            continue;
        }
        let unique = (2..)
            .map(|n| format!("{name}_{n}"))
            .find(|candidate| !taken.contains(candidate.as_str()) && !extra.contains(candidate))
            .expect("some suffix is free");
        extra.insert(unique.clone());
        renamed.push(unique);
    }
    renamed
}

/// One row being written: push its cells in column order, then
/// [`finish`](Line::finish) it.
#[derive(Debug)]
pub(super) struct Line<'f> {
    format: &'f Format,
    out: Vec<u8>,
    cells: usize,
}

impl<'f> Line<'f> {
    /// An empty row with room for `capacity` bytes.
    pub(super) fn new(format: &'f Format, capacity: usize) -> Self {
        Line {
            format,
            out: Vec::with_capacity(capacity),
            cells: 0,
        }
    }

    /// Appends the next column's value.
    pub(super) fn push(&mut self, cell: Cell<'_>) {
        let out = &mut self.out;
        match self.format {
            Format::Tsv => {
                if self.cells > 0 {
                    out.push(b'\t');
                }
                tsv_cell(out, cell);
            }
            Format::Json(keys) => {
                out.push(if self.cells == 0 { b'{' } else { b',' });
                // A row never has more cells than the statement has columns.
                if let Some(key) = keys.get(self.cells) {
                    out.extend_from_slice(key.as_bytes());
                }
                json_cell(out, cell);
            }
        }
        self.cells += 1;
    }

    /// The row's bytes, newline included.
    pub(super) fn finish(mut self) -> Vec<u8> {
        if let Format::Json(_) = self.format {
            if self.cells == 0 {
                self.out.push(b'{');
            }
            self.out.push(b'}');
        }
        self.out.push(b'\n');
        self.out
    }
}

fn tsv_cell(out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => out.extend_from_slice(b"\\N"),
        Cell::Integer(n) => integer(out, n),
        Cell::Real(x) => write!(out, "{x:?}").expect("writing to a Vec cannot fail"),
        Cell::Text(s) => tsv_text(out, s),
        Cell::Blob(bytes) => {
            out.extend_from_slice(b"\\x");
            hex(out, bytes);
        }
    }
}

/// Whether COPY text format escapes byte `b`.
fn escaped(b: u8) -> bool {
    b == b'\\' || matches!(b, 0x08..=0x0D)
}

/// `s` with backslash, backspace, tab, newline, vertical tab, form feed and
/// carriage return escaped as PostgreSQL's COPY text format does.
pub(super) fn tsv_text(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    // Most text needs no escape: one branch-free pass to find out.
    if !rest.iter().fold(false, |any, &b| any | escaped(b)) {
        out.extend_from_slice(rest);
        return;
    }
    while let Some(at) = rest.iter().position(|&b| escaped(b)) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0B => b"\\v",
            0x0C => b"\\f",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

fn json_cell(out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Integer(n) => integer(out, n),
        Cell::Real(x) if x.is_finite() => {
            serde_json::to_writer(&mut *out, &x).expect("a finite number serialises");
        }
        // JSON has no infinity; 1e999 reads back as one (SQLite stores no NaN).
        Cell::Real(x) if x > 0.0 => out.extend_from_slice(b"1e999"),
        Cell::Real(x) if x < 0.0 => out.extend_from_slice(b"-1e999"),
        Cell::Real(_) => out.extend_from_slice(b"null"),
        Cell::Text(s) => serde_json::to_writer(&mut *out, s).expect("a string serialises"),
        Cell::Blob(bytes) => {
            out.extend_from_slice(b"{\"$blob\":\"");
            hex(out, bytes);
            out.extend_from_slice(b"\"}");
        }
    }
}

/// `n` in decimal (what `{n}` prints, without the formatting machinery:
/// every row has integers).
fn integer(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[start..]);
}

fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells() -> [Cell<'static>; 6] {
        [
            Cell::Integer(-7),
            Cell::Real(1.0),
            Cell::Null,
            Cell::Text("a\tb\nc\\d \"q\"\r\u{8}\u{b}\u{c}"),
            Cell::Blob(&[0x00, 0xAB]),
            Cell::Text(""),
        ]
    }

    fn line(format: &Format, cells: &[Cell<'_>]) -> String {
        let mut line = Line::new(format, 0);
        for &cell in cells {
            line.push(cell);
        }
        String::from_utf8(line.finish()).unwrap()
    }

    #[test]
    fn tsv_is_copy_text_format_null_is_backslash_n_and_empty_text_is_empty() {
        assert_eq!(
            line(&Format::Tsv, &cells()),
            "-7\t1.0\t\\N\ta\\tb\\nc\\\\d \"q\"\\r\\b\\v\\f\t\\x00ab\t\n"
        );
        assert_eq!(line(&Format::Tsv, &[Cell::Text("\\N")]), "\\\\N\n");
        assert_eq!(line(&Format::Tsv, &[Cell::Text("\\x00")]), "\\\\x00\n");
    }

    #[test]
    fn json_rows_parse_with_unique_keys_in_column_order_and_tagged_blobs() {
        let names: Vec<String> = ["i", "r", "n", "t", "b", "i"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = line(&Format::json(&names), &cells());
        assert!(
            text.starts_with("{\"i\":-7,\"r\":1.0,\"n\":null,"),
            "{text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["t"], "a\tb\nc\\d \"q\"\r\u{8}\u{b}\u{c}");
        assert_eq!(parsed["b"], serde_json::json!({"$blob": "00ab"}));
        assert!(parsed["n"].is_null());
        assert_eq!(parsed["i_2"], "");
        assert_eq!(line(&Format::json(&[]), &[]), "{}\n");
        assert_eq!(
            line(
                &Format::json(&names[..2]),
                &[Cell::Real(f64::INFINITY), Cell::Real(f64::NEG_INFINITY)]
            ),
            "{\"i\":1e999,\"r\":-1e999}\n"
        );
    }

    #[test]
    fn repeated_names_get_the_first_free_suffix() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            unique_names(&names(&["a", "a", "b", "a"])),
            names(&["a", "a_2", "b", "a_3"])
        );
        assert_eq!(
            unique_names(&names(&["a", "a", "a_2"])),
            names(&["a", "a_3", "a_2"])
        );
        assert_eq!(
            unique_names(&names(&["a_2", "a", "a"])),
            names(&["a_2", "a", "a_3"])
        );
    }

    #[test]
    fn integers_print_as_display_does() {
        for n in [0, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            integer(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn the_header_is_escaped_like_text() {
        let columns = vec!["a\tb".to_owned(), "c".to_owned()];
        assert_eq!(tsv_header(&columns), b"a\\tb\tc\n");
    }
}
