//! Timed streams on any [`Timer`](crate::rt::Timer): [`interval`] and [`timeout`].
//!
//! The runtime adapters re-export these with their timer filled in
//! (`aiter::tokio::interval(period)`, …).

mod interval;
mod timeout;

pub use self::interval::{interval, Interval};
pub use self::timeout::{timeout, Elapsed, Timeout};
