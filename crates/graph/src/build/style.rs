//! Resolving a node's style from the rules: colour (with AfterGlow's fallback palette for
//! values that are not colours), size, shape and label, and collecting the legend entries
//! the colours came from.

use std::collections::HashMap;

use super::matching;
use crate::color::{Color, FallbackPalette, categorical, categorical_for};
use crate::model::LegendEntry;
use crate::rules::{Expr, Func, Prop, Role, RuleSet, Scope, Value, eval};

/// The value of the first matching rule, owned.
pub(crate) fn first_value(
    rules: &RuleSet,
    prop: Prop,
    role: Role,
    scope: &dyn Scope,
) -> Option<Value<'static>> {
    matching(rules, prop, role, scope).map(|(_, v)| v.into_owned())
}

/// Colours and the legend, shared across all nodes of a graph so that the fallback palette
/// gives equal values equal colours.
#[derive(Default)]
pub(crate) struct Styler {
    fallback: FallbackPalette,
    pub legend: Vec<LegendEntry>,
    index: HashMap<(&'static str, String, String), usize>,
}

impl Styler {
    /// The colour the rules give a node of `role` (the legend shows it under `shown_as`), and
    /// the legend entry it counts towards.
    pub fn color(
        &mut self,
        rules: &RuleSet,
        role: Role,
        shown_as: &'static str,
        scope: &dyn Scope,
    ) -> (Color, usize) {
        let (color, label) = match matching(rules, Prop::Color, role, scope) {
            Some((rule, v)) => {
                let text = v.as_text().into_owned();
                let color = self.resolve(rules, &text);
                (color, legend_label(rule, text, scope))
            }
            None if rules.afterglow => (self.fallback.color_for(""), String::new()),
            None => (Color::from_rgb(role_default(role)), String::new()),
        };
        let idx = self.entry(shown_as, &color, label);
        (color, idx)
    }

    /// A colour for a value that is not a rule's literal.
    fn resolve(&mut self, rules: &RuleSet, text: &str) -> Color {
        if let Some(c) = Color::parse(text) {
            return c;
        }
        if rules.afterglow {
            self.fallback.color_for(text)
        } else {
            Color::from_rgb(categorical_for(text))
        }
    }

    /// Finds or adds a legend entry and counts one node towards it.
    pub fn entry(&mut self, role: &'static str, color: &Color, label: String) -> usize {
        let hex = color.rgb.map_or_else(|| "none".to_string(), |c| c.hex());
        let key = (role, hex.clone(), label.clone());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.legend.push(LegendEntry {
                role,
                color: hex,
                label,
                nodes: 0,
                grouped: false,
            });
            self.legend.len() - 1
        });
        self.legend[i].nodes += 1;
        i
    }

    /// Resolves the colour of an edge, counted in the legend under "edge" (a picture whose
    /// edges are coloured by protocol must say which colour is which).
    pub fn edge_color(&mut self, rules: &RuleSet, scope: &dyn Scope) -> Option<Color> {
        let (rule, v) = matching(rules, Prop::Color, Role::Edge, scope)?;
        let text = v.as_text().into_owned();
        let color = self.resolve(rules, &text);
        if color.rgb.is_some() {
            self.entry("edge", &color, legend_label(rule, text, scope));
        }
        Some(color)
    }
}

/// What a colour means in the legend: the rule's condition, "otherwise" for a catch-all,
/// what went into a palette or ramp, or the value used as a colour (`$fields[3]` holding
/// `tcp`) itself.
fn legend_label(rule: &crate::rules::Rule, text: String, scope: &dyn Scope) -> String {
    match (&rule.cond_text, &rule.value) {
        (Some(c), Expr::Str(_)) => c.clone(),
        (None, Expr::Str(_)) => "otherwise".to_string(),
        (_, Expr::Call(Func::Palette, args)) => input_text(args, scope),
        (_, Expr::Call(Func::Severity | Func::GetSeverity, args)) => {
            format!("severity {}", input_text(args, scope))
        }
        _ => text,
    }
}

/// The text of a built-in's first argument, for legends.
fn input_text(args: &[Expr], scope: &dyn Scope) -> String {
    args.first()
        .map(|a| eval(a, scope).as_text().into_owned())
        .unwrap_or_default()
}

/// Colours for nodes no rule colours, in native rule files (or none).
pub(crate) fn role_default(role: Role) -> crate::color::Rgb {
    match role {
        Role::Source | Role::SourceTarget => categorical(0),
        Role::Event => categorical(1),
        _ => categorical(2),
    }
}
