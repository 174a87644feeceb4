//! The syntax tree both dialects parse into. It is data: the evaluator walks it, nothing is
//! ever handed to an interpreter, and regexes are compiled once (linear-time `regex` crate,
//! with a size limit) when the rules are read.

use regex::Regex;

/// Which node (or the edge) a rule styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Source,
    Event,
    Target,
    /// A node that is both a source and a target (AfterGlow's `color.sourcetarget`).
    SourceTarget,
    Edge,
}

impl Role {
    /// The name used in rule files and legends.
    pub fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Event => "event",
            Role::Target => "target",
            Role::SourceTarget => "sourcetarget",
            Role::Edge => "edge",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "source" => Role::Source,
            "event" => Role::Event,
            "target" => Role::Target,
            "sourcetarget" => Role::SourceTarget,
            "edge" => Role::Edge,
            _ => return None,
        })
    }
}

/// What a rule sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prop {
    Color,
    Size,
    Shape,
    Label,
    Cluster,
    /// The group a rare node joins (`source.group = cidr(value, 16)`): see
    /// [`crate::rules::RuleSet::rare`].
    Group,
    /// Edge multiplicity: `count` (default) or a per-line value summed.
    Weight,
}

impl Prop {
    pub fn name(self) -> &'static str {
        match self {
            Prop::Color => "color",
            Prop::Size => "size",
            Prop::Shape => "shape",
            Prop::Label => "label",
            Prop::Cluster => "cluster",
            Prop::Group => "group",
            Prop::Weight => "weight",
        }
    }
}

/// Node statistics a rule may read; they are final when properties are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// Lines the node (or edge) appeared in, in its role.
    Count,
    /// Distinct neighbours, in and out.
    Degree,
    /// Distinct out-neighbours (AfterGlow's fan-out).
    FanOut,
    /// Distinct in-neighbours.
    FanIn,
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `subnet(value, "10.0.0.0/8")`: CIDR membership, IPv4 and IPv6.
    Subnet,
    /// `regex_replace(re)` (AfterGlow) / `capture(value, re)`: first capture group.
    RegexReplace,
    /// `match(re)`: the node value matches.
    Match,
    /// AfterGlow's `get_severity(value, steps)`: its green-to-red hex ramp.
    GetSeverity,
    /// `severity(value, max)`: the secviz severity ramp.
    Severity,
    /// `palette(value)`: a stable categorical colour for the value.
    Palette,
    /// `port_class(port)`: web, mail, dns, remote-access, ... (see docs/rules.md).
    PortClass,
    /// `cidr(ip, prefix_len)`: the network containing the address, as text.
    Cidr,
    /// `concat(a, b, ...)`.
    Concat,
    /// `lower(s)` / `upper(s)`.
    Lower,
    Upper,
    /// `sum(expr)` in a size or weight rule: the per-line values are added up.
    Sum,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression.
#[derive(Clone, Debug)]
pub enum Expr {
    Str(String),
    Num(f64),
    /// A column by position (`$fields[n]`, `$n`, or a column name resolved to its position).
    Field(usize),
    /// The value of the node being styled (AfterGlow's `field()`, native `value`).
    Value,
    Stat(Stat),
    /// AfterGlow's `$sourceCount{$targetName}`: occurrences of the node named by `key` in `role`.
    CountOf {
        role: Role,
        key: Role,
    },
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// Numeric comparison (Perl `==`, `<`, ...).
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// String comparison (`eq`/`ne`; native `==` on strings).
    StrCmp(CmpOp, Box<Expr>, Box<Expr>),
    Match {
        subject: Box<Expr>,
        re: Regex,
        negate: bool,
    },
    /// The first capture group of `re` in the subject (AfterGlow's `regex_replace`).
    Capture {
        subject: Box<Expr>,
        re: Regex,
    },
    /// Native `x in [a, b]`.
    InList(Box<Expr>, Vec<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    /// Arithmetic on numbers (`$fields[3] / 1000`, `$sourceCount{$sourceName} * 2`), as
    /// AfterGlow's Perl evaluates it in size rules.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl Expr {
    /// Whether the expression reads final statistics (counts, degrees), which forces
    /// evaluation after the whole input was read.
    pub fn uses_stats(&self) -> bool {
        match self {
            Expr::Stat(_) | Expr::CountOf { .. } => true,
            Expr::Str(_) | Expr::Num(_) | Expr::Field(_) | Expr::Value => false,
            Expr::Not(a) => a.uses_stats(),
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::StrCmp(_, a, b)
            | Expr::Concat(a, b)
            | Expr::Arith(_, a, b) => a.uses_stats() || b.uses_stats(),
            Expr::Match { subject, .. } | Expr::Capture { subject, .. } => subject.uses_stats(),
            Expr::InList(a, l) => a.uses_stats() || l.iter().any(Expr::uses_stats),
            Expr::Call(_, args) => args.iter().any(Expr::uses_stats),
        }
    }

    /// Whether the expression could yield the colour `invisible` (a literal somewhere).
    pub fn mentions_invisible(&self) -> bool {
        match self {
            Expr::Str(s) => s.eq_ignore_ascii_case("invisible"),
            Expr::Concat(a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.mentions_invisible() || b.mentions_invisible()
            }
            Expr::Call(_, args) => args.iter().any(Expr::mentions_invisible),
            _ => false,
        }
    }
}

/// One rule: `role.prop = value [when cond]`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub role: Role,
    pub prop: Prop,
    pub value: Expr,
    pub cond: Option<Expr>,
    /// The condition as written, for legends.
    pub cond_text: Option<String>,
    /// 1-based line of the rule file.
    pub line: usize,
    /// The rule as written, for legends.
    pub text: String,
}

impl Rule {
    /// A rule without a condition applies to everything: it is a catch-all.
    pub fn is_catch_all(&self) -> bool {
        self.cond.is_none()
    }
}
