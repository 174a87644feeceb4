//! Numbers as people read them in labels, legends, notes and pages: `1,180`. The lowest
//! crate that prints counts holds it, so every picture and page writes them alike.

/// 1180 -> "1,180".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1180), "1,180");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
