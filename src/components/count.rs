//! The line above a paged list: how many match, and which page this is.

use leptos::prelude::*;

/// "1 server matches. Page 1 of 1." or "12 servers match. Page 1 of 2."
#[component]
pub fn MatchCount(
    matching: usize,
    /// The thing counted, singular and plural.
    one: &'static str,
    many: &'static str,
    page: usize,
    pages: usize,
) -> impl IntoView {
    view! { <p class="count">{sentence(matching, one, many, page, pages)}</p> }
}

fn sentence(matching: usize, one: &str, many: &str, page: usize, pages: usize) -> String {
    let matches = if matching == 1 {
        format!("1 {one} matches.")
    } else {
        format!("{matching} {many} match.")
    };
    format!("{matches} Page {page} of {pages}.")
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn one_and_many() {
        assert_eq!(
            sentence(1, "server", "servers", 1, 1),
            "1 server matches. Page 1 of 1."
        );
        assert_eq!(
            sentence(0, "item", "items", 1, 1),
            "0 items match. Page 1 of 1."
        );
        assert_eq!(
            sentence(240, "item", "items", 2, 3),
            "240 items match. Page 2 of 3."
        );
    }
}
