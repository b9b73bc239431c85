//! What waits for an admin, for the home page: campaigns past their due date with undecided
//! items, and closed campaigns not yet signed off with what stands in the way (flagged items,
//! revocations to apply, failed or manual ones), or "ready to sign off". The same sentences as
//! the campaign's sign-off panel, so both say the same thing.

use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::{components::notice::ErrorNotice, error::AppError};

/// One campaign that needs an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub campaign_id: i64,
    pub campaign: String,
    /// `(sentence, link)`: what to do, and where.
    pub lines: Vec<(String, String)>,
}

#[server(prefix = "/api", endpoint = "home_attention", output = crate::codec::TextJson)]
pub async fn admin_attention() -> Result<Vec<Attention>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(ssr::load(&state.db, state.clock.now().date()).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::Attention;
    use crate::{campaigns::Status, db::Db, error::AppError};

    pub async fn load(db: &Db, today: time::Date) -> Result<Vec<Attention>, AppError> {
        let mut found = Vec::new();
        let overdue: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.name, c.due_on, COUNT(*) FROM campaigns c \
             JOIN review_items i ON i.campaign_id = c.id \
             WHERE c.status = 'active' AND i.decision IS NULL \
             GROUP BY c.id, c.name, c.due_on ORDER BY c.due_on, c.id",
        )
        .fetch_all(db.pool())
        .await?;
        for (id, name, due_on, undecided) in overdue {
            let past = crate::campaigns::db::parse_date(&due_on).is_some_and(|due| today > due);
            if past {
                found.push(Attention {
                    campaign_id: id,
                    campaign: name,
                    lines: vec![(
                        format!(
                            "Past its due date ({due_on}) with {undecided} undecided: remind \
                             the reviewers, hand their items on, or close it."
                        ),
                        format!("/campaigns/{id}"),
                    )],
                });
            }
        }
        let closed: Vec<(i64, String)> = sqlx::query_as(
            "SELECT c.id, c.name FROM campaigns c WHERE c.status = 'closed' \
             AND NOT EXISTS (SELECT 1 FROM campaign_signoffs s WHERE s.campaign_id = c.id) \
             ORDER BY c.closed_at, c.id",
        )
        .fetch_all(db.pool())
        .await?;
        let mut conn = db.pool().acquire().await?;
        for (id, name) in closed {
            let page = format!("/campaigns/{id}");
            let blockers = crate::signoff::db::blockers(&mut conn, id, Status::Closed).await?;
            let lines = if blockers.is_empty() {
                vec![("Ready to sign off.".to_string(), page)]
            } else {
                blockers
                    .into_iter()
                    .map(|b| {
                        let href = match b.action {
                            // The sign-off panel's anchors are on the campaign page.
                            Some((_, href)) if href.starts_with('#') => format!("{page}{href}"),
                            Some((_, href)) => href,
                            None => page.clone(),
                        };
                        (b.text, href)
                    })
                    .collect()
            };
            found.push(Attention {
                campaign_id: id,
                campaign: name,
                lines,
            });
        }
        Ok(found)
    }
}

/// The home page's "Needs an admin" section.
#[component]
pub fn NeedsAnAdmin() -> impl IntoView {
    let attention = Resource::new(|| (), |_| admin_attention());
    view! {
        <section aria-labelledby="attention-heading" class="attention">
            <h2 id="attention-heading">"Needs an admin"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match attention.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-state">"Nothing waits for an admin: no campaign is overdue or waiting to be signed off."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="attention-list">
                                {list.into_iter().map(|a| view! {
                                    <li class="attention-campaign">
                                        <A href=format!("/campaigns/{}", a.campaign_id)><strong>{a.campaign}</strong></A>
                                        <ul>
                                            {a.lines.into_iter().map(|(text, href)| view! {
                                                <li><A href=href>{text}</A></li>
                                            }).collect_view()}
                                        </ul>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
