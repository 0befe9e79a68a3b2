//! The queue of fetched pages waiting to be consumed.

#[cfg(feature = "alloc")]
use alloc::collections::VecDeque;

/// A FIFO of fetched pages. One page fits inline, so a cursor that
/// prefetches at most one page never allocates; with `alloc`, further pages
/// go to a `VecDeque` (allocated once, when a second page is held).
pub(super) struct Ahead<T> {
    front: Option<T>,
    #[cfg(feature = "alloc")]
    rest: VecDeque<T>,
}

impl<T> Ahead<T> {
    /// How many pages fit without `alloc`.
    #[cfg(not(feature = "alloc"))]
    pub(super) const INLINE_ONLY: usize = 1;

    pub(super) const fn new() -> Self {
        Ahead {
            front: None,
            #[cfg(feature = "alloc")]
            rest: VecDeque::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        #[cfg(feature = "alloc")]
        let rest = self.rest.len();
        #[cfg(not(feature = "alloc"))]
        let rest = 0;
        usize::from(self.front.is_some()) + rest
    }

    pub(super) fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    /// Queues `value` behind the others.
    ///
    /// # Panics
    /// Without `alloc`, if a value is already queued. The cursor never does
    /// that: its builder limits prefetch to one page without `alloc`, and it
    /// starts a fetch only while fewer pages than that are queued.
    pub(super) fn push(&mut self, value: T) {
        if self.front.is_none() {
            self.front = Some(value);
            return;
        }
        #[cfg(feature = "alloc")]
        self.rest.push_back(value);
        #[cfg(not(feature = "alloc"))]
        {
            drop(value);
            unreachable!("aiter cursor: more than one page queued without `alloc`");
        }
    }

    /// The oldest value.
    pub(super) fn pop(&mut self) -> Option<T> {
        let value = self.front.take()?;
        #[cfg(feature = "alloc")]
        {
            self.front = self.rest.pop_front();
        }
        Some(value)
    }

    /// Drops every queued value.
    pub(super) fn clear(&mut self) {
        self.front = None;
        #[cfg(feature = "alloc")]
        self.rest.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_first_out() {
        let mut q = Ahead::new();
        assert!(q.is_empty());
        q.push(1);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop(), None);
        q.push(2);
        #[cfg(feature = "alloc")]
        {
            q.push(3);
            q.push(4);
            assert_eq!(q.len(), 3);
            assert_eq!(q.pop(), Some(2));
            q.push(5);
            assert_eq!(q.pop(), Some(3));
            assert_eq!(q.pop(), Some(4));
            assert_eq!(q.pop(), Some(5));
        }
        #[cfg(not(feature = "alloc"))]
        assert_eq!(q.pop(), Some(2));
        assert!(q.is_empty());
        q.push(6);
        q.clear();
        assert_eq!(q.len(), 0);
    }
}
