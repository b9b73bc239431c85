//! Static HTML written as one string, for the parts of a long list that never change once
//! drawn (the review queue's item descriptions). A Leptos view builds, boxes and writes every
//! element and attribute separately; for a hundred rows that was most of the queue page's
//! server time. The string goes into an element's `inner_html`, which hydration passes by.
//!
//! Every text and attribute value is escaped here; tags, classes and attribute names are
//! `&'static str`, so only the program's own constants are written unescaped.

use std::fmt::Write as _;

/// Text for HTML, as element content or a quoted attribute value (either quote): `&`, `<`,
/// `>`, `"` and `'` escaped. The one escape for markup written by hand (plain pages, emails).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

#[derive(Debug, Default)]
pub struct Markup(String);

impl Markup {
    pub fn new() -> Self {
        Self(String::with_capacity(512))
    }

    /// `<tag class="class">`.
    pub fn open(&mut self, tag: &'static str, class: &'static str) -> &mut Self {
        let _ = write!(self.0, "<{tag} class=\"{class}\">");
        self
    }

    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        html_escape::encode_text_to_string(text, &mut self.0);
        self
    }

    /// `<tag class="class">text</tag>`.
    pub fn element(&mut self, tag: &'static str, class: &'static str, text: &str) -> &mut Self {
        self.open(tag, class).text(text).close(tag)
    }

    /// `<a href="href">text</a>`.
    pub fn link(&mut self, href: &str, text: &str) -> &mut Self {
        self.0.push_str("<a href=\"");
        html_escape::encode_double_quoted_attribute_to_string(href, &mut self.0);
        self.0.push_str("\">");
        self.text(text).close("a")
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_content_and_both_quotes() {
        assert_eq!(
            escape("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#x27;x&#x27; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;"
        );
        assert!(matches!(
            escape("plain text"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn text_and_links_are_escaped() {
        let mut m = Markup::new();
        m.open("span", "who")
            .text("Ann <ann@example.com> & \"co\"")
            .link("/x?a=1&b=\"><script>", "<b>")
            .close("span")
            .element("p", "note", "</p><p>");
        assert_eq!(
            m.into_string(),
            "<span class=\"who\">Ann &lt;ann@example.com&gt; &amp; \"co\"\
             <a href=\"/x?a=1&amp;b=&quot;&gt;&lt;script&gt;\">&lt;b&gt;</a></span>\
             <p class=\"note\">&lt;/p&gt;&lt;p&gt;</p>"
        );
    }
}
