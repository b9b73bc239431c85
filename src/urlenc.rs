//! Percent-encoding for query values and path segments (RFC 3986 unreserved characters kept).

/// Encodes everything but `A-Z a-z 0-9 - _ . ~` and the bytes in `keep`.
pub fn encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b if keep.contains(&b) => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `key=value&…` with every value encoded; a pair without a key is left out (it would make an
/// address end in `&=`).
pub fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v, b"")))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_reserved_and_non_ascii() {
        assert_eq!(super::encode("/a b?c=é", b"/"), "/a%20b%3Fc%3D%C3%A9");
        assert_eq!(
            super::encode("ben+x@example.com", b"@+"),
            "ben+x@example.com"
        );
    }

    #[test]
    fn pairs_without_a_key_are_left_out() {
        let params = [
            ("action".to_string(), "a b".to_string()),
            (String::new(), String::new()),
            ("page".to_string(), "2".to_string()),
        ];
        assert_eq!(super::query_string(&params), "action=a%20b&page=2");
    }
}
