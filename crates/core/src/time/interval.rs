use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::rt::Timer;

/// A stream that ticks every `period`, without drift.
///
/// Tick `n` (counting from 1) is due at `start + n × period`, where `start`
/// is the time of the first poll (the timer is first used then, never in
/// this constructor). Deadlines are computed from the timer's clock, so time
/// spent between polls does not push later ticks back. If the consumer falls
/// more than one period behind, the missed ticks are skipped rather than
/// delivered in a burst; the item says which tick this is, so a skip shows
/// as a gap in the numbers.
///
/// The stream never ends.
///
/// # Panics
/// If `period` is zero.
///
/// # Cancel safety
/// Dropping a `next` future on it loses no tick: the deadline is kept in
/// the stream.
///
/// # Examples
/// ```
/// use aiter_core::{next, time::interval};
/// # use core::{future::{ready, Ready}, cell::Cell, time::Duration};
/// # #[derive(Default)] struct Clock(Cell<Duration>);
/// # impl aiter_core::rt::Timer for Clock {
/// #     type Sleep = Ready<()>;
/// #     fn sleep(&self, d: Duration) -> Ready<()> { self.0.set(self.0.get() + d); ready(()) }
/// #     fn now(&self) -> Duration { self.0.get() }
/// # }
/// # futures::executor::block_on(async {
/// // `Clock` is a timer whose sleeps complete at once by moving its clock.
/// let mut ticks = interval(Clock::default(), Duration::from_millis(10));
/// assert_eq!(next(&mut ticks).await, Some(1));
/// assert_eq!(next(&mut ticks).await, Some(2));
/// # });
/// ```
pub fn interval<T: Timer>(timer: T, period: Duration) -> Interval<T> {
    assert!(!period.is_zero(), "`interval` period must be non-zero");
    Interval {
        timer,
        period,
        tick: 1,
        deadline: Duration::ZERO,
        sleep: None,
    }
}

pin_project! {
    /// Stream returned by [`interval`].
    #[must_use = "streams do nothing unless polled"]
    pub struct Interval<T: Timer> {
        timer: T,
        period: Duration,
        // The tick being waited for, and when it is due on the timer's clock.
        tick: u64,
        deadline: Duration,
        // `None` until the first poll; then one sleep, reset for each tick.
        #[pin]
        sleep: Option<T::Sleep>,
    }
}

impl<T: Timer> Stream for Interval<T> {
    type Item = u64;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        let mut this = self.project();
        if this.sleep.is_none() {
            *this.deadline = this.timer.now() + *this.period;
            this.sleep.set(Some(this.timer.sleep(*this.period)));
        }
        loop {
            let mut sleep = this.sleep.as_mut().as_pin_mut().expect("set above");
            core::task::ready!(sleep.as_mut().poll(cx));
            let now = this.timer.now();
            if now < *this.deadline {
                // Woken early (a coarse timer): sleep the rest.
                this.timer.reset(sleep, *this.deadline - now);
                continue;
            }
            let tick = *this.tick;
            // Skip every deadline already passed, keeping the grid.
            let behind = now - *this.deadline;
            let skipped =
                u32::try_from(behind.as_nanos() / this.period.as_nanos()).unwrap_or(u32::MAX - 1);
            *this.tick += 1 + u64::from(skipped);
            *this.deadline += *this.period * (1 + skipped);
            this.timer.reset(sleep, *this.deadline - now);
            return Poll::Ready(Some(tick));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<T: Timer> FusedStream for Interval<T> {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl<T: Timer> fmt::Debug for Interval<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::next;
    use core::cell::Cell;
    use futures::executor::block_on;

    /// A clock whose sleeps complete on their first poll by moving the
    /// clock, plus a lag added to every sleep (a slow consumer or coarse
    /// timer). Use it as a timer through [`Jump`].
    #[derive(Default)]
    pub(crate) struct JumpClock {
        pub(crate) now: Cell<Duration>,
        pub(crate) lag: Cell<Duration>,
    }

    impl JumpClock {
        pub(crate) fn now(&self) -> Duration {
            self.now.get()
        }
    }

    /// The timer of a [`JumpClock`].
    pub(crate) struct Jump<'a>(pub(crate) &'a JumpClock);

    pub(crate) struct JumpSleep<'a> {
        clock: &'a JumpClock,
        duration: Duration,
    }

    impl Future for JumpSleep<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            let clock = self.clock;
            clock
                .now
                .set(clock.now.get() + self.duration + clock.lag.get());
            Poll::Ready(())
        }
    }

    impl<'a> Timer for Jump<'a> {
        type Sleep = JumpSleep<'a>;
        fn sleep(&self, duration: Duration) -> JumpSleep<'a> {
            JumpSleep {
                clock: self.0,
                duration,
            }
        }
        fn now(&self) -> Duration {
            self.0.now.get()
        }
    }

    #[test]
    fn ticks_on_a_fixed_grid_despite_lag() {
        let clock = JumpClock::default();
        clock.lag.set(Duration::from_millis(3));
        let period = Duration::from_millis(10);
        let mut ticks = interval(Jump(&clock), period);
        block_on(async {
            for n in 1..=5u64 {
                assert_eq!(next(&mut ticks).await, Some(n));
                // Each tick is seen at most one lag after its deadline:
                // the lag does not accumulate.
                let due = period * n as u32;
                assert!(clock.now() >= due && clock.now() <= due + Duration::from_millis(3));
            }
        });
    }

    #[test]
    fn missed_ticks_are_skipped_not_burst() {
        let clock = JumpClock::default();
        let period = Duration::from_millis(10);
        let mut ticks = interval(Jump(&clock), period);
        block_on(async {
            assert_eq!(next(&mut ticks).await, Some(1));
            // The consumer stalls for 35 ms.
            clock.lag.set(Duration::from_millis(35));
            assert_eq!(next(&mut ticks).await, Some(2));
            clock.lag.set(Duration::ZERO);
            // Ticks 3..=5 were due during the stall: skipped, grid kept.
            assert_eq!(next(&mut ticks).await, Some(6));
            assert_eq!(clock.now(), period * 6);
        });
    }

    #[test]
    fn auto_traits() {
        struct SendTimer;
        impl Timer for SendTimer {
            type Sleep = core::future::Ready<()>;
            fn sleep(&self, _: Duration) -> Self::Sleep {
                core::future::ready(())
            }
            fn now(&self) -> Duration {
                Duration::ZERO
            }
        }
        fn send_sync_unpin<T: Send + Sync + Unpin>() {}
        send_sync_unpin::<Interval<SendTimer>>();
        send_sync_unpin::<crate::time::Timeout<crate::Iter<core::ops::Range<u8>>, SendTimer>>();
    }

    #[test]
    fn nothing_happens_before_the_first_poll() {
        let clock = JumpClock::default();
        let ticks = interval(Jump(&clock), Duration::from_secs(1));
        drop(ticks);
        assert_eq!(clock.now(), Duration::ZERO);
    }
}
