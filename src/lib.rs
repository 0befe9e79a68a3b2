// The README's examples use the tokio adapter: it is the crate doc (and so
// doctested) whenever every adapter is built, as in CI's main test run.
#![cfg_attr(
    all(feature = "tokio", feature = "async-std", feature = "smol"),
    doc = include_str!("../README.md")
)]
#![cfg_attr(
    not(all(feature = "tokio", feature = "async-std", feature = "smol")),
    doc = "Python's async-iterator toolkit for Rust, on `futures_core::Stream`: `next`/`next_or`, \
           generators, merge, a lazy paged cursor, a chunked line reader and intervals. The \
           runtime adapters are the features `tokio`, `async-std` and `smol`; with all three \
           enabled (as on docs.rs) this page is the full guide."
)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use aiter_core::*;

/// The tokio adapter ([`aiter_rt_tokio`]): `aiter::tokio::Tokio`, `interval`, `timeout`, ….
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use aiter_rt_tokio as tokio;

/// The async-std adapter ([`aiter_rt_async_std`]). async-std is discontinued
/// upstream (RUSTSEC-2025-0052): prefer [`smol`].
#[cfg(feature = "async-std")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-std")))]
pub use aiter_rt_async_std as async_std;

/// The smol adapter ([`aiter_rt_smol`]): `aiter::smol::Smol`, `interval`, `timeout`, ….
#[cfg(feature = "smol")]
#[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
pub use aiter_rt_smol as smol;
