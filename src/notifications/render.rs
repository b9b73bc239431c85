//! The words of each email, from the template data queued with it and the approval link the
//! worker minted. Plain text and HTML say the same; everything that came from data is escaped
//! in the HTML (campaign names and item descriptions are typed by people).

use serde_json::Value;

use super::Kind;
use crate::components::markup::escape;

/// A rendered email.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies carry the raw token of an approval link.
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Template data that does not fit the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template data for {kind} lacks {field}")]
pub struct MissingData {
    pub kind: &'static str,
    pub field: &'static str,
}

struct Data<'a> {
    kind: Kind,
    value: &'a Value,
}

impl Data<'_> {
    fn text(&self, field: &'static str) -> Result<String, MissingData> {
        self.value
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(MissingData {
                kind: self.kind.slug(),
                field,
            })
    }

    fn count(&self, field: &'static str) -> Result<i64, MissingData> {
        self.value
            .get(field)
            .and_then(Value::as_i64)
            .ok_or(MissingData {
                kind: self.kind.slug(),
                field,
            })
    }

    fn list(&self, field: &'static str) -> Result<Vec<String>, MissingData> {
        self.value
            .get(field)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .ok_or(MissingData {
                kind: self.kind.slug(),
                field,
            })
    }
}

fn items(n: i64) -> String {
    if n == 1 {
        "1 access".to_string()
    } else {
        format!("{n} accesses")
    }
}

/// Paragraphs of an email: each is plain text, rendered to both bodies.
struct Body {
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
    list: Vec<String>,
    footer: Vec<String>,
}

impl Body {
    fn text(&self) -> String {
        let mut parts = self.paragraphs.clone();
        if !self.list.is_empty() {
            parts.push(
                self.list
                    .iter()
                    .map(|i| format!("  - {i}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        if let Some((label, url)) = &self.link {
            parts.push(format!("{label}:\n{url}"));
        }
        parts.extend(self.footer.iter().cloned());
        parts.join("\n\n") + "\n"
    }

    fn html(&self, subject: &str) -> String {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"font-family: sans-serif; line-height: 1.5\">\n",
            escape(subject)
        );
        for p in &self.paragraphs {
            html.push_str(&format!("<p>{}</p>\n", escape(p)));
        }
        if !self.list.is_empty() {
            html.push_str("<ul>\n");
            for item in &self.list {
                html.push_str(&format!("<li>{}</li>\n", escape(item)));
            }
            html.push_str("</ul>\n");
        }
        if let Some((label, url)) = &self.link {
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>\n<p style=\"font-size: small\">{}</p>\n",
                escape(url),
                escape(label),
                escape(url)
            ));
        }
        for p in &self.footer {
            html.push_str(&format!(
                "<p style=\"color: #555; font-size: small\">{}</p>\n",
                escape(p)
            ));
        }
        html.push_str("</body></html>\n");
        html
    }
}

/// Renders an email of `kind` to `recipient`. `link` is the approval link's URL for kinds
/// that carry one.
pub fn render(
    kind: Kind,
    data: &Value,
    recipient: &str,
    link: Option<&str>,
) -> Result<Rendered, MissingData> {
    let d = Data { kind, value: data };
    let link_note = format!(
        "This link is for {recipient} only: it asks you to sign in, and a forwarded copy \
         grants nobody else anything."
    );
    let page = link;
    let link = |label: &str| page.map(|url| (label.to_string(), url.to_string()));
    let (subject, body) = match kind {
        Kind::ReviewRequest | Kind::Reminder | Kind::Handover => {
            let campaign = d.text("campaign_name")?;
            let n = d.count("items")?;
            let due = d.text("due_on")?;
            let contact = d.text("contact")?;
            let (subject, opening) = match kind {
                Kind::Reminder => (
                    format!("Reminder: {} to review in {campaign} by {due}", items(n)),
                    format!(
                        "{} in the access review \"{campaign}\" still wait for your decision. \
                         The review is due on {due}.",
                        items(n)
                    ),
                ),
                Kind::Handover => {
                    let from = d.text("from")?;
                    let what = d.text("what")?;
                    (
                        format!("{from} handed {} on to you in {campaign}", items(n)),
                        format!(
                            "{from} handed {} on to you for review in the access review \
                             \"{campaign}\": {what}. The review is due on {due}.",
                            items(n)
                        ),
                    )
                }
                _ => (
                    format!("Access review {campaign}: {} to review by {due}", items(n)),
                    format!(
                        "You are asked to review {} to our Postmark account in the access \
                         review \"{campaign}\": for each, approve it if the person or server \
                         still needs it, or revoke it. The review is due on {due}.",
                        items(n)
                    ),
                ),
            };
            (
                subject,
                Body {
                    paragraphs: vec!["Hello,".to_string(), opening],
                    link: link("Open your review queue"),
                    list: vec![],
                    footer: vec![link_note, format!("Questions? Ask {contact}.")],
                },
            )
        }
        Kind::Escalation => {
            let campaign = d.text("campaign_name")?;
            let due = d.text("due_on")?;
            let overdue = d.list("overdue")?;
            (
                format!(
                    "Overdue: {} reviewers have not finished {campaign}",
                    overdue.len()
                ),
                Body {
                    paragraphs: vec![
                        "Hello,".to_string(),
                        format!(
                            "The access review \"{campaign}\" was due on {due}. These reviewers \
                             still have undecided items:"
                        ),
                    ],
                    link: None,
                    list: overdue,
                    footer: vec![
                        "Remind them from the campaign's dashboard, or reassign their items."
                            .to_string(),
                    ],
                },
            )
        }
        Kind::FulfilmentTask => {
            let campaign = d.text("campaign_name")?;
            let lines = d.list("lines")?;
            // Tasks of offboarding (people who left, emergency removals) have no campaign.
            let offboarding = d.value.get("offboarding").and_then(Value::as_bool) == Some(true);
            let n = lines.len();
            let what = if n == 1 {
                "1 revocation".to_string()
            } else {
                format!("{n} revocations")
            };
            (
                format!("By hand in Postmark: {what} from {campaign}"),
                Body {
                    paragraphs: vec![
                        "Hello,".to_string(),
                        if offboarding {
                            format!(
                                "People left (their identity provider deactivated them) or an \
                                 admin removed their access in an emergency, and no API can \
                                 take their Postmark access away ({what}). Please make each \
                                 change by hand in Postmark now, then mark each line on the \
                                 task page as done, or as not possible with a note:"
                            )
                        } else {
                            format!(
                                "The access review \"{campaign}\" decided to take away the \
                                 access below, and no API can do it ({what}). Please make each \
                                 change by hand in Postmark, then mark each line on the task \
                                 page as done, or as not possible with a note:"
                            )
                        },
                    ],
                    link: link("Open the task"),
                    list: lines,
                    footer: vec![
                        "The page asks you to sign in. The next inventory sync checks every \
                         line marked done: access still there is reported as not effective."
                            .to_string(),
                    ],
                },
            )
        }
    };
    Ok(Rendered {
        text: body.text(),
        html: body.html(&subject),
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> Value {
        json!({
            "campaign_name": "Q4 <review> & \"more\"", "items": 3, "due_on": "2026-12-15",
            "contact": "ada@example.com",
        })
    }

    #[test]
    fn a_review_request_says_what_when_where_and_whom_to_ask() {
        let r = render(
            Kind::ReviewRequest,
            &request(),
            "rita@example.com",
            Some("https://par.example/r/TOKEN"),
        )
        .unwrap();
        assert!(r.subject.contains("3 accesses") && r.subject.contains("2026-12-15"));
        for needle in [
            "3 accesses",
            "2026-12-15",
            "https://par.example/r/TOKEN",
            "ada@example.com",
            "rita@example.com",
        ] {
            assert!(r.text.contains(needle), "{needle} missing from {}", r.text);
        }
        assert!(r.html.contains("Q4 &lt;review&gt; &amp; &quot;more&quot;"));
        assert!(!r.html.contains("<review>"));
        assert!(r.html.contains("href=\"https://par.example/r/TOKEN\""));
    }

    #[test]
    fn handover_and_escalation_use_their_fields() {
        let mut data = request();
        data["from"] = json!("manny@example.com");
        data["what"] = json!("<b>Server Admin</b> on Billing");
        let r = render(Kind::Handover, &data, "x@example.com", Some("u")).unwrap();
        assert!(r.text.contains("manny@example.com handed 3 accesses"));
        assert!(r.html.contains("&lt;b&gt;Server Admin"));
        let e = render(
            Kind::Escalation,
            &json!({"campaign_name": "Q4", "due_on": "2026-12-15", "overdue": ["a@x.io", "b@x.io"]}),
            "admin@example.com",
            None,
        )
        .unwrap();
        assert!(e.text.contains("  - a@x.io\n  - b@x.io"));
        assert!(!e.text.contains("/r/"));
    }

    #[test]
    fn a_fulfilment_task_lists_its_lines_and_links_its_page() {
        let data = json!({"campaign_name": "Q4 <review>", "task_id": 7,
            "lines": ["Remove <b>x</b>", "Demote y"]});
        let r = render(
            Kind::FulfilmentTask,
            &data,
            "ops@example.com",
            Some("https://par/tasks/7"),
        )
        .unwrap();
        assert_eq!(
            r.subject,
            "By hand in Postmark: 2 revocations from Q4 <review>"
        );
        assert!(r.text.contains("  - Remove <b>x</b>\n  - Demote y"));
        assert!(r.text.contains("Open the task:\nhttps://par/tasks/7"));
        assert!(r.html.contains("Remove &lt;b&gt;x"));
    }

    #[test]
    fn missing_data_is_named() {
        let err = render(Kind::Reminder, &json!({}), "x@example.com", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template data for reminder lacks campaign_name"
        );
    }
}
