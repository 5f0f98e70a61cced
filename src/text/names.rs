//! Names as credential and flag patterns compare them: ASCII case ignored, and `-` and `.`
//! read as `_` (`db-password`, `db.password` and `DB_PASSWORD` are one name).

/// A name byte as patterns compare it.
pub fn fold(b: u8) -> u8 {
    match b {
        b'-' | b'.' => b'_',
        _ => b.to_ascii_uppercase(),
    }
}

pub fn eq_folded(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| fold(*x) == fold(*y))
}

/// Positions of `pattern` in `name`, compared as `fold` reads them.
pub fn find_folded<'a>(name: &'a str, pattern: &'a str) -> impl Iterator<Item = usize> + 'a {
    let (h, p) = (name.as_bytes(), pattern.as_bytes());
    let last = h.len().checked_sub(p.len());
    (0..last.map_or(0, |l| l + 1)).filter(move |&i| eq_folded(&h[i..i + p.len()], p))
}

pub fn ends_with_folded(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && eq_folded(
            &name.as_bytes()[name.len() - suffix.len()..],
            suffix.as_bytes(),
        )
}

/// Whether `pattern` occurs in `name` as whole `_`-separated words; returns where.
pub fn find_words(name: &str, pattern: &str) -> Option<usize> {
    let n = name.as_bytes();
    find_folded(name, pattern).find(|&i| {
        let end = i + pattern.len();
        (i == 0 || fold(n[i - 1]) == b'_') && (end == n.len() || fold(n[end]) == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_comparisons() {
        assert!(eq_folded(b"db-password", b"DB_PASSWORD"));
        assert_eq!(find_folded("vault.token", "TOKEN").next(), Some(6));
        assert!(ends_with_folded("jwt-secret-file", "_FILE"));
        assert_eq!(find_words("ALLOW_INSECURE_DEFAULTS", "INSECURE"), Some(6));
        assert_eq!(find_words("CASINO_AUTH", "NO_AUTH"), None);
        assert_eq!(find_folded("", "X").next(), None);
    }
}
