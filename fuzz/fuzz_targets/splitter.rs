//! The line splitter against the obvious splitter: any input, cut into
//! any pieces, through a growable buffer (`push`), a buffer swapped in per
//! read (`swap_in`, as the readers do) and a fixed-size buffer, with any
//! line length limit and with or without endings.
#![no_main]

use aiter_core::lines::{LineBuffer, LineSplitter};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
enum Out {
    Line(Vec<u8>, u64, u64),
    TooLong(u64, u64),
}

/// Whole input at once, line by line.
fn reference(input: &[u8], limit: usize, keep: bool) -> Vec<Out> {
    let mut out = Vec::new();
    let (mut number, mut offset, mut rest) = (1, 0u64, input);
    while !rest.is_empty() {
        let (line, consumed, nl) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1, true),
            None => (rest, rest.len(), false),
        };
        let content = match line.strip_suffix(b"\r") {
            Some(c) if nl => c,
            _ => line,
        };
        if content.len() > limit {
            out.push(Out::TooLong(number, offset));
        } else {
            let bytes = if keep { &rest[..consumed] } else { content };
            out.push(Out::Line(bytes.to_vec(), number, offset));
        }
        number += 1;
        offset += consumed as u64;
        rest = &rest[consumed..];
    }
    out
}

fn drain<B: LineBuffer>(s: &mut LineSplitter<B>, out: &mut Vec<Out>) {
    while let Some(item) = s.next_line() {
        out.push(match item {
            Ok(l) => Out::Line(l.as_bytes().to_vec(), l.number(), l.offset()),
            Err(e) => Out::TooLong(e.number, e.offset),
        });
    }
}

/// Piece lengths (1..=64) taken from `cuts`, cycling.
fn pieces<'a>(input: &'a [u8], cuts: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = input;
    let mut i = 0;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = cuts.get(i % cuts.len().max(1)).map_or(rest.len(), |&c| 1 + usize::from(c % 64));
        i += 1;
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        Some(piece)
    })
}

fuzz_target!(|data: &[u8]| {
    let [flags, limit_byte, rest @ ..] = data else { return };
    let keep = flags & 1 != 0;
    let limit = (flags & 2 != 0).then_some(usize::from(*limit_byte));
    let split = rest.len().min(16);
    let (cuts, input) = rest.split_at(split);
    let want = reference(input, limit.unwrap_or(usize::MAX), keep);

    // A growable buffer fed by `push`.
    let mut s = LineSplitter::new(Vec::new());
    s.set_max_line_length(limit);
    s.keep_endings(keep);
    let mut got = Vec::new();
    for piece in pieces(input, cuts) {
        assert_eq!(s.push(piece), piece.len());
        drain(&mut s, &mut got);
    }
    s.finish();
    drain(&mut s, &mut got);
    assert_eq!(got, want, "push");

    // A fresh buffer per read with headroom, swapped in (the readers' path).
    let mut s = LineSplitter::new(Vec::new());
    s.set_max_line_length(limit);
    s.keep_endings(keep);
    let mut got = Vec::new();
    let mut spare = Vec::new();
    let headroom = usize::from(flags >> 2);
    for piece in pieces(input, cuts) {
        let mut chunk: Vec<u8> = core::mem::take(&mut spare);
        chunk.clear();
        chunk.resize(headroom + piece.len(), 0);
        chunk[headroom..].copy_from_slice(piece);
        spare = s.swap_in(chunk, headroom..headroom + piece.len());
        drain(&mut s, &mut got);
    }
    s.finish();
    drain(&mut s, &mut got);
    assert_eq!(got, want, "swap_in");

    // A fixed buffer: lines up to its length - 2 fit, longer ones are too long.
    let mut buf = [0u8; 40];
    let fixed_limit = limit.unwrap_or(usize::MAX).min(38);
    let want = reference(input, fixed_limit, keep);
    let mut s = LineSplitter::new(&mut buf[..]);
    s.set_max_line_length(limit);
    s.keep_endings(keep);
    let mut got = Vec::new();
    for piece in pieces(input, cuts) {
        let mut piece = piece;
        while !piece.is_empty() {
            let n = s.push(piece);
            piece = &piece[n..];
            let before = got.len();
            drain(&mut s, &mut got);
            // Taking the lines (or skipping a long one) always makes room.
            assert!(n > 0 || got.len() > before, "a fixed buffer stalled");
        }
    }
    s.finish();
    drain(&mut s, &mut got);
    assert_eq!(got, want, "fixed buffer");
});
