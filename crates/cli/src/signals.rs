//! Ctrl-C and SIGTERM as a future, on any runtime.
//!
//! A watcher thread (`signal-hook`'s self-pipe iterator) waits for SIGINT or
//! SIGTERM and completes a `futures` oneshot, which any executor can await:
//! no runtime's signal driver (tokio's needs its reactor, async-std and smol
//! have none) is involved, so `--runtime` changes nothing here. The command
//! then stops reading, flushes its output and exits.
//!
//! Stopping is bounded: if the process is still running [`GRACE`] after
//! the signal (its output blocked on a pipe nobody reads), the watcher
//! exits it with `128 + signal`, as the default action would; a second
//! signal does so at once.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::oneshot;
use signal_hook::consts::{SIGINT, SIGTERM};

/// Completes with the signal number when SIGINT or SIGTERM arrives.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub(crate) struct Interrupted {
    received: oneshot::Receiver<i32>,
}

/// How long after SIGINT/SIGTERM the process may take to stop.
pub(crate) const GRACE: Duration = Duration::from_millis(900);

/// Starts watching for SIGINT and SIGTERM; from now on they no longer kill
/// the process, they complete the returned future.
///
/// # Errors
/// If the handlers cannot be installed or the watcher thread not started.
pub(crate) fn watch() -> io::Result<Interrupted> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let (tell, received) = oneshot::channel();
    std::thread::Builder::new()
        .name("aiter-signals".into())
        .spawn(move || {
            let mut tell = Some(tell);
            for signal in signals.forever() {
                match tell.take() {
                    // The receiver may be gone (the command is finishing): fine.
                    Some(tell) => {
                        let _ = tell.send(signal);
                        // If this thread cannot be started, the second signal still works.
                        let _ = std::thread::Builder::new()
                            .name("aiter-deadline".into())
                            .spawn(move || {
                                std::thread::sleep(GRACE);
                                std::process::exit(128 + signal);
                            });
                    }
                    None => std::process::exit(128 + signal),
                }
            }
        })?;
    Ok(Interrupted { received })
}

impl Future for Interrupted {
    type Output = i32;

    /// `Ready(signal)` once a signal arrived; `Pending` (waker registered)
    /// until then, and forever if the watcher thread is gone.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i32> {
        match Pin::new(&mut self.received).poll(cx) {
            Poll::Ready(Ok(signal)) => Poll::Ready(signal),
            Poll::Ready(Err(oneshot::Canceled)) | Poll::Pending => Poll::Pending,
        }
    }
}
