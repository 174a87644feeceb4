//! What rule expressions see while the graph is built: one row, the node's own value, and
//! (once every row was read) the node's statistics.

use super::{GraphBuilder, node_names, role_slot};
use crate::rules::{Role, Scope, Stat};

/// Final statistics of a node or edge.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    pub count: f64,
    pub degree: f64,
    pub fanout: f64,
    pub fanin: f64,
}

pub(crate) struct RowScope<'a> {
    row: &'a [Box<str>],
    value: &'a str,
    two_node: bool,
    stats: Stats,
    builder: Option<&'a GraphBuilder>,
}

impl<'a> RowScope<'a> {
    /// A scope while reading: statistics are not known yet and read as 0.
    pub fn new(row: &'a [Box<str>], value: &'a str, two_node: bool, _role: Role) -> Self {
        RowScope {
            row,
            value,
            two_node,
            stats: Stats::default(),
            builder: None,
        }
    }

    /// A scope after reading, with the node's final statistics.
    pub fn with_stats(
        row: &'a [Box<str>],
        value: &'a str,
        builder: &'a GraphBuilder,
        stats: Stats,
    ) -> Self {
        RowScope {
            row,
            value,
            two_node: builder.opts.two_node,
            stats,
            builder: Some(builder),
        }
    }
}

impl Scope for RowScope<'_> {
    fn field(&self, i: usize) -> Option<&str> {
        self.row.get(i).map(|s| &**s)
    }

    fn value(&self) -> &str {
        self.value
    }

    fn stat(&self, stat: Stat) -> f64 {
        match stat {
            Stat::Count => self.stats.count,
            Stat::Degree => self.stats.degree,
            Stat::FanOut => self.stats.fanout,
            Stat::FanIn => self.stats.fanin,
        }
    }

    fn count_of(&self, role: Role, key: Role) -> f64 {
        let Some(b) = self.builder else {
            return 0.0;
        };
        let f = |i: usize| self.row.get(i).map_or("", |s| &**s);
        let (s, e, t) = if self.two_node {
            (f(0), "", f(1))
        } else {
            (f(0), f(1), f(2))
        };
        let names = node_names(s, e, t, &b.opts);
        let name = match key {
            Role::Source | Role::SourceTarget => names.0,
            Role::Event => names.1,
            _ => names.2,
        };
        b.ids
            .get(&*name)
            .and_then(|id| b.nodes[*id as usize].roles[role_slot(role)].as_ref())
            .map_or(0.0, |r| r.count as f64)
    }
}
