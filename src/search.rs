//! Search and filter inputs of the list pages, checked at the boundary: each at most
//! [`MAX_INPUT`] characters (a longer one is refused with a message naming it, before any
//! work), and the search text trimmed once per request; the lists compare it in SQL.

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

/// The search text as SQL compares it (`LIKE`/`ILIKE` ignore case themselves): trimmed, not
/// lower-cased, so on SQLite, whose `LIKE` folds ASCII only, `Élodie` still finds `Élodie`;
/// `None` when empty.
pub fn term(search: Option<&str>) -> Option<String> {
    search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
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
    fn the_term_is_trimmed_and_keeps_its_case() {
        assert_eq!(term(Some("  Élodie ")).as_deref(), Some("Élodie"));
        assert_eq!(term(Some("   ")), None);
        assert_eq!(term(None), None);
    }
}
