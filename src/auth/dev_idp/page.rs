//! The development provider's HTML: a list of demo people to sign in as.

use super::{AuthorizeParams, PEOPLE};
use crate::components::markup::escape;

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/pkg/{css}.css\"></head>\
         <body><main class=\"content idp\">{body}</main></body></html>",
        title = escape(title),
        css = crate::OUTPUT_NAME,
    )
}

/// The sign-in page: one button per demo person, carrying the request back in hidden fields.
pub fn chooser(params: &AuthorizeParams) -> String {
    let hidden = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.as_ref().map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect::<String>();
    let people = PEOPLE
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<li><button type=\"submit\" name=\"person\" value=\"{i}\" class=\"idp-person\">\
                 <strong>{name}</strong><span>{email}</span><small>{about}</small></button></li>",
                name = escape(p.name),
                email = escape(p.email),
                about = escape(p.about),
            )
        })
        .collect::<String>();
    document(
        "Sign in · Development identity provider",
        &format!(
            "<p class=\"idp-badge\">Development identity provider — demo and tests only</p>\
             <h1>Sign in as…</h1>\
             <p>A real deployment signs in through your company's OpenID Connect provider. \
             Pick a demo person:</p>\
             <form method=\"post\" action=\"{prefix}/authorize\">{hidden}<ul class=\"idp-people\">{people}</ul></form>",
            prefix = super::PREFIX,
        ),
    )
}

/// A refusal page; the request is not redirected anywhere.
pub fn error(reason: &str) -> String {
    document(
        "Development identity provider",
        &format!(
            "<p class=\"idp-badge\">Development identity provider</p><h1>Request refused</h1><p>{}</p>",
            escape(reason)
        ),
    )
}
