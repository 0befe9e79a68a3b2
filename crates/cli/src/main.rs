//! The `aiter` command: `lines` (concurrent line reading, `tail -F`),
//! `query` (an SQLite or PostgreSQL cursor) and `completions` (shell completion scripts).
//! The runtime comparison is the separate `aiter-bench` binary.
#![deny(unsafe_code)]

mod lines;
mod query;
mod report;
mod runtime;
mod signals;
mod size;
// The one module with unsafe code: a start-up check in `.init_array`.
#[allow(unsafe_code)]
mod startup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::runtime::RuntimeKind;
use crate::size::parse_line_length;

/// aiter: Python's async-iterator toolkit for Rust, as a command.
///
/// Every subcommand runs the same library code on the runtime picked with
/// `--runtime` (tokio, async-std or smol).
#[derive(Debug, Parser)]
#[command(name = "aiter", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Runtime to run on (before or after the subcommand).
    #[arg(long, global = true, value_enum, default_value_t = RuntimeKind::Tokio)]
    runtime: RuntimeKind,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read files concurrently and print their lines as they arrive (`tail -F` with --follow).
    ///
    /// Inputs are opened when their turn comes (16 at a time), so any number
    /// of files can be given. With several files each line is prefixed with
    /// `FILE:`; lines of one file stay in order, lines of different files
    /// interleave in blocks of whole lines as they are read. Problems go to
    /// stderr as they are found, at most 10 per input, then a count of the rest.
    ///
    /// Exit status: 0 if all went well; 1 if an input could not be read or
    /// had bad lines, or stdout is closed or failed; 2 for a usage error;
    /// 141 (as `cat` in a shell) when the reader of the output pipe goes
    /// away. SIGINT or SIGTERM stop a plain read with 130 or 143, like
    /// `cat`. Under --follow, Ctrl-C is the normal way to stop: everything
    /// read is printed (an unfinished last line of standard input or a FIFO
    /// completed with a newline) and the status is 0 (1 after a bad input).
    /// Stopping takes under a second even when stdout is blocked; output
    /// that cannot be written then is lost and the status is 128 + signal
    /// (1 under --follow).
    Lines(LinesArgs),
    /// Stream the rows of an SQLite or PostgreSQL query through aiter's paged cursor.
    Query(QueryArgs),
    /// Print a shell completion script (`aiter completions bash > /etc/bash_completion.d/aiter`).
    Completions(CompletionsArgs),
}

/// `aiter lines`.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools, reason = "one per flag")]
struct LinesArgs {
    /// Files to read (`-` is standard input; FIFOs and `<(cmd)` work too).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the number of lines per file (`COUNT FILE`, laid out like `wc -l`)
    /// instead of the lines. It counts the lines `aiter lines` reads: unlike
    /// `wc -l`, which counts newline bytes, a last line without a newline
    /// counts too.
    #[arg(short = 'c', long, conflicts_with_all = ["follow", "last"])]
    count: bool,
    /// Prefix each line with `FILE:` (the default with several files).
    #[arg(long, overrides_with = "no_prefix")]
    prefix: bool,
    /// Never prefix lines with their file name.
    #[arg(long, overrides_with = "prefix")]
    no_prefix: bool,
    /// Keep following the files by name, through truncation and rotation
    /// (`tail -F`). Stop with Ctrl-C.
    #[arg(short = 'F', long)]
    follow: bool,
    /// Print only the last N lines of each input (like `tail -n N`); with
    /// --follow, then follow (0: only new lines).
    #[arg(short = 'n', long, value_name = "N")]
    last: Option<u64>,
    /// Poll period of --follow, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    /// Longest line accepted, in bytes (suffixes K, M, G; at least 1); longer
    /// lines are reported as errors.
    #[arg(long, value_name = "BYTES", default_value = "8M", value_parser = parse_line_length)]
    max_line_length: u64,
    /// Replace invalid UTF-8 with U+FFFD instead of reporting it.
    #[arg(long, conflicts_with = "bytes")]
    lossy: bool,
    /// Pass lines through as bytes, untouched (no UTF-8 check; `\r\n` still becomes `\n`).
    #[arg(long)]
    bytes: bool,
}

/// `aiter query`.
#[derive(Debug, Args)]
#[command(after_long_help = query::HELP)]
#[allow(clippy::struct_excessive_bools, reason = "one per flag")]
struct QueryArgs {
    /// SQLite database file, or a PostgreSQL URL (postgresql://…) or key=value string
    /// (with --demo: omit it; a single argument is the SQL).
    #[arg(required_unless_present = "demo")]
    db: Option<PathBuf>,
    /// The query to run.
    #[arg(required_unless_present = "demo")]
    sql: Option<String>,
    /// Create a temporary demo database (a `users` table, 100 000 rows) and query it
    /// (default SQL: `SELECT * FROM users`).
    #[arg(long)]
    demo: bool,
    /// Rows fetched per page.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    page_size: u64,
    /// Print each row as a JSON object per line instead of tab-separated values.
    #[arg(long)]
    json: bool,
    /// Print the column names first (tab-separated output).
    #[arg(long, conflicts_with = "json")]
    header: bool,
    /// Bind VALUE (as text) to the next positional parameter: the first to ?1 / $1, the second to ?2 / $2, ...
    /// (PostgreSQL: typed by the server).
    #[arg(long = "param", value_name = "VALUE", allow_hyphen_values = true)]
    params: Vec<String>,
    /// Print TEXT that is not valid UTF-8 repaired (U+FFFD) instead of reporting its row as an error.
    #[arg(long)]
    lossy: bool,
}

/// `aiter completions`.
#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lines(args) => {
            lines::limit_blocking_pool();
            lines::main(lines::Settings::new(
                args.files,
                lines::Flags {
                    count: args.count,
                    prefix: args.prefix,
                    no_prefix: args.no_prefix,
                    follow: args.follow,
                    last: args.last,
                    interval_ms: args.interval,
                    max_line_length: args.max_line_length,
                    lossy: args.lossy,
                    bytes: args.bytes,
                },
                cli.runtime,
            ))
        }
        Command::Query(args) => {
            let (db, sql) = match query_target(args.demo, args.db, args.sql) {
                Ok(target) => target,
                Err(e) => e.exit(),
            };
            query::main(
                query::Settings {
                    db,
                    sql,
                    params: args.params,
                    page_size: usize::try_from(args.page_size).unwrap_or(usize::MAX),
                    json: args.json,
                    header: args.header,
                    lossy: args.lossy,
                    runtime: cli.runtime,
                },
                args.demo,
            )
        }
        Command::Completions(args) => {
            use clap::CommandFactory;
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "aiter",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
    }
}

/// The database and SQL of `aiter query`: both given, or with `--demo` at
/// most the SQL (a single argument), defaulting to [`query::DEMO_SQL`]; the
/// demo database's path is filled in later.
fn query_target(
    demo: bool,
    db: Option<PathBuf>,
    sql: Option<String>,
) -> Result<(PathBuf, String), clap::Error> {
    use clap::CommandFactory;
    let usage =
        |message: &str| Cli::command().error(clap::error::ErrorKind::ArgumentConflict, message);
    match (demo, db, sql) {
        (false, Some(db), Some(sql)) => Ok((db, sql)),
        (false, _, _) => Err(usage("`aiter query` needs DB and SQL (or --demo)")),
        (true, None, None) => Ok((PathBuf::new(), query::DEMO_SQL.to_owned())),
        (true, Some(sql), None) => match sql.into_os_string().into_string() {
            Ok(sql) => Ok((PathBuf::new(), sql)),
            Err(_) => Err(usage("the SQL is not valid UTF-8")),
        },
        (true, Some(_), Some(_)) | (true, None, Some(_)) => Err(usage(
            "with --demo, give only the SQL (the demo database is made for you)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lines_options_parse() {
        let cli = Cli::try_parse_from([
            "aiter",
            "lines",
            "a.log",
            "b.log",
            "--no-prefix",
            "--interval",
            "100",
            "--max-line-length",
            "1M",
            "--runtime",
            "smol",
        ])
        .unwrap();
        let Command::Lines(args) = cli.command else {
            panic!("not lines")
        };
        assert_eq!(args.files.len(), 2);
        assert!(args.no_prefix && !args.prefix);
        assert_eq!(args.interval, 100);
        assert_eq!(args.max_line_length, 1 << 20);
        assert_eq!(cli.runtime, RuntimeKind::Smol);
    }

    #[test]
    fn the_default_line_limit_is_the_readers() {
        let cli = Cli::try_parse_from(["aiter", "lines", "a"]).unwrap();
        let Command::Lines(args) = cli.command else {
            panic!("not lines")
        };
        assert_eq!(
            args.max_line_length,
            aiter::lines::DEFAULT_MAX_LINE_LENGTH as u64
        );
    }

    #[test]
    fn prefix_flags_override_each_other_last_wins() {
        let cli = Cli::try_parse_from(["aiter", "lines", "a", "--no-prefix", "--prefix"]).unwrap();
        let Command::Lines(args) = cli.command else {
            panic!("not lines")
        };
        assert!(args.prefix && !args.no_prefix);
    }

    #[test]
    fn count_and_follow_conflict() {
        assert!(Cli::try_parse_from(["aiter", "lines", "a", "--count", "--follow"]).is_err());
        assert!(Cli::try_parse_from(["aiter", "lines", "a", "-c", "-n", "3"]).is_err());
    }

    #[test]
    fn short_flags_and_last() {
        let cli = Cli::try_parse_from(["aiter", "lines", "a", "-F", "-n", "5"]).unwrap();
        let Command::Lines(args) = cli.command else {
            panic!("not lines")
        };
        assert!(args.follow && !args.count);
        assert_eq!(args.last, Some(5));
        let cli = Cli::try_parse_from(["aiter", "lines", "a", "-c"]).unwrap();
        let Command::Lines(args) = cli.command else {
            panic!("not lines")
        };
        assert!(args.count);
    }

    #[test]
    fn a_zero_line_length_is_a_usage_error() {
        let e = Cli::try_parse_from(["aiter", "lines", "a", "--max-line-length", "0"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    fn target(args: &[&str]) -> Result<(PathBuf, String), clap::Error> {
        let cli = Cli::try_parse_from(args)?;
        let Command::Query(args) = cli.command else {
            panic!("not query")
        };
        query_target(args.demo, args.db, args.sql)
    }

    #[test]
    fn query_needs_db_and_sql_or_demo() {
        assert!(Cli::try_parse_from(["aiter", "query"]).is_err());
        assert!(Cli::try_parse_from(["aiter", "query", "x.db"]).is_err());
        assert!(target(&["aiter", "query", "--demo", "x.db", "select 1"]).is_err());
        assert_eq!(
            target(&["aiter", "query", "--demo"]).unwrap().1,
            query::DEMO_SQL
        );
        assert_eq!(
            target(&["aiter", "query", "--demo", "SELECT 1"]).unwrap().1,
            "SELECT 1"
        );
        assert_eq!(
            target(&["aiter", "query", "x.db", "SELECT 2"]).unwrap(),
            (PathBuf::from("x.db"), "SELECT 2".to_owned())
        );
        let cli = Cli::try_parse_from(["aiter", "query", "x.db", "select 1", "--json"]).unwrap();
        let Command::Query(args) = cli.command else {
            panic!("not query")
        };
        assert_eq!(args.page_size, 1000);
        assert_eq!(cli.runtime, RuntimeKind::Tokio);
        assert!(args.params.is_empty() && !args.lossy);
    }

    #[test]
    fn query_params_repeat_in_order_and_may_look_like_options() {
        let cli = Cli::try_parse_from([
            "aiter",
            "query",
            "x.db",
            "SELECT ?1, ?2",
            "--param",
            "a",
            "--param",
            "-5",
            "--lossy",
        ])
        .unwrap();
        let Command::Query(args) = cli.command else {
            panic!("not query")
        };
        assert_eq!(args.params, ["a", "-5"]);
        assert!(args.lossy);
    }

    #[test]
    fn runtime_is_global_before_or_after_the_subcommand() {
        for args in [
            &["aiter", "--runtime", "smol", "lines", "a"][..],
            &["aiter", "lines", "a", "--runtime", "smol"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.runtime, RuntimeKind::Smol, "{args:?}");
        }
        let cli = Cli::try_parse_from(["aiter", "query", "--demo"]).unwrap();
        assert_eq!(cli.runtime, RuntimeKind::Tokio);
    }

    #[test]
    fn completions_parse_the_three_shells() {
        for shell in ["bash", "zsh", "fish"] {
            let cli = Cli::try_parse_from(["aiter", "completions", shell]).unwrap();
            assert!(matches!(cli.command, Command::Completions(_)), "{shell}");
        }
        assert!(Cli::try_parse_from(["aiter", "completions", "tcsh"]).is_err());
    }
}
