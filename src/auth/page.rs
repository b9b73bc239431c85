//! People who have signed in (shown to admins on the settings page).

use leptos::prelude::*;

use super::api::list_people;
use crate::components::{notice::ErrorNotice, time::Timestamp};

#[component]
pub fn PeopleSection() -> impl IntoView {
    let people = Resource::new(|| (), |()| list_people());
    view! {
        <section aria-labelledby="people-heading">
            <h2 id="people-heading">"People who have signed in"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(people) => view! {
                            <div class="table-wrap" tabindex="0" role="region" aria-label="People">
                                <table class="data-table people-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Email"</th>
                                            <th scope="col">"First sign-in"</th>
                                            <th scope="col">"Last sign-in"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {people
                                            .into_iter()
                                            .map(|p| view! {
                                                <tr>
                                                    <td>{p.name}</td>
                                                    <td>{p.email}</td>
                                                    <td class="nowrap"><Timestamp at=p.first_sign_in_at /></td>
                                                    <td class="nowrap"><Timestamp at=p.last_sign_in_at /></td>
                                                </tr>
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
