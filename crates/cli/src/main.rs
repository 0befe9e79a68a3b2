//! The `aiter` command.

use clap::Parser;

/// aiter: Python's async-iterator toolkit for Rust, as a command.
#[derive(Debug, Parser)]
#[command(name = "aiter", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
