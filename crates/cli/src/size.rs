//! Byte sizes on the command line: `268435456`, `256M`, `256MiB`, `64k`, `1G`.

/// Parses a byte count with an optional binary suffix: `K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (case-insensitive, powers of 1024; `KB`/`MB`/`GB` mean the
/// same, as in `dd` and `head -c`), or a plain number of bytes (`B` allowed).
///
/// # Errors
/// A message for clap when the text is empty, not a number, has an unknown
/// suffix, or overflows `u64`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size: expected a number of bytes such as 1048576, 64K, 256M or 1G"
        ));
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => {
            return Err(format!(
                "`{text}`: unknown size suffix `{other}` (use K, M, G or T, powers of 1024)"
            ))
        }
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A maximum line length: a size ([`parse_size`]) of at least one byte.
///
/// # Errors
/// As [`parse_size`], and for zero (every line would be rejected).
pub(crate) fn parse_line_length(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("a line length of 0 would reject every line; give at least 1".to_owned()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_and_binary_suffixes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("8 mb"), Ok(8 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
    }

    #[test]
    fn bad_sizes_are_errors_not_panics() {
        for bad in [
            "",
            "M",
            "-1",
            "1.5M",
            "12Q",
            "99999999999999999999",
            "20000000T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_line_length_is_at_least_one_byte() {
        assert_eq!(parse_line_length("1"), Ok(1));
        assert_eq!(parse_line_length("8M"), Ok(8 << 20));
        assert!(parse_line_length("0").is_err());
        assert!(parse_line_length("0K").is_err());
    }
}
