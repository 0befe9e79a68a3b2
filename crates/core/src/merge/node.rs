//! Input nodes: where a merge's inputs live, and what their wakers are.
//!
//! This is the merge's only `unsafe` code. Inputs live *inline* and
//! densely, in chunks of [`CHUNK`] nodes that never move while the merge
//! lives, so an input is pinned where it lies and `!Unpin` inputs need no
//! box. Each chunk starts with a [`Header`], one cache line that all its
//! nodes' wakers share: a waker's data pointer is the header's address with
//! the node's place in the chunk in its low bits (the header is aligned to
//! 64 bytes). So a wake touches one small line per chunk (1,024 lines,
//! 64 KiB, for 65,536 inputs) and never the input, and a poll reads the
//! input from a dense array: with 65,536 channel receivers (8 bytes each),
//! the headers and the inputs take 576 KiB, where nodes of a cache line
//! each took 4 MiB.
//!
//! # Wakes
//! A header's `woken` word has a bit per node: woken, and not yet taken by
//! the merge.
//! - A wake sets its node's bit (one `fetch_or`). If the word was 0, the
//!   wake also pushes the chunk on the wake stack (a lock-free intrusive
//!   stack of headers: one compare-and-swap) and, if the stack was empty,
//!   wakes the merge's task. A word that is not 0 means the chunk is on the
//!   stack already, or taken off it by a merge that has not yet taken its
//!   word: either way the merge sees the bit.
//! - The merge takes the whole stack at once (one swap), then each chunk's
//!   word (one swap per chunk, after reading the chunk's `next`, since the
//!   next wake may push the chunk again).
//! - Which nodes are in the merge's ready queue (or being polled) is the
//!   merge's own business, kept in two plain words of the header that
//!   wakers never read (`queued`, and `live` for which nodes hold an
//!   input): a woken node is queued unless it is queued already or vacant.
//!   The queue holds node addresses (as wakers do), so a poll needs no
//!   lookup. An input that yields an item stays queued, one that returns
//!   `Pending` leaves the queue: no atomic operation on either path.
//!
//! So a node is in the queue at most once, and every wake is followed
//! by a poll of the node that starts after it: a wake taken while the node
//! is queued is served by the poll it is queued for (the merge never takes
//! wakes in the middle of a poll); a wake during a poll stays in the word
//! and queues the node again once the poll has returned.
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
use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use futures_core::Stream;

use self::sync::{Arc, AtomicPtr, AtomicUsize, AtomicWaker};

/// Nodes per chunk (one allocation): a bit each in a word.
pub(crate) const CHUNK: usize = usize::BITS as usize;

/// A header's alignment: its address has this many zero low bits, room for
/// a node's place in its chunk.
const HEADER_ALIGN: usize = 64;

const _: () = assert!(CHUNK <= HEADER_ALIGN);
const _: () = assert!(align_of::<Header>() >= HEADER_ALIGN);

/// A chunk's first cache line: what its wakers use, and the merge's
/// bookkeeping of its nodes (which wakers never read).
#[repr(C, align(64))]
struct Header {
    /// Bit `k`: node `k` of the chunk was woken, and the merge has not
    /// taken the wake yet. Not 0 while the chunk is on the wake stack.
    woken: AtomicUsize,
    /// The next chunk down the wake stack (meaningful while on it).
    next: AtomicPtr<Header>,
    /// The set this chunk belongs to (set once).
    shared: *const Shared,
    /// The index of the chunk's first node (set once).
    base: usize,
    /// The merge's: bit `k` says node `k` holds an input (and a tag).
    live: Cell<usize>,
    /// The merge's: bit `k` says node `k` is in the ready queue or being
    /// polled.
    queued: Cell<usize>,
}

/// A chunk: its header, then the inputs and tags of its nodes, which only
/// the merge uses (the header's `live` says which hold one).
#[repr(C)]
struct Chunk<E, T> {
    header: Header,
    values: [UnsafeCell<MaybeUninit<E>>; CHUNK],
    tags: [UnsafeCell<MaybeUninit<T>>; CHUNK],
}

/// What the merge and every waker share.
struct Shared {
    /// Chunks with woken nodes not yet taken by the merge, last first.
    stack: AtomicPtr<Header>,
    /// The merge's task.
    task: AtomicWaker,
    /// Every chunk, freed with the last reference. Changed only by the merge
    /// (which holds a reference meanwhile); wakers never read it.
    chunks: UnsafeCell<Vec<NonNull<u8>>>,
    /// The layout of one chunk.
    layout: Layout,
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
            // SAFETY: each chunk starts with its initialised `Header`; inputs
            // and tags were dropped by the merge, so only the header is left,
            // and no waker exists any more (this was the last reference).
            unsafe { ptr::drop_in_place(chunk.as_ptr().cast::<Header>()) };
            // SAFETY: allocated in `Nodes::grow` with this layout.
            unsafe { dealloc(chunk.as_ptr(), self.layout) };
        }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// A node's address: its chunk's header with the node's place in the low
/// bits (`k < CHUNK <= HEADER_ALIGN`, so it stays inside the header). It is
/// both a waker's data pointer and an entry of the ready queue.
fn node_ptr(header: *const Header, k: usize) -> *const Header {
    header.map_addr(|addr| addr | k)
}

/// The header and node place of a [`node_ptr`].
fn split(node: *const Header) -> (*const Header, usize) {
    (
        node.map_addr(|addr| addr & !(HEADER_ALIGN - 1)),
        node.addr() & (HEADER_ALIGN - 1),
    )
}

/// Asks the CPU to bring the cache line at `at` closer: a hint, with no
/// effect on what the program computes (a no-op where stable Rust has no
/// instruction for it, and under Miri).
#[inline(always)]
fn prefetch<P>(at: *const P) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a prefetch reads nothing the program sees and does not fault,
    // whatever the address.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at.cast());
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = at;
}

/// # Safety
/// `data` is a [`node_ptr`], for a waker that owns a reference on its
/// chunk's `Shared`.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    let (header, _) = split(data.cast());
    // SAFETY: the reference of the waker being cloned keeps the chunk and
    // its `Shared` (from `Arc::into_raw`) alive; the clone owns a reference
    // of its own.
    unsafe { Arc::increment_strong_count((*header).shared) };
    RawWaker::new(data, &VTABLE)
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
    let (header, k) = split(data.cast());
    // SAFETY: the waker's reference keeps the chunk alive.
    unsafe { &*header }.wake(k);
}

/// # Safety
/// As [`clone_waker`]; consumes the waker's reference.
unsafe fn drop_waker(data: *const ()) {
    let (header, _) = split(data.cast());
    // SAFETY: the waker's reference keeps the chunk alive until released
    // here; nothing is read after that.
    let shared = unsafe { (*header).shared };
    // SAFETY: `shared` came from `Arc::into_raw`; this releases the
    // reference the waker owned (freeing the set if it was the last).
    unsafe { Arc::decrement_strong_count(shared) };
}

impl Header {
    /// Wakes node `k` of this chunk: marks it woken and, unless the chunk
    /// is on the wake stack already, pushes it there.
    fn wake(&self, k: usize) {
        // Acquire: if this finds the word 0 after the merge emptied it, the
        // merge has read `next` already and this push may overwrite it.
        // Release: what the waker did before is seen by the poll it leads to.
        if self.woken.fetch_or(1 << k, AcqRel) != 0 {
            return;
        }
        // This wake set the first bit: it alone owns `next` until the merge
        // takes the chunk off the stack.
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

/// What [`Nodes::poll_front`] did.
pub(crate) enum Step<I> {
    /// Node `index` yielded `item`; it went to the back of the queue.
    Item { index: usize, item: I },
    /// The input of node `index` ended; it left the queue and is still
    /// live (the caller ends it).
    Ended { index: usize },
    /// The input returned `Pending` and left the queue (a wake during the
    /// poll queues it again), or the node was vacant (freed after it was
    /// queued), or nothing was queued.
    Idle,
}

/// The merge's nodes: inputs `E` with tags `T`, indexed from 0, in chunks
/// that never move, and the ready queue. The merge decides which indices
/// are used; this type keeps each node's input, its wake and queue state,
/// and the queue.
pub(crate) struct Nodes<E, T> {
    /// From `Arc::into_raw`: the merge's reference.
    shared: NonNull<Shared>,
    /// The chunks, in index order (the same as `Shared::chunks`, typed).
    chunks: Vec<NonNull<Chunk<E, T>>>,
    /// Nodes to poll, in round-robin order, each at most once (its
    /// `queued` bit), as [`node_ptr`]s: a poll needs no lookup.
    queue: Queue,
    /// The inputs and tags are owned here.
    _owns: PhantomData<(E, T)>,
}

// SAFETY: the nodes own their inputs and tags (hence the bounds); the rest
// is the thread-safe `Shared` and pointers into the set's own chunks, which
// only the merge follows to their `Cell`s and inputs.
unsafe impl<E: Send, T: Send> Send for Nodes<E, T> {}
// SAFETY: through `&Nodes` only `&E` and `&T` are reachable, plus atomics
// (the `Cell`s in the headers are only used through `&mut Nodes`, or read
// through `&Nodes`, never both at once).
unsafe impl<E: Sync, T: Sync> Sync for Nodes<E, T> {}

/// Inputs are pinned in their chunks, which moving `Nodes` does not move.
impl<E, T> Unpin for Nodes<E, T> {}

impl<E, T> Nodes<E, T> {
    pub(crate) fn new() -> Self {
        let shared = Arc::new(Shared {
            stack: AtomicPtr::new(ptr::null_mut()),
            task: AtomicWaker::new(),
            chunks: UnsafeCell::new(Vec::new()),
            layout: Layout::new::<Chunk<E, T>>(),
        });
        let shared =
            NonNull::new(Arc::into_raw(shared).cast_mut()).expect("Arc pointers are never null");
        Self {
            shared,
            chunks: Vec::new(),
            queue: Queue::new(),
            _owns: PhantomData,
        }
    }

    /// The shared part, borrowed from the merge's reference rather than
    /// from `self` (so that `self` can be changed meanwhile).
    #[inline]
    fn shared<'a>(&self) -> &'a Shared {
        // SAFETY: the merge's reference keeps it alive for `self`'s life,
        // and every caller uses it within a method of `self`.
        unsafe { &*self.shared.as_ptr() }
    }

    /// Number of nodes (all indices below it are valid).
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Makes room for `nodes` nodes in every list, so that growing to that
    /// many allocates only the chunks.
    ///
    /// # Panics
    /// If that many nodes, or the queue for them, could not fit in the
    /// address space ("capacity overflow", as `Vec` says).
    pub(crate) fn reserve(&mut self, nodes: usize) {
        let chunks = nodes.div_ceil(CHUNK);
        let fits = chunks
            .checked_mul(size_of::<Chunk<E, T>>())
            .zip(nodes.checked_next_power_of_two())
            .and_then(|(bytes, ring)| Some((bytes, ring.checked_mul(size_of::<*const Header>())?)))
            .is_some_and(|(bytes, ring)| {
                bytes <= isize::MAX as usize && ring <= isize::MAX as usize
            });
        assert!(fits, "merge: capacity overflow ({nodes} inputs)");
        let more = chunks.saturating_sub(self.chunks.len());
        self.chunks.reserve(more);
        // SAFETY: only the merge touches `chunks`, and it holds `&mut self`.
        unsafe { (*self.shared().chunks.get()).reserve(more) };
        self.queue.reserve(nodes);
    }

    /// Adds a chunk of [`CHUNK`] vacant nodes, and room for them in the
    /// queue (so that queuing never allocates).
    pub(crate) fn grow(&mut self) {
        let layout = self.shared().layout;
        // Every list has room before the chunk exists: nothing can fail
        // between its allocation and its registration.
        self.chunks.reserve(1);
        self.queue.reserve(self.capacity() + CHUNK);
        // SAFETY: only the merge touches `chunks`, and it holds `&mut self`.
        unsafe { (*self.shared().chunks.get()).reserve(1) };
        // SAFETY: the layout has a non-zero size (a chunk holds a header).
        let raw = unsafe { alloc(layout) };
        let Some(chunk) = NonNull::new(raw.cast::<Chunk<E, T>>()) else {
            handle_alloc_error(layout)
        };
        let header = Header {
            woken: AtomicUsize::new(0),
            next: AtomicPtr::new(ptr::null_mut()),
            shared: self.shared.as_ptr(),
            base: self.capacity(),
            live: Cell::new(0),
            queued: Cell::new(0),
        };
        // SAFETY: the fresh allocation is aligned for `Chunk` and not yet
        // shared; the inputs and tags stay uninitialised (`MaybeUninit`).
        unsafe { (&raw mut (*chunk.as_ptr()).header).write(header) };
        // SAFETY: as above; room was reserved.
        unsafe { (*self.shared().chunks.get()).push(chunk.cast()) };
        self.chunks.push(chunk);
    }

    /// The header of node `index`'s chunk (panics if out of range), as a
    /// pointer with the provenance of the whole chunk (the header is its
    /// first field), and the node's place in it.
    #[inline]
    fn header_ptr(&self, index: usize) -> (*const Header, usize) {
        (self.chunks[index / CHUNK].as_ptr().cast(), index % CHUNK)
    }

    /// The header of node `index`'s chunk (panics if out of range) and the
    /// node's place in it.
    #[inline]
    fn locate(&self, index: usize) -> (&Header, usize) {
        let (header, k) = self.header_ptr(index);
        // SAFETY: the chunk is alive (the merge's reference) and its header
        // initialised; headers are only ever shared.
        (unsafe { &*header }, k)
    }

    /// The cell of node `index`'s input (panics if out of range).
    #[inline]
    fn value(&self, index: usize) -> *mut MaybeUninit<E> {
        let chunk = self.chunks[index / CHUNK].as_ptr();
        // SAFETY: the chunk is alive (the merge's reference) and only the
        // merge uses inputs; this only takes the cell's address.
        unsafe { (*chunk).values[index % CHUNK].get() }
    }

    /// The cell of node `index`'s tag (panics if out of range).
    #[inline]
    fn tag_cell(&self, index: usize) -> *mut MaybeUninit<T> {
        let chunk = self.chunks[index / CHUNK].as_ptr();
        // SAFETY: as in `value`.
        unsafe { (*chunk).tags[index % CHUNK].get() }
    }

    /// Whether node `index` holds an input.
    #[inline]
    pub(crate) fn is_live(&self, index: usize) -> bool {
        let (header, k) = self.locate(index);
        header.live.get() & (1 << k) != 0
    }

    /// Marks node `index` live (`true`) or vacant; panics if it already is.
    fn set_live(&mut self, index: usize, live: bool) {
        let (header, k) = self.locate(index);
        let bits = header.live.get();
        if live {
            assert!(bits & (1 << k) == 0, "merge: node {index} is taken");
        } else {
            assert!(bits & (1 << k) != 0, "merge: node {index} is vacant");
        }
        header.live.set(bits ^ (1 << k));
    }

    /// Puts an input into vacant node `index`.
    pub(crate) fn put(&mut self, index: usize, value: E, tag: T) {
        self.set_live(index, true);
        // SAFETY: `&mut self`: no other reference to the cells exists; the
        // node was vacant, so nothing is overwritten.
        unsafe {
            (*self.value(index)).write(value);
            (*self.tag_cell(index)).write(tag);
        }
    }

    /// The tag of live node `index`.
    pub(crate) fn tag(&self, index: usize) -> &T {
        assert!(self.is_live(index), "merge: node {index} is vacant");
        // SAFETY: live: initialised; writes need `&mut self`.
        unsafe { (*self.tag_cell(index)).assume_init_ref() }
    }

    /// Takes the input and tag out of live node `index`, leaving it vacant.
    pub(crate) fn take(&mut self, index: usize) -> (E, T)
    where
        E: Unpin,
    {
        self.set_live(index, false);
        // SAFETY: both were initialised (live) and are now marked vacant, so
        // they are read once; `E: Unpin` may leave its pinned place.
        unsafe {
            (
                (*self.value(index)).assume_init_read(),
                (*self.tag_cell(index)).assume_init_read(),
            )
        }
    }

    /// Puts `value` in place of the input of live node `index`; returns the
    /// old one.
    pub(crate) fn replace(&mut self, index: usize, value: E) -> E
    where
        E: Unpin,
    {
        assert!(self.is_live(index), "merge: node {index} is vacant");
        // SAFETY: initialised (live); `&mut self`: no other reference;
        // `E: Unpin` may leave its place.
        core::mem::replace(unsafe { (*self.value(index)).assume_init_mut() }, value)
    }

    /// Ends live node `index`: marks it vacant, drops its input in place and
    /// returns its tag.
    pub(crate) fn end(&mut self, index: usize) -> T {
        // Vacant first: if the input's `drop` panics, nothing is dropped twice.
        self.set_live(index, false);
        // SAFETY: initialised (it was live), read once.
        let tag = unsafe { (*self.tag_cell(index)).assume_init_read() };
        // SAFETY: initialised; dropped where it was pinned, never used again.
        unsafe { (*self.value(index)).assume_init_drop() };
        tag
    }

    /// Every live node's index, tag and pinned input.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &T, Pin<&mut E>)> {
        let this = &*self;
        (0..self.capacity())
            .filter(move |&index| this.is_live(index))
            .map(move |index| {
                // SAFETY: each index is visited once, so the inputs borrowed
                // are distinct, and `&mut self` is held for the iterator's
                // life. Live: initialised. The input stays where it is
                // (chunks never move) until the merge drops it: pinned.
                unsafe {
                    (
                        index,
                        (*this.tag_cell(index)).assume_init_ref(),
                        Pin::new_unchecked((*this.value(index)).assume_init_mut()),
                    )
                }
            })
    }

    /// Every live node's input.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &E> {
        (0..self.capacity())
            .filter(move |&index| self.is_live(index))
            // SAFETY: a read through `&self` of a live (initialised) input.
            .map(move |index| unsafe { (*self.value(index)).assume_init_ref() })
    }

    /// Puts node `index` at the back of the queue unless it is queued
    /// already.
    #[inline]
    pub(crate) fn schedule(&mut self, index: usize) {
        let (header, k) = self.header_ptr(index);
        // SAFETY: as in `locate`.
        let queued = unsafe { &(*header).queued };
        if queued.get() & (1 << k) == 0 {
            queued.set(queued.get() | (1 << k));
            self.queue.push_back(node_ptr(header, k));
        }
    }

    /// Node `index` leaves the queue (it is not in it: it was just taken
    /// off for a poll).
    #[inline]
    fn unqueue(header: &Header, k: usize) {
        header.queued.set(header.queued.get() & !(1 << k));
    }

    /// Whether the queue is empty.
    #[inline]
    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Entries taken off the queue so far (wrapping), less those put back:
    /// every poll takes one.
    #[inline]
    pub(crate) fn popped(&self) -> usize {
        self.queue.head
    }

    /// Takes the front of the queue and polls its input with the node's
    /// own waker. An input that yields an item goes to the back of the
    /// queue; one that returns `Pending` or ends leaves it, as does a node
    /// freed after it was queued. If the input panics, its node goes back
    /// to the front (still queued).
    #[inline]
    pub(crate) fn poll_front(&mut self) -> Step<E::Item>
    where
        E: Stream,
    {
        let Some(node) = self.queue.pop_front() else {
            return Step::Idle;
        };
        let (header, k) = split(node);
        // SAFETY: queue entries are node pointers made from the set's own
        // chunk pointers, alive while the merge's reference is.
        let header_ref = unsafe { &*header };
        if header_ref.live.get() & (1 << k) == 0 {
            Self::unqueue(header_ref, k);
            return Step::Idle;
        }
        // A borrowed waker: no reference of its own (the merge's covers
        // it), so it must not be dropped; clones take their own.
        // SAFETY: the node pointer and vtable satisfy the vtable's contract
        // for as long as the merge's reference lives, which outlasts this
        // call.
        let waker =
            ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(node.cast(), &VTABLE)) });
        // The header is the chunk's first field, and `node` carries the
        // provenance of the whole chunk.
        let chunk = header.cast::<Chunk<E, T>>();
        // SAFETY: `&mut self`: no other reference to the input exists (the
        // wakers only read the header). Live: initialised; it never moves
        // until dropped in place (`end`, `drop`) or taken out as `Unpin`
        // (`take`).
        let value = unsafe { Pin::new_unchecked((*(*chunk).values[k].get()).assume_init_mut()) };
        let requeue = Requeue {
            queue: &mut self.queue,
            node,
        };
        let polled = value.poll_next(&mut Context::from_waker(&waker));
        core::mem::forget(requeue);
        let index = header_ref.base + k;
        match polled {
            Poll::Ready(Some(item)) => {
                // It must be asked again: back of the queue, still queued.
                self.queue.push_back(node);
                Step::Item { index, item }
            }
            Poll::Ready(None) => {
                Self::unqueue(header_ref, k);
                Step::Ended { index }
            }
            Poll::Pending => {
                Self::unqueue(header_ref, k);
                Step::Idle
            }
        }
    }

    /// A waker of node `index` that owns its own reference (for tests).
    #[cfg(test)]
    pub(crate) fn waker(&self, index: usize) -> Waker {
        let (header, k) = self.header_ptr(index);
        // SAFETY: the merge's reference keeps `Shared` alive; the waker
        // takes one of its own, as the vtable's contract wants.
        unsafe {
            Arc::increment_strong_count(self.shared.as_ptr().cast_const());
            Waker::from_raw(RawWaker::new(node_ptr(header, k).cast(), &VTABLE))
        }
    }

    /// Takes every entry off the queue, front to back, as a merge does to
    /// poll them (for tests): they stay queued until [`Nodes::idle`].
    #[cfg(test)]
    pub(crate) fn take_queue(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        while let Some(node) = self.queue.pop_front() {
            let (header, k) = split(node);
            // SAFETY: as in `poll_front`.
            out.push(unsafe { (*header).base } + k);
        }
        out
    }

    /// Node `index`, taken off the queue, was polled to `Pending` (for
    /// tests).
    #[cfg(test)]
    pub(crate) fn idle(&mut self, index: usize) {
        let (header, k) = self.locate(index);
        Self::unqueue(header, k);
    }

    /// Whether the wake stack may hold chunks (a cheap relaxed read: a wake
    /// in flight may be missed, and is then delivered through the
    /// registered task).
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        !self.shared().stack.load(Relaxed).is_null()
    }

    /// Takes every wake off the stack and queues each woken node that is
    /// live and not queued already: chunks last woken first, nodes of a
    /// chunk in index order.
    pub(crate) fn drain(&mut self) {
        let mut top = self.shared().stack.swap(ptr::null_mut(), Acquire);
        while let Some(woken) = NonNull::new(top) {
            // SAFETY: chunks on the stack are chunks of this set, alive
            // while the merge's reference is.
            let woken = unsafe { woken.as_ref() };
            // Before taking the word: once it is 0, a wake may push the
            // chunk again and overwrite `next`.
            top = woken.next.load(Relaxed);
            let bits = woken.woken.swap(0, AcqRel);
            // The same header, reached through the chunk pointer (whose
            // provenance covers the inputs, unlike the stack's).
            let (header, _) = self.header_ptr(woken.base);
            // SAFETY: as in `locate`.
            let (live, queued) = unsafe { (&(*header).live, &(*header).queued) };
            let mut fresh = bits & live.get() & !queued.get();
            queued.set(queued.get() | fresh);
            while fresh != 0 {
                let k = fresh.trailing_zeros() as usize;
                fresh &= fresh - 1;
                // The inputs of a batch of wakes are polled one after
                // another: fetch them all now, so their cache misses
                // overlap (4-5 ns less per item with 65,536 channel inputs).
                // SAFETY: the chunk is alive; this only takes an address.
                prefetch(unsafe { (*header.cast::<Chunk<E, T>>()).values[k].get() });
                self.queue.push_back(node_ptr(header, k));
            }
        }
    }

    /// Registers the merge's task, to be woken when the wake stack goes
    /// from empty to not empty.
    pub(crate) fn register(&self, waker: &Waker) {
        self.shared().task.register(waker);
    }
}

/// Puts a node back at the front of the queue if its input panics.
struct Requeue<'a> {
    queue: &'a mut Queue,
    node: *const Header,
}

impl Drop for Requeue<'_> {
    fn drop(&mut self) {
        self.queue.push_front(self.node);
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

/// The ready queue: a FIFO of node pointers in a ring whose size is a power
/// of two at least the number of nodes. Every node is queued at most once,
/// so it never fills up: a push is a store and an increment.
struct Queue {
    buf: Vec<*const Header>,
    /// Positions of the front and one past the back, counted without
    /// wrapping around the ring (`head <= tail`, `tail - head <= len`).
    head: usize,
    tail: usize,
}

impl Queue {
    fn new() -> Self {
        Self {
            buf: Vec::new(),
            head: 0,
            tail: 0,
        }
    }

    /// Room for `nodes` entries. The positions stay (the budget counts
    /// pops); the entries move to their places in the bigger ring.
    fn reserve(&mut self, nodes: usize) {
        if nodes <= self.buf.len() {
            return;
        }
        let mut buf = vec![ptr::null(); nodes.next_power_of_two()];
        let mask = buf.len() - 1;
        let mut at = self.head;
        while at != self.tail {
            buf[at & mask] = self.buf[at & self.mask()];
            at = at.wrapping_add(1);
        }
        self.buf = buf;
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buf.len().wrapping_sub(1)
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    #[inline]
    fn pop_front(&mut self) -> Option<*const Header> {
        if self.head == self.tail {
            return None;
        }
        let node = self.buf[self.head & self.mask()];
        self.head = self.head.wrapping_add(1);
        Some(node)
    }

    #[inline]
    fn push_back(&mut self, node: *const Header) {
        debug_assert!(self.tail.wrapping_sub(self.head) < self.buf.len());
        let at = self.tail & self.mask();
        self.buf[at] = node;
        self.tail = self.tail.wrapping_add(1);
    }

    /// Puts back the entry just popped.
    fn push_front(&mut self, node: *const Header) {
        self.head = self.head.wrapping_sub(1);
        let at = self.head & self.mask();
        self.buf[at] = node;
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
