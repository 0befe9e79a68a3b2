//! The state machine shared by [`Generate`](super::Generate) and
//! [`TryGenerate`](super::TryGenerate): start the body lazily, poll it inside
//! an open slot, and collect what it handed over or returned.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::co::{self, Co};
use super::slot::{self, Receiver};

pin_project! {
    /// A generator's body through its life.
    #[project = BodyProj]
    #[project_replace = BodyOwn]
    pub(crate) enum Body<T, F, Fut, O> {
        /// Not polled yet: the closure has not been called.
        Unstarted { f: F },
        /// The body runs; `rx` is the stream's end of the hand-over slot.
        Running { #[pin] fut: Fut, rx: Receiver<T> },
        /// The body returned; its return value has not been taken yet.
        Returning { output: O },
        /// The body returned and its return value was taken.
        Finished,
    }
}

impl<T, F, Fut> Body<T, F, Fut, Fut::Output>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future,
{
    pub(crate) fn new(f: F) -> Self {
        Self::Unstarted { f }
    }

    /// Polls the body until it yields, returns or waits: the `poll_next` of
    /// both generator streams, which differ only in `item` (how a yielded
    /// item comes out) and `last` (what the body's return value turns into).
    ///
    /// The first call calls the closure (allocating the slot) and polls the
    /// body. `Ready(Some(item(x)))`: the body yielded `x` and is suspended at
    /// its `yield_` (or returned right after it; its return value is then
    /// kept for the next call). `Ready(last(output))`: the body has returned
    /// `output`; `Ready(None)` forever after. `Pending`: the body awaits
    /// something else, whose waker is registered with `cx` (a yield never
    /// makes this `Pending`).
    #[inline(always)]
    pub(crate) fn poll_next<R>(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        item: fn(T) -> R,
        last: fn(Fut::Output) -> Option<R>,
    ) -> Poll<Option<R>> {
        // The hot path, one item per call, inlined into the stream's
        // `poll_next`; everything else is in the cold fns below. The body is
        // polled from this one place only (a start loops back here), so the
        // compiler can inline it too.
        loop {
            if let BodyProj::Running { fut, rx } = self.as_mut().project() {
                let (polled, yielded) = match rx.poll_with(fut, cx) {
                    Ok(done) => done,
                    Err(misuse) => co::misused(misuse),
                };
                return match (polled, yielded) {
                    (Poll::Pending, Some(x)) => Poll::Ready(Some(item(x))),
                    (Poll::Pending, None) => Poll::Pending,
                    (Poll::Ready(output), yielded) => self.returned(output, yielded, item, last),
                };
            }
            if let Some(done) = self.as_mut().poll_other(last) {
                return done;
            }
        }
    }

    /// The body returned `output`: hands over the item it may have yielded
    /// just before (keeping `output` for the next call), or `last(output)`.
    #[cold]
    #[inline(never)]
    fn returned<R>(
        mut self: Pin<&mut Self>,
        output: Fut::Output,
        yielded: Option<T>,
        item: fn(T) -> R,
        last: fn(Fut::Output) -> Option<R>,
    ) -> Poll<Option<R>> {
        match yielded {
            Some(x) => {
                self.set(Self::Returning { output });
                Poll::Ready(Some(item(x)))
            }
            None => {
                self.set(Self::Finished);
                Poll::Ready(last(output))
            }
        }
    }

    /// `poll_next` in every state but `Running`: start the body (`None`:
    /// poll it now), or hand out its return value, or report the end.
    #[cold]
    #[inline(never)]
    fn poll_other<R>(
        mut self: Pin<&mut Self>,
        last: fn(Fut::Output) -> Option<R>,
    ) -> Option<Poll<Option<R>>> {
        match self.as_mut().project_replace(Self::Finished) {
            BodyOwn::Unstarted { f } => {
                let (tx, rx) = slot::slot();
                let fut = f(Co::new(tx));
                self.set(Self::Running { fut, rx });
                None
            }
            BodyOwn::Returning { output } => Some(Poll::Ready(last(output))),
            // `Running` never gets here: `poll_next` handles it.
            BodyOwn::Running { .. } | BodyOwn::Finished => Some(Poll::Ready(None)),
        }
    }
}

impl<T, F, Fut, O> Body<T, F, Fut, O> {
    /// The protocol state's name, for `Debug`.
    pub(crate) fn phase(&self) -> &'static str {
        match self {
            Self::Unstarted { .. } => "Unstarted",
            Self::Running { .. } => "Running",
            Self::Returning { .. } => "Returning",
            Self::Finished => "Finished",
        }
    }

    /// The body's return value, if it returned and the value was not taken.
    pub(crate) fn returning(&self) -> Option<&O> {
        match self {
            Self::Returning { output } => Some(output),
            _ => None,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self, Self::Finished)
    }

    /// `true` while the body may still yield items.
    pub(crate) fn may_yield(&self) -> bool {
        matches!(self, Self::Unstarted { .. } | Self::Running { .. })
    }
}
