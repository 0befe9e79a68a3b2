//! Where a file's last `n` lines start, found by reading backwards.

use alloc::vec::Vec;
use std::io;

/// The offset where the last `n` lines of a `len`-byte file start, read
/// backwards from the end in `block`-byte pieces through `read_at(offset,
/// buf)` (a positional read). A last line without a newline counts as a
/// line; `n == 0` gives `len`; fewer than `n` lines give 0.
///
/// The first read is the `len % block` tail, so the later ones are
/// block-aligned. A file that shrinks while it is read makes the scan stop
/// at what is left.
pub(crate) fn last_lines_start(
    len: u64,
    n: u64,
    block: usize,
    mut read_at: impl FnMut(u64, &mut [u8]) -> io::Result<usize>,
) -> io::Result<u64> {
    if n == 0 || len == 0 {
        return Ok(len);
    }
    let block = block.max(1) as u64;
    let mut buf: Vec<u8> = alloc::vec![0; block as usize];
    let mut end = len;
    // Newlines that end a counted line; the file's final newline ends the
    // last line, which counts whether or not it has one.
    let mut found = 0u64;
    while end > 0 {
        let piece = match end % block {
            0 => block,
            rest => rest,
        };
        let start = end - piece;
        let dst = &mut buf[..piece as usize];
        let mut filled = 0;
        while filled < dst.len() {
            match read_at(start + filled as u64, &mut dst[filled..]) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled < dst.len() {
            // Shrunk under us: what is left starts the lines.
            return Ok(0);
        }
        for i in memchr::memrchr_iter(b'\n', dst) {
            let at = start + i as u64;
            if at == len - 1 {
                continue;
            }
            found += 1;
            if found == n {
                return Ok(at + 1);
            }
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious way: the start offsets of every line, the last `n`.
    fn reference(data: &[u8], n: u64) -> u64 {
        let mut starts = alloc::vec![0u64];
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' && i + 1 < data.len() {
                starts.push(i as u64 + 1);
            }
        }
        if data.is_empty() || n == 0 {
            return data.len() as u64;
        }
        let k = starts.len() as u64;
        if n >= k {
            0
        } else {
            starts[(k - n) as usize]
        }
    }

    fn scan(data: &[u8], n: u64, block: usize) -> u64 {
        last_lines_start(data.len() as u64, n, block, |at, buf| {
            let at = at as usize;
            // Short reads too: at most 3 bytes.
            let k = buf.len().min(data.len() - at).min(3);
            buf[..k].copy_from_slice(&data[at..at + k]);
            Ok(k)
        })
        .unwrap()
    }

    #[test]
    fn the_cases_tail_gets_wrong() {
        assert_eq!(scan(b"a\nb\nc\n", 2, 4), 2);
        assert_eq!(
            scan(b"a\nb\nc", 1, 4),
            4,
            "a last line without newline counts"
        );
        assert_eq!(scan(b"a\nb\nc\n", 0, 4), 6, "0: from the end");
        assert_eq!(scan(b"a\nb\n", 9, 4), 0, "fewer lines than asked");
        assert_eq!(
            scan(b"\n\n\n\n", 2, 2),
            2,
            "empty lines, exact block multiple"
        );
        assert_eq!(scan(b"", 3, 4), 0);
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        #[test]
        fn matches_the_reference(
            data in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'x')], 0..64),
            n in 0u64..20,
            block in 1usize..10,
        ) {
            prop_assert_eq!(scan(&data, n, block), reference(&data, n));
        }
    }
}
