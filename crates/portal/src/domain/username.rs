//! Member names: 3–32 characters from `a-z 0-9 _ -`, starting with a letter or digit, stored
//! lowercase so `Alice` and `alice` are one account and names are safe in URLs and logs.

use super::{Invalid, invalid};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, Invalid> {
        let name = raw.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if !(3..=32).contains(&len) {
            return invalid("A username has 3 to 32 characters.");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return invalid("A username uses only letters a–z, digits, '_' and '-'.");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return invalid("A username starts with a letter or a digit.");
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
    }

    #[test]
    fn refuses_markup_and_control_characters() {
        for bad in [
            "<script>",
            "ab",
            "a\r\nb",
            "-lead",
            "x".repeat(33).as_str(),
            "a b c",
            "ünï",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn parsed_names_are_url_and_html_safe(s in "\\PC{0,40}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert!(u.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
                prop_assert!((3..=32).contains(&u.as_str().len()));
            }
        }
    }
}
