//! Evaluates rule expressions against one row and one node. Values follow Perl's loose
//! rules where AfterGlow files rely on them (strings that look like numbers compare as
//! numbers, `""`, `"0"` and missing values are false), with one deliberate difference: a
//! missing value stays missing through concatenation (Perl turns `undef . "/16"` into
//! `"/16"`, which clusters every non-matching address into one bogus node).

use std::borrow::Cow;

use super::ast::{ArithOp, CmpOp, Expr, Func, Role, Stat};
use super::builtins;
use crate::color;

/// What an expression can see: the row's fields, the node's own value and its statistics.
pub trait Scope {
    /// The row's `i`-th field (after clustering), if present.
    fn field(&self, i: usize) -> Option<&str>;
    /// The value of the node (or edge source) being styled.
    fn value(&self) -> &str;
    /// The node's statistic (final counts when properties are evaluated).
    fn stat(&self, stat: Stat) -> f64;
    /// AfterGlow's `$<role>Count{$<key>Name}`.
    fn count_of(&self, role: Role, key: Role) -> f64;
}

/// A runtime value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Str(Cow<'a, str>),
    Num(f64),
}

impl Value<'_> {
    /// The value as text (numbers in Perl's shortest form).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Value::Null => Cow::Borrowed(""),
            Value::Str(s) => Cow::Borrowed(s),
            Value::Num(n) => Cow::Owned(num_text(*n)),
        }
    }

    /// The value as a number: leading numeric prefix of a string, as Perl does; else 0.
    pub fn as_num(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Num(n) => *n,
            Value::Str(s) => numeric_prefix(s),
        }
    }

    fn looks_numeric(&self) -> bool {
        match self {
            Value::Num(_) => true,
            Value::Str(s) => s.trim().parse::<f64>().is_ok(),
            Value::Null => false,
        }
    }

    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Num(n) => Value::Num(n),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
        }
    }
}

fn num_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn numeric_prefix(s: &str) -> f64 {
    let s = s.trim_start();
    let mut end = 0;
    let b = s.as_bytes();
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
        end += 1;
    }
    let mut v = s[..end].parse::<f64>();
    while v.is_err() && end > 0 {
        end -= 1;
        v = s[..end].parse::<f64>();
    }
    v.unwrap_or(0.0)
}

/// Perl truth: missing, `""`, `"0"` and `0` are false.
pub fn truthy(v: &Value<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Num(n) => *n != 0.0,
        Value::Str(s) => !(s.is_empty() || s == "0"),
    }
}

fn bool_val(b: bool) -> Value<'static> {
    if b {
        Value::Num(1.0)
    } else {
        Value::Str(Cow::Borrowed(""))
    }
}

fn cmp_f(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Evaluates `e` in `scope`.
pub fn eval<'a>(e: &'a Expr, scope: &'a dyn Scope) -> Value<'a> {
    match e {
        Expr::Str(s) => Value::Str(Cow::Borrowed(s)),
        Expr::Num(n) => Value::Num(*n),
        Expr::Field(i) => scope
            .field(*i)
            .map_or(Value::Null, |s| Value::Str(Cow::Borrowed(s))),
        Expr::Value => Value::Str(Cow::Borrowed(scope.value())),
        Expr::Stat(s) => Value::Num(scope.stat(*s)),
        Expr::CountOf { role, key } => Value::Num(scope.count_of(*role, *key)),
        Expr::Not(a) => bool_val(!truthy(&eval(a, scope))),
        Expr::And(a, b) => {
            let l = eval(a, scope);
            if truthy(&l) { eval(b, scope) } else { l }
        }
        Expr::Or(a, b) => {
            let l = eval(a, scope);
            if truthy(&l) { l } else { eval(b, scope) }
        }
        Expr::Cmp(op, a, b) => {
            let (l, r) = (eval(a, scope), eval(b, scope));
            bool_val(cmp_f(*op, l.as_num(), r.as_num()))
        }
        Expr::StrCmp(op, a, b) => {
            let (l, r) = (eval(a, scope), eval(b, scope));
            if l.looks_numeric() && r.looks_numeric() {
                return bool_val(cmp_f(*op, l.as_num(), r.as_num()));
            }
            let ord = l.as_text().cmp(&r.as_text());
            bool_val(match op {
                CmpOp::Eq => ord.is_eq(),
                CmpOp::Ne => ord.is_ne(),
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                CmpOp::Ge => ord.is_ge(),
            })
        }
        Expr::Match {
            subject,
            re,
            negate,
        } => {
            let s = eval(subject, scope);
            bool_val(re.is_match(&s.as_text()) != *negate)
        }
        Expr::Capture { subject, re } => {
            let s = eval(subject, scope);
            let text = s.as_text();
            match re.captures(&text).and_then(|c| c.get(1)) {
                Some(m) => Value::Str(Cow::Owned(m.as_str().to_string())),
                None => Value::Null,
            }
        }
        Expr::InList(a, items) => {
            let v = eval(a, scope);
            let t = v.as_text();
            bool_val(items.iter().any(|i| {
                let iv = eval(i, scope);
                if v.looks_numeric() && iv.looks_numeric() {
                    v.as_num() == iv.as_num()
                } else {
                    iv.as_text() == t
                }
            }))
        }
        Expr::Concat(a, b) => match (eval(a, scope), eval(b, scope)) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            (l, r) => Value::Str(Cow::Owned(format!("{}{}", l.as_text(), r.as_text()))),
        },
        Expr::Arith(op, a, b) => {
            let (l, r) = (eval(a, scope).as_num(), eval(b, scope).as_num());
            match op {
                ArithOp::Add => Value::Num(l + r),
                ArithOp::Sub => Value::Num(l - r),
                ArithOp::Mul => Value::Num(l * r),
                // Perl dies on a division by zero, and AfterGlow's eval then yields
                // nothing: the rule does not apply.
                ArithOp::Div if r == 0.0 => Value::Null,
                ArithOp::Div => Value::Num(l / r),
            }
        }
        Expr::Call(f, args) => call(*f, args, scope),
    }
}

fn call<'a>(f: Func, args: &'a [Expr], scope: &'a dyn Scope) -> Value<'a> {
    let arg = |i: usize| args.get(i).map_or(Value::Null, |a| eval(a, scope));
    match f {
        Func::Subnet => {
            let ip = arg(0);
            let net = arg(1);
            bool_val(builtins::in_subnet(&ip.as_text(), &net.as_text()))
        }
        Func::GetSeverity => {
            let steps = args.get(1).map(|a| eval(a, scope).as_num());
            Value::Str(Cow::Owned(builtins::afterglow_severity(
                arg(0).as_num(),
                steps,
            )))
        }
        Func::Severity => {
            let max = args.get(1).map_or(10.0, |a| eval(a, scope).as_num());
            Value::Str(Cow::Owned(color::severity(arg(0).as_num(), max).hex()))
        }
        Func::Palette => {
            let v = arg(0);
            if v == Value::Null {
                return Value::Null;
            }
            Value::Str(Cow::Owned(color::categorical_for(&v.as_text()).hex()))
        }
        Func::PortClass => match arg(0) {
            Value::Null => Value::Null,
            v => Value::Str(Cow::Borrowed(builtins::port_class(&v.as_text()))),
        },
        Func::Cidr => {
            let len = arg(1).as_num();
            match builtins::network_of(&arg(0).as_text(), len) {
                Some(n) => Value::Str(Cow::Owned(n)),
                None => Value::Null,
            }
        }
        Func::Concat => {
            let mut s = String::new();
            for a in args {
                match eval(a, scope) {
                    Value::Null => return Value::Null,
                    v => s.push_str(&v.as_text()),
                }
            }
            Value::Str(Cow::Owned(s))
        }
        Func::Lower => Value::Str(Cow::Owned(arg(0).as_text().to_lowercase())),
        Func::Upper => Value::Str(Cow::Owned(arg(0).as_text().to_uppercase())),
        // `sum(x)` is x per line; the builder adds the lines up.
        Func::Sum => arg(0).into_owned(),
        // Compiled into Expr::Match / Expr::Capture by the parser.
        Func::Match | Func::RegexReplace => Value::Null,
    }
}
