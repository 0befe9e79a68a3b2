//! The behaviour suite's harness: each test is written once as an `async fn`
//! and run on every executor by [`on_every_runtime!`] or [`on_every_executor!`].
//!
//! - `on_every_runtime!(a, b)`: `async fn a<R: Runtime>(rt: R)` runs on tokio
//!   (current-thread and multi-thread), async-std and smol, each under its
//!   facade feature, as `tokio_current_thread::a`, `tokio_multi_thread::a`,
//!   `async_std::a`, `smol::a`.
//! - `on_every_executor!(a, b)`: runtime-free `async fn a()` runs on all of
//!   those and on a bare `futures::executor::block_on` (`bare::a`), proving it
//!   needs no runtime.
#![allow(dead_code, unused_macros, unused_imports)]

use std::future::Future;
use std::path::PathBuf;

/// What a test gets: a runtime value with timers, blocking work and files.
pub trait Runtime:
    aiter::rt::Timer<Sleep: Unpin + Send> + aiter::rt::Blocking + Clone + Send + Sync + Unpin + 'static
{
}
impl<T> Runtime for T where
    T: aiter::rt::Timer<Sleep: Unpin + Send>
        + aiter::rt::Blocking
        + Clone
        + Send
        + Sync
        + Unpin
        + 'static
{
}

pub fn tokio_current_thread<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

pub fn tokio_multi_thread<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

pub fn async_std<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}

pub fn smol<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

pub fn bare<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("aiter-test-")
        .tempdir()
        .expect("temp dir")
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

macro_rules! on_every_runtime {
    ($($test:ident),* $(,)?) => {
        #[cfg(feature = "tokio")]
        mod tokio_current_thread {
            $( #[test] fn $test() { crate::support::tokio_current_thread(super::$test(aiter::tokio::Tokio)) } )*
        }
        #[cfg(feature = "tokio")]
        mod tokio_multi_thread {
            $( #[test] fn $test() { crate::support::tokio_multi_thread(super::$test(aiter::tokio::Tokio)) } )*
        }
        #[cfg(feature = "async-std")]
        mod async_std {
            $( #[test] fn $test() { crate::support::async_std(super::$test(aiter::async_std::AsyncStd)) } )*
        }
        #[cfg(feature = "smol")]
        mod smol {
            $( #[test] fn $test() { crate::support::smol(super::$test(aiter::smol::Smol)) } )*
        }
    };
}

macro_rules! on_every_executor {
    ($($test:ident),* $(,)?) => {
        mod bare {
            $( #[test] fn $test() { crate::support::bare(super::$test()) } )*
        }
        mod tokio_current_thread_rt_free {
            $( #[test] fn $test() { crate::support::tokio_current_thread(super::$test()) } )*
        }
        mod tokio_multi_thread_rt_free {
            $( #[test] fn $test() { crate::support::tokio_multi_thread(super::$test()) } )*
        }
        mod async_std_rt_free {
            $( #[test] fn $test() { crate::support::async_std(super::$test()) } )*
        }
        mod smol_rt_free {
            $( #[test] fn $test() { crate::support::smol(super::$test()) } )*
        }
    };
}

pub(crate) use {on_every_executor, on_every_runtime};
pub mod postgres;
