//! Helpers the core's unit tests share: a counting waker, a runtime that
//! runs blocking work inline, and the proptest settings.

#[cfg(feature = "alloc")]
pub(crate) use self::waker::counting;

#[cfg(feature = "alloc")]
mod waker {
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use core::task::Waker;

    /// A task waker that counts its wakes.
    #[derive(Debug, Default)]
    pub(crate) struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl CountingWaker {
        /// The wakes so far.
        pub(crate) fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A counting waker: the counter, and the waker to poll with.
    pub(crate) fn counting() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }
}

/// A runtime that runs blocking work inline, on the polling thread, with
/// the `std` file access: enough to test file logic without a pool.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Inline;

#[cfg(feature = "std")]
impl crate::rt::Blocking for Inline {
    type Task<T: Send + 'static> = core::future::Ready<T>;

    fn unblock<F, T>(&self, f: F) -> Self::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        core::future::ready(f())
    }
}

#[cfg(feature = "std")]
impl crate::rt::StdFs for Inline {}

/// The proptest settings: `cases` cases (4 under Miri), no failure files.
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: if cfg!(miri) { 4 } else { cases },
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
