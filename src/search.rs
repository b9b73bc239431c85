//! Search and filter inputs of the list pages, checked at the boundary: each at most
//! [`MAX_INPUT`] characters (a longer one is refused with a message naming it, before any
//! work), and the search text trimmed and lower-cased once per request, not once per row.

use crate::error::AppError;

/// Longest accepted search or filter value, in characters (the Audit page's rule too).
pub const MAX_INPUT: usize = 200;

/// Refuses the first of `fields` (`(label, value)`) longer than [`MAX_INPUT`].
pub fn check(fields: &[(&str, Option<&str>)]) -> Result<(), AppError> {
    for (label, value) in fields {
        let length = value.map_or(0, |v| v.chars().count());
        if length > MAX_INPUT {
            return Err(AppError::Validation(format!(
                "{label} is too long: at most {MAX_INPUT} characters (got {length})."
            )));
        }
    }
    Ok(())
}

/// The search text as rows are compared with it: trimmed and lower-cased; `None` when empty.
pub fn needle(search: Option<&str>) -> Option<String> {
    search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
}

/// Whether any of `fields` contains `needle` (already lower-cased), without regard to case.
pub fn found(needle: &str, fields: &[&str]) -> bool {
    fields.iter().any(|field| {
        if field.is_ascii() {
            // No allocation for the common case: ASCII case folding in place.
            field
                .as_bytes()
                .windows(needle.len().max(1))
                .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
                || needle.is_empty()
        } else {
            field.to_lowercase().contains(needle)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_over_the_limit_are_refused_by_name() {
        let long = "é".repeat(MAX_INPUT + 1);
        let error = check(&[("Search", Some("ok")), ("Flag", Some(&long))]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Flag is too long: at most 200 characters (got 201)."
        );
        assert!(check(&[("Search", Some(&"é".repeat(MAX_INPUT))), ("Flag", None)]).is_ok());
    }

    #[test]
    fn the_needle_is_lower_cased_once_and_found_in_any_case() {
        let needle = needle(Some("  Chloe ")).unwrap();
        assert_eq!(needle, "chloe");
        assert!(found(&needle, &["x", "CHLOE.chen@example.com"]));
        assert!(!found(&needle, &["chlo"]));
        assert!(found("émile", &["Émile Zola"]));
        assert_eq!(super::needle(Some("   ")), None);
    }
}
