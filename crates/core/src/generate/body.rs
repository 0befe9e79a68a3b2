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
        /// The body returned in the same poll in which its last item was
        /// taken: the item went out, the return value goes out next.
        Returning { output: O },
        /// The body returned and its return value went out.
        Finished,
    }
}

/// What one poll of the body produced.
pub(crate) enum Step<T, O> {
    /// The body yielded this item and is suspended at its `yield_`.
    Item(T),
    /// The body returned this value (reported once).
    Returned(O),
    /// The body returned earlier.
    Finished,
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
    /// body. `Pending` means the body awaits something else, whose waker is
    /// registered with `cx`; the yield itself never returns `Pending`.
    #[inline]
    pub(crate) fn poll_step(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Step<T, Fut::Output>> {
        // The hot path, one item per call, inlined into `poll_next`.
        if let BodyProj::Running { fut, rx } = self.as_mut().project() {
            return match poll_running(fut, rx, cx) {
                (Some(item), Poll::Pending) => Poll::Ready(Step::Item(item)),
                (None, Poll::Pending) => Poll::Pending,
                (item, Poll::Ready(output)) => self.returned(item, output),
            };
        }
        self.poll_other(cx)
    }

    /// `poll_step` in every state but `Running`: start, report the return
    /// value, or stay finished.
    #[cold]
    #[inline(never)]
    fn poll_other(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Step<T, Fut::Output>> {
        match self.as_mut().project_replace(Self::Finished) {
            BodyOwn::Unstarted { f } => {
                let (tx, rx) = raw::slot();
                let fut = f(Co::new(tx));
                self.set(Self::Running { fut, rx });
                self.poll_step(cx)
            }
            BodyOwn::Returning { output } => Poll::Ready(Step::Returned(output)),
            // `Running` never gets here (`poll_step` handles it).
            BodyOwn::Running { .. } | BodyOwn::Finished => Poll::Ready(Step::Finished),
        }
    }

    /// The body returned `output` in a poll that handed over `item` or not.
    fn returned(
        mut self: Pin<&mut Self>,
        item: Option<T>,
        output: Fut::Output,
    ) -> Poll<Step<T, Fut::Output>> {
        match item {
            Some(item) => {
                self.set(Self::Returning { output });
                Poll::Ready(Step::Item(item))
            }
            None => {
                self.set(Self::Finished);
                Poll::Ready(Step::Returned(output))
            }
        }
    }
}

/// Polls the body once with the slot open and returns what it handed over
/// (if anything) with the body's own result.
#[inline]
fn poll_running<T, Fut: Future>(
    fut: Pin<&mut Fut>,
    rx: &mut Receiver<T>,
    cx: &mut Context<'_>,
) -> (Option<T>, Poll<Fut::Output>) {
    rx.begin();
    let poll = fut.poll(cx);
    (rx.end(), poll)
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

    /// The return value waiting to go out, if the body returned in the poll
    /// that took its last item.
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
