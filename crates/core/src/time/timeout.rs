use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::rt::Timer;

/// A stream whose every item must arrive within `per_item` of asking for it.
///
/// Items come out as `Ok(item)`. When the inner stream takes longer than
/// `per_item` to produce its next item, the stream yields one
/// `Err(Elapsed)` and starts a fresh wait; the inner stream is left exactly
/// as it was, so polling again keeps waiting for the same item. The stream
/// ends when the inner stream ends.
///
/// The timer is started on the first poll for each item, never here.
///
/// # Errors
/// [`Elapsed`] each time a wait runs out.
///
/// # Cancel safety
/// Dropping a `next` future on it loses no item: the inner stream keeps it.
/// The running wait is kept too.
///
/// # Examples
/// ```
/// use aiter_core::{iter, next, time::timeout};
/// # use core::{future::{ready, Ready}, time::Duration};
/// # struct NoTime;
/// # impl aiter_core::rt::Timer for NoTime {
/// #     type Sleep = core::future::Pending<()>;
/// #     fn sleep(&self, _: Duration) -> Self::Sleep { core::future::pending() }
/// #     fn now(&self) -> Duration { Duration::ZERO }
/// # }
/// # futures::executor::block_on(async {
/// // `NoTime` is a timer that never fires.
/// let mut s = timeout(NoTime, iter([1, 2]), Duration::from_secs(1));
/// assert_eq!(next(&mut s).await, Some(Ok(1)));
/// assert_eq!(next(&mut s).await, Some(Ok(2)));
/// assert_eq!(next(&mut s).await, None);
/// # });
/// ```
pub fn timeout<T: Timer, S: Stream>(timer: T, stream: S, per_item: Duration) -> Timeout<S, T> {
    Timeout {
        timer,
        per_item,
        stream,
        sleep: None,
        waiting: false,
        done: false,
    }
}

/// The wait for an item of a [`Timeout`] stream ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    after: Duration,
}

impl Elapsed {
    /// How long the wait lasted.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no item within {:?}", self.after)
    }
}

impl core::error::Error for Elapsed {}

pin_project! {
    /// Stream returned by [`timeout`].
    #[must_use = "streams do nothing unless polled"]
    pub struct Timeout<S, T: Timer> {
        timer: T,
        per_item: Duration,
        #[pin]
        stream: S,
        // One sleep for the stream's life, created at the first wait and
        // reset for each later one.
        #[pin]
        sleep: Option<T::Sleep>,
        // Whether `sleep` times the item being asked for.
        waiting: bool,
        done: bool,
    }
}

impl<S: Stream, T: Timer> Timeout<S, T> {
    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Gives back the inner stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Stream, T: Timer> Stream for Timeout<S, T> {
    type Item = Result<S::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = this.stream.poll_next(cx) {
            *this.waiting = false;
            if item.is_none() {
                *this.done = true;
                this.sleep.set(None);
            }
            return Poll::Ready(item.map(Ok));
        }
        if !*this.waiting {
            *this.waiting = true;
            match this.sleep.as_mut().as_pin_mut() {
                Some(sleep) => this.timer.reset(sleep, *this.per_item),
                None => this.sleep.set(Some(this.timer.sleep(*this.per_item))),
            }
        }
        let sleep = this.sleep.as_mut().as_pin_mut().expect("set above");
        core::task::ready!(sleep.poll(cx));
        *this.waiting = false;
        Poll::Ready(Some(Err(Elapsed {
            after: *this.per_item,
        })))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // Any number of `Elapsed` may come between items.
        (self.stream.size_hint().0, None)
    }
}

impl<S: Stream, T: Timer> FusedStream for Timeout<S, T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S: fmt::Debug, T: Timer> fmt::Debug for Timeout<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("stream", &self.stream)
            .field("per_item", &self.per_item)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::next;
    use crate::time::interval::tests::{Jump, JumpClock};
    use futures::executor::block_on;

    #[test]
    fn elapses_then_keeps_the_inner_stream_intact() {
        let clock = JumpClock::default();
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut s = timeout(Jump(&clock), rx, Duration::from_millis(5));
        block_on(async {
            // The jump clock fires at once: nothing sent yet, so it elapses.
            assert_eq!(
                next(&mut s).await,
                Some(Err(Elapsed {
                    after: Duration::from_millis(5)
                }))
            );
            tx.unbounded_send(1).unwrap();
            assert_eq!(next(&mut s).await, Some(Ok(1)));
            drop(tx);
            assert_eq!(next(&mut s).await, None);
            assert_eq!(next(&mut s).await, None);
            assert!(s.is_terminated());
        });
    }

    #[test]
    fn ready_items_never_start_a_timer() {
        let clock = JumpClock::default();
        let mut s = timeout(Jump(&clock), crate::iter(0..3), Duration::from_secs(1));
        block_on(async {
            for n in 0..3 {
                assert_eq!(next(&mut s).await, Some(Ok(n)));
            }
            assert_eq!(next(&mut s).await, None);
        });
        assert_eq!(clock.now(), Duration::ZERO);
    }
}
