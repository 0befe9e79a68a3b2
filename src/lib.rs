#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use aiter_core::*;

/// The tokio adapter ([`aiter_rt_tokio`]): `aiter::tokio::Tokio`, `interval`, `timeout`, ….
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use aiter_rt_tokio as tokio;

/// The async-std adapter ([`aiter_rt_async_std`]). async-std is discontinued
/// upstream (RUSTSEC-2025-0052): prefer [`smol`](crate::smol).
#[cfg(feature = "async-std")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-std")))]
pub use aiter_rt_async_std as async_std;

/// The smol adapter ([`aiter_rt_smol`]): `aiter::smol::Smol`, `interval`, `timeout`, ….
#[cfg(feature = "smol")]
#[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
pub use aiter_rt_smol as smol;
