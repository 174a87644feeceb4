//! Tokens of the rule language, for both dialects (AfterGlow property values and the native
//! syntax). The lexer knows where a regex literal may start (right after `=~`/`!~`), which is
//! the only context-dependent part of the grammar; everything else is plain tokens with their
//! column, so errors can point at the exact character.

use super::RuleError;

/// One token and the 1-based column where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub col: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `$name`, Perl scalars and hashes (`$fields`, `$sourceCount`, `$sourceName`).
    Var(String),
    Num(f64),
    /// A quoted string; `interpolates` is true for `"..."` holding a `$` or `@`, which Perl
    /// would interpolate and we refuse.
    Str {
        text: String,
        interpolates: bool,
    },
    /// `/re/flags` after `=~` or `!~`.
    Regex {
        pattern: String,
        flags: String,
    },
    /// A dotted-quad, optionally with `/len` (native `in 10.0.0.0/8`).
    Cidr(String),
    Punct(&'static str),
}

const PUNCTS: &[&str] = &[
    "=~", "!~", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ".", ";",
    "<", ">", "!", "=", "+", "-", "*", "/", "?", ":", "`", "@", "%", "&", "|", "^", "~",
];

/// Splits `src` (one rule's value) into tokens. `offset` is the 1-based column of `src[0]`
/// in the line, so columns in errors are the line's columns.
pub fn lex(src: &str, offset: usize, line: usize) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = offset + i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            break; // comment to end of line
        }
        let regex_allowed = matches!(
            out.last(),
            Some(Token {
                kind: Tok::Punct("=~" | "!~"),
                ..
            })
        );
        if c == '/' && regex_allowed {
            let (pattern, end) = delimited(&chars, i + 1, '/')
                .ok_or_else(|| RuleError::new(line, col, "unterminated regular expression"))?;
            let mut j = end + 1;
            let mut flags = String::new();
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                flags.push(chars[j]);
                j += 1;
            }
            out.push(Token {
                kind: Tok::Regex { pattern, flags },
                col,
            });
            i = j;
            continue;
        }
        if c == '"' || c == '\'' {
            let (raw, end) = delimited(&chars, i + 1, c)
                .ok_or_else(|| RuleError::new(line, col, "unterminated string"))?;
            let interpolates = c == '"' && (raw.contains('$') || raw.contains('@'));
            let text = if c == '"' {
                unescape_double(&raw)
            } else {
                raw.replace("\\'", "'").replace("\\\\", "\\")
            };
            out.push(Token {
                kind: Tok::Str { text, interpolates },
                col,
            });
            i = end + 1;
            continue;
        }
        if c == '$' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j == i + 1 {
                return Err(RuleError::new(line, col, "`$` without a variable name"));
            }
            out.push(Token {
                kind: Tok::Var(chars[i + 1..j].iter().collect()),
                col,
            });
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let text: String = chars[i..j].iter().collect();
            let dots = text.matches('.').count();
            if dots == 3 {
                let mut t = text;
                if j < chars.len() && chars[j] == '/' {
                    let mut k = j + 1;
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    t.extend(&chars[j..k]);
                    j = k;
                }
                out.push(Token {
                    kind: Tok::Cidr(t),
                    col,
                });
                i = j;
                continue;
            }
            // `1.` followed by a non-digit is a number then Perl's concatenation dot.
            let (text, j) = if text.ends_with('.') && dots == 1 {
                (text[..text.len() - 1].to_string(), j - 1)
            } else {
                (text, j)
            };
            let n: f64 = text
                .parse()
                .map_err(|_| RuleError::new(line, col, format!("bad number `{text}`")))?;
            out.push(Token {
                kind: Tok::Num(n),
                col,
            });
            i = j;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            out.push(Token {
                kind: Tok::Ident(chars[i..j].iter().collect()),
                col,
            });
            i = j;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Token {
                    kind: Tok::Punct(p),
                    col,
                });
                i += p.chars().count();
            }
            None => {
                return Err(RuleError::new(
                    line,
                    col,
                    format!("unexpected character `{c}`"),
                ));
            }
        }
    }
    Ok(out)
}

/// Reads up to the next unescaped `delim`, keeping escapes as written (regexes need them).
fn delimited(chars: &[char], start: usize, delim: char) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut j = start;
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && j + 1 < chars.len() {
            if chars[j + 1] == delim && delim == '/' {
                s.push('/');
            } else {
                s.push(c);
                s.push(chars[j + 1]);
            }
            j += 2;
            continue;
        }
        if c == delim {
            return Some((s, j));
        }
        s.push(c);
        j += 1;
    }
    None
}

fn unescape_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(o @ ('"' | '\\' | '$' | '@')) => out.push(o),
            // Unknown escapes stay as written, so "^10\." is the regex it looks like.
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s, 1, 1).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn regex_only_after_match_operators() {
        let k = kinds(r#"$fields[0] =~ /^10\./"#);
        assert!(matches!(&k[5], Tok::Regex { pattern, .. } if pattern == r"^10\."));
        let k = kinds("4 / 2");
        assert_eq!(k[1], Tok::Punct("/"));
    }

    #[test]
    fn cidr_and_numbers() {
        assert_eq!(kinds("10.0.0.0/8")[0], Tok::Cidr("10.0.0.0/8".into()));
        assert_eq!(kinds("0.25")[0], Tok::Num(0.25));
    }

    #[test]
    fn interpolation_is_flagged() {
        assert!(matches!(
            &kinds(r#""$x""#)[0],
            Tok::Str {
                interpolates: true,
                ..
            }
        ));
        assert!(matches!(
            &kinds(r#"'$x'"#)[0],
            Tok::Str {
                interpolates: false,
                ..
            }
        ));
    }
}
