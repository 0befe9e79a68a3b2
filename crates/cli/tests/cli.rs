//! End-to-end tests of the `aiter` binary.

mod support;

use support::{aiter, stderr_of, stdout_of};

#[test]
fn help_lists_the_subcommands() {
    let assert = aiter().arg("--help").assert().success();
    let out = stdout_of(&assert);
    for sub in ["lines", "query", "completions"] {
        assert!(out.contains(sub), "--help lacks {sub}:\n{out}");
    }
    assert!(
        !out.contains("bench"),
        "the benchmark is aiter-bench now:\n{out}"
    );
}

#[test]
fn version_prints_the_package_version() {
    let assert = aiter().arg("--version").assert().success();
    assert_eq!(
        stdout_of(&assert).trim(),
        format!("aiter {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_subcommand_offers_the_three_runtimes() {
    for sub in ["lines", "query"] {
        let assert = aiter().args([sub, "--help"]).assert().success();
        let out = stdout_of(&assert);
        for rt in ["tokio", "async-std", "smol"] {
            assert!(out.contains(rt), "`{sub} --help` lacks {rt}:\n{out}");
        }
    }
}

#[test]
fn an_unknown_runtime_is_a_usage_error() {
    let assert = aiter()
        .args(["--runtime", "glommio", "lines", "a"])
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("glommio"));
}

#[test]
fn completions_print_a_script_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef aiter"),
        ("fish", "complete -c aiter"),
    ] {
        let assert = aiter().args(["completions", shell]).assert().success();
        let out = stdout_of(&assert);
        assert!(out.contains(marker), "{shell}: no `{marker}`:\n{out}");
        for word in ["lines", "query", "runtime"] {
            assert!(out.contains(word), "{shell}: no {word}");
        }
    }
    aiter().args(["completions", "tcsh"]).assert().code(2);
}
