//! `aiter-bench`: runs aiter's workloads on tokio, async-std and smol beside
//! the peers (and Python's asyncio when `python3` is present) and writes
//! `report.md`, `report.json` and `report.svg`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use aiter_bench::runtime::RuntimeKind;
use aiter_bench::size::parse_size;
use clap::Parser;

/// Counts the allocations of a sample's timed part, for the workloads that
/// report allocations per item.
#[global_allocator]
static GLOBAL: aiter_bench::allocs::CountingAlloc = aiter_bench::allocs::CountingAlloc;

/// The runtime comparison of aiter: workloads on tokio, async-std and smol,
/// against the peers and Python's asyncio, as a report with 95 % intervals.
#[derive(Debug, Parser)]
#[command(name = "aiter-bench", version, about, long_about = None)]
struct Args {
    /// Runtime to run on [default: all three].
    #[arg(long, value_enum)]
    runtime: Option<RuntimeKind>,
    /// Size of the generated line file (suffixes K, M, G) [default: 256M, or 64M with --quick].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    size: Option<u64>,
    /// A smoke test: fewer samples and ticks, a smaller file; finishes in well under a minute.
    #[arg(long)]
    quick: bool,
    /// Timed runs per measurement (after one warm-up run) [default: 10, or 3 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    samples: Option<u32>,
    /// Run only these workloads (comma-separated names, see the list in --help).
    #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = aiter_bench::workload_name)]
    only: Vec<String>,
    /// Directory for report.md, report.json and report.svg.
    #[arg(long, value_name = "DIR", default_value = "target/aiter-bench")]
    out: PathBuf,
    /// The `aiter` executable timed by the whole-process rows [default: the
    /// one beside this executable, built first when run by `cargo run`].
    #[arg(long, value_name = "PATH")]
    aiter: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = aiter_bench::Config::new(
        args.runtime.map_or(RuntimeKind::ALL.to_vec(), |r| vec![r]),
        args.size,
        args.quick,
        args.samples,
        args.only,
        args.out,
    );
    config.aiter_exe = args.aiter;
    match aiter_bench::main(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aiter-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_to_every_runtime_and_parses_sizes_and_filters() {
        let args =
            Args::try_parse_from(["aiter-bench", "--size", "8M", "--only", "timer,lines"]).unwrap();
        assert_eq!(args.runtime, None);
        assert_eq!(args.size, Some(8 << 20));
        assert_eq!(args.only, ["timer", "lines"]);
        assert_eq!(args.out, PathBuf::from("target/aiter-bench"));
        assert!(Args::try_parse_from(["aiter-bench", "--only", "nope"]).is_err());
        let args = Args::try_parse_from(["aiter-bench", "--runtime", "smol", "--quick"]).unwrap();
        assert_eq!(args.runtime, Some(RuntimeKind::Smol));
        assert!(args.quick);
    }
}
