//! Read-only views a reviewer opens from a queue item: the person (their Postmark role and
//! every server permission) and the server (activity, flags, owner, and the access to it that
//! the reviewer decides). Only people and servers in the reviewer's open items can be opened:
//! reviewers are not inventory readers.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::context::{PersonContext, ServerContext};
use crate::{components::notice::ErrorNotice, error::AppError, review_items::ItemView};

/// A person in the caller's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLookup {
    pub email: String,
    /// None when the last sync no longer saw them.
    pub person: Option<PersonContext>,
    /// The caller's open items about them.
    pub items: Vec<ItemView>,
}

/// A server in the caller's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLookup {
    pub id: i64,
    pub server: Option<ServerContext>,
    /// `(email, name, permission)` of the people with access to it whom the caller reviews.
    pub people: Vec<(String, String, String)>,
    pub items: Vec<ItemView>,
}

#[server(prefix = "/api", endpoint = "reviews_person", output = crate::codec::TextJson)]
pub async fn review_person(email: String) -> Result<PersonLookup, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(super::api::reviewer(&user, &state, false))?;
    let email = email.trim().to_lowercase();
    respond(ssr::person(&state, &me, &email).await)
}

#[server(prefix = "/api", endpoint = "reviews_server", output = crate::codec::TextJson)]
pub async fn review_server(id: i64) -> Result<ServerLookup, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(super::api::reviewer(&user, &state, false))?;
    respond(ssr::server(&state, &me, id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{PersonLookup, ServerLookup};
    use crate::{
        error::AppError,
        review_items::{db::items_by, db::ITEMS, flag_label, ItemView},
        sql::Sql,
        state::AppState,
    };

    /// The caller's items in open campaigns whose `column` is the bound value.
    async fn mine(
        state: &AppState,
        me: &str,
        column: &str,
        bind: impl FnOnce(&mut Sql),
    ) -> Result<Vec<ItemView>, AppError> {
        let mut sql = Sql::new(&state.db);
        sql.push(ITEMS)
            .push(" WHERE c.status = 'active' AND i.reviewer_email = ")
            .text(me)
            .push(&format!(" AND {column} = "));
        bind(&mut sql);
        sql.push(" ORDER BY i.id");
        let mut items = items_by(&state.db, sql).await?;
        if items.is_empty() {
            // Not theirs to look at: said the same way as "does not exist".
            return Err(AppError::NotFound);
        }
        for item in &mut items {
            item.flags = item.flags.iter().map(|f| flag_label(f)).collect();
        }
        Ok(items)
    }

    pub async fn person(state: &AppState, me: &str, email: &str) -> Result<PersonLookup, AppError> {
        let items = mine(state, me, "i.user_email", |sql| {
            sql.text(email);
        })
        .await?;
        let refs: Vec<&ItemView> = items.iter().take(1).collect();
        let configured = &state.inventory.config.webhook_host_allowlist;
        let context = super::super::context::load(&state.db, &refs, configured).await?;
        Ok(PersonLookup {
            email: email.to_string(),
            person: context.people.into_iter().next(),
            items,
        })
    }

    pub async fn server(state: &AppState, me: &str, id: i64) -> Result<ServerLookup, AppError> {
        let items = mine(state, me, "i.server_id", |sql| {
            sql.int(id);
        })
        .await?;
        let refs: Vec<&ItemView> = items.iter().take(1).collect();
        let configured = &state.inventory.config.webhook_host_allowlist;
        let context = super::super::context::load(&state.db, &refs, configured).await?;
        let mut sql = Sql::new(&state.db);
        sql.push(
            "SELECT p.email, u.name, p.permission FROM user_permissions p \
             JOIN postmark_users u ON u.email = p.email WHERE p.postmark_server_id = ",
        )
        .int(id)
        .push(
            " AND p.email IN (SELECT i.user_email FROM review_items i JOIN campaigns c \
             ON c.id = i.campaign_id WHERE c.status = 'active' AND i.reviewer_email = ",
        )
        .text(me)
        .push(") ORDER BY p.email");
        let people: Vec<(String, String, String)> = sql.fetch(&state.db).await?;
        Ok(ServerLookup {
            id,
            server: context.servers.into_iter().next(),
            people,
            items,
        })
    }
}

/// The caller's items listed on a lookup page, with their state.
#[component]
fn YourItems(items: Vec<ItemView>) -> impl IntoView {
    view! {
        <h2>"In your queue"</h2>
        <ul class="plain lookup-items">
            {items.into_iter().map(|item| {
                let state = item.decision.map_or("Undecided", |d| d.label());
                view! { <li>{format!("{} — {}: {state}", item.subject(), item.what())}</li> }
            }).collect_view()}
        </ul>
        <BackToQueue />
    }
}

/// To the queue: back in history when this page was opened from it, so the reviewer returns
/// to the item they left (see `position`).
#[component]
fn BackToQueue() -> impl IntoView {
    view! {
        <p>
            <a href="/reviews" on:click=move |_event| {
                #[cfg(feature = "hydrate")]
                super::position::back_to_queue(_event);
            }>"Back to My reviews"</a>
        </p>
    }
}

/// A person or server the caller cannot open: not in their open items, or unknown.
#[component]
fn NotInQueue(error: AppError, what: &'static str) -> impl IntoView {
    view! {
        <Title text=format!("No such {what}") />
        <header class="page-header"><h1>{format!("No such {what} in your queue")}</h1></header>
        {match error {
            AppError::NotFound => view! {
                <p>{format!("You can open a {what} from an item of yours in an open campaign.")}</p>
            }.into_any(),
            error => view! { <ErrorNotice error needs="reviewers" /> }.into_any(),
        }}
        <BackToQueue />
    }
}

#[component]
pub fn ReviewPersonPage() -> impl IntoView {
    let query = use_query_map();
    let lookup = Resource::new(
        move || query.with(|q| q.get("email").unwrap_or_default()),
        review_person,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lookup.await {
                    Ok(found) => view! { <PersonView found /> }.into_any(),
                    Err(error) => view! { <NotInQueue error what="person" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PersonView(found: PersonLookup) -> impl IntoView {
    let heading = found.person.as_ref().map_or_else(
        || found.email.clone(),
        |p| format!("{} <{}>", p.name, p.email),
    );
    view! {
        <Title text=heading.clone() />
        <header class="page-header">
            <h1 class="lookup-heading">{heading}</h1>
            <p class="lede">"What the Postmark inventory holds for this person now. Read-only."</p>
        </header>
        {match found.person {
            None => view! { <p class="muted">"The last sync no longer saw this login in Postmark."</p> }.into_any(),
            Some(p) => view! {
                <dl class="facts">
                    <dt>"Account role"</dt><dd class="lookup-role">{p.role.clone()}</dd>
                    <dt>"Status"</dt><dd>{if p.status == "pending" { "Invitation pending" } else { "Active" }}</dd>
                </dl>
                <h2>"Server permissions"</h2>
                {if p.permissions.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain lookup-permissions">
                            {p.permissions.iter().map(|(id, server, permission)| view! {
                                <li>{format!("{permission} on {server} ({id})")}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }.into_any(),
        }}
        <YourItems items=found.items />
    }
}

#[component]
pub fn ReviewServerPage() -> impl IntoView {
    let query = use_query_map();
    let lookup = Resource::new(
        move || {
            query.with(|q| {
                q.get("id")
                    .and_then(|id| id.parse::<i64>().ok())
                    .unwrap_or(0)
            })
        },
        review_server,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lookup.await {
                    Ok(found) => view! { <ServerView found /> }.into_any(),
                    Err(error) => view! { <NotInQueue error what="server" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ServerView(found: ServerLookup) -> impl IntoView {
    let heading = found.server.as_ref().map_or_else(
        || format!("Server {}", found.id),
        |s| format!("{} ({})", s.name, s.id),
    );
    view! {
        <Title text=heading.clone() />
        <header class="page-header">
            <h1 class="lookup-heading">{heading}</h1>
            <p class="lede">"What the Postmark inventory holds for this server now. Read-only."</p>
        </header>
        {match found.server {
            None => view! { <p class="muted">"The last sync no longer saw this server in Postmark."</p> }.into_any(),
            Some(s) => view! {
                <dl class="facts">
                    <dt>"Activity"</dt><dd class="lookup-activity">{s.activity()}</dd>
                    <dt>"Risk flags"</dt><dd>{if s.flags.is_empty() { "None".to_string() } else { s.flags.join(", ") }}</dd>
                    <dt>"Owner"</dt><dd>{s.owner.clone().unwrap_or_else(|| "Not set".to_string())}</dd>
                    <dt>"People with access"</dt><dd>{s.people}</dd>
                </dl>
            }.into_any(),
        }}
        <h2>"Access you review on this server"</h2>
        {if found.people.is_empty() {
            view! { <p class="muted">"None."</p> }.into_any()
        } else {
            view! {
                <ul class="plain lookup-people">
                    {found.people.into_iter().map(|(email, name, permission)| view! {
                        <li>{format!("{name} <{email}>: {permission}")}</li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <YourItems items=found.items />
    }
}
