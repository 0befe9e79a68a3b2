//! Helpers the `aiter` binary's end-to-end tests share.
#![allow(dead_code)]

use assert_cmd::assert::Assert;
use assert_cmd::Command;

/// The built `aiter` binary, ready to take arguments.
pub(crate) fn aiter() -> Command {
    Command::cargo_bin("aiter").expect("the aiter binary is built")
}

/// What a finished run wrote on stdout (lossily as text).
pub(crate) fn stdout_of(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

/// What a finished run wrote on stderr (lossily as text).
pub(crate) fn stderr_of(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}
