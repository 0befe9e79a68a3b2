//! The workloads `aiter-bench` runs, one file per area.
//!
//! To add one: write `workloads/<area>.rs` with a type implementing
//! [`Workload`] and add it to [`registry`]. Cases that run
//! aiter on a runtime implement [`OnRuntime`](crate::runtime::OnRuntime)
//! once, generically, and are timed with
//! [`runtime::block_on`](crate::runtime::block_on) for each
//! [`RuntimeKind`](crate::runtime::RuntimeKind) (see `timer.rs`).

pub mod cursor;
pub mod cursor_postgres;
pub mod generate;
pub mod lines;
pub mod merge;
pub mod timer;

use super::Workload;

/// Every workload, in the order `aiter-bench` runs them.
pub fn registry() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(lines::LineCount),
        Box::new(merge::MergeStreams),
        Box::new(generate::Generators),
        Box::new(cursor::CursorPrefetch),
        Box::new(cursor_postgres::CursorPostgres),
        Box::new(timer::TimerPrecision),
    ]
}

/// Checks a `--only` name against the registry (clap value parser).
///
/// # Errors
/// The list of valid names, when `name` is not one.
pub fn workload_name(name: &str) -> Result<String, String> {
    let names: Vec<&'static str> = registry().iter().map(|w| w.name()).collect();
    if names.contains(&name) {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "unknown workload `{name}`; workloads: {}",
            names.join(", ")
        ))
    }
}
