//! The rule language: reading rule files (AfterGlow property files and the native syntax,
//! line by line, freely mixed), and the [`RuleSet`] the graph builder applies.
//!
//! A line's key tells its dialect: AfterGlow keys put the property first (`color.source=`),
//! native keys put the role first (`source.color =`). See `docs/rules.md`.

mod ast;
mod builtins;
mod eval;
mod lexer;
mod parser;

use std::fmt;

pub use ast::{ArithOp, CmpOp, Expr, Func, Prop, Role, Rule, Stat};
pub use builtins::{port_class, port_number_class};
pub use eval::{Scope, Value, eval, truthy};
pub use parser::Dialect;

/// A rule file error, with the 1-based line and column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct RuleError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(line: usize, col: usize, message: impl Into<String>) -> Self {
        RuleError {
            line,
            col,
            message: message.into(),
        }
    }
}

/// The input's column names, so rules may name fields (`dst_port`) as well as number them.
/// `source`, `event` and `target` always name the node columns.
#[derive(Clone, Debug)]
pub struct Columns {
    names: Vec<String>,
    two_node: bool,
}

impl Columns {
    /// Named columns (from a CSV header or `--columns`).
    pub fn new(names: Vec<String>, two_node: bool) -> Self {
        Columns { names, two_node }
    }

    /// AfterGlow's positional columns: source,event,target (or source,target).
    pub fn positional(two_node: bool) -> Self {
        let names = if two_node {
            vec!["source".into(), "target".into()]
        } else {
            vec!["source".into(), "event".into(), "target".into()]
        };
        Columns { names, two_node }
    }

    /// The position of a column name.
    pub fn index(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Some(i);
        }
        match (name, self.two_node) {
            ("source", _) => Some(0),
            ("event", false) => Some(1),
            ("target", false) => Some(2),
            ("target", true) => Some(1),
            _ => None,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Node shapes Graphviz draws and secviz renders.
pub const SHAPES: &[&str] = &[
    "box",
    "polygon",
    "circle",
    "ellipse",
    "invtriangle",
    "octagon",
    "pentagon",
    "diamond",
    "point",
    "triangle",
    "plaintext",
    "Mrecord",
];

/// Occurrence thresholds (AfterGlow `threshold*` and `-o`): nodes seen this many times or
/// fewer are omitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Thresholds {
    pub all: u64,
    pub source: u64,
    pub event: u64,
    pub target: u64,
}

/// What top-k ranks nodes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Count,
    Degree,
}

/// Keep the `k` largest nodes of a role by a measure; fold the rest into one "other" node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopK {
    pub role: Role,
    pub k: usize,
    pub by: Measure,
}

/// The share of a role's rows below which a node is rare when no `rare` rule says.
pub const DEFAULT_RARE: f64 = 0.01;

/// A parsed rule file.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// Every property rule, in file order (the first matching one wins).
    pub rules: Vec<Rule>,
    /// Largest node size in inches (AfterGlow `maxnodesize`, fraction kept).
    pub max_node_size: Option<f64>,
    /// Roles whose size values are summed over lines (AfterGlow `sum.*`).
    pub sum: Vec<Role>,
    pub thresholds: Thresholds,
    pub top: Vec<TopK>,
    /// Per role (source, event, target): below what share of the role's rows a node is
    /// rare, so that its `group` rule folds it into a group (`source.rare = 2%`).
    /// [`DEFAULT_RARE`] when the role has group rules and no `rare` line.
    pub rare: [Option<f64>; 3],
    /// Non-fatal notes (AfterGlow lines AfterGlow itself ignores), with their line.
    pub warnings: Vec<String>,
    /// Whether any line used the AfterGlow dialect: then nodes no colour rule matches get
    /// AfterGlow's fallback colours, so its property files draw the same graph.
    pub afterglow: bool,
}

impl RuleSet {
    /// Parses a rule file. `columns` names the input's fields.
    pub fn parse(text: &str, columns: &Columns) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some(eq) = raw.find('=') else {
                let col = raw.len() - raw.trim_start().len() + 1;
                return Err(RuleError::new(line, col, "expected `name = value`"));
            };
            let key = raw[..eq].trim();
            let key_col = raw.len() - raw.trim_start().len() + 1;
            let value_src = &raw[eq + 1..];
            let value_col = eq + 2;
            if key == "exit" {
                break; // AfterGlow: stop reading the file here
            }
            set.line(key, key_col, value_src, value_col, line, columns)?;
        }
        Ok(set)
    }

    /// The rules for one property of one role, in order.
    pub fn rules_for(&self, prop: Prop, role: Role) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(move |r| r.prop == prop && r.role == role)
    }

    /// Whether any rule sets this property for this role.
    pub fn has(&self, prop: Prop, role: Role) -> bool {
        self.rules_for(prop, role).next().is_some()
    }

    /// Whether a colour rule may yield `invisible` (then lines are filtered as they are read).
    pub fn may_hide(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.prop == Prop::Color && r.value.mentions_invisible())
    }

    fn line(
        &mut self,
        key: &str,
        key_col: usize,
        value_src: &str,
        value_col: usize,
        line: usize,
        columns: &Columns,
    ) -> Result<(), RuleError> {
        let (first, second) = match key.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (key, None),
        };
        let native_roles = ["source", "event", "target", "edge", "node", "sourcetarget"];
        if native_roles.contains(&first) {
            return self.native_line(first, second, key_col, value_src, value_col, line, columns);
        }
        self.afterglow_line(
            key, first, second, key_col, value_src, value_col, line, columns,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn afterglow_line(
        &mut self,
        key: &str,
        prop: &str,
        role: Option<&str>,
        key_col: usize,
        value_src: &str,
        value_col: usize,
        line: usize,
        columns: &Columns,
    ) -> Result<(), RuleError> {
        self.afterglow = true;
        let value_trim = value_src.trim().trim_end_matches(';').trim();
        let unquoted = value_trim.trim_matches('"');
        let roles: Vec<Role> = match (prop, role) {
            ("color", None) => vec![Role::Source, Role::Event, Role::Target, Role::SourceTarget],
            ("size", None) | ("label", None) | ("cluster", None) => {
                vec![Role::Source, Role::Event, Role::Target]
            }
            (_, Some(r)) => match Role::parse(r) {
                Some(r) => vec![r],
                None => {
                    return Err(RuleError::new(
                        line,
                        key_col,
                        format!("unknown property `{key}`"),
                    ));
                }
            },
            _ => vec![],
        };
        match prop {
            "color" | "size" | "label" | "cluster" => {
                let p = match prop {
                    "color" => Prop::Color,
                    "size" => Prop::Size,
                    "label" => Prop::Label,
                    _ => Prop::Cluster,
                };
                let allowed = match p {
                    Prop::Color => true,
                    Prop::Size | Prop::Label => !roles.contains(&Role::SourceTarget),
                    _ => !roles.contains(&Role::Edge) && !roles.contains(&Role::SourceTarget),
                };
                if !allowed {
                    return Err(RuleError::new(
                        line,
                        key_col,
                        format!("unknown property `{key}`"),
                    ));
                }
                // AfterGlow: `label=0` (or empty) means no label.
                let (value, cond, cond_text) =
                    if p == Prop::Label && (unquoted == "0" || unquoted.is_empty()) {
                        (Expr::Str(String::new()), None, None)
                    } else {
                        parse_stmt(value_src, value_col, line, Dialect::AfterGlow, columns)?
                    };
                for r in roles {
                    self.push(
                        r,
                        p,
                        (value.clone(), cond.clone(), cond_text.clone()),
                        line,
                        key,
                        value_trim,
                    );
                }
            }
            "shape" => {
                let Some(r) = roles.first().copied() else {
                    return Err(RuleError::new(
                        line,
                        key_col,
                        "`shape` needs a role: shape.source",
                    ));
                };
                if SHAPES.contains(&unquoted) {
                    self.push(
                        r,
                        Prop::Shape,
                        (Expr::Str(unquoted.into()), None, None),
                        line,
                        key,
                        value_trim,
                    );
                } else {
                    // AfterGlow only takes a bare shape name and ignores the line otherwise
                    // (with a warning); we do the same so graphs match, and say why.
                    self.warnings.push(format!(
                        "line {line}, column {value_col}: AfterGlow property files take a bare shape \
                         name ({}); `{value_trim}` is ignored, as AfterGlow does. Write \
                         `{}.shape = \"...\" when ...` for conditional shapes",
                        SHAPES.join(", "),
                        r.name()
                    ));
                }
            }
            "threshold" => {
                let n = parse_count(unquoted, line, value_col)?;
                match role {
                    None => self.thresholds.all = n,
                    Some("source") => self.thresholds.source = n,
                    Some("event") => self.thresholds.event = n,
                    Some("target") => self.thresholds.target = n,
                    _ => {
                        return Err(RuleError::new(
                            line,
                            key_col,
                            format!("unknown property `{key}`"),
                        ));
                    }
                }
            }
            "sum" => {
                let Some(r) = roles
                    .first()
                    .copied()
                    .filter(|r| *r != Role::Edge && *r != Role::SourceTarget)
                else {
                    return Err(RuleError::new(
                        line,
                        key_col,
                        format!("unknown property `{key}`"),
                    ));
                };
                match unquoted {
                    "1" => self.sum.push(r),
                    "0" => self.sum.retain(|x| *x != r),
                    _ => return Err(RuleError::new(line, value_col, "sum.* takes 0 or 1")),
                }
            }
            _ if key.eq_ignore_ascii_case("maxnodesize") => {
                // AfterGlow 1.6.6 drops the fraction here (0.5 becomes 0); we keep it.
                let v: f64 = unquoted.parse().map_err(|_| {
                    RuleError::new(
                        line,
                        value_col,
                        format!("maxnodesize takes a number, not `{unquoted}`"),
                    )
                })?;
                if !(v > 0.0 && v.is_finite()) {
                    return Err(RuleError::new(
                        line,
                        value_col,
                        "maxnodesize must be positive",
                    ));
                }
                self.max_node_size = Some(v);
            }
            "concentrate" | "xlabels" | "url" | "label.duplicate" | "gdf" | "graphson" => {
                self.warnings.push(format!(
                    "line {line}: `{key}` only changes AfterGlow's own output; ignored (use --to)"
                ));
            }
            "variable" => {
                return Err(RuleError::new(
                    line,
                    key_col,
                    "unsupported construct `variable=`: it runs Perl code, which secviz never does",
                ));
            }
            _ => {
                return Err(RuleError::new(
                    line,
                    key_col,
                    format!("unknown property `{key}`"),
                ));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn native_line(
        &mut self,
        role: &str,
        prop: Option<&str>,
        key_col: usize,
        value_src: &str,
        value_col: usize,
        line: usize,
        columns: &Columns,
    ) -> Result<(), RuleError> {
        let key = match prop {
            Some(p) => format!("{role}.{p}"),
            None => role.to_string(),
        };
        let roles: Vec<Role> = if role == "node" {
            vec![Role::Source, Role::Event, Role::Target]
        } else {
            vec![Role::parse(role).expect("checked by caller")]
        };
        let value_trim = value_src.trim();
        let bad_key = || RuleError::new(line, key_col, format!("unknown property `{key}`"));
        let p = match prop {
            Some("color") => Prop::Color,
            Some("size") => Prop::Size,
            Some("shape") => Prop::Shape,
            Some("label") => Prop::Label,
            Some("cluster") => Prop::Cluster,
            Some("group") => Prop::Group,
            Some("weight") if role == "edge" => Prop::Weight,
            Some("rare") => {
                let share = parse_share(value_trim, line, value_col)?;
                for r in roles {
                    match r {
                        Role::Source => self.rare[0] = Some(share),
                        Role::Event => self.rare[1] = Some(share),
                        Role::Target => self.rare[2] = Some(share),
                        _ => return Err(bad_key()),
                    }
                }
                return Ok(());
            }
            Some("threshold") => {
                let n = parse_count(value_trim, line, value_col)?;
                for r in roles {
                    match r {
                        Role::Source => self.thresholds.source = n,
                        Role::Event => self.thresholds.event = n,
                        Role::Target => self.thresholds.target = n,
                        _ => return Err(bad_key()),
                    }
                }
                return Ok(());
            }
            Some("top") => {
                let mut words = value_trim.split_whitespace();
                let k = words
                    .next()
                    .and_then(|w| w.parse::<usize>().ok())
                    .filter(|k| *k > 0)
                    .ok_or_else(|| {
                        RuleError::new(line, value_col, "top takes a count: `50 by degree`")
                    })?;
                let by = match (words.next(), words.next(), words.next()) {
                    (None, ..) => Measure::Count,
                    (Some("by"), Some("count"), None) => Measure::Count,
                    (Some("by"), Some("degree"), None) => Measure::Degree,
                    _ => {
                        return Err(RuleError::new(
                            line,
                            value_col,
                            "expected `N`, `N by count` or `N by degree`",
                        ));
                    }
                };
                for r in roles {
                    if matches!(r, Role::Edge | Role::SourceTarget) {
                        return Err(bad_key());
                    }
                    self.top.push(TopK { role: r, k, by });
                }
                return Ok(());
            }
            _ => return Err(bad_key()),
        };
        if matches!(p, Prop::Cluster | Prop::Group)
            && roles
                .iter()
                .any(|r| matches!(r, Role::Edge | Role::SourceTarget))
        {
            return Err(bad_key());
        }
        let (value, cond, cond_text) =
            parse_stmt(value_src, value_col, line, Dialect::Native, columns)?;
        if p == Prop::Shape
            && let Expr::Str(s) = &value
            && !SHAPES.contains(&s.as_str())
        {
            return Err(RuleError::new(
                line,
                value_col,
                format!("unknown shape `{s}`; one of {}", SHAPES.join(", ")),
            ));
        }
        if let Expr::Call(Func::Sum, _) = &value {
            if !matches!(p, Prop::Size | Prop::Weight) {
                return Err(RuleError::new(
                    line,
                    value_col,
                    "sum() is for size and weight rules",
                ));
            }
            for r in &roles {
                if p == Prop::Size && !self.sum.contains(r) {
                    self.sum.push(*r);
                }
            }
        }
        for r in roles {
            self.push(
                r,
                p,
                (value.clone(), cond.clone(), cond_text.clone()),
                line,
                &key,
                value_trim,
            );
        }
        Ok(())
    }

    fn push(
        &mut self,
        role: Role,
        prop: Prop,
        stmt: Stmt,
        line: usize,
        key: &str,
        value_text: &str,
    ) {
        let (value, cond, cond_text) = stmt;
        self.rules.push(Rule {
            role,
            prop,
            value,
            cond,
            cond_text,
            line,
            text: format!("{key} = {value_text}"),
        });
    }
}

/// A parsed statement: value, condition and the condition's text (for legends).
type Stmt = (Expr, Option<Expr>, Option<String>);

fn parse_stmt(
    src: &str,
    col: usize,
    line: usize,
    dialect: Dialect,
    columns: &Columns,
) -> Result<Stmt, RuleError> {
    let toks = lexer::lex(src, col, line)?;
    let end = col + src.chars().count();
    let (value, cond, cond_col) =
        parser::Parser::new(toks, line, end, dialect, columns).statement()?;
    let cond_text = cond.as_ref().map(|_| {
        let start = cond_col.saturating_sub(col);
        let text: String = src.chars().skip(start).collect();
        let text = text.trim().trim_end_matches(';').trim();
        let text = text
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(text);
        text.to_string()
    });
    Ok((value, cond, cond_text))
}

/// A share of rows: `2%` or `0.5 %`, above 0 and at most 100%.
fn parse_share(s: &str, line: usize, col: usize) -> Result<f64, RuleError> {
    s.trim_matches('"')
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|p| *p > 0.0 && *p <= 100.0)
        .map(|p| p / 100.0)
        .ok_or_else(|| {
            RuleError::new(
                line,
                col,
                format!("expected a share of rows such as `2%`, not `{s}`"),
            )
        })
}

fn parse_count(s: &str, line: usize, col: usize) -> Result<u64, RuleError> {
    s.trim_matches('"')
        .parse()
        .map_err(|_| RuleError::new(line, col, format!("expected a whole number, not `{s}`")))
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
