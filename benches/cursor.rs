//! Work in progress: see the open issue for this module.
#![allow(missing_docs)]
fn main() {}
