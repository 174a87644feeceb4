//! Preset views by kind of data. Each preset names the question it answers ("who scans
//! whom", "which clients fail to log in") and is offered only when the dataset holds the
//! columns it draws by (from its column profile); the first that fits is the best, and the
//! draft form opens on it. So an access log opens on its clients and the pages they probe,
//! an sshd log on failed logins, a firewall log on its scans, and nothing opens on a graph of
//! columns the data does not have.

use secviz_lake::ColumnProfile;

use super::recipe::ViewForm;

/// A view to start from.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// Its name in URLs (`?preset=scans`).
    pub key: &'static str,
    /// The question the view answers.
    pub question: String,
    pub form: ViewForm,
}

/// What the profile says about a column.
struct Columns<'a>(&'a [ColumnProfile]);

impl Columns<'_> {
    fn distinct(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.distinct.unwrap_or(1).max(1))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|c| c.name == name && c.values > 0)
    }

    fn all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.has(n))
    }

    /// The fields of the bar charts: those of `names` the data holds.
    fn fields(&self, names: &[&str]) -> String {
        names
            .iter()
            .filter(|n| self.has(n))
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn graph(source: &str, event: &str, target: &str, fields: String) -> ViewForm {
    ViewForm {
        kind: "linked".into(),
        fields,
        source: source.into(),
        event: event.into(),
        target: target.into(),
        color: "role".into(),
        size: "count".into(),
        ..ViewForm::default()
    }
}

/// The presets that fit a dataset with these columns, best first (empty when none does).
pub fn presets(profile: &[ColumnProfile]) -> Vec<Preset> {
    let c = Columns(profile);
    let mut out: Vec<Preset> = Vec::new();
    let mut add = |key: &'static str, question: &str, form: ViewForm| {
        out.push(Preset {
            key,
            question: question.to_string(),
            form,
        });
    };
    if c.all(&["src_ip", "user", "auth_result"]) {
        add(
            "logins",
            "Which clients fail to log in, and as whom?",
            ViewForm {
                filter: "auth_result = 'failure'".into(),
                ..graph(
                    "src_ip",
                    "",
                    "user",
                    c.fields(&["auth_result", "user", "src_ip", "host"]),
                )
            },
        );
    }
    if c.all(&["src_ip", "http_uri", "http_status"]) {
        add(
            "web-probing",
            "Which clients ask for pages that are not there?",
            ViewForm {
                filter: "http_status >= 400".into(),
                ..graph(
                    "src_ip",
                    "http_status",
                    "http_uri",
                    c.fields(&["http_status", "http_method", "src_ip", "user_agent"]),
                )
            },
        );
        add(
            "web-answers",
            "What does each client get back?",
            graph(
                "src_ip",
                "",
                "http_status",
                c.fields(&["http_status", "http_method", "http_uri", "src_ip"]),
            ),
        );
    }
    if c.all(&["src_ip", "dns_qname"]) {
        add(
            "dns-names",
            "Who asks for which names?",
            graph(
                "src_ip",
                "",
                "dns_qname",
                c.fields(&["dns_qname", "dns_qtype", "src_ip", "dns_rcode"]),
            ),
        );
    }
    let flows = c.all(&["src_ip", "dst_ip", "dst_port"]);
    if flows && c.distinct("src_ip") > 1 {
        add(
            "scans",
            "Who scans whom?",
            ViewForm {
                size: "degree".into(),
                color: if c.has("action") { "action" } else { "role" }.into(),
                ..graph(
                    "src_ip",
                    "dst_port",
                    "dst_ip",
                    c.fields(&["dst_port", "src_ip", "dst_ip", "action", "protocol"]),
                )
            },
        );
    }
    if flows && c.has("src_port") && (c.has("dns_qname") || c.distinct("dst_port") > 1) {
        add(
            "dns-ports",
            "DNS by client and source port: which clients send from a fixed port?",
            ViewForm {
                filter: "dst_port = 53".into(),
                ..graph(
                    "src_ip",
                    "src_port",
                    "dst_ip",
                    c.fields(&["src_ip", "src_port", "dst_ip"]),
                )
            },
        );
    }
    if c.all(&["src_ip", "dst_ip"]) {
        add(
            "talkers",
            "Who talks to whom, and how much?",
            ViewForm {
                color: if c.has("protocol") {
                    "protocol"
                } else {
                    "role"
                }
                .into(),
                ..graph(
                    "src_ip",
                    "",
                    "dst_ip",
                    c.fields(&["src_ip", "dst_ip", "protocol", "dst_port"]),
                )
            },
        );
    }
    if flows && c.has("action") {
        add(
            "blocked",
            "What does the firewall block, and for whom?",
            ViewForm {
                filter: "action = 'block'".into(),
                ..graph(
                    "src_ip",
                    "dst_port",
                    "dst_ip",
                    c.fields(&["action", "dst_port", "src_ip", "interface"]),
                )
            },
        );
    }
    if c.all(&["host", "app"]) {
        add(
            "hosts-apps",
            "Which hosts log what?",
            graph(
                "host",
                "",
                "app",
                c.fields(&["host", "app", "event_class", "user"]),
            ),
        );
    }
    if out.is_empty() {
        // Any data: the two text columns that name the most things without being one value
        // per event, related to each other.
        let mut text: Vec<&ColumnProfile> = profile
            .iter()
            .filter(|p| {
                p.kind == "text" && p.distinct.is_some_and(|d| d >= 2 && d < p.values.max(2))
            })
            .collect();
        text.sort_by(|a, b| b.values.cmp(&a.values).then(a.name.cmp(&b.name)));
        if let [a, b, ..] = text.as_slice() {
            let names: Vec<&str> = text.iter().take(4).map(|p| p.name.as_str()).collect();
            out.push(Preset {
                key: "related",
                question: format!("Which {} values go with which {} values?", a.name, b.name),
                form: graph(&a.name, "", &b.name, names.join(", ")),
            });
        }
    }
    out
}

/// A preset as a recipe of `dataset`: its key, its question and its view spec, for
/// `secviz presets` (the CLI offers the portal's presets).
pub struct PresetSpec {
    pub key: &'static str,
    pub question: String,
    pub spec: secviz_views::ViewSpec,
}

/// The presets that fit these columns as view specs of `dataset`, best first.
pub fn preset_specs(profile: &[ColumnProfile], dataset: &str) -> Vec<PresetSpec> {
    presets(profile)
        .into_iter()
        .filter_map(|p| {
            let (spec, _) = p.form.to_spec(dataset).ok()?;
            Some(PresetSpec {
                key: p.key,
                question: p.question,
                spec,
            })
        })
        .collect()
}

/// The preset named `key`, if it fits.
pub fn find(profile: &[ColumnProfile], key: &str) -> Option<Preset> {
    presets(profile).into_iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(cols: &[(&str, &str, u64, u64)]) -> Vec<ColumnProfile> {
        cols.iter()
            .map(|(name, kind, values, distinct)| ColumnProfile {
                name: name.to_string(),
                kind: kind.to_string(),
                values: *values,
                distinct: Some(*distinct),
            })
            .collect()
    }

    #[test]
    fn each_kind_of_data_opens_on_its_question() {
        let sshd = profile(&[
            ("src_ip", "text", 900, 40),
            ("user", "text", 900, 80),
            ("auth_result", "text", 800, 2),
            ("host", "text", 1000, 1),
            ("app", "text", 1000, 2),
        ]);
        assert_eq!(presets(&sshd)[0].key, "logins");
        let access = profile(&[
            ("src_ip", "text", 1000, 90),
            ("http_uri", "text", 1000, 400),
            ("http_status", "whole number", 1000, 8),
            ("http_method", "text", 1000, 3),
        ]);
        let p = presets(&access);
        assert_eq!(p[0].key, "web-probing");
        assert_eq!(p[0].form.fields, "http_status, http_method, src_ip");
        let pf = profile(&[
            ("src_ip", "text", 1000, 30),
            ("src_port", "whole number", 1000, 900),
            ("dst_ip", "text", 1000, 20),
            ("dst_port", "whole number", 1000, 12),
            ("action", "text", 1000, 2),
        ]);
        let keys: Vec<&str> = presets(&pf).iter().map(|p| p.key).collect();
        assert_eq!(keys, ["scans", "dns-ports", "talkers", "blocked"]);
        // A laptop's own connections: one source, so no scans.
        let laptop = profile(&[
            ("src_ip", "text", 500, 1),
            ("dst_ip", "text", 500, 60),
            ("dst_port", "whole number", 500, 9),
        ]);
        assert_eq!(presets(&laptop)[0].key, "talkers");
        // Anything else: two text columns related.
        let csv = profile(&[
            ("host", "text", 300, 12),
            ("user", "text", 280, 30),
            ("message", "text", 300, 300),
        ]);
        let p = presets(&csv);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].question,
            "Which host values go with which user values?"
        );
        assert!(presets(&profile(&[("bytes", "whole number", 10, 10)])).is_empty());
    }
}
