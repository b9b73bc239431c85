//! The queue's filters: a GET form, so every choice is in the address and survives reload
//! and Back.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::filter::FilterForm,
    inventory::{Flag, UserFlag},
    review_items::ItemKind,
};

#[component]
pub fn QueueFilters() -> impl IntoView {
    let query = use_query_map();
    let selected = move |key: &'static str, value: &'static str| {
        query.with(|q| q.get(key).unwrap_or_default() == value)
    };
    view! {
        <FilterForm action="/reviews">
            // Apply keeps the campaign chosen from the progress list.
            {move || query.with(|q| q.get("campaign")).map(|c| view! { <input type="hidden" name="campaign" value=c /> })}
            <label>
                "Search "
                <input type="search" name="search" placeholder="Person, server or permission"
                    value=query.with_untracked(|q| q.get("search").unwrap_or_default())
                    prop:value=move || query.with(|q| q.get("search").unwrap_or_default()) />
            </label>
            <label>
                "Group by "
                <select name="group" prop:value=move || query.with(|q| q.get("group").unwrap_or_else(|| "person".to_string()))>
                    <option value="person">"Person"</option>
                    <option value="server" selected=move || selected("group", "server")>"Server"</option>
                </select>
            </label>
            <label>
                "Show "
                <select name="status" prop:value=move || query.with(|q| q.get("status").unwrap_or_default())>
                    <option value="">"All items"</option>
                    <option value="undecided" selected=move || selected("status", "undecided")>"Undecided"</option>
                    <option value="decided" selected=move || selected("status", "decided")>"Decided"</option>
                </select>
            </label>
            <label>
                "Kind "
                <select name="kind" prop:value=move || query.with(|q| q.get("kind").unwrap_or_default())>
                    <option value="">"Any"</option>
                    {ItemKind::ALL.into_iter().map(|k| view! {
                        <option value=k.slug() selected=move || selected("kind", k.slug())>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Flag "
                <select name="flag" prop:value=move || query.with(|q| q.get("flag").unwrap_or_default())>
                    <option value="">"Any"</option>
                    <option value="any" selected=move || selected("flag", "any")>"Any flag"</option>
                    {Flag::ALL.into_iter().map(|f| view! {
                        <option value=f.slug() selected=move || selected("flag", f.slug())>{f.label()}</option>
                    }).collect_view()}
                    {UserFlag::ALL.into_iter().map(|f| view! {
                        <option value=f.slug() selected=move || selected("flag", f.slug())>{f.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button-secondary">"Apply"</button>
        </FilterForm>
    }
}
