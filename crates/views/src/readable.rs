//! Rules that keep a link graph readable at any size. A graph of every value draws a
//! hairball once a field has hundreds of values: a firewall log's source ports, a botnet's
//! bots. These rules fold the *rare* values of a node field (each under a share of the
//! rows) into groups that still say what they hold: ports into their class ("1,180
//! registered ports"), addresses into their network ("120 hosts in 10.20.0.0/16"). The
//! values that carry the rows stay themselves, so the hub the picture is about (the one
//! source port every lookup uses, the servers every bot calls) stands out, labelled.

use crate::field::Field;
use secviz_parse::schema::{IP_COLUMNS, col};

/// The share of a role's rows below which a value is folded into its group: 1% keeps at
/// most about a hundred values of each role, whatever the data's size.
pub const RARE: &str = "1%";

/// The group rule of one node field, if its values have a natural grouping.
fn group_rule(role: &str, field: Field) -> Option<String> {
    match field {
        Field::Column(c) if IP_COLUMNS.contains(&c) => Some(format!(
            "{role}.group = cidr(value, 16) when value in 0.0.0.0/0\n{role}.group = cidr(value, 48)"
        )),
        // The /24s of a field are few enough already; ports group by class.
        Field::Column(col::SRC_PORT | col::DST_PORT) => {
            Some(format!("{role}.group = port_class(value)"))
        }
        _ => None,
    }
}

/// The grouping rules for a graph of these node fields, with the share that makes a value
/// rare (`rare`, such as "1%"), or an empty text when no field has a grouping.
pub fn grouping_rules(source: Field, event: Option<Field>, target: Field, rare: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for (role, f) in [
        ("source", Some(source)),
        ("event", event),
        ("target", Some(target)),
    ] {
        if let Some(rule) = f.and_then(|f| group_rule(role, f)) {
            out.push(rule);
            out.push(format!("{role}.rare = {rare}"));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_group_by_class_and_addresses_by_network() {
        let f = |n: &str| Field::parse(n).unwrap();
        let r = grouping_rules(f("src_ip"), Some(f("src_port")), f("dns_qname"), "2%");
        assert!(r.contains("source.group = cidr(value, 16) when value in 0.0.0.0/0"));
        assert!(r.contains("event.group = port_class(value)"));
        assert!(r.contains("event.rare = 2%"));
        assert!(!r.contains("target."), "names have no grouping here: {r}");
        assert_eq!(grouping_rules(f("user"), None, f("http_status"), RARE), "");
    }
}
