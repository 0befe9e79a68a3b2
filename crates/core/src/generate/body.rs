//! The state machine shared by [`Generate`](super::Generate) and
//! [`TryGenerate`](super::TryGenerate): start the body lazily, poll it inside
//! an open slot, and collect what it handed over or returned.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::co::Co;
use crate::raw::{self, Receiver};

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

    /// Polls the body until it yields, returns or waits.
    ///
    /// The first call calls the closure (allocating the slot) and polls the
    /// body. `Ready(Some(item))`: the body yielded `item` and is suspended at
    /// its `yield_`. `Ready(None)`: the body has returned; its return value,
    /// if not yet taken, is in [`Body::take_output`]. `Pending`: the body
    /// awaits something else, whose waker is registered with `cx` (a yield
    /// never makes this `Pending`).
    #[inline]
    pub(crate) fn poll_item(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // The hot path, one item per call, inlined into `poll_next`.
        if let BodyProj::Running { fut, rx } = self.as_mut().project() {
            rx.begin();
            let poll = fut.poll(cx);
            let item = rx.end();
            return match poll {
                Poll::Pending if item.is_none() => Poll::Pending,
                Poll::Pending => Poll::Ready(item),
                Poll::Ready(output) => {
                    self.set(Self::Returning { output });
                    Poll::Ready(item)
                }
            };
        }
        self.poll_other(cx)
    }

    /// `poll_item` in every state but `Running`: start the body, or report
    /// that it returned.
    #[cold]
    #[inline(never)]
    fn poll_other(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Self::Unstarted { .. } = &*self {
            if let BodyOwn::Unstarted { f } = self.as_mut().project_replace(Self::Finished) {
                let (tx, rx) = raw::slot();
                let fut = f(Co::new(tx));
                self.set(Self::Running { fut, rx });
                return self.poll_item(cx);
            }
        }
        Poll::Ready(None)
    }

    /// The body's return value, once, after `poll_item` returned
    /// `Ready(None)`; the body is `Finished` afterwards.
    pub(crate) fn take_output(self: Pin<&mut Self>) -> Option<Fut::Output> {
        match self.project_replace(Self::Finished) {
            BodyOwn::Returning { output } => Some(output),
            _ => None,
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
