//! The engine shared by [`Merge`](super::Merge) and
//! [`MergeMap`](super::MergeMap): input slots, a round-robin cursor over the
//! ready ones, and the budget.
//!
//! Each slot holds one pinned, boxed input (allocated once per input) and its
//! own waker (allocated once per slot, reused by later inputs in that slot).
//! An input is *ready* when its waker was called or when it just yielded an
//! item (it must be asked again; no wake is owed). Ready slots are kept in a
//! local [`ReadySet`]; wakes arrive in the atomic [`WakeSet`] and are moved
//! into the local set whenever the root of the wake set shows something new
//! (checked whenever the run below is refilled: one relaxed load).
//!
//! Fairness: the cursor serves the first ready slot at or after it, then
//! moves past that slot; when nothing is ready after it, it wraps to 0. So
//! between two polls of one ready slot, every other slot is polled at most
//! once.
//!
//! Hot path: the ready bits of the cursor's word at or after the cursor are
//! copied into a local mask (`run`) and served from it, one `trailing_zeros`
//! per item; the ready set is consulted again only when the mask is empty or
//! was invalidated (by a drain of wakes, an insert or a remove).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::ready_set::{ReadySet, BITS};
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

/// Input slots with per-slot wakers, a ready set and a round-robin cursor.
pub(crate) struct Slots<S, T> {
    slots: Vec<Slot<S, T>>,
    /// Indices of vacant slots, reused last-in first-out.
    vacant: Vec<usize>,
    live: usize,
    ready: ReadySet,
    wakes: WakeSet,
    /// The next slot index to consider.
    cursor: usize,
    /// Ready slots of the cursor's word at or after the cursor, not yet
    /// served in this pass: always a subset of `ready` (0 = look it up).
    run: usize,
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
            ready: ReadySet::new(),
            wakes: WakeSet::new(),
            cursor: 0,
            run: 0,
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

    /// Adds an input, ready to be polled by the next `poll_next`; returns its
    /// slot index.
    pub(crate) fn insert(&mut self, stream: S, tag: T) -> usize {
        let stream = Box::pin(stream);
        let index = if let Some(index) = self.vacant.pop() {
            self.slots[index].input = Input::Live { stream, tag };
            index
        } else {
            let index = self.slots.len();
            if index == self.wakes.capacity() {
                self.wakes.grow();
                self.ready.grow(self.wakes.capacity());
            }
            self.slots.push(Slot {
                input: Input::Live { stream, tag },
                waker: self.wakes.waker(index),
            });
            index
        };
        self.live += 1;
        self.ready.insert(index);
        self.run = 0;
        index
    }

    /// Puts `stream` in place of the live input in slot `index`; returns the
    /// old one. The new input is ready.
    pub(crate) fn replace(&mut self, index: usize, stream: S) -> Pin<Box<S>> {
        let Input::Live { stream: old, .. } = &mut self.slots[index].input else {
            unreachable!("replace: slot {index} is vacant");
        };
        let old = core::mem::replace(old, Box::pin(stream));
        self.ready.insert(index);
        self.run = 0;
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
        // A wake still in flight for this slot only causes one skipped look
        // at a vacant slot (or one extra poll of the next input placed here).
        self.ready.remove(index);
        self.run = 0;
        (stream, tag)
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
    /// Polls ready inputs, round-robin from the cursor, until one yields an
    /// item or ends, nothing is ready, or the budget is spent.
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Polled<S::Item, T> {
        loop {
            if self.polls >= self.budget {
                return self.yield_to_executor(cx);
            }
            if self.run == 0 && !self.refill_run() {
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
            }
            let index = self.cursor & !(BITS - 1) | self.run.trailing_zeros() as usize;
            self.run &= self.run - 1;
            self.cursor = index + 1;
            let slot = &mut self.slots[index];
            let Input::Live { stream, .. } = &mut slot.input else {
                // A late wake of a removed input.
                self.ready.remove(index);
                continue;
            };
            self.polls += 1;
            match stream
                .as_mut()
                .poll_next(&mut Context::from_waker(&slot.waker))
            {
                Poll::Ready(Some(item)) => return Polled::Item { index, item },
                Poll::Ready(None) => {
                    let (_, tag) = self.remove(index);
                    return Polled::Ended { tag };
                }
                Poll::Pending => self.ready.remove(index),
            }
        }
    }

    /// Cooperative yield: lets the executor run other tasks.
    #[cold]
    fn yield_to_executor(&mut self, cx: &mut Context<'_>) -> Polled<S::Item, T> {
        self.polls = 0;
        cx.waker().wake_by_ref();
        Polled::Pending
    }

    /// Loads `run` with the ready slots of the first non-empty word at or
    /// after the cursor (wrapping to 0), moving the cursor there; `false`
    /// if nothing is ready.
    ///
    /// Wakes are moved into the ready set here, once per refill rather than
    /// before every input poll: `run` only ever holds slots after the cursor
    /// that were ready when it was loaded, so an input woken meanwhile is
    /// found by this refill (if it is after the cursor) or after the wrap,
    /// and the round-robin bound is unchanged.
    #[inline]
    fn refill_run(&mut self) -> bool {
        if self.wakes.has_wakes() {
            self.wakes.drain_into(&mut self.ready);
        }
        // Past the last slot: wrap at once (the common case for few inputs).
        let at = if self.cursor >= self.slots.len() {
            0
        } else {
            self.cursor
        };
        let here = self.ready.word(at / BITS) & (usize::MAX << (at % BITS));
        if here != 0 {
            self.cursor = at;
            self.run = here;
            return true;
        }
        self.search_run(at)
    }

    /// [`Slots::refill_run`] when the cursor's word has nothing ready: a
    /// search of the ready set from `at`, wrapping to 0.
    #[cold]
    fn search_run(&mut self, at: usize) -> bool {
        let Some(index) = self.ready.next_cyclic(at) else {
            return false;
        };
        self.cursor = index;
        self.run = self.ready.word(index / BITS) & (usize::MAX << (index % BITS));
        true
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
