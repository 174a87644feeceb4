//! A SQL text with positional parameters (`$1`, `$2`, ...). Values from requests only ever
//! enter a query as parameters, typed like the column they are compared with; the text
//! itself is assembled from static pieces and [`crate::Field`] expressions.

use secviz_lake::datafusion::common::ScalarValue;

/// SQL text and its parameter values.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<ScalarValue>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            params: Vec::new(),
        }
    }

    /// Appends static text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn param(&mut self, value: ScalarValue) -> &mut Self {
        self.params.push(value);
        let n = self.params.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }

    /// Appends another fragment, renumbering its placeholders after ours.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.params.len();
        self.text.push_str(&renumber(&other.text, offset));
        self.params.extend(other.params.iter().cloned());
        self
    }
}

/// Shifts every `$n` in `text` by `offset` (placeholders only occur where [`Sql::param`]
/// put them: fragments never contain user text).
fn renumber(text: &str, offset: usize) -> String {
    if offset == 0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '$' {
            let mut digits = String::new();
            while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            match digits.parse::<usize>() {
                Ok(n) => out.push_str(&format!("${}", n + offset)),
                Err(_) => out.push('$'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_renumber_their_placeholders() {
        let mut a = Sql::new("a = ");
        a.param(ScalarValue::Int32(Some(1)));
        let mut b = Sql::new("b IN (");
        b.param(ScalarValue::Int32(Some(2)))
            .push(", ")
            .param(ScalarValue::Int32(Some(3)))
            .push(")");
        a.push(" AND ").append(&b);
        assert_eq!(a.text, "a = $1 AND b IN ($2, $3)");
        assert_eq!(a.params.len(), 3);
    }
}
