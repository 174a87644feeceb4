//! Passwords: at least 12 characters, up to 256 (so passphrases fit), no composition rules,
//! refused when common (a local list, offline) or when they contain the username. The value
//! never prints: `Debug` shows `Password(***)`.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::{Invalid, invalid};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks a new password. `username` is refused as part of it.
    pub fn parse_new(raw: &str, username: Option<&str>) -> Result<Password, Invalid> {
        let n = raw.chars().count();
        if n < MIN_CHARS {
            return invalid(format!(
                "A password has at least {MIN_CHARS} characters; a few words make a good one."
            ));
        }
        if n > MAX_CHARS {
            return invalid(format!("A password has at most {MAX_CHARS} characters."));
        }
        if is_common(raw) {
            return invalid(
                "This password is too common; choose another (a few unrelated words work well).",
            );
        }
        if let Some(u) = username
            && u.len() >= 3
            && raw.to_lowercase().contains(&u.to_lowercase())
        {
            return invalid("A password may not contain your username.");
        }
        Ok(Password(raw.to_string()))
    }

    /// Wraps a password typed to log in or re-authenticate (not checked: it is compared).
    pub fn typed(raw: &str) -> Password {
        Password(raw.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// True for listed passwords, listed stems followed by digits or punctuation, one repeated
/// character, and runs of a keyboard or digit sequence.
pub fn is_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return true;
    }
    let stem = lower
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    if stem.is_empty() || COMMON.contains(stem) {
        return true;
    }
    let first = lower.chars().next();
    if lower.chars().all(|c| Some(c) == first) {
        return true;
    }
    const RUNS: [&str; 5] = [
        "0123456789012345678901234567890123456789",
        "9876543210987654321098765432109876543210",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnm",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    ];
    RUNS.iter().any(|run| run.contains(lower.as_str())) || is_short_repeat(&lower)
}

/// "abcabcabcabc", "passpasspass": a chunk of at most 4 characters repeated.
fn is_short_repeat(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (1..=4).any(|p| chars.len() > p && chars.iter().enumerate().all(|(i, c)| *c == chars[i % p]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_without_composition_rules() {
        assert!(Password::parse_new("elevenchars", None).is_err());
        assert!(Password::parse_new("twelve chars", None).is_ok());
        assert!(Password::parse_new(&"horse battery ".repeat(10)[..128], None).is_ok());
        assert!(Password::parse_new(&"x y".repeat(100), None).is_err());
    }

    #[test]
    fn common_passwords_are_refused() {
        for p in [
            "password1234",
            "Password1234!",
            "123456789012",
            "qwertyuiopas",
            "aaaaaaaaaaaa",
            "abcabcabcabc",
            "letmein12345",
        ] {
            assert!(Password::parse_new(p, None).is_err(), "{p} accepted");
        }
    }

    #[test]
    fn username_inside_is_refused() {
        assert!(Password::parse_new("my name is alice!", Some("alice")).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(
            format!("{:?}", Password::typed("hunter2hunter2")),
            "Password(***)"
        );
    }
}
