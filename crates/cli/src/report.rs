//! Messages on stderr: `aiter: MESSAGE`, and an error with its whole
//! `source()` chain, the one way every command prints errors.
//!
//! Library errors keep their cause out of their message and return it from
//! `source()`; [`chain`] puts the two back together (`e: cause: …`), so
//! what users read still names the I/O reason.

use std::error::Error;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};

/// Writes `aiter: MESSAGE` on stderr (ignoring a closed stderr).
pub(crate) fn report(message: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "aiter: {message}");
}

/// Writes `aiter: ERROR: SOURCE: …` (the whole `source()` chain) on stderr.
pub(crate) fn report_error(error: &(dyn Error + 'static)) {
    report(chain(error));
}

/// An error and its sources, `: `-separated. An I/O error reads as
/// [`io_what`] says; a link that says only `db error` (tokio-postgres,
/// which leaves the server's message to its own source) is left out.
pub(crate) fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = link(error);
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = link(cause);
        if cause_text != "db error" {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// What one link of a chain says.
fn link(error: &(dyn Error + 'static)) -> String {
    match error.downcast_ref::<io::Error>() {
        Some(e) => io_what(e),
        None => error.to_string(),
    }
}

/// What an I/O error says: the common causes the way `cat` and `ls` put
/// them, anything else as the OS does. An error carrying its own message
/// says that message.
pub(crate) fn io_what(e: &io::Error) -> String {
    if e.get_ref().is_some() {
        return e.to_string();
    }
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("app.log")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_chain_names_the_io_reason_once() {
        let e = Outer(io::ErrorKind::NotFound.into());
        assert_eq!(chain(&e), "app.log: no such file or directory");
        let e = Outer(io::Error::from_raw_os_error(5));
        assert_eq!(
            chain(&e),
            format!("app.log: {}", io::Error::from_raw_os_error(5))
        );
        // An io::Error wrapping ours says our message, then our source.
        let wrapped = io::Error::new(
            io::ErrorKind::NotFound,
            Outer(io::ErrorKind::NotFound.into()),
        );
        assert_eq!(chain(&wrapped), "app.log: no such file or directory");
    }
}
