//! The rule language: one test per construct (both dialects), and the refused constructs
//! with their line and column.

use secviz_graph::rules::{Columns, Prop, Role, RuleSet, Scope, Stat, eval, truthy};

/// A row with fixed statistics, to evaluate rule values directly.
struct Row<'a> {
    fields: &'a [&'a str],
    value: &'a str,
    count: f64,
}

impl Scope for Row<'_> {
    fn field(&self, i: usize) -> Option<&str> {
        self.fields.get(i).copied()
    }
    fn value(&self) -> &str {
        self.value
    }
    fn stat(&self, s: Stat) -> f64 {
        match s {
            Stat::Count => self.count,
            _ => 2.0,
        }
    }
    fn count_of(&self, _role: secviz_graph::rules::Role, _key: secviz_graph::rules::Role) -> f64 {
        self.count
    }
}

const ROW: &[&str] = &["10.1.2.3", "22", "198.51.100.7", "tcp", "1500"];

fn cols() -> Columns {
    Columns::new(
        ["src_ip", "dst_port", "dst_ip", "proto", "bytes"]
            .map(String::from)
            .to_vec(),
        false,
    )
}

/// The value the first `color.source` / `source.color` rule gives for ROW, or None if its
/// condition is false.
fn first(rule: &str) -> Option<String> {
    let set = RuleSet::parse(rule, &cols()).unwrap_or_else(|e| panic!("{rule}: {e}"));
    let r = set.rules.first().expect("one rule");
    let scope = Row {
        fields: ROW,
        value: ROW[0],
        count: 7.0,
    };
    if let Some(c) = &r.cond
        && !truthy(&eval(c, &scope))
    {
        return None;
    }
    Some(eval(&r.value, &scope).as_text().into_owned())
}

fn err(rule: &str) -> String {
    RuleSet::parse(rule, &cols()).expect_err(rule).to_string()
}

#[test]
fn afterglow_regex_match_and_negation() {
    assert_eq!(
        first(r#"color.source="red" if ($fields[0] =~ /^10\./)"#).as_deref(),
        Some("red")
    );
    assert_eq!(
        first(r#"color.source="red" if ($fields[0] !~ /^10\./)"#),
        None
    );
    assert_eq!(
        first(r#"color.source="red" if ($fields[3] =~ /TCP/i)"#).as_deref(),
        Some("red")
    );
}

#[test]
fn afterglow_comparisons() {
    assert!(first(r#"color.source="a" if ($fields[1] == 22)"#).is_some());
    assert!(first(r#"color.source="a" if ($fields[4] < 2000)"#).is_some());
    assert!(first(r#"color.source="a" if ($fields[4] > 2000)"#).is_none());
    assert!(first(r#"color.source="a" if ($fields[3] eq "tcp")"#).is_some());
    assert!(first(r#"color.source="a" if ($fields[3] ne "tcp")"#).is_none());
}

#[test]
fn afterglow_logic() {
    assert!(first(r#"color.source="a" if ($fields[1] == 22 && $fields[3] eq "tcp")"#).is_some());
    assert!(first(r#"color.source="a" if ($fields[1] == 23 || $fields[3] eq "tcp")"#).is_some());
    assert!(first(r#"color.source="a" if (!($fields[1] == 23))"#).is_some());
}

#[test]
fn afterglow_functions() {
    assert!(first(r#"color.source="a" if (subnet($fields[0],"10.0.0.0/8"))"#).is_some());
    assert!(first(r#"color.source="a" if (subnet($fields[2],"10.0.0.0/8"))"#).is_none());
    assert_eq!(
        first(r#"cluster.source=regex_replace('^(\d+\.\d+)\.')."/16""#).as_deref(),
        Some("10.1/16")
    );
    assert_eq!(
        first(r#"color.source="a" if (field() eq "10.1.2.3")"#).as_deref(),
        Some("a")
    );
    assert_eq!(
        first(r#"color.source="a" if (match("^10"))"#).as_deref(),
        Some("a")
    );
    assert_eq!(
        first(r#"color.source=get_severity($fields[1], 22)"#).as_deref(),
        Some("#CC0000")
    );
}

#[test]
fn afterglow_counts_and_barewords() {
    assert_eq!(
        first(r#"size.source=$sourceCount{$sourceName}"#).as_deref(),
        Some("7")
    );
    assert_eq!(
        first(r#"size.target=$targetCount{$targetName}"#).as_deref(),
        Some("7")
    );
    assert_eq!(first("color.source=red").as_deref(), Some("red"));
    assert_eq!(first("color.source=$fields[3]").as_deref(), Some("tcp"));
}

#[test]
fn afterglow_settings() {
    let set = RuleSet::parse(
        "maxnodesize=0.5\nsum.source=1\nthreshold=2\nthreshold.target=3\ncolor.sourcetarget=\"pink\"\nshape.event=box\n# comment\n\nexit=1\ncolor.source=\"never\"",
        &cols(),
    )
    .unwrap();
    assert_eq!(
        set.max_node_size,
        Some(0.5),
        "maxnodesize keeps its fraction"
    );
    assert_eq!(set.sum, vec![Role::Source]);
    assert_eq!(set.thresholds.all, 2);
    assert_eq!(set.thresholds.target, 3);
    assert!(set.has(Prop::Color, Role::SourceTarget));
    assert!(set.has(Prop::Shape, Role::Event));
    assert!(!set.has(Prop::Color, Role::Source), "exit stops reading");
}

#[test]
fn afterglow_conditional_shape_is_ignored_with_a_warning() {
    let set = RuleSet::parse(
        r#"shape.target="triangle" if ($fields[2] =~ /^10\./)"#,
        &cols(),
    )
    .unwrap();
    assert!(!set.has(Prop::Shape, Role::Target));
    assert_eq!(set.warnings.len(), 1);
    assert!(
        set.warnings[0].starts_with("line 1, column 14"),
        "{}",
        set.warnings[0]
    );
}

#[test]
fn native_conditions() {
    assert!(first(r#"source.color = "red" when src_ip in 10.0.0.0/8"#).is_some());
    assert!(first(r#"source.color = "red" when dst_ip in 10.0.0.0/8"#).is_none());
    assert!(first(r#"source.color = "red" when dst_ip not in 10.0.0.0/8"#).is_some());
    assert!(first(r#"source.color = "red" when dst_port in [22, 23, 3389]"#).is_some());
    assert!(first(r#"source.color = "red" when proto ~ "^tc" and bytes >= 1500"#).is_some());
    assert!(first(r#"source.color = "red" when proto == "udp" or not bytes < 10"#).is_some());
    assert!(
        first(r#"source.color = "red" when $3 == "tcp" and field("proto") != "udp""#).is_some()
    );
    assert!(first(r#"source.color = "red" when count > 5 and degree == 2"#).is_some());
    assert!(first(r#"source.color = "red" when value =~ /^10\./"#).is_some());
}

#[test]
fn native_builtins() {
    assert_eq!(
        first(r#"source.color = port_class(dst_port)"#).as_deref(),
        Some("remote-access")
    );
    assert_eq!(
        first(r#"source.cluster = cidr(value, 16)"#).as_deref(),
        Some("10.1.0.0/16")
    );
    assert_eq!(
        first(r#"source.cluster = capture(value, "^(\d+)\.")"#).as_deref(),
        Some("10")
    );
    assert_eq!(
        first(r#"source.label = concat(upper(proto), ":", dst_port)"#).as_deref(),
        Some("TCP:22")
    );
    assert_eq!(
        first(r#"source.label = lower("ABC")"#).as_deref(),
        Some("abc")
    );
    let sev = first(r#"source.color = severity(bytes, 1500)"#).unwrap();
    assert!(sev.starts_with('#') && sev.len() == 7);
    assert_eq!(
        first(r#"source.color = palette(proto)"#),
        first(r#"source.color = palette("tcp")"#)
    );
    assert_eq!(
        first(r#"edge.weight = sum(bytes)"#).as_deref(),
        Some("1500")
    );
}

#[test]
fn native_settings() {
    let set = RuleSet::parse(
        "source.top = 50 by degree\nnode.threshold = 2\nevent.shape = \"diamond\"\nsource.size = sum(bytes)",
        &cols(),
    )
    .unwrap();
    assert_eq!(set.top.len(), 1);
    assert_eq!(set.top[0].k, 50);
    assert_eq!(set.thresholds.source, 2);
    assert_eq!(set.thresholds.event, 2);
    assert_eq!(set.sum, vec![Role::Source]);
    assert!(!set.afterglow);
}

#[test]
fn refused_afterglow_constructs_name_line_and_column() {
    let e = err("color.source=\"red\"\ncolor.source=system(\"rm -rf /\")");
    assert!(e.starts_with("line 2, column 14"), "{e}");
    assert!(e.contains("function `system()`"), "{e}");
    let e = err("variable=$x = 1");
    assert!(
        e.contains("variable=") && e.contains("line 1, column 1"),
        "{e}"
    );
    let e = err(r#"color.source="$fields[0]""#);
    assert!(e.contains("interpolation"), "{e}");
    let e = err(r#"color.source=$ENV{HOME}"#);
    assert!(e.contains("Perl variable `$ENV`"), "{e}");
    let e = err(r#"color.source="red" unless ($fields[0] eq "x")"#);
    assert!(e.contains("`unless`"), "{e}");
    let e = err(r#"color.source=`id`"#);
    assert!(e.contains("``"), "{e}");
    let e = err(r#"color.source="x" if ($fields[0] =~ /(a)\1/)"#);
    assert!(e.contains("regular expression"), "{e}");
    let e = err(r#"color.source="x" if ($fields[0] =~ s/a/b/)"#);
    assert!(e.contains("column"), "{e}");
    let e = err("colour.source=\"red\"");
    assert!(e.contains("unknown property `colour.source`"), "{e}");
}

#[test]
fn refused_native_constructs() {
    let e = err(r#"source.color = "red" when nosuchcolumn == 1"#);
    assert!(
        e.contains("unknown name `nosuchcolumn`") && e.contains("line 1, column 27"),
        "{e}"
    );
    let e = err(r#"source.color = "red" when"#);
    assert!(e.contains("expected a value"), "{e}");
    let e = err(r#"source.shape = "hexagon""#);
    assert!(e.contains("unknown shape"), "{e}");
    let e = err(r#"source.color = exec("x")"#);
    assert!(e.contains("function `exec()`"), "{e}");
    let e = err(r#"edge.cluster = "x""#);
    assert!(e.contains("unknown property"), "{e}");
    let e = err(r#"source.top = lots"#);
    assert!(e.contains("top takes a count"), "{e}");
}

proptest::proptest! {
    /// Whatever a member uploads as a rule file, parsing ends in rules or an error with a
    /// position inside the file, never a panic.
    #[test]
    fn parsing_never_panics(text in "[ -~\n]{0,200}") {
        match RuleSet::parse(&text, &cols()) {
            Ok(_) => {}
            Err(e) => {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1));
                proptest::prop_assert!(e.col >= 1);
            }
        }
    }

    /// Rule-shaped lines with random operands parse or fail cleanly too.
    #[test]
    fn rule_shaped_lines_never_panic(
        key in "(color|size|label|shape|cluster)\\.(source|event|target)|(source|event|target)\\.(color|size|label)",
        value in "[\"$a-z0-9 ()=~!<>&|/.\\[\\]{},'_-]{0,60}",
    ) {
        let _ = RuleSet::parse(&format!("{key}={value}"), &cols());
    }
}

/// Rules come from strangers (recipes in the portal): deep nesting and long chains are
/// refused with a clear error on a thread with the stack of a web server's (2 MiB),
/// instead of overflowing it.
#[test]
fn issue_14_deep_and_long_rules_are_refused_not_overflowed() {
    let outcome = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let deep = format!(
                "color=\"red\" if {}src_ip eq \"a\"{}",
                "(".repeat(20_000),
                ")".repeat(20_000)
            );
            let nots = format!("color=\"red\" if {}(src_ip eq \"a\")", "!".repeat(20_000));
            let chain = format!(
                "color=\"red\" if {}",
                vec!["src_ip eq \"a\""; 5_000].join(" || ")
            );
            let joined = format!("label=src_ip{}", " . src_ip".repeat(5_000));
            [deep, nots, chain, joined]
                .iter()
                .map(|r| RuleSet::parse(r, &cols()).err().map(|e| e.to_string()))
                .collect::<Vec<_>>()
        })
        .unwrap()
        .join()
        .expect("parsing stayed within a small stack");
    assert!(
        outcome[0]
            .as_deref()
            .unwrap_or("")
            .contains("nests more than 64"),
        "{outcome:?}"
    );
    assert!(
        outcome[1]
            .as_deref()
            .unwrap_or("")
            .contains("nests more than 64"),
        "{outcome:?}"
    );
    assert!(
        outcome[2]
            .as_deref()
            .unwrap_or("")
            .contains("more than 2000 values"),
        "{outcome:?}"
    );
    assert!(
        outcome[3]
            .as_deref()
            .unwrap_or("")
            .contains("more than 2000 values"),
        "{outcome:?}"
    );
    // Ordinary nesting still parses.
    assert!(
        RuleSet::parse(
            "color=\"red\" if ((src_ip eq \"a\") && !(dst_port == 22))",
            &cols()
        )
        .is_ok()
    );
}

#[test]
fn arithmetic_as_perl_evaluates_it() {
    // AfterGlow size rules compute: `*` and `/` bind tighter than `+`, `-` and `.`.
    assert_eq!(first("size.source=$fields[4]/100").as_deref(), Some("15"));
    assert_eq!(first("size.source=2+3*4").as_deref(), Some("14"));
    assert_eq!(
        first("size.source=$fields[1]-2*$fields[1]/11").as_deref(),
        Some("18")
    );
    assert_eq!(
        first("size.source=$sourceCount{$sourceName}*2").as_deref(),
        Some("14")
    );
    // `.` and `+` share a level, left to right: ("tcp" . 1) + 1, and "tcp1" is 0 as a number.
    assert_eq!(first("label.source=$fields[3].1+1").as_deref(), Some("1"));
    // A division by zero gives nothing, so the rule does not apply.
    assert_eq!(first("size.source=$fields[4]/0").as_deref(), Some(""));
    assert_eq!(first("source.size = bytes / 500").as_deref(), Some("3"));
}
