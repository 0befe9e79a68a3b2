//! The engine shared by [`Merge`](super::Merge) and
//! [`MergeMap`](super::MergeMap): input slots, a round-robin queue of the
//! ready ones, and the budget.
//!
//! Each slot holds one pinned, boxed input (allocated once per input) and its
//! own waker (allocated once per slot, reused by later inputs in that slot).
//! An input is *ready* when its waker was called or when it just yielded an
//! item (it must be asked again; no wake is owed). Ready slots wait in a
//! local FIFO queue, each at most once (a `queued` flag per slot); wakes
//! arrive in the atomic [`WakeSet`] and are appended to the queue whenever
//! the root of the wake set shows something new (checked before every input
//! poll: one relaxed load).
//!
//! Fairness: the queue is served front to back, and an input that yields an
//! item goes to the back. So between two polls of one ready input, every
//! other input is polled at most once, and an input woken while `L` inputs
//! are live is polled within the next `L` polls.
//!
//! Cost per item: a pop and a push on the queue and the poll itself; no
//! search, whatever the number of inputs. The queue never holds more entries
//! than there are slots, and room for them is reserved when a slot is made,
//! so no item allocates.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::wake_set::WakeSet;

/// Input polls allowed between two `Pending` returns, unless configured
/// (the trade-off is documented on the public constant).
pub(crate) const DEFAULT_BUDGET: usize = 2048;

/// What one slot holds.
enum Input<S, T> {
    Vacant,
    Live { stream: Pin<Box<S>>, tag: T },
}

struct Slot<S, T> {
    input: Input<S, T>,
    /// Made once for this slot, handed to every input that lives here.
    waker: Waker,
    /// Whether the slot's index is in the ready queue (the input was woken
    /// or yielded an item, or the slot was freed after it was queued).
    queued: bool,
}

/// The outcome of [`Slots::poll_next`].
pub(crate) enum Polled<I, T> {
    /// Slot `index` yielded `item`; it stays ready.
    Item { index: usize, item: I },
    /// An input ended; its slot was freed and the input dropped. `tag` is
    /// what was stored with it.
    Ended { tag: T },
    /// Nothing ready (the task will be woken), or the budget is spent (the
    /// task was woken already).
    Pending,
    /// No inputs left.
    Empty,
}

/// Input slots with per-slot wakers, a ready queue and the budget.
pub(crate) struct Slots<S, T> {
    slots: Vec<Slot<S, T>>,
    /// Indices of vacant slots, reused last-in first-out.
    vacant: Vec<usize>,
    live: usize,
    /// Slots to poll, in round-robin order; each at most once (`queued`).
    /// An entry whose slot was freed meanwhile is skipped.
    ready: VecDeque<usize>,
    wakes: WakeSet,
    budget: usize,
    /// Input polls since the last `Pending`.
    polls: usize,
}

/// Inputs are pinned in their own boxes and tags are never pinned, so moving
/// the slots moves nothing that is pinned.
impl<S, T> Unpin for Slots<S, T> {}

impl<S, T> Slots<S, T> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            vacant: Vec::new(),
            live: 0,
            ready: VecDeque::new(),
            wakes: WakeSet::new(),
            budget: DEFAULT_BUDGET,
            polls: 0,
        }
    }

    pub(crate) fn set_budget(&mut self, budget: usize) {
        assert!(budget > 0, "merge budget must be at least 1");
        self.budget = budget;
    }

    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// Number of live inputs.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Reserves slot storage for `additional` more inputs.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let wanted = self.live.saturating_add(additional);
        self.slots.reserve(wanted.saturating_sub(self.slots.len()));
    }

    /// Adds an input, queued to be polled (after the inputs already
    /// queued); returns its slot index.
    pub(crate) fn insert(&mut self, stream: S, tag: T) -> usize {
        let stream = Box::pin(stream);
        let index = if let Some(index) = self.vacant.pop() {
            self.slots[index].input = Input::Live { stream, tag };
            index
        } else {
            let index = self.slots.len();
            if index == self.wakes.capacity() {
                self.wakes.grow();
            }
            self.slots.push(Slot {
                input: Input::Live { stream, tag },
                waker: self.wakes.waker(index),
                queued: false,
            });
            // Room for every slot in the queue: polling never allocates.
            self.ready.reserve(self.slots.len() - self.ready.len());
            index
        };
        self.live += 1;
        self.enqueue(index);
        index
    }

    /// Puts `stream` in place of the live input in slot `index`; returns the
    /// old one. The new input is queued.
    pub(crate) fn replace(&mut self, index: usize, stream: S) -> Pin<Box<S>> {
        let Input::Live { stream: old, .. } = &mut self.slots[index].input else {
            unreachable!("replace: slot {index} is vacant");
        };
        let old = core::mem::replace(old, Box::pin(stream));
        self.enqueue(index);
        old
    }

    /// Removes the live input in slot `index`.
    pub(crate) fn remove(&mut self, index: usize) -> (Pin<Box<S>>, T) {
        let input = core::mem::replace(&mut self.slots[index].input, Input::Vacant);
        let Input::Live { stream, tag } = input else {
            unreachable!("remove: slot {index} is vacant");
        };
        self.live -= 1;
        self.vacant.push(index);
        // A queue entry of this slot stays: it is skipped while the slot is
        // vacant, or serves the next input placed here. A wake still in
        // flight causes at most one extra poll of that input.
        (stream, tag)
    }

    /// Appends slot `index` to the ready queue unless it is queued already.
    #[inline]
    fn enqueue(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        if !slot.queued {
            slot.queued = true;
            self.ready.push_back(index);
        }
    }

    /// Every live input with its tag, in slot order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&T, Pin<&mut S>)> {
        self.slots
            .iter_mut()
            .filter_map(|slot| match &mut slot.input {
                Input::Live { stream, tag } => Some((&*tag, stream.as_mut())),
                Input::Vacant => None,
            })
    }

    /// The tag of the live input in slot `index`.
    pub(crate) fn tag(&self, index: usize) -> &T {
        match &self.slots[index].input {
            Input::Live { tag, .. } => tag,
            Input::Vacant => unreachable!("tag: slot {index} is vacant"),
        }
    }
}

impl<S: Stream, T> Slots<S, T> {
    /// Polls queued inputs in order until one yields an item or ends,
    /// nothing is queued, or the budget is spent.
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Polled<S::Item, T> {
        loop {
            if self.polls >= self.budget {
                return self.yield_to_executor(cx);
            }
            if self.wakes.has_wakes() {
                self.drain_wakes();
            }
            let Some(index) = self.ready.pop_front() else {
                if self.live == 0 {
                    self.polls = 0;
                    return Polled::Empty;
                }
                // Register, then look again: a wake between the last drain
                // and the registration is not lost.
                self.wakes.register(cx.waker());
                if self.wakes.has_wakes() {
                    continue;
                }
                self.polls = 0;
                return Polled::Pending;
            };
            let slot = &mut self.slots[index];
            slot.queued = false;
            let Input::Live { stream, .. } = &mut slot.input else {
                // Freed after it was queued.
                continue;
            };
            self.polls += 1;
            match stream
                .as_mut()
                .poll_next(&mut Context::from_waker(&slot.waker))
            {
                Poll::Ready(Some(item)) => {
                    // It must be asked again: back of the queue.
                    slot.queued = true;
                    self.ready.push_back(index);
                    return Polled::Item { index, item };
                }
                Poll::Ready(None) => {
                    let (_, tag) = self.remove(index);
                    return Polled::Ended { tag };
                }
                Poll::Pending => {}
            }
        }
    }

    /// Appends every woken slot that is not queued to the ready queue.
    #[cold]
    fn drain_wakes(&mut self) {
        let (slots, ready) = (&mut self.slots, &mut self.ready);
        self.wakes.drain(|index| {
            let slot = &mut slots[index];
            if !slot.queued {
                slot.queued = true;
                ready.push_back(index);
            }
        });
    }

    /// Cooperative yield: lets the executor run other tasks.
    #[cold]
    fn yield_to_executor(&mut self, cx: &mut Context<'_>) -> Polled<S::Item, T> {
        self.polls = 0;
        cx.waker().wake_by_ref();
        Polled::Pending
    }

    /// Sum of the live inputs' size hints, saturating; `None` as the upper
    /// bound if any input has none or the sum overflows. O(N).
    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let mut lower = 0usize;
        let mut upper = Some(0usize);
        for slot in &self.slots {
            if let Input::Live { stream, .. } = &slot.input {
                let (lo, hi) = stream.size_hint();
                lower = lower.saturating_add(lo);
                upper = match (upper, hi) {
                    (Some(a), Some(b)) => a.checked_add(b),
                    _ => None,
                };
            }
        }
        (lower, upper)
    }
}

impl<S, T: fmt::Debug> fmt::Debug for Slots<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.live)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}
