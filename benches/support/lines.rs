//! Deterministic fixtures for `benches/lines.rs`, generated once into
//! `target/aiter-bench-lines/` (or `$CARGO_TARGET_DIR/aiter-bench-lines/`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A generated file and what every reader must find in it.
pub struct Fixture {
    pub name: String,
    pub path: PathBuf,
    pub len: u64,
    /// Lines (every line ends with `\n`).
    pub lines: u64,
    /// Bytes of all lines without their `\n`.
    pub line_bytes: u64,
}

fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("aiter-bench-lines");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    dir
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const WORDS: &[&str] = &[
    "GET",
    "POST",
    "/api/v1/items",
    "200",
    "404",
    "user=alice",
    "user=bob",
    "latency_ms=12",
    "INFO",
    "WARN",
    "ERROR",
    "request",
    "completed",
    "in",
    "worker-3",
    "conn=keep-alive",
];

/// Appends one log-like line of `len` bytes (+ `\n`).
fn log_line(rng: &mut Rng, len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    while out.len() - start < len {
        let word = WORDS[(rng.next() % WORDS.len() as u64) as usize].as_bytes();
        out.extend_from_slice(word);
        out.push(b' ');
    }
    out.truncate(start + len);
    out.push(b'\n');
}

fn generate(path: &Path, size: u64, long_lines: &[u64]) -> (u64, u64) {
    let mut rng = Rng(0x5eed_1e55_u64);
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut written, mut lines, mut line_bytes) = (0u64, 0u64, 0u64);
    let mut buf = Vec::with_capacity(1 << 20);
    // Long lines at evenly spaced points.
    let every = size / (long_lines.len() as u64 + 1);
    let mut placed = 0;
    while written < size {
        buf.clear();
        let len = match long_lines.get(placed) {
            Some(&long) if written >= every * (placed as u64 + 1) => {
                placed += 1;
                long as usize
            }
            _ => rng.range(20, 200) as usize,
        };
        log_line(&mut rng, len, &mut buf);
        f.write_all(&buf).unwrap();
        written += buf.len() as u64;
        lines += 1;
        line_bytes += len as u64;
    }
    f.flush().unwrap();
    (lines, line_bytes)
}

fn fixture(name: String, size: u64, long_lines: &[u64]) -> Fixture {
    let path = dir().join(&name);
    let meta = path.with_extension("counts");
    if let (Ok(m), Ok(counts)) = (std::fs::metadata(&path), std::fs::read_to_string(&meta)) {
        let mut it = counts.split_whitespace().map(|s| s.parse::<u64>().unwrap());
        if let (Some(lines), Some(line_bytes)) = (it.next(), it.next()) {
            return Fixture {
                name,
                path,
                len: m.len(),
                lines,
                line_bytes,
            };
        }
    }
    let (lines, line_bytes) = generate(&path, size, long_lines);
    std::fs::write(&meta, format!("{lines} {line_bytes}")).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    Fixture {
        name,
        path,
        len,
        lines,
        line_bytes,
    }
}

/// 256 MiB of log-like lines of 20–200 bytes (`LINES_BENCH_MIB` to change).
pub fn log_like() -> Fixture {
    let mib = std::env::var("LINES_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256u64);
    fixture(format!("log-{mib}m.txt"), mib << 20, &[])
}

/// 64 MiB: log-like lines plus six lines of 3–7 MiB (30 MiB together).
pub fn long_lines() -> Fixture {
    const MIB: u64 = 1 << 20;
    fixture(
        "long-64m.txt".into(),
        64 * MIB,
        &[3 * MIB, 7 * MIB, 4 * MIB, 6 * MIB, 5 * MIB, 5 * MIB],
    )
}
