//! What the process was handed at start, before the Rust runtime changed it.
//!
//! The Rust runtime reopens a standard descriptor that was closed at start
//! as `/dev/null`, so by the time `main` runs, `aiter lines f >&-` looks like
//! `aiter lines f >/dev/null` and every write would vanish without an error.
//! `cat` exits 1 there. On Linux a function in `.init_array` runs before the
//! runtime's start-up (glibc calls it with `argc`, `argv` and `envp`, as it
//! calls every constructor) and records whether descriptor 1 was open; a
//! `/dev/null` handed over on purpose (a shell's `>/dev/null`, Python's
//! `subprocess.DEVNULL`) stays a valid output.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set before `main` when descriptor 1 was closed at start.
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Whether standard output was closed when the process started (always
/// `false` where the start-up check does not exist: outside Linux).
pub(crate) fn stdout_closed_at_start() -> bool {
    STDOUT_CLOSED_AT_START.load(Ordering::Relaxed)
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CHECK_STDOUT_AT_START: extern "C" fn(
    std::ffi::c_int,
    *const *const std::ffi::c_char,
    *const *const std::ffi::c_char,
) = check_stdout_at_start;

#[cfg(target_os = "linux")]
extern "C" fn check_stdout_at_start(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
    _envp: *const *const std::ffi::c_char,
) {
    // SAFETY: `fcntl(F_GETFD)` only reads descriptor 1's flags; on a closed
    // descriptor it fails with EBADF and changes nothing. No Rust object
    // owns or borrows descriptor 1 yet (this runs before `main`).
    let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
    STDOUT_CLOSED_AT_START.store(closed, Ordering::Relaxed);
}
