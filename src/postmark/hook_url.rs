//! Webhook URLs may carry basic-auth credentials: Postmark documents
//! `https://user:pass@host/…` for authenticating its webhook posts. Those are secrets, so the
//! application keeps, compares, shows and logs a hook URL only without them; a keyed
//! fingerprint of the credentials still tells when they change.
//!
//! Only the credentials are cut out, by hand rather than through a URL parser: a parser would
//! also normalise the rest (case, a trailing slash), and every URL without credentials would
//! then look changed against what was stored before.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// A hook URL without its credentials, and the credentials (`user:pass`) if it had any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    pub url: String,
    pub credentials: Option<&'a str>,
}

/// Where the `userinfo@` of `url` is: the byte range to cut, and the userinfo's end.
fn userinfo(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    // The authority ends at the path, query or fragment (a backslash counts as a slash in
    // http(s) URLs); its last `@` ends the userinfo, as browsers and Postmark read it.
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    Some((start, start + at))
}

/// Cuts the credentials out of `url`; a URL without any comes back unchanged.
pub fn split(url: &str) -> Split<'_> {
    match userinfo(url) {
        Some((start, at)) => {
            let credentials = &url[start..at];
            Split {
                url: format!("{}{}", &url[..start], &url[at + 1..]),
                credentials: (!credentials.is_empty()).then_some(credentials),
            }
        }
        None => Split {
            url: url.to_string(),
            credentials: None,
        },
    }
}

/// `url` without credentials.
pub fn without_credentials(url: &str) -> String {
    split(url).url
}

/// For `Debug` and logs: the credentials replaced by `***`, so a reader sees there were some.
pub fn redacted(url: &str) -> String {
    match userinfo(url) {
        Some((start, at)) => format!("{}***{}", &url[..start], &url[at..]),
        None => url.to_string(),
    }
}

/// First 12 hex digits of HMAC-SHA256 over the credentials with this installation's key: a
/// change of user or password changes it, and without the key it cannot be used to test
/// guesses of a password.
pub fn fingerprint(key: &[u8], credentials: &str) -> String {
    // HMAC takes a key of any length; the error type exists for other MACs.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(credentials.as_bytes());
    hex::encode(mac.finalize().into_bytes())[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_cut_out_and_nothing_else_changes() {
        let cases = [
            (
                "https://user:hunter2@hooks.example.com/postmark?x=1",
                "https://hooks.example.com/postmark?x=1",
                Some("user:hunter2"),
            ),
            // The last @ of the authority ends the credentials; one in the path is not one.
            (
                "https://us@r:p@ss@Hooks.Example.com:8443",
                "https://Hooks.Example.com:8443",
                Some("us@r:p@ss"),
            ),
            (
                "https://hooks.example.com/a@b",
                "https://hooks.example.com/a@b",
                None,
            ),
            (
                "https://token@hooks.example.com/",
                "https://hooks.example.com/",
                Some("token"),
            ),
            (
                "https://@hooks.example.com/",
                "https://hooks.example.com/",
                None,
            ),
            ("not a url", "not a url", None),
            ("", "", None),
        ];
        for (url, stripped, credentials) in cases {
            let split = split(url);
            assert_eq!(split.url, stripped, "{url}");
            assert_eq!(split.credentials, credentials, "{url}");
        }
        assert_eq!(
            redacted("https://user:hunter2@hooks.example.com/b"),
            "https://***@hooks.example.com/b"
        );
        assert_eq!(
            redacted("https://hooks.example.com/b"),
            "https://hooks.example.com/b"
        );
    }

    #[test]
    fn fingerprints_depend_on_the_key_and_the_credentials() {
        let a = fingerprint(b"key one", "user:hunter2");
        assert_eq!(a.len(), 12);
        assert_eq!(a, fingerprint(b"key one", "user:hunter2"));
        assert_ne!(a, fingerprint(b"key one", "user:hunter3"));
        assert_ne!(a, fingerprint(b"key two", "user:hunter2"));
    }
}
