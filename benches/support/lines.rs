//! The fixtures of `benches/lines.rs`: files written by the `lines`
//! workload's generator of `aiter-bench` (`generate_with_long_lines`, the
//! same deterministic log-like lines as its report), kept across runs in
//! `target/aiter-bench-lines/` (or `$CARGO_TARGET_DIR/aiter-bench-lines/`)
//! with their counts beside them.

use std::path::{Path, PathBuf};

use aiter_bench::workloads::lines::{generate_with_long_lines, LineFile};

/// A generated file and what every reader must find in it.
pub(crate) struct Fixture {
    pub name: String,
    pub path: PathBuf,
    pub expected: LineFile,
}

fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("aiter-bench-lines");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    dir
}

/// The file `name` of `size` bytes, generated unless a previous run left it
/// (with its counts) in the fixture directory.
fn fixture(name: String, size: u64, long_lines: &[u64]) -> Fixture {
    let path = dir().join(&name);
    let meta = path.with_extension("counts");
    if let (Ok(m), Ok(counts)) = (std::fs::metadata(&path), std::fs::read_to_string(&meta)) {
        let mut it = counts.split_whitespace().map(|s| s.parse::<u64>().ok());
        if let (Some(Some(lines)), Some(Some(line_bytes))) = (it.next(), it.next()) {
            if m.len() == size {
                let expected = LineFile {
                    bytes: size,
                    lines,
                    line_bytes,
                };
                return Fixture {
                    name,
                    path,
                    expected,
                };
            }
        }
    }
    let expected = generate_with_long_lines(&path, size, long_lines).expect("fixture written");
    std::fs::write(&meta, format!("{} {}", expected.lines, expected.line_bytes))
        .expect("fixture counts written");
    Fixture {
        name,
        path,
        expected,
    }
}

/// 256 MiB of log-like lines of 20–200 bytes (`LINES_BENCH_MIB` to change).
pub(crate) fn log_like() -> Fixture {
    let mib = std::env::var("LINES_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256u64);
    fixture(format!("lines-{mib}m.log"), mib << 20, &[])
}

/// 64 MiB: log-like lines plus six lines of 3–7 MiB (30 MiB together).
pub(crate) fn long_lines() -> Fixture {
    const MIB: u64 = 1 << 20;
    fixture(
        "long-lines-64m.log".into(),
        64 * MIB,
        &[3 * MIB, 7 * MIB, 4 * MIB, 6 * MIB, 5 * MIB, 5 * MIB],
    )
}
