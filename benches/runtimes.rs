//! Runtimes side by side (filled in below).
fn main() {}
