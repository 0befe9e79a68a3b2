//! The machine a report ran on, and the versions of aiter and its peers.

use std::collections::BTreeMap;

use serde::Serialize;

/// The workspace's lock file, for the exact versions of aiter and the peers
/// this binary was built with.
const CARGO_LOCK: &str = include_str!("../../../../Cargo.lock");

/// Crates whose versions a report states: aiter, the runtimes and the peers.
const REPORTED_CRATES: [&str; 13] = [
    "aiter",
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "blocking",
    "futures",
    "futures-lite",
    "futures-concurrency",
    "futures-buffered",
    "tokio-stream",
    "memchr",
    "rusqlite",
];

/// Facts about the machine and build, as `report.json`'s `machine` object.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model from `/proc/cpuinfo` (with family and model numbers when given).
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory, from `/proc/meminfo`.
    pub memory: String,
    /// OS name (`/etc/os-release` `PRETTY_NAME`, else the target OS).
    pub os: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// Target architecture.
    pub arch: &'static str,
    /// `release` or `debug`.
    pub build: &'static str,
    /// `rustc -V` of the compiler that built this binary.
    pub rustc: &'static str,
    /// Versions from `Cargo.lock`: aiter and each peer crate (several
    /// versions of one crate are joined with `, `).
    pub versions: BTreeMap<String, String>,
}

impl Machine {
    /// Reads the machine's facts; whatever cannot be read is `unknown`.
    pub fn detect() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        let os_release = read("/etc/os-release");
        Machine {
            cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory: total_memory(&meminfo).unwrap_or_else(|| "unknown".to_owned()),
            os: os_name(&os_release).unwrap_or_else(|| std::env::consts::OS.to_owned()),
            kernel: Some(read("/proc/sys/kernel/osrelease").trim().to_owned())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "unknown".to_owned()),
            arch: std::env::consts::ARCH,
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            rustc: env!("AITER_RUSTC_VERSION"),
            versions: lock_versions(CARGO_LOCK, &REPORTED_CRATES),
        }
    }

    /// One line for report headers: `AMD EPYC, 2 cores, 24 GiB, Debian 12, Linux 6.18`.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} cores, {} memory, {}, kernel {}, {}",
            self.cpu, self.cores, self.memory, self.os, self.kernel, self.arch
        )
    }
}

/// The first `model name` of a `/proc/cpuinfo`, with its `cpu family` and `model`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |key: &str| {
        cpuinfo.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    let name = field("model name")?;
    match (field("cpu family"), field("model")) {
        (Some(family), Some(model)) => Some(format!("{name} (family {family}, model {model})")),
        _ => Some(name),
    }
}

/// `MemTotal` of a `/proc/meminfo`, in GiB.
fn total_memory(meminfo: &str) -> Option<String> {
    let kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)))
}

/// `PRETTY_NAME` of an `/etc/os-release`.
fn os_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        Some(
            line.strip_prefix("PRETTY_NAME=")?
                .trim_matches('"')
                .to_owned(),
        )
    })
}

/// The versions of `names` in a `Cargo.lock`'s `[[package]]` tables.
fn lock_versions(lock: &str, names: &[&str]) -> BTreeMap<String, String> {
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut name: Option<&str> = None;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            name = None;
        } else if let Some(value) = quoted_value(line, "name") {
            name = Some(value);
        } else if let (Some(n), Some(version)) = (name, quoted_value(line, "version")) {
            if names.contains(&n) {
                versions
                    .entry(n.to_owned())
                    .or_default()
                    .push(version.to_owned());
            }
        }
    }
    versions
        .into_iter()
        .map(|(name, list)| (name, list.join(", ")))
        .collect()
}

/// `value` of a `key = "value"` line.
fn quoted_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    rest.trim().strip_prefix('"')?.strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_versions_reads_the_packages_asked_for() {
        let lock = r#"
version = 4

[[package]]
name = "tokio"
version = "1.54.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "pin-project-lite",
]

[[package]]
name = "rand"
version = "0.8.5"

[[package]]
name = "windows-sys"
version = "0.52.0"

[[package]]
name = "windows-sys"
version = "0.61.2"
"#;
        let v = lock_versions(lock, &["tokio", "windows-sys", "smol"]);
        assert_eq!(v["tokio"], "1.54.1");
        assert_eq!(v["windows-sys"], "0.52.0, 0.61.2");
        assert!(!v.contains_key("rand") && !v.contains_key("smol"));
    }

    #[test]
    fn the_embedded_lock_file_names_aiter_and_the_runtimes() {
        let v = lock_versions(CARGO_LOCK, &REPORTED_CRATES);
        for name in ["aiter", "tokio", "async-std", "smol", "memchr"] {
            assert!(v.contains_key(name), "{name} missing from Cargo.lock");
        }
    }

    #[test]
    fn proc_files_parse() {
        let cpuinfo = "processor\t: 0\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n";
        assert_eq!(
            cpu_model(cpuinfo).unwrap(),
            "AMD EPYC (family 25, model 17)"
        );
        assert_eq!(
            total_memory("MemTotal:       24683656 kB\nMemFree: 1 kB\n").unwrap(),
            "23.5 GiB"
        );
        assert_eq!(
            os_name("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").unwrap(),
            "Debian GNU/Linux 12 (bookworm)"
        );
    }
}
