//! Member Markdown to safe HTML: pulldown-cmark (tables, fenced code, strikethrough) first,
//! then ammonia **last**, so no extension can splice markup in after sanitising (lemmy-ui#1895).
//! Links get `rel="nofollow noopener noreferrer"`; only `http`, `https` and `mailto` links
//! survive; images only from our own uploads (`/img/<id>`), so a post cannot make readers'
//! browsers call a third party (lemmy#1036). The CSP's `img-src 'self'` backs this up.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .rm_tags(["img"])
        .add_tags(["img"])
        .add_tag_attributes("img", ["src", "alt", "title"])
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !is_own_image(value) {
                None
            } else {
                Some(value.into())
            }
        });
    b
});

/// `/img/<hex id>` or `/img/<hex id>/thumb`: the only image sources a post may use.
fn is_own_image(src: &str) -> bool {
    let Some(rest) = src.strip_prefix("/img/") else {
        return false;
    };
    let id = rest.strip_suffix("/thumb").unwrap_or(rest);
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Renders member Markdown to HTML that is safe to embed in a page.
pub fn render(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options()));
    // Sanitising is the last step on purpose: nothing may touch the HTML after this.
    SANITIZER.clean(&html).to_string()
}

/// Plain text of the Markdown (no markup), cut after about `max` characters at a word
/// boundary, with an ellipsis when cut. Used for teasers, search excerpts and feeds.
pub fn plain_excerpt(markdown: &str, max: usize) -> String {
    let mut text = String::new();
    // Inside inline HTML whose content is no text to read (`<script>`, `<style>`, ...):
    // the page drops such elements whole, so the teaser must not show their content.
    let mut hidden: Option<&'static str> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::InlineHtml(h) => {
                let h = h.to_ascii_lowercase();
                match hidden {
                    Some(tag) if h.starts_with(&format!("</{tag}")) => hidden = None,
                    Some(_) => {}
                    None => {
                        hidden = HIDDEN_CONTENT.iter().copied().find(|tag| {
                            h.strip_prefix('<')
                                .and_then(|r| r.strip_prefix(tag))
                                .is_some_and(|r| r.starts_with(['>', ' ', '/', '\t', '\n']))
                        })
                    }
                }
            }
            _ if hidden.is_some() => {}
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::Item,
            ) => text.push(' '),
            Event::Start(Tag::TableCell) => text.push(' '),
            _ => {}
        }
        if text.len() > max * 4 {
            break;
        }
    }
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&collapsed, max)
}

/// Elements whose content a reader never sees as text.
const HIDDEN_CONTENT: &[&str] = &[
    "script", "style", "textarea", "title", "noscript", "template", "iframe", "xmp", "noembed",
    "noframes",
];

/// Cuts `s` to at most `max` characters at a word boundary, adding "…" when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let end = s.char_indices().nth(max).map(|(i, _)| i).unwrap_or(s.len());
    let head = &s[..end];
    let head = match head.rfind(' ') {
        Some(i) if i > end / 2 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teasers_never_show_what_the_page_hides() {
        assert_eq!(
            plain_excerpt(
                "Hi <script>alert(1)</script> there <STYLE type=x>p{}</STYLE>ok <b>bold</b>",
                100
            ),
            "Hi there ok bold"
        );
        // A block of HTML is no text either; an unclosed script hides the rest.
        assert_eq!(
            plain_excerpt("<script>\nx()\n</script>\n\nText", 100),
            "Text"
        );
        assert_eq!(plain_excerpt("a <script>b c", 100), "a");
    }

    #[test]
    fn renders_tables_code_and_links() {
        let html = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nJan 1 sshd[1]: Failed password\n```\n\n[x](https://example.org)",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains("<pre><code>Jan 1 sshd[1]: Failed password"),
            "{html}"
        );
        assert!(
            html.contains(r#"rel="nofollow noopener noreferrer""#),
            "{html}"
        );
    }

    #[test]
    fn scripts_and_dangerous_urls_are_inert() {
        let corpus = [
            "<script>alert(1)</script>",
            "[x](javascript:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "<iframe src=//evil.example></iframe>",
            "![x](https://evil.example/track.png)",
            "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ];
        for md in corpus {
            let html = render(md).to_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "onerror",
                "onload",
                "<iframe",
                "<svg",
                "data:",
                "evil.example/track",
                "style=",
            ] {
                assert!(!html.contains(bad), "{md:?} rendered {html:?}");
            }
        }
    }

    #[test]
    fn own_images_survive() {
        let html = render("![graph](/img/0123abcd)");
        assert!(html.contains(r#"src="/img/0123abcd""#), "{html}");
        assert!(!render("![g](/img/../etc)").contains("src="));
    }

    #[test]
    fn excerpts_are_plain_and_cut() {
        assert_eq!(
            plain_excerpt("# Title\n\nSome **bold** text", 100),
            "Title Some bold text"
        );
        let long = plain_excerpt(&"word ".repeat(100), 20);
        assert!(long.ends_with('…') && long.chars().count() <= 21, "{long}");
    }
}

#[cfg(test)]
mod nesting {
    use super::*;
    use crate::domain::{CommentBody, PostBody};

    /// What the body parsers let through renders on a web server thread's 2 MiB stack, at
    /// once: the nesting limit is what keeps markdown and sanitising from growing with the
    /// square of the text.
    #[test]
    fn issue_14_the_deepest_accepted_text_renders_quickly() {
        let depth = crate::domain::text::MAX_NESTING;
        let fill = |unit: &str| unit.repeat(PostBody::MAX / unit.len());
        let cases = [
            fill(&format!(
                "{}\n",
                "<div>".repeat(depth) + &"</div>".repeat(depth)
            )),
            fill(&format!("{} x\n", ">".repeat(depth))),
            fill(&format!("{}x\n", "- ".repeat(depth))),
            fill(&format!(
                "{}\n",
                "<b><i>".repeat(depth / 2) + &"</i></b>".repeat(depth / 2)
            )),
        ];
        for c in &cases {
            assert!(PostBody::parse(c).is_ok(), "accepted: {}", &c[..40]);
        }
        let comment = CommentBody::parse(&">".repeat(depth)).is_ok();
        assert!(comment);
        let took = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let t = std::time::Instant::now();
                for c in &cases {
                    render(c);
                    plain_excerpt(c, 200);
                }
                t.elapsed()
            })
            .unwrap()
            .join()
            .expect("rendering stayed within the stack");
        // A generous bound for a debug build on a busy machine (over a minute before).
        assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    }
}
