//! The runtime-agnostic, `#![no_std]` core of **aiter**: Python's async-iterator
//! toolkit on [`futures_core::Stream`].
//!
//! | Python | aiter-core |
//! |---|---|
//! | `async for x in it:` | `while let Some(x) = next(&mut it).await { … }` |
//! | `anext(it)` | [`next`]`(&mut it)` |
//! | `anext(it, default)` | [`next_or`]`(&mut it, default)` |
//! | `aiter(iterable)` | [`iter`]`(iterable)` |
//! | `StopAsyncIteration` | `None` |
//!
//! Nothing here depends on an async runtime: every type is a hand-written
//! `Stream` or `Future` state machine that runs on any executor. Where time or
//! files are needed, the caller passes a runtime value implementing the
//! traits in [`rt`] (the `aiter-rt-tokio`, `aiter-rt-async-std` and
//! `aiter-rt-smol` crates provide them).
//!
//! # Features
//! - `alloc`: heap-backed pieces.
//! - `std` (default, implies `alloc`): file access through a runtime's
//!   blocking pool ([`rt::Fs`]).
//!
//! With no features the crate builds for bare-metal targets such as
//! `thumbv7em-none-eabihf`.
//!
//! # Example
//! ```
//! use aiter_core::{iter, next, next_or};
//!
//! # futures::executor::block_on(async {
//! let mut numbers = iter([1, 2, 3]);
//! let mut sum = 0;
//! while let Some(n) = next(&mut numbers).await {
//!     sum += n;
//! }
//! assert_eq!(sum, 6);
//! // Like `anext(it, default)`: an exhausted stream gives the default.
//! assert_eq!(next_or(&mut numbers, -1).await, -1);
//! # });
//! ```
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(
    clippy::alloc_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cursor;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod generate;
mod iter;
pub mod lines;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod merge;
mod next;
mod next_or;
pub mod rt;
#[cfg(test)]
mod test_support;
pub mod time;

pub use crate::cursor::Cursor;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use crate::generate::{generate, try_generate, Co, Generate, TryGenerate};
pub use crate::iter::{iter, Iter};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use crate::lines::{follow, LineReader, Lines};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use crate::merge::{merge, Merge, MergeMap};
pub use crate::next::{next, Next};
pub use crate::next_or::{next_or, NextOr};

/// Re-exported so users need no direct dependency to name the traits.
pub use futures_core::{FusedStream, Stream};
