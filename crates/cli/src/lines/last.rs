//! `--last N`: where the last N lines of a file start, found by reading
//! backwards from its end (like `tail -n`), and the last N records of a
//! stream that cannot be read backwards.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
#[cfg(test)]
use std::path::Path;

/// Bytes read per step backwards.
const BLOCK: u64 = 64 << 10;

/// The offset where the last `n` lines of `file` (`len` bytes) start: just
/// after the `n`-th `\n` counted back from the end, not counting a `\n`
/// that ends the file (a last line without one counts as a line). Leaves
/// the file positioned there.
///
/// # Errors
/// If reading or seeking fails.
pub(super) fn seek_to_last_lines(file: &mut File, len: u64, n: u64) -> io::Result<u64> {
    let start = start_of_last_lines(file, len, n)?;
    file.seek(SeekFrom::Start(start))?;
    Ok(start)
}

/// [`seek_to_last_lines`] without the seek, reading with positional reads.
fn start_of_last_lines(file: &File, len: u64, n: u64) -> io::Result<u64> {
    if n == 0 {
        return Ok(len);
    }
    let mut buf = vec![0u8; usize::try_from(BLOCK.min(len)).unwrap_or(0)];
    let mut end = len;
    let mut seen = 0u64;
    let mut skip_final = true;
    while end > 0 {
        let from = end.saturating_sub(BLOCK);
        let block = &mut buf[..usize::try_from(end - from).unwrap_or(0)];
        read_exact_at(file, block, from)?;
        let mut search = &block[..];
        if skip_final {
            skip_final = false;
            if search.last() == Some(&b'\n') {
                search = &search[..search.len() - 1];
            }
        }
        for at in memchr::memrchr_iter(b'\n', search) {
            seen += 1;
            if seen == n {
                return Ok(from + at as u64 + 1);
            }
        }
        end = from;
    }
    Ok(0)
}

/// Reads exactly `buf.len()` bytes at `offset`.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Where the last `n` lines of the file at `path` start (0 if it cannot be
/// read now: following reports that itself).
#[cfg(test)]
pub(super) fn start_of_last_lines_at(path: &Path, n: u64) -> u64 {
    File::open(path)
        .and_then(|file| {
            let len = file.metadata()?.len();
            start_of_last_lines(&file, len, n)
        })
        .unwrap_or(0)
}

/// The last `n` output records (each ending in `\n`) of a stream.
#[derive(Debug)]
pub(super) struct LastLines {
    n: usize,
    records: VecDeque<Vec<u8>>,
}

impl LastLines {
    /// Keeps the last `n` records.
    pub(super) fn new(n: u64) -> Self {
        LastLines {
            n: usize::try_from(n).unwrap_or(usize::MAX),
            records: VecDeque::new(),
        }
    }

    /// Takes the records in `out` (leaving it empty), keeping the last `n`.
    pub(super) fn keep(&mut self, out: &mut Vec<u8>) {
        if self.n == 0 {
            out.clear();
            return;
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', out) {
            let record = if self.records.len() == self.n {
                let mut old = self.records.pop_front().unwrap_or_default();
                old.clear();
                old.extend_from_slice(&out[start..=nl]);
                old
            } else {
                out[start..=nl].to_vec()
            };
            self.records.push_back(record);
            start = nl + 1;
        }
        out.clear();
    }

    /// Appends the kept records to `out` (the stream ended).
    pub(super) fn take_into(&mut self, out: &mut Vec<u8>) {
        for record in self.records.drain(..) {
            out.extend_from_slice(&record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(data: &[u8], n: u64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, data).unwrap();
        start_of_last_lines_at(&path, n)
    }

    /// The reference: split into lines as the reader does.
    fn reference(data: &[u8], n: u64) -> u64 {
        let mut starts = vec![0u64];
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' && i + 1 < data.len() {
                starts.push(i as u64 + 1);
            }
        }
        if data.is_empty() {
            starts.clear();
        }
        if n == 0 {
            return data.len() as u64;
        }
        let lines = starts.len() as u64;
        if n >= lines {
            0
        } else {
            starts[usize::try_from(lines - n).unwrap()]
        }
    }

    #[test]
    fn finds_the_start_of_the_last_lines_like_tail() {
        let long: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let inputs: [&[u8]; 8] = [
            b"",
            b"\n",
            b"a",
            b"a\nb",
            b"a\nb\n",
            b"\n\n\n",
            b"x\r\ny\r\n",
            &long,
        ];
        for data in inputs {
            for n in [0, 1, 2, 3, 5, 100_000, 199_999, 200_000, 300_000] {
                assert_eq!(
                    start(data, n),
                    reference(data, n),
                    "{:?} {n}",
                    &data[..data.len().min(20)]
                );
            }
        }
    }

    #[test]
    fn a_stream_keeps_its_last_records() {
        let mut last = LastLines::new(2);
        let mut out = b"a\nb\n".to_vec();
        last.keep(&mut out);
        assert!(out.is_empty());
        out.extend_from_slice(b"c\n");
        last.keep(&mut out);
        last.take_into(&mut out);
        assert_eq!(out, b"b\nc\n");
        let mut none = LastLines::new(0);
        let mut out = b"a\n".to_vec();
        none.keep(&mut out);
        none.take_into(&mut out);
        assert!(out.is_empty());
    }
}
