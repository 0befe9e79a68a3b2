//! The machine a report ran on, the build, and the versions of aiter and its
//! peers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Build facts recorded at compile time by the `built` crate.
mod built_info {
    #![allow(
        dead_code,
        missing_docs,
        unreachable_pub,
        clippy::all,
        clippy::pedantic
    )]
    include!(concat!(env!("OUT_DIR"), "/built.rs"));
}

/// Crates whose versions a report states: aiter, the runtimes and the peers.
const REPORTED_CRATES: [&str; 12] = [
    "aiter",
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "blocking",
    "futures",
    "futures-lite",
    "futures-concurrency",
    "tokio-stream",
    "async-stream",
    "memchr",
];

/// Facts about the machine and build, as `report.json`'s `machine` object.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU brand string.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory.
    pub memory: String,
    /// OS name and version.
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// Target architecture.
    pub arch: &'static str,
    /// The 1, 5 and 15 minute load averages when the run started.
    pub load_average_start: [f64; 3],
    /// The same when the measurements ended.
    pub load_average_end: [f64; 3],
    /// The run's date, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The git commit of the measured code (`git rev-parse HEAD` in the
    /// workspace; `-dirty` when tracked files differ from it).
    pub commit: String,
    /// How this binary was built.
    pub build: Build,
    /// Versions from `Cargo.lock` of aiter and each peer crate (several
    /// versions of one crate are joined with `, `).
    pub versions: BTreeMap<String, String>,
    /// `python3 --version`, when present.
    pub python: Option<String>,
}

/// The build facts of this binary.
#[derive(Debug, Clone, Serialize)]
pub struct Build {
    /// `release` or `debug`.
    pub profile: &'static str,
    /// `rustc --version` of the compiler.
    pub rustc: &'static str,
    /// The target triple.
    pub target: &'static str,
    /// Whether debug assertions were on.
    pub debug_assertions: bool,
}

impl Machine {
    /// Reads the machine's facts; whatever cannot be read is `unknown`.
    pub fn detect() -> Self {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        );
        let cpu = system
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_owned())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        let unknown = || "unknown".to_owned();
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory: format!(
                "{:.1} GiB",
                system.total_memory() as f64 / f64::from(1 << 30)
            ),
            os: System::long_os_version().unwrap_or_else(unknown),
            kernel: System::kernel_version().unwrap_or_else(unknown),
            arch: std::env::consts::ARCH,
            load_average_start: load_average(),
            load_average_end: load_average(),
            date: date(SystemTime::now()),
            commit: commit(Path::new(env!("CARGO_MANIFEST_DIR"))),
            build: Build {
                profile: built_info::PROFILE,
                rustc: built_info::RUSTC_VERSION,
                target: built_info::TARGET,
                debug_assertions: cfg!(debug_assertions),
            },
            versions: versions(&built_info::DEPENDENCIES, &REPORTED_CRATES),
            python: crate::python::version(),
        }
    }

    /// One line for report headers.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} cores, {} memory, {}, kernel {}, {}",
            self.cpu, self.cores, self.memory, self.os, self.kernel, self.arch
        )
    }
}

/// The 1, 5 and 15 minute load averages (zeros where the OS has none).
pub(crate) fn load_average() -> [f64; 3] {
    let load = sysinfo::System::load_average();
    [load.one, load.five, load.fifteen]
}

/// `YYYY-MM-DD` (UTC) of `time`.
pub(crate) fn date(time: SystemTime) -> String {
    let days = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The commit checked out in `dir`, `-dirty` when tracked files changed;
/// `unknown` outside a git checkout.
fn commit(dir: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) if !head.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|changes| !changes.is_empty());
            if dirty {
                format!("{head}-dirty")
            } else {
                head
            }
        }
        _ => "unknown".to_owned(),
    }
}

/// The versions of `names` among the locked dependencies.
fn versions(dependencies: &[(&str, &str)], names: &[&str]) -> BTreeMap<String, String> {
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for &(name, version) in dependencies {
        if names.contains(&name) {
            versions
                .entry(name.to_owned())
                .or_default()
                .push(version.to_owned());
        }
    }
    versions
        .into_iter()
        .map(|(name, list)| (name, list.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn versions_keep_the_crates_asked_for() {
        let deps = [
            ("tokio", "1.54.1"),
            ("rand", "0.8.5"),
            ("windows-sys", "0.52.0"),
            ("windows-sys", "0.61.2"),
        ];
        let v = versions(&deps, &["tokio", "windows-sys", "smol"]);
        assert_eq!(v["tokio"], "1.54.1");
        assert_eq!(v["windows-sys"], "0.52.0, 0.61.2");
        assert!(!v.contains_key("rand") && !v.contains_key("smol"));
    }

    #[test]
    fn the_build_facts_name_aiter_and_the_runtimes() {
        let v = versions(&built_info::DEPENDENCIES, &REPORTED_CRATES);
        for name in ["aiter", "tokio", "async-std", "smol", "memchr"] {
            assert!(v.contains_key(name), "{name} missing from the build facts");
        }
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        let at = |secs: u64| date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01");
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_798_675_200), "2026-12-31");
        assert_eq!(at(1_798_761_599), "2026-12-31");
    }
}
