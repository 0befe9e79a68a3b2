//! Standard output of `aiter lines`, written by a thread of its own.
//!
//! The async side hands over whole buffers of records through a bounded
//! channel and waits for room asynchronously, so a blocked stdout (a pipe
//! nobody reads) never blocks the task that watches for signals. Written
//! buffers come back for reuse, so steady output allocates nothing.

use std::io::{self, Write};
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::mpsc;
use futures::Sink;

/// Buffers waiting for the writer thread (besides the one it writes).
const QUEUED: usize = 2;

/// How the output ended.
#[derive(Debug)]
pub(super) enum Written {
    /// Everything handed over was written.
    All,
    /// The reader of the pipe went away (`aiter lines big.log | head`).
    Closed,
    /// Writing failed (a full disk, a closed descriptor).
    Failed(io::Error),
    /// The writer was still blocked when the time was up.
    Blocked,
}

/// The handle the async side writes through.
#[derive(Debug)]
pub(super) struct Writer {
    send: mpsc::Sender<Vec<u8>>,
    last: std_mpsc::Sender<Vec<u8>>,
    spare: std_mpsc::Receiver<Vec<u8>>,
    done: std_mpsc::Receiver<Written>,
}

/// Starts the writer thread on a duplicate of the standard output descriptor.
///
/// # Errors
/// If standard output is closed (including when the process started with
/// it closed and the Rust runtime put `/dev/null` in its place), or the
/// thread cannot be started.
pub(super) fn start() -> io::Result<Writer> {
    let file = stdout_file()?;
    let (send, queue) = mpsc::channel::<Vec<u8>>(QUEUED);
    let (give_back, spare) = std_mpsc::channel();
    let (finished, done) = std_mpsc::channel();
    let (last, last_buffer) = std_mpsc::channel::<Vec<u8>>();
    std::thread::Builder::new()
        .name("aiter-stdout".into())
        .spawn(move || {
            let mut file = file;
            let mut outcome = Written::All;
            let queued = futures::executor::block_on_stream(queue);
            // The queue ends when the sender is dropped; the last buffer
            // (if any) was sent before that.
            for mut buf in queued.chain(std::iter::from_fn(|| last_buffer.try_recv().ok())) {
                if let Err(e) = file.write_all(&buf) {
                    outcome = if e.kind() == io::ErrorKind::BrokenPipe {
                        Written::Closed
                    } else {
                        Written::Failed(e)
                    };
                    break;
                }
                buf.clear();
                let _ = give_back.send(buf);
            }
            let _ = finished.send(outcome);
        })?;
    Ok(Writer {
        send,
        last,
        spare,
        done,
    })
}

/// Standard output as a file of its own (writes bypass `std`'s line
/// buffer and its lock).
#[cfg(unix)]
pub(super) fn stdout_file() -> io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "standard output is closed");
    let fd = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|_| closed())?;
    // The Rust runtime reopens a descriptor 1 that was closed at start as
    // `/dev/null`: writes would vanish without an error, so say it is closed.
    if crate::startup::stdout_closed_at_start() {
        return Err(closed());
    }
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
pub fn stdout_file() -> io::Result<std::fs::File> {
    use std::os::windows::io::AsHandle;
    let handle = io::stdout().as_handle().try_clone_to_owned()?;
    Ok(std::fs::File::from(handle))
}

impl Writer {
    /// An empty buffer for records (a written one when there is one).
    pub(super) fn buffer(&self) -> Vec<u8> {
        self.spare.try_recv().unwrap_or_default()
    }

    /// `Ready(true)` when a buffer can be handed over now, `Ready(false)`
    /// when the writer stopped (see [`finish`](Self::finish) for why);
    /// `Pending` (waker registered) while the queue is full.
    pub(super) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        Pin::new(&mut self.send).poll_ready(cx).map(|r| r.is_ok())
    }

    /// Hands `buf` over; call only after [`poll_ready`](Self::poll_ready)
    /// said `Ready(true)`. Returns `false` if the writer stopped.
    pub(super) fn start_send(&mut self, buf: Vec<u8>) -> bool {
        Pin::new(&mut self.send).start_send(buf).is_ok()
    }

    /// Ends the output with `last` (which needs no room in the queue):
    /// waits (at most `limit`, if given) until everything handed over is
    /// written.
    pub(super) fn finish(self, last: Vec<u8>, limit: Option<Duration>) -> Written {
        if !last.is_empty() {
            let _ = self.last.send(last);
        }
        drop(self.send);
        match limit {
            None => self.done.recv().unwrap_or(Written::All),
            Some(limit) => match self.done.recv_timeout(limit) {
                Ok(written) => written,
                Err(std_mpsc::RecvTimeoutError::Timeout) => Written::Blocked,
                Err(std_mpsc::RecvTimeoutError::Disconnected) => Written::All,
            },
        }
    }
}
