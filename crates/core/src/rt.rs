//! The traits through which a runtime supplies time, blocking work and files.
//!
//! aiter's core never picks a runtime. A type that needs one takes a runtime
//! *value* as a required generic parameter (no `Option`, no global), and does
//! nothing with it until it is first polled: building a stream outside a
//! runtime context never panics.
//!
//! A runtime implements two small traits:
//! - [`Timer`]: sleep for a `Duration`, and read a monotonic clock;
//! - [`Blocking`]: run a closure off the executor.
//!
//! Both name their futures as associated types, so state machines store them
//! without boxing. With the `std` feature a runtime also supplies file
//! access, [`Fs`]: either its own, or, with one line
//! (`impl StdFs for MyRuntime {}`, see [`StdFs`]), the implementation
//! written once here: `std::fs::File`s read in large chunks inside the
//! runtime's blocking pool. [`monotonic_now`] is the clock of a runtime
//! that has none of its own.
//!
//! # Examples
//! A runtime for a bare executor whose "sleep" completes at once (a clock
//! that jumps), enough for code that only needs *a* timer:
//! ```
//! use core::future::{ready, Ready};
//! use core::time::Duration;
//! use aiter_core::rt::Timer;
//!
//! #[derive(Clone, Default)]
//! struct Instant(core::cell::Cell<Duration>);
//! impl Timer for Instant {
//!     type Sleep = Ready<()>;
//!     fn sleep(&self, d: Duration) -> Ready<()> {
//!         self.0.set(self.0.get() + d);
//!         ready(())
//!     }
//!     fn now(&self) -> Duration {
//!         self.0.get()
//!     }
//! }
//! # let t = Instant::default();
//! # futures::executor::block_on(t.sleep(Duration::from_secs(1)));
//! # assert_eq!(t.now(), Duration::from_secs(1));
//! ```

use core::future::Future;
use core::pin::Pin;
use core::time::Duration;

#[cfg(feature = "std")]
pub(crate) mod fs;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use self::fs::{scan_at, File, FileId, FileMeta, Fs, FsError, Scanned, StdFs};

/// The time since a process-wide epoch (the first call) on the standard
/// library's monotonic clock: a [`Timer::now`] for runtimes whose timers
/// run on that clock (async-io's, and so smol's and async-std's).
///
/// # Examples
/// ```
/// let a = aiter_core::rt::monotonic_now();
/// assert!(aiter_core::rt::monotonic_now() >= a);
/// ```
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub fn monotonic_now() -> Duration {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(std::time::Instant::now).elapsed()
}

/// Everything a runtime value supplies, in one bound: a [`Timer`],
/// [`Blocking`] work and file access ([`Fs`]), cheap to copy around and
/// shareable across tasks and threads.
///
/// Implemented for every type that has those parts (a blanket impl): write
/// `R: Runtime` in generic code (tests, benchmarks, commands) that takes
/// "any runtime" instead of spelling out the list.
///
/// # Examples
/// ```
/// use aiter_core::rt::Runtime;
///
/// fn follow_log<R: Runtime>(rt: R) -> aiter_core::lines::Follow<R> {
///     aiter_core::lines::follow(rt, "app.log")
/// }
/// ```
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub trait Runtime: Timer + Blocking + Fs + Clone + Send + Sync + 'static {}

#[cfg(feature = "std")]
impl<R: Timer + Blocking + Fs + Clone + Send + Sync + 'static> Runtime for R {}

/// A runtime's timer: sleeps and a monotonic clock.
///
/// Implementations must not touch the runtime in `sleep` itself if that can
/// panic outside a runtime context; aiter only calls it from `poll`.
pub trait Timer {
    /// The future returned by [`sleep`](Timer::sleep).
    type Sleep: Future<Output = ()>;

    /// A future that completes once `duration` has elapsed.
    fn sleep(&self, duration: Duration) -> Self::Sleep;

    /// Restarts `sleep` so that it completes `duration` from now.
    ///
    /// Streams that sleep repeatedly ([`interval`](crate::time::interval),
    /// [`timeout`](crate::time::timeout)) create one sleep and reset it, so
    /// a runtime whose sleep allocates does so once per stream, not per
    /// wait. The default replaces the sleep with a new one.
    fn reset(&self, mut sleep: Pin<&mut Self::Sleep>, duration: Duration) {
        sleep.set(self.sleep(duration));
    }

    /// Monotonic time since an arbitrary epoch fixed for this timer.
    ///
    /// Used to compute deadlines so that periodic timers do not drift.
    fn now(&self) -> Duration;
}

/// A runtime's pool for blocking work.
pub trait Blocking {
    /// The future returned by [`unblock`](Blocking::unblock), resolving to the
    /// closure's result. If the closure panics, polling the task resumes
    /// the panic.
    type Task<T: Send + 'static>: Future<Output = T>;

    /// Runs `f` off the executor and resolves to its result.
    fn unblock<F, T>(&self, f: F) -> Self::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

impl<R: Timer + ?Sized> Timer for &R {
    type Sleep = R::Sleep;
    fn sleep(&self, duration: Duration) -> R::Sleep {
        (**self).sleep(duration)
    }
    fn reset(&self, sleep: Pin<&mut R::Sleep>, duration: Duration) {
        (**self).reset(sleep, duration)
    }
    fn now(&self) -> Duration {
        (**self).now()
    }
}

impl<R: Blocking + ?Sized> Blocking for &R {
    type Task<T: Send + 'static> = R::Task<T>;
    fn unblock<F, T>(&self, f: F) -> R::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        (**self).unblock(f)
    }
}
