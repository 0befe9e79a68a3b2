//! Records the build facts (compiler, profile, target, dependency versions)
//! that `aiter-bench` states in its report.

fn main() {
    built::write_built_file().expect("built can write the build facts");
}
