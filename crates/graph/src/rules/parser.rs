//! Expression parser for both dialects.
//!
//! AfterGlow values are Perl expressions; we accept their common subset (`"v" if (cond)`,
//! `=~`, `!~`, `==`, `<`, `eq`, `&&`, `||`, `!`, `.`, `$fields[n]`, `$sourceCount{$sourceName}`,
//! `subnet()`, `regex_replace()`, `field()`, `match()`, `get_severity()`) and refuse everything
//! else by name. The native dialect reads `value when cond`, `and`/`or`/`not`, `~`, `in`,
//! column names and the secviz built-ins. Both produce the same [`Expr`].

use regex::{Regex, RegexBuilder};

use super::ast::{ArithOp, CmpOp, Expr, Func, Role, Stat};
use super::lexer::{Tok, Token};
use super::{Columns, RuleError};

/// Which grammar a rule's value is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    AfterGlow,
    Native,
}

/// Regexes from rule files are compiled with this size limit, so a hostile rule cannot make
/// the compiled automaton huge. Matching is linear-time whatever the pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Deepest nesting of parentheses, `!`/`not` and function arguments in one rule. The
/// parser and the evaluator recurse over it, and rules come from strangers: 64 levels is
/// far more than any rule needs and far less than a thread's stack allows.
pub const MAX_DEPTH: usize = 64;

/// Most values (names, literals, calls) in one rule; long chains of `||` or `.` nest one
/// level per term when evaluated.
pub const MAX_VALUES: usize = 2_000;

pub(crate) struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    line: usize,
    end_col: usize,
    dialect: Dialect,
    columns: &'a Columns,
    depth: usize,
    values: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(
        toks: Vec<Token>,
        line: usize,
        end_col: usize,
        dialect: Dialect,
        columns: &'a Columns,
    ) -> Self {
        Parser {
            toks,
            pos: 0,
            line,
            end_col,
            dialect,
            columns,
            depth: 0,
            values: 0,
        }
    }

    /// Enters one level of nesting, refusing past [`MAX_DEPTH`].
    fn deeper(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(
                self.col(),
                format!("the rule nests more than {MAX_DEPTH} levels deep: simplify it"),
            );
        }
        Ok(())
    }

    fn err<T>(&self, col: usize, msg: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError::new(self.line, col, msg))
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_col, |t| t.col)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.kind.clone());
        self.pos += 1;
        t
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_ident(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), RuleError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            self.err(self.col(), format!("expected `{p}`"))
        }
    }

    /// `value [if cond]` (AfterGlow) or `value [when cond]` (native); then end of input.
    /// Returns the value, the condition and the column where the condition starts.
    pub(crate) fn statement(&mut self) -> Result<(Expr, Option<Expr>, usize), RuleError> {
        let value = self.expr()?;
        let keyword = match self.dialect {
            Dialect::AfterGlow => self.eat_ident("if"),
            Dialect::Native => self.eat_ident("when") || self.eat_ident("if"),
        };
        let cond_col = self.col();
        let cond = if keyword { Some(self.expr()?) } else { None };
        while self.eat_punct(";") {}
        if self.pos < self.toks.len() {
            let col = self.col();
            let what = describe(&self.toks[self.pos].kind);
            return self.err(col, format!("unsupported construct {what}"));
        }
        Ok((value, cond, cond_col))
    }

    pub(crate) fn expr(&mut self) -> Result<Expr, RuleError> {
        self.deeper()?;
        let e = self.or_chain();
        self.depth -= 1;
        e
    }

    fn or_chain(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        loop {
            let or =
                self.eat_punct("||") || (self.dialect == Dialect::Native && self.eat_ident("or"));
            if !or {
                return Ok(left);
            }
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.not()?;
        loop {
            let and =
                self.eat_punct("&&") || (self.dialect == Dialect::Native && self.eat_ident("and"));
            if !and {
                return Ok(left);
            }
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.eat_punct("!") || (self.dialect == Dialect::Native && self.eat_ident("not")) {
            self.deeper()?;
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, RuleError> {
        let left = self.concat()?;
        let col = self.col();
        let op = match self.peek() {
            Some(Tok::Punct(p)) => *p,
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" | "ne" | "lt" | "gt" if self.dialect == Dialect::AfterGlow => {
                    let w = w.clone();
                    self.pos += 1;
                    if w == "lt" || w == "gt" {
                        return self.err(col, format!("unsupported construct `{w}`"));
                    }
                    let right = self.concat()?;
                    let op = if w == "eq" { CmpOp::Eq } else { CmpOp::Ne };
                    return Ok(Expr::StrCmp(op, Box::new(left), Box::new(right)));
                }
                "in" if self.dialect == Dialect::Native => {
                    self.pos += 1;
                    return self.in_rhs(left, false);
                }
                "not" if self.dialect == Dialect::Native => {
                    if matches!(self.toks.get(self.pos + 1).map(|t| &t.kind), Some(Tok::Ident(w)) if w == "in")
                    {
                        self.pos += 2;
                        return self.in_rhs(left, true);
                    }
                    return Ok(left);
                }
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        match op {
            "=~" | "!~" => {
                self.pos += 1;
                let re = self.regex_operand()?;
                Ok(Expr::Match {
                    subject: Box::new(left),
                    re,
                    negate: op == "!~",
                })
            }
            "~" if self.dialect == Dialect::Native => {
                self.pos += 1;
                let re = self.regex_operand()?;
                Ok(Expr::Match {
                    subject: Box::new(left),
                    re,
                    negate: false,
                })
            }
            "==" | "!=" | "<" | "<=" | ">" | ">=" => {
                self.pos += 1;
                let right = self.concat()?;
                let cmp = match op {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                // Native `==`/`!=` compare as numbers when both sides are numbers, as text
                // otherwise; Perl's `==` is always numeric.
                if self.dialect == Dialect::Native && matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                    Ok(Expr::StrCmp(cmp, Box::new(left), Box::new(right)))
                } else {
                    Ok(Expr::Cmp(cmp, Box::new(left), Box::new(right)))
                }
            }
            "=" => self.err(col, "unsupported construct assignment `=`"),
            _ => Ok(left),
        }
    }

    fn in_rhs(&mut self, left: Expr, negate: bool) -> Result<Expr, RuleError> {
        let col = self.col();
        let e = match self.next() {
            Some(Tok::Cidr(c)) => Expr::Call(Func::Subnet, vec![left, Expr::Str(cidr(&c))]),
            Some(Tok::Str { text, .. }) => Expr::Call(Func::Subnet, vec![left, Expr::Str(text)]),
            Some(Tok::Punct("[")) => {
                let mut items = Vec::new();
                if !self.eat_punct("]") {
                    loop {
                        items.push(self.concat()?);
                        if self.eat_punct("]") {
                            break;
                        }
                        self.expect_punct(",")?;
                    }
                }
                Expr::InList(Box::new(left), items)
            }
            _ => {
                return self.err(
                    col,
                    "expected a CIDR (10.0.0.0/8) or a list [a, b] after `in`",
                );
            }
        };
        Ok(if negate { Expr::Not(Box::new(e)) } else { e })
    }

    fn regex_operand(&mut self) -> Result<Regex, RuleError> {
        let col = self.col();
        match self.next() {
            Some(Tok::Regex { pattern, flags }) => self.compile(&pattern, &flags, col),
            Some(Tok::Str { text, .. }) if self.dialect == Dialect::Native => {
                self.compile(&text, "", col)
            }
            Some(Tok::Ident(m)) if m == "m" || m == "s" || m == "tr" || m == "y" => self.err(
                col,
                format!("unsupported construct `{m}` operator; write /regex/"),
            ),
            _ => self.err(col, "expected a regular expression /.../"),
        }
    }

    fn compile(&self, pattern: &str, flags: &str, col: usize) -> Result<Regex, RuleError> {
        let mut b = RegexBuilder::new(pattern);
        b.size_limit(REGEX_SIZE_LIMIT);
        for f in flags.chars() {
            match f {
                'i' => b.case_insensitive(true),
                'x' => b.ignore_whitespace(true),
                's' => b.dot_matches_new_line(true),
                'm' => b.multi_line(true),
                _ => return self.err(col, format!("unsupported construct regex flag `{f}`")),
            };
        }
        b.build().map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().last().unwrap_or("invalid").trim().to_string();
            RuleError::new(
                self.line,
                col,
                format!("regular expression `{pattern}` is not supported: {first}"),
            )
        })
    }

    /// Perl's additive level: `+`, `-` and (AfterGlow) the concatenation `.`, left to right.
    fn concat(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat_punct("+") {
                Some(ArithOp::Add)
            } else if self.eat_punct("-") {
                Some(ArithOp::Sub)
            } else if self.dialect == Dialect::AfterGlow && self.eat_punct(".") {
                None
            } else {
                return Ok(left);
            };
            let right = self.term()?;
            left = match op {
                Some(op) => Expr::Arith(op, Box::new(left), Box::new(right)),
                None => Expr::Concat(Box::new(left), Box::new(right)),
            };
        }
    }

    /// `*` and `/`, binding tighter than `+`, `-` and `.`.
    fn term(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.primary()?;
        loop {
            let op = if self.eat_punct("*") {
                ArithOp::Mul
            } else if self.eat_punct("/") {
                ArithOp::Div
            } else {
                return Ok(left);
            };
            let right = self.primary()?;
            left = Expr::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let col = self.col();
        self.values += 1;
        if self.values > MAX_VALUES {
            return self.err(
                col,
                format!("the rule has more than {MAX_VALUES} values: simplify it"),
            );
        }
        let tok = match self.next() {
            Some(t) => t,
            None => return self.err(col, "expected a value"),
        };
        match tok {
            Tok::Str { text, interpolates } => {
                if interpolates && self.dialect == Dialect::AfterGlow {
                    return self.err(
                        col,
                        "unsupported construct variable interpolation in a double-quoted string; \
                         use single quotes or concatenate with `.`",
                    );
                }
                Ok(Expr::Str(text))
            }
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Cidr(c) => Ok(Expr::Str(c)),
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Punct("-") => match self.next() {
                Some(Tok::Num(n)) => Ok(Expr::Num(-n)),
                _ => self.err(col, "unsupported construct arithmetic `-`"),
            },
            Tok::Var(name) => self.variable(&name, col),
            Tok::Ident(name) => {
                if self.eat_punct("(") {
                    let args = self.args()?;
                    return self.call(&name, args, col);
                }
                self.word(&name, col)
            }
            other => self.err(col, format!("unsupported construct {}", describe(&other))),
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, RuleError> {
        let mut args = Vec::new();
        if self.eat_punct(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat_punct(")") {
                return Ok(args);
            }
            self.expect_punct(",")?;
        }
    }

    /// Perl variables: only `$fields[n]` and the count hashes are part of the subset; native
    /// rules may write `$n` for the n-th column.
    fn variable(&mut self, name: &str, col: usize) -> Result<Expr, RuleError> {
        if self.dialect == Dialect::Native {
            return match name.parse::<usize>() {
                Ok(i) => Ok(Expr::Field(i)),
                Err(_) => self.err(
                    col,
                    format!("unknown variable `${name}`; write $0, $1, ..."),
                ),
            };
        }
        if name == "fields" {
            self.expect_punct("[")?;
            let icol = self.col();
            let idx = match self.next() {
                Some(Tok::Num(n)) if n >= 0.0 && n.fract() == 0.0 => n as usize,
                _ => {
                    return self.err(
                        icol,
                        "unsupported construct: $fields[] takes a literal index",
                    );
                }
            };
            self.expect_punct("]")?;
            return Ok(Expr::Field(idx));
        }
        let count_role = match name {
            "sourceCount" => Some(Role::Source),
            "eventCount" => Some(Role::Event),
            "targetCount" => Some(Role::Target),
            _ => None,
        };
        if let Some(role) = count_role {
            self.expect_punct("{")?;
            let kcol = self.col();
            let key = match self.next() {
                Some(Tok::Var(k)) => match k.as_str() {
                    "sourceName" => Role::Source,
                    "eventName" => Role::Event,
                    "targetName" => Role::Target,
                    _ => return self.err(kcol, format!("unsupported construct hash key `${k}`")),
                },
                _ => return self.err(kcol, "expected $sourceName, $eventName or $targetName"),
            };
            self.expect_punct("}")?;
            return Ok(Expr::CountOf { role, key });
        }
        self.err(
            col,
            format!("unsupported construct Perl variable `${name}`"),
        )
    }

    fn word(&mut self, name: &str, col: usize) -> Result<Expr, RuleError> {
        if self.dialect == Dialect::AfterGlow {
            // A bareword is a string in Perl without `strict` (`color=red`).
            if [
                "if", "unless", "eq", "ne", "and", "or", "not", "my", "sub", "do", "eval",
            ]
            .contains(&name)
            {
                return self.err(col, format!("unsupported construct `{name}`"));
            }
            return Ok(Expr::Str(name.to_string()));
        }
        Ok(match name {
            "value" => Expr::Value,
            "count" => Expr::Stat(Stat::Count),
            "degree" => Expr::Stat(Stat::Degree),
            "fanout" => Expr::Stat(Stat::FanOut),
            "fanin" => Expr::Stat(Stat::FanIn),
            "true" => Expr::Num(1.0),
            "false" => Expr::Num(0.0),
            _ => match self.columns.index(name) {
                Some(i) => Expr::Field(i),
                None => {
                    return self.err(
                        col,
                        format!(
                            "unknown name `{name}`: not a column ({}) nor a built-in value \
                             (value, count, degree, fanout, fanin); quote text as \"{name}\"",
                            self.columns.names().join(", ")
                        ),
                    );
                }
            },
        })
    }

    fn call(&mut self, name: &str, args: Vec<Expr>, col: usize) -> Result<Expr, RuleError> {
        let ag = self.dialect == Dialect::AfterGlow;
        let (func, arity): (Func, &[usize]) = match name {
            "subnet" => (Func::Subnet, &[2]),
            "regex_replace" if ag => (Func::RegexReplace, &[1]),
            "capture" if !ag => (Func::RegexReplace, &[2]),
            "match" => (Func::Match, &[1]),
            "field" if ag => {
                if !args.is_empty() {
                    return self.err(col, "field() takes no arguments");
                }
                return Ok(Expr::Value);
            }
            "field" => {
                // native field("name") or field(3)
                return match args.as_slice() {
                    [Expr::Num(n)] if *n >= 0.0 => Ok(Expr::Field(*n as usize)),
                    [Expr::Str(s)] => match self.columns.index(s) {
                        Some(i) => Ok(Expr::Field(i)),
                        None => self.err(col, format!("unknown column `{s}`")),
                    },
                    _ => self.err(col, "field() takes a column name or a position"),
                };
            }
            "get_severity" => (Func::GetSeverity, &[1, 2]),
            "severity" if !ag => (Func::Severity, &[1, 2]),
            "palette" if !ag => (Func::Palette, &[1]),
            "port_class" if !ag => (Func::PortClass, &[1]),
            "cidr" if !ag => (Func::Cidr, &[2]),
            "concat" if !ag => (Func::Concat, &[]),
            "lower" if !ag => (Func::Lower, &[1]),
            "upper" if !ag => (Func::Upper, &[1]),
            "sum" if !ag => (Func::Sum, &[1]),
            _ => return self.err(col, format!("unsupported construct function `{name}()`")),
        };
        if !arity.is_empty() && !arity.contains(&args.len()) {
            return self.err(
                col,
                format!(
                    "{name}() takes {} argument(s), got {}",
                    arity[0],
                    args.len()
                ),
            );
        }
        // Regex arguments are compiled now, so errors point at the rule, not at run time.
        if matches!(func, Func::Match | Func::RegexReplace) {
            let mut args = args;
            let Some(Expr::Str(p)) = args.pop() else {
                return self.err(col, format!("{name}() needs a literal regular expression"));
            };
            let re = self.compile(&p, "", col)?;
            let subject = Box::new(args.pop().unwrap_or(Expr::Value));
            return Ok(if func == Func::Match {
                Expr::Match {
                    subject,
                    re,
                    negate: false,
                }
            } else {
                Expr::Capture { subject, re }
            });
        }
        Ok(Expr::Call(func, args))
    }
}

/// `10.0.0.0` alone means the host `/32`.
fn cidr(c: &str) -> String {
    if c.contains('/') {
        c.to_string()
    } else {
        format!("{c}/32")
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(w) => format!("`{w}`"),
        Tok::Var(v) => format!("`${v}`"),
        Tok::Num(n) => format!("number `{n}`"),
        Tok::Str { text, .. } => format!("string \"{text}\""),
        Tok::Regex { pattern, .. } => format!("regex /{pattern}/"),
        Tok::Cidr(c) => format!("`{c}`"),
        Tok::Punct(p) => format!("`{p}`"),
    }
}
