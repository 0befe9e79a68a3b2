//! Input nodes: where a merge's inputs live, and what their wakers are.
//!
//! This is the merge's only `unsafe` code. Inputs live *inline* in nodes,
//! allocated in chunks of [`CHUNK`] that never move while the merge lives,
//! so an input is pinned where it lies and `!Unpin` inputs need no box. A
//! node is also its input's waker: the waker's data pointer is the node's
//! [`Header`], so a wake and the poll it leads to touch the same cache line
//! (plus the shared stack head), whatever the number of inputs.
//!
//! # Wakes
//! A node's `state` has two bits. `SCHEDULED`: the node is on the wake
//! stack, in the merge's local ready queue, or being polled, so a wake need
//! not queue it. `NOTIFIED`: woken again while scheduled (never set alone).
//! - A wake of an idle node sets `SCHEDULED` (one compare-and-swap), pushes
//!   the node on the wake stack (a lock-free intrusive stack: one
//!   compare-and-swap) and, if the stack was empty, wakes the merge's task.
//!   A wake of a scheduled node sets `NOTIFIED` and nothing else.
//! - The merge takes the whole stack at once (one swap) and appends it to
//!   its local queue, without touching the nodes' states.
//! - An input that yields an item stays `SCHEDULED` and goes back into the
//!   local queue: no atomic operation per item while inputs stay ready.
//! - An input that returns `Pending` goes idle with a compare-and-swap from
//!   `SCHEDULED` to 0; if that fails, a wake arrived during the poll
//!   (`NOTIFIED`), and the merge clears `NOTIFIED` and queues it again.
//!
//! So a node is in at most one queue at a time, and every wake is followed
//! by a poll of the node that starts after it.
//!
//! # Lifetimes
//! Wakers may outlive the merge (an input may hand its waker to another
//! thread). Every waker holds a reference on [`Shared`], which owns the
//! chunks; the merge holds one too. Only the merge touches inputs and tags:
//! it drops them when they end, are removed, or when it is dropped; the
//! chunks' memory is freed with the last reference, by whoever drops it.
//! Waker code reads nothing but the header's atomics, the header's
//! immutable fields and [`Shared`], which is why wakers are `Send + Sync`
//! whatever the inputs are.

use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use futures_core::Stream;

use self::sync::{Arc, AtomicPtr, AtomicUsize, AtomicWaker};

/// Nodes per chunk (one allocation).
pub(crate) const CHUNK: usize = 64;

/// On the wake stack, in the local queue, or being polled.
const SCHEDULED: usize = 1;
/// Woken while scheduled (a poll that starts after the wake is owed).
const NOTIFIED: usize = 2;

/// The part of a node its wakers use.
#[repr(C)]
struct Header {
    state: AtomicUsize,
    /// The next node down the wake stack (meaningful while on it).
    next: AtomicPtr<Header>,
    /// The set this node belongs to (set once).
    shared: *const Shared,
    /// This node's index in the set (set once).
    index: usize,
}

/// One input's node: the header wakers use, then what only the merge uses.
/// Aligned to a cache line, so that a node with a small input is one line.
#[repr(C, align(64))]
struct Node<E, T> {
    header: Header,
    body: UnsafeCell<Body<E, T>>,
}

/// The merge's part of a node.
struct Body<E, T> {
    /// Whether `value` and `tag` hold an input.
    live: bool,
    value: MaybeUninit<E>,
    tag: MaybeUninit<T>,
}

/// What the merge and every waker share.
struct Shared {
    /// Woken nodes not yet taken by the merge, last woken first.
    stack: AtomicPtr<Header>,
    /// The merge's task.
    task: AtomicWaker,
    /// Every chunk, freed with the last reference. Changed only by the merge
    /// (which holds a reference meanwhile); wakers never read it.
    chunks: UnsafeCell<Vec<NonNull<u8>>>,
    /// The layout of one chunk.
    layout: Layout,
    /// Bytes from one node to the next.
    stride: usize,
}

// SAFETY: the atomics are shared by design; `chunks` is only accessed by the
// merge while it holds a reference, and by `drop` once no one else does.
// Nothing here refers to an input or a tag.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        for &chunk in self.chunks.get_mut().iter() {
            for k in 0..CHUNK {
                // SAFETY: the chunk holds `CHUNK` nodes `stride` bytes apart,
                // each starting with its initialised `Header`; inputs and tags
                // were dropped by the merge, so only the headers are left, and
                // no waker exists any more (this was the last reference).
                unsafe { ptr::drop_in_place(chunk.as_ptr().add(k * self.stride).cast::<Header>()) };
            }
            // SAFETY: allocated in `Nodes::grow` with this layout.
            unsafe { dealloc(chunk.as_ptr(), self.layout) };
        }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// A new waker on `header`, owning one reference on its `Shared`.
fn new_waker(header: &Header) -> Waker {
    // SAFETY: `shared` came from `Arc::into_raw` and is alive: the caller
    // holds a reference on it (it is the merge, or a waker being cloned).
    unsafe { Arc::increment_strong_count(header.shared) };
    // SAFETY: the vtable's functions are sound for a `Header` pointer whose
    // waker owns one reference on its `Shared` (see each function).
    unsafe { Waker::from_raw(RawWaker::new(ptr::from_ref(header).cast(), &VTABLE)) }
}

/// # Safety
/// `data` is the `Header` of a waker that owns a reference on its `Shared`.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: the reference of the waker being cloned keeps the chunk alive.
    let header = unsafe { &*data.cast::<Header>() };
    // The clone owns a reference of its own; the original keeps its.
    let waker = ManuallyDrop::new(new_waker(header));
    RawWaker::new(waker.data(), waker.vtable())
}

/// # Safety
/// As [`clone_waker`]; consumes the waker's reference.
unsafe fn wake(data: *const ()) {
    // SAFETY: as documented; the reference is released after the wake.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

/// # Safety
/// As [`clone_waker`].
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker's reference keeps the chunk alive.
    unsafe { &*data.cast::<Header>() }.wake();
}

/// # Safety
/// As [`clone_waker`]; consumes the waker's reference.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker's reference keeps the chunk alive until released
    // here; nothing is read after that.
    let shared = unsafe { (*data.cast::<Header>()).shared };
    // SAFETY: `shared` came from `Arc::into_raw`; this releases the
    // reference the waker owned (freeing the set if it was the last).
    unsafe { Arc::decrement_strong_count(shared) };
}

impl Header {
    /// Wakes this node's input: queues it for the merge unless it is
    /// scheduled already (then marks it notified).
    fn wake(&self) {
        let mut state = self.state.load(Relaxed);
        loop {
            // Idle: schedule it (and queue it below). Scheduled: mark it
            // notified, unless it is already.
            let new = if state & SCHEDULED == 0 {
                SCHEDULED
            } else if state & NOTIFIED == 0 {
                state | NOTIFIED
            } else {
                return;
            };
            match self
                .state
                .compare_exchange_weak(state, new, AcqRel, Relaxed)
            {
                Ok(_) if new == SCHEDULED => break,
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        // This wake set `SCHEDULED`: it alone owns `next` until the merge
        // takes the node off the stack.
        // SAFETY: the caller's reference (a waker's or the merge's) keeps
        // `Shared` alive.
        let shared = unsafe { &*self.shared };
        let me = ptr::from_ref(self).cast_mut();
        let mut head = shared.stack.load(Relaxed);
        loop {
            self.next.store(head, Relaxed);
            match shared
                .stack
                .compare_exchange_weak(head, me, Release, Relaxed)
            {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        if head.is_null() {
            shared.task.wake();
        }
    }
}

/// The merge's nodes: inputs `E` with tags `T`, indexed from 0, in chunks
/// that never move. The merge decides which indices are used; this type
/// keeps each node's input and its wake state.
pub(crate) struct Nodes<E, T> {
    /// From `Arc::into_raw`: the merge's reference.
    shared: NonNull<Shared>,
    /// The chunks, in index order (a copy of `Shared::chunks`, typed).
    chunks: Vec<NonNull<Node<E, T>>>,
    /// The inputs and tags are owned here.
    _owns: PhantomData<(E, T)>,
}

// SAFETY: the nodes own their inputs and tags (hence the bounds); the rest
// is the thread-safe `Shared`.
unsafe impl<E: Send, T: Send> Send for Nodes<E, T> {}
// SAFETY: through `&Nodes` only `&E` and `&T` are reachable, plus atomics.
unsafe impl<E: Sync, T: Sync> Sync for Nodes<E, T> {}

/// Inputs are pinned in their chunks, which moving `Nodes` does not move.
impl<E, T> Unpin for Nodes<E, T> {}

impl<E, T> Nodes<E, T> {
    pub(crate) fn new() -> Self {
        let layout = Layout::array::<Node<E, T>>(CHUNK).expect("merge: node chunk too large");
        let shared = Arc::new(Shared {
            stack: AtomicPtr::new(ptr::null_mut()),
            task: AtomicWaker::new(),
            chunks: UnsafeCell::new(Vec::new()),
            layout,
            stride: size_of::<Node<E, T>>(),
        });
        let shared =
            NonNull::new(Arc::into_raw(shared).cast_mut()).expect("Arc pointers are never null");
        Self {
            shared,
            chunks: Vec::new(),
            _owns: PhantomData,
        }
    }

    fn shared(&self) -> &Shared {
        // SAFETY: the merge's reference keeps it alive for `self`'s life.
        unsafe { self.shared.as_ref() }
    }

    /// Number of nodes (all indices below it are valid).
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Adds a chunk of [`CHUNK`] vacant nodes.
    pub(crate) fn grow(&mut self) {
        let layout = self.shared().layout;
        // Both lists have room before the chunk exists: nothing can fail
        // between its allocation and its registration.
        self.chunks.reserve(1);
        // SAFETY: only the merge touches `chunks`, and it holds `&mut self`.
        unsafe { (*self.shared().chunks.get()).reserve(1) };
        // SAFETY: the layout has a non-zero size (a node holds a header).
        let raw = unsafe { alloc(layout) };
        let Some(chunk) = NonNull::new(raw.cast::<Node<E, T>>()) else {
            handle_alloc_error(layout)
        };
        let base = self.capacity();
        for k in 0..CHUNK {
            let node = Node {
                header: Header {
                    state: AtomicUsize::new(0),
                    next: AtomicPtr::new(ptr::null_mut()),
                    shared: self.shared.as_ptr(),
                    index: base + k,
                },
                body: UnsafeCell::new(Body {
                    live: false,
                    value: MaybeUninit::uninit(),
                    tag: MaybeUninit::uninit(),
                }),
            };
            // SAFETY: `k < CHUNK`: in bounds of the fresh allocation, which
            // is aligned for `Node` and not yet shared.
            unsafe { chunk.add(k).write(node) };
        }
        // SAFETY: as above; room was reserved.
        unsafe { (*self.shared().chunks.get()).push(chunk.cast()) };
        self.chunks.push(chunk);
    }

    /// Node `index` (panics if out of range).
    #[inline]
    fn node(&self, index: usize) -> NonNull<Node<E, T>> {
        let chunk = self.chunks[index / CHUNK];
        // SAFETY: `index % CHUNK < CHUNK`: inside the chunk's allocation.
        unsafe { chunk.add(index % CHUNK) }
    }

    #[inline]
    fn header(&self, index: usize) -> &Header {
        // SAFETY: the node is initialised and lives as long as the merge's
        // reference, hence as long as `&self`; headers are only ever shared.
        unsafe { &(*self.node(index).as_ptr()).header }
    }

    /// The body of node `index`: only the merge uses bodies, and `&self` /
    /// `&mut self` on `Nodes` decides whether it reads or writes.
    #[inline]
    fn body(&self, index: usize) -> *mut Body<E, T> {
        // SAFETY: the node is initialised and alive (see `header`); this
        // only takes the cell's address.
        unsafe { (*self.node(index).as_ptr()).body.get() }
    }

    /// Whether node `index` holds an input.
    #[inline]
    pub(crate) fn is_live(&self, index: usize) -> bool {
        // SAFETY: a read through `&self`; writes need `&mut self`.
        unsafe { (*self.body(index)).live }
    }

    /// Puts an input into vacant node `index`.
    pub(crate) fn put(&mut self, index: usize, value: E, tag: T) {
        // SAFETY: `&mut self`: no other reference to the body exists.
        let body = unsafe { &mut *self.body(index) };
        assert!(!body.live, "merge: node {index} is taken");
        body.value.write(value);
        body.tag.write(tag);
        body.live = true;
    }

    /// The tag of live node `index`.
    pub(crate) fn tag(&self, index: usize) -> &T {
        // SAFETY: a read through `&self`.
        let body = unsafe { &*self.body(index) };
        assert!(body.live, "merge: node {index} is vacant");
        // SAFETY: `live`: the tag is initialised.
        unsafe { body.tag.assume_init_ref() }
    }

    /// Takes the input and tag out of live node `index`, leaving it vacant.
    pub(crate) fn take(&mut self, index: usize) -> (E, T)
    where
        E: Unpin,
    {
        // SAFETY: `&mut self`: no other reference to the body exists.
        let body = unsafe { &mut *self.body(index) };
        assert!(body.live, "merge: node {index} is vacant");
        body.live = false;
        // SAFETY: both were initialised (`live`) and are now marked vacant,
        // so they are read once; `E: Unpin` may leave its pinned place.
        unsafe { (body.value.assume_init_read(), body.tag.assume_init_read()) }
    }

    /// Puts `value` in place of the input of live node `index`; returns the
    /// old one.
    pub(crate) fn replace(&mut self, index: usize, value: E) -> E
    where
        E: Unpin,
    {
        // SAFETY: `&mut self`: no other reference to the body exists.
        let body = unsafe { &mut *self.body(index) };
        assert!(body.live, "merge: node {index} is vacant");
        // SAFETY: initialised (`live`); `E: Unpin` may leave its place.
        core::mem::replace(unsafe { body.value.assume_init_mut() }, value)
    }

    /// Ends live node `index`: marks it vacant, drops its input in place and
    /// returns its tag.
    pub(crate) fn end(&mut self, index: usize) -> T {
        // SAFETY: `&mut self`: no other reference to the body exists.
        let body = unsafe { &mut *self.body(index) };
        assert!(body.live, "merge: node {index} is vacant");
        // Vacant first: if the input's `drop` panics, nothing is dropped twice.
        body.live = false;
        // SAFETY: initialised (`live`), read once.
        let tag = unsafe { body.tag.assume_init_read() };
        // SAFETY: initialised; dropped where it was pinned, never used again.
        unsafe { body.value.assume_init_drop() };
        tag
    }

    /// Every live node's index, tag and pinned input.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &T, Pin<&mut E>)> {
        (0..self.capacity()).filter_map(move |index| {
            // SAFETY: each index is visited once, so the bodies borrowed are
            // distinct, and `&mut self` is held for the iterator's life.
            let body = unsafe { &mut *self.body(index) };
            if !body.live {
                return None;
            }
            // SAFETY: `live`: initialised. The input stays where it is
            // (chunks never move) until the merge drops it: pinned.
            let value = unsafe { Pin::new_unchecked(body.value.assume_init_mut()) };
            // SAFETY: `live`: initialised.
            Some((index, unsafe { body.tag.assume_init_ref() }, value))
        })
    }

    /// Every live node's input.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &E> {
        (0..self.capacity()).filter_map(move |index| {
            // SAFETY: a read through `&self`.
            let body = unsafe { &*self.body(index) };
            // SAFETY: `live`: initialised.
            body.live.then(|| unsafe { body.value.assume_init_ref() })
        })
    }

    /// Polls the input of node `index` with the node's own waker; `None`
    /// if the node is vacant.
    #[inline]
    pub(crate) fn poll_next(&mut self, index: usize) -> Option<Poll<Option<E::Item>>>
    where
        E: Stream,
    {
        let node = self.node(index);
        // SAFETY: `&mut self`: no other reference to the body exists; the
        // input only reaches its header through the waker below.
        let body = unsafe { &mut *(*node.as_ptr()).body.get() };
        if !body.live {
            return None;
        }
        // A borrowed waker: no reference of its own (the merge's covers
        // it), so it must not be dropped; clones take their own.
        // SAFETY: the header pointer and vtable satisfy the vtable's
        // contract for as long as the merge's reference lives, which
        // outlasts this call.
        let waker = ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new(node.as_ptr().cast_const().cast(), &VTABLE))
        });
        // SAFETY: `live`: initialised; it never moves until dropped in
        // place (`end`, `drop`) or taken out as `Unpin` (`take`).
        let value = unsafe { Pin::new_unchecked(body.value.assume_init_mut()) };
        Some(value.poll_next(&mut Context::from_waker(&waker)))
    }

    /// A waker of node `index` that owns its own reference (for tests).
    #[cfg(test)]
    pub(crate) fn waker(&self, index: usize) -> Waker {
        new_waker(self.header(index))
    }

    /// Marks node `index` scheduled; `true` if it was not (the caller must
    /// then put it in the local queue), `false` if a wake or the merge had
    /// queued it already.
    #[inline]
    pub(crate) fn schedule(&self, index: usize) -> bool {
        self.header(index).state.fetch_or(SCHEDULED, AcqRel) & SCHEDULED == 0
    }

    /// After a `Pending` poll of scheduled node `index`: makes it idle and
    /// returns `true`, or, if it was woken meanwhile, keeps it scheduled
    /// (clearing the notification) and returns `false`: the caller must
    /// queue it again.
    #[inline]
    pub(crate) fn idle(&self, index: usize) -> bool {
        let state = &self.header(index).state;
        if state
            .compare_exchange(SCHEDULED, 0, AcqRel, Acquire)
            .is_ok()
        {
            return true;
        }
        state.swap(SCHEDULED, AcqRel);
        false
    }

    /// Makes scheduled node `index`, which the merge took off its queue and
    /// will not poll (it is vacant), idle: a later wake queues it again.
    #[inline]
    pub(crate) fn release(&self, index: usize) {
        self.header(index).state.store(0, Release);
    }

    /// Whether the wake stack may hold nodes (a cheap relaxed read: a wake
    /// in flight may be missed, and is then delivered through the
    /// registered task).
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        !self.shared().stack.load(Relaxed).is_null()
    }

    /// Takes every node off the wake stack and calls `f` with each index,
    /// last woken first; they stay scheduled.
    pub(crate) fn drain(&self, mut f: impl FnMut(usize)) {
        let mut top = self.shared().stack.swap(ptr::null_mut(), Acquire);
        while let Some(header) = NonNull::new(top) {
            // SAFETY: nodes on the stack are nodes of this set, alive while
            // the merge's reference is.
            let header = unsafe { header.as_ref() };
            // The node is scheduled, so no wake pushes it again before the
            // merge lets it go idle: `next` is stable.
            top = header.next.load(Relaxed);
            f(header.index);
        }
    }

    /// Registers the merge's task, to be woken when the wake stack goes
    /// from empty to not empty.
    pub(crate) fn register(&self, waker: &Waker) {
        self.shared().task.register(waker);
    }
}

impl<E, T> Drop for Nodes<E, T> {
    fn drop(&mut self) {
        for index in 0..self.capacity() {
            if self.is_live(index) {
                drop(self.end(index));
            }
        }
        // Wakers may outlive the merge: they must not keep its task alive.
        drop(self.shared().task.take());
        // Only now (not if a `drop` above panicked: then the chunks leak,
        // rather than free memory under an input that was never dropped).
        // SAFETY: the merge's reference, from `Arc::into_raw`, released once.
        unsafe { Arc::decrement_strong_count(self.shared.as_ptr().cast_const()) };
    }
}

impl<E, T> fmt::Debug for Nodes<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nodes")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// What the nodes are built of: the standard atomics, or loom's when loom
/// model-checks them.
#[cfg(not(all(test, loom)))]
mod sync {
    pub(super) use alloc::sync::Arc;
    pub(super) use atomic_waker::AtomicWaker;
    pub(super) use core::sync::atomic::{AtomicPtr, AtomicUsize};
}

/// Loom's atomics and `Arc`, and a task-waker slot behind a loom mutex (the
/// `atomic-waker` crate's atomics are invisible to loom; a mutex gives the
/// guarantee a registration needs: a wake after it is delivered to it).
#[cfg(all(test, loom))]
mod sync {
    use core::task::Waker;

    pub(super) use ::loom::sync::atomic::{AtomicPtr, AtomicUsize};
    pub(super) use ::loom::sync::Arc;

    #[derive(Debug, Default)]
    pub(super) struct AtomicWaker(::loom::sync::Mutex<Option<Waker>>);

    impl AtomicWaker {
        pub(super) fn new() -> Self {
            Self::default()
        }

        pub(super) fn register(&self, waker: &Waker) {
            *self.0.lock().unwrap() = Some(waker.clone());
        }

        pub(super) fn wake(&self) {
            if let Some(waker) = self.take() {
                waker.wake();
            }
        }

        pub(super) fn take(&self) -> Option<Waker> {
            self.0.lock().unwrap().take()
        }
    }
}

#[cfg(test)]
mod tests;
