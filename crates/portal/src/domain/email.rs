//! Email addresses: a pragmatic allowlist (one `@`, a dotted domain, no spaces, quotes, angle
//! brackets or control characters) that also keeps addresses harmless in mail headers.

use super::{Invalid, invalid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 {
            return invalid("Enter an email address.");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return invalid("An email address looks like name@example.org.");
        };
        let bad = |c: char| c.is_control() || c.is_whitespace() || "<>()[]\\,;:\"@".contains(c);
        if local.is_empty() || local.len() > 64 || local.chars().any(bad) {
            return invalid("An email address looks like name@example.org.");
        }
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
        if !domain.contains('.') || !labels_ok {
            return invalid("An email address looks like name@example.org.");
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            Email::parse("Ana@Example.ORG").unwrap().as_str(),
            "Ana@example.org"
        );
        assert!(Email::parse("a.b+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn refuses_header_injection_and_junk() {
        for bad in [
            "a@b",
            "@x.org",
            "a b@x.org",
            "a@x.org\r\nBcc: y@z.org",
            "<a@x.org>",
            "a@-x.org",
            "",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn parsed_addresses_have_no_control_or_space(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(!e.as_str().chars().any(|c| c.is_control() || c.is_whitespace()));
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
            }
        }
    }
}
