//! `--runtime`: run the same library code on tokio, async-std or smol.
//!
//! Rust closures cannot be generic, so "a closure that takes any runtime
//! value" is the trait [`OnRuntime`]: its `run` is generic over the runtime
//! value (`aiter::tokio::Tokio`, `aiter::async_std::AsyncStd`,
//! `aiter::smol::Smol`) and [`block_on`] picks the value and the executor
//! from a [`RuntimeKind`]. Code that is the same on every runtime just uses
//! `rt`; code that must differ (a runtime's own native API, as the `bench`
//! peers do) matches on [`CliRuntime::KIND`].
//!
//! Executors:
//! - tokio: a **current-thread** runtime with all drivers. aiter's streams
//!   run in one task and do their blocking file work on the blocking pool,
//!   which the current-thread runtime has too; a multi-thread runtime only
//!   adds cross-thread wake-ups (the peers' line readers measured slower
//!   on it).
//! - async-std: `async_std::task::block_on`.
//! - smol: `smol::block_on`.

use std::fmt;
use std::future::Future;

use aiter::async_std::AsyncStd;
use aiter::smol::Smol;
use aiter::tokio::Tokio;

/// The runtimes `--runtime` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub(crate) enum RuntimeKind {
    /// tokio, current-thread runtime.
    Tokio,
    /// async-std (discontinued upstream; prefer smol).
    AsyncStd,
    /// smol.
    Smol,
}

impl RuntimeKind {
    /// Every runtime, in the order reports list them.
    #[cfg_attr(not(test), allow(dead_code, reason = "the command picks one runtime"))]
    pub(crate) const ALL: [RuntimeKind; 3] =
        [RuntimeKind::Tokio, RuntimeKind::AsyncStd, RuntimeKind::Smol];

    /// The name users type and reports print.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuntimeKind::Tokio => "tokio",
            RuntimeKind::AsyncStd => "async-std",
            RuntimeKind::Smol => "smol",
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A runtime value the command can run library code with: aiter's
/// [`Runtime`](aiter::rt::Runtime) (timer, blocking pool, file system),
/// plus which runtime it is.
///
/// The `Unpin` bounds on the file futures hold for all three adapters and
/// let generic code call `LineReader::next_line` (which needs an `Unpin`
/// source) without pinning.
pub(crate) trait CliRuntime:
    aiter::rt::Runtime<Sleep: Unpin + Send, Open: Unpin, Read: Unpin> + Copy + Unpin
{
    /// Which runtime this value is.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "runtime-specific code matches on it")
    )]
    const KIND: RuntimeKind;
}

impl CliRuntime for Tokio {
    const KIND: RuntimeKind = RuntimeKind::Tokio;
}

impl CliRuntime for AsyncStd {
    const KIND: RuntimeKind = RuntimeKind::AsyncStd;
}

impl CliRuntime for Smol {
    const KIND: RuntimeKind = RuntimeKind::Smol;
}

/// Work that runs the same way on any runtime: the generic "closure" that
/// [`block_on`] calls with the chosen runtime value.
pub(crate) trait OnRuntime {
    /// What the work produces.
    type Output;

    /// Builds the work's future for runtime `rt`; [`block_on`] drives it on
    /// that runtime's executor.
    fn run<R: CliRuntime>(self, rt: R) -> impl Future<Output = Self::Output>;
}

/// Runs `work` to completion on the executor of `kind`, with its runtime value.
///
/// # Errors
/// If the tokio runtime cannot be built (the OS refused a thread or an
/// epoll/timer handle).
pub(crate) fn block_on<W: OnRuntime>(kind: RuntimeKind, work: W) -> std::io::Result<W::Output> {
    Ok(match kind {
        RuntimeKind::Tokio => {
            let mut builder = tokio::runtime::Builder::new_current_thread();
            builder.enable_all();
            // The limit async-std's and smol's pool (the `blocking` crate)
            // reads from the environment applies to tokio's pool too.
            if let Some(limit) = std::env::var("BLOCKING_MAX_THREADS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
            {
                builder.max_blocking_threads(limit);
            }
            let runtime = builder.build()?;
            let output = runtime.block_on(work.run(Tokio));
            // Don't wait for blocking-pool work still running (a read of a
            // terminal's stdin after Ctrl-C would never end): the work is done.
            runtime.shutdown_background();
            output
        }
        RuntimeKind::AsyncStd => async_std::task::block_on(work.run(AsyncStd)),
        RuntimeKind::Smol => smol::block_on(work.run(Smol)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Sleeps on the runtime's aiter timer and reports which runtime ran it.
    struct WhoAmI;

    impl OnRuntime for WhoAmI {
        type Output = RuntimeKind;

        async fn run<R: CliRuntime>(self, rt: R) -> RuntimeKind {
            let mut ticks = aiter::time::interval(rt, Duration::from_millis(1));
            assert_eq!(aiter::next(&mut ticks).await, Some(1));
            R::KIND
        }
    }

    #[test]
    fn each_kind_runs_the_work_with_its_own_runtime_value() {
        for kind in RuntimeKind::ALL {
            assert_eq!(block_on(kind, WhoAmI).unwrap(), kind);
        }
    }

    #[test]
    fn names_match_the_command_line_values() {
        use clap::ValueEnum;
        for kind in RuntimeKind::ALL {
            let parsed = RuntimeKind::from_str(kind.name(), false).unwrap();
            assert_eq!(parsed, kind);
        }
    }
}
