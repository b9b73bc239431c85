//! Settings → Group mappings: which identity-provider group grants which Postmark access, a
//! preview of who gains and who loses before a change is saved, and the jobs mappings started.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    api::{mappings_overview, MappingDelete, MappingDeletePreview, MappingPreview, MappingSave},
    Effect as Change, MappingJob, MappingView, Overview, PERMISSIONS, ROLES,
};
use crate::components::{notice::ErrorNotice, time::Timestamp, viewer::is_admin};

fn grants(m: &MappingView) -> String {
    let mut parts = Vec::new();
    if let Some(role) = &m.role {
        parts.push(format!("Account role {role}"));
    }
    if let Some(permission) = &m.permission {
        let servers: Vec<String> = m
            .servers
            .iter()
            .map(|(id, name)| format!("{name} ({id})"))
            .collect();
        parts.push(format!("{permission} on {}", servers.join(", ")));
    }
    parts.join("; ")
}

/// Who gains and who loses, as a preview or as what a save did.
#[component]
fn EffectView(effect: Change, heading: &'static str) -> impl IntoView {
    let line = |l: super::EffectLine| {
        view! { <li><strong>{l.person}</strong>" (" {l.email} "): " {l.what}</li> }
    };
    let nothing = effect.gains.is_empty() && effect.losses.is_empty();
    view! {
        <div class="mapping-effect" role="region" aria-label=heading>
            <h3>{heading}</h3>
            {effect.unknown_group.then(|| view! {
                <p class="notice notice-warn">"No identity provider has pushed a group of this name yet: the mapping gives nobody anything until one does. Check the spelling against the provider's group name."</p>
            })}
            {nothing.then(|| view! { <p class="muted">"Nobody gains or loses access."</p> })}
            {(!effect.gains.is_empty()).then(|| view! {
                <h4>{format!("Gain ({})", effect.gains.len())}</h4>
                <ul class="effect-gains">{effect.gains.into_iter().map(line).collect_view()}</ul>
            })}
            {(!effect.losses.is_empty()).then(|| view! {
                <h4>{format!("Lose ({})", effect.losses.len())}</h4>
                <ul class="effect-losses">{effect.losses.into_iter().map(line).collect_view()}</ul>
            })}
        </div>
    }
}

/// A result that takes the keyboard focus when it appears, so people using a screen reader
/// or the keyboard land on what their action did.
#[component]
fn Focused(children: Children) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(node) = node.get() {
            let _ = node.focus();
        }
    });
    view! { <div class="focused-result" tabindex="-1" node_ref=node>{children()}</div> }
}

/// The form's values, shared by the preview and the save.
#[derive(Clone, Copy)]
struct Fields {
    id: RwSignal<Option<i64>>,
    group: RwSignal<String>,
    role: RwSignal<String>,
    permission: RwSignal<String>,
    servers: RwSignal<Vec<i64>>,
}

impl Fields {
    fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            group: RwSignal::new(String::new()),
            role: RwSignal::new(String::new()),
            permission: RwSignal::new(String::new()),
            servers: RwSignal::new(Vec::new()),
        }
    }

    /// The values as the save sends them (servers sorted: their order means nothing).
    fn save(&self) -> MappingSave {
        let mut servers = self.servers.get();
        servers.sort_unstable();
        let servers: Vec<String> = servers.iter().map(i64::to_string).collect();
        MappingSave {
            id: self.id.get(),
            group: self.group.get().trim().to_string(),
            role: self.role.get(),
            permission: self.permission.get(),
            servers: servers.join(","),
        }
    }

    /// The values in a form comparable with a preview's (tracked: the page redraws on edits).
    fn key(&self) -> String {
        let s = self.save();
        format!(
            "{:?}|{}|{}|{}|{}",
            s.id, s.group, s.role, s.permission, s.servers
        )
    }

    fn load(&self, m: &MappingView) {
        self.id.set(Some(m.id));
        self.group.set(m.group.clone());
        self.role.set(m.role.clone().unwrap_or_default());
        self.permission
            .set(m.permission.clone().unwrap_or_default());
        self.servers
            .set(m.servers.iter().map(|(id, _)| *id).collect());
    }

    fn clear(&self) {
        self.id.set(None);
        self.group.set(String::new());
        self.role.set(String::new());
        self.permission.set(String::new());
        self.servers.set(Vec::new());
    }
}

/// The form, its preview, and the save of exactly what was previewed.
#[component]
fn MappingFormView(
    choices: Overview,
    fields: Fields,
    save: ServerAction<MappingSave>,
) -> impl IntoView {
    let preview = ServerAction::<MappingPreview>::new();
    // What the last preview was of: Save sends these values, and only while the form still
    // holds them.
    let previewed = RwSignal::new(None::<(String, MappingSave)>);
    let current = move || previewed.get().filter(|(key, _)| *key == fields.key());
    let option = |value: &'static str| view! { <option value=value>{value}</option> };
    let heading = move || {
        if fields.id.get().is_some() {
            "Change mapping"
        } else {
            "New mapping"
        }
    };
    let group_input = NodeRef::<leptos::html::Input>::new();
    // A save done: the form starts afresh; what it did stays below until the next action.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            preview.value().set(None);
            previewed.set(None);
            fields.clear();
        }
    });
    // Edit from the table: the form comes into view with the focus on its first field.
    Effect::new(move |_| {
        if fields.id.get().is_some() {
            if let Some(input) = group_input.get_untracked() {
                let _ = input.focus();
            }
        }
    });
    let servers = choices.servers.clone();
    view! {
        <section aria-labelledby="mapping-form-heading" class="mapping-form-section">
            <h2 id="mapping-form-heading">{heading}</h2>
            <form class="settings-form mapping-form" on:submit=move |ev| {
                ev.prevent_default();
                save.value().set(None);
                let values = fields.save();
                previewed.set(Some((fields.key(), values.clone())));
                preview.dispatch(MappingPreview {
                    id: values.id,
                    group: values.group,
                    role: values.role,
                    permission: values.permission,
                    servers: values.servers,
                });
            }>
                <label>
                    "Identity provider group"
                    <input type="text" name="group" required maxlength="200" autocomplete="off"
                        list="scim-groups" placeholder="postmark-payments-admins" node_ref=group_input
                        prop:value=move || fields.group.get()
                        on:input=move |ev| fields.group.set(event_target_value(&ev)) />
                </label>
                <datalist id="scim-groups">
                    {choices.groups.iter().map(|g| view! { <option value=g.clone()></option> }).collect_view()}
                </datalist>
                <label>
                    "Account role"
                    <select name="role" prop:value=move || fields.role.get()
                        on:change=move |ev| fields.role.set(event_target_value(&ev))>
                        <option value="">"No account role"</option>
                        {ROLES.into_iter().map(option).collect_view()}
                    </select>
                </label>
                <label>
                    "Server permission"
                    <select name="permission" prop:value=move || fields.permission.get()
                        on:change=move |ev| fields.permission.set(event_target_value(&ev))>
                        <option value="">"No server permission"</option>
                        {PERMISSIONS.into_iter().map(option).collect_view()}
                    </select>
                </label>
                <fieldset class="server-choices">
                    <legend>"On servers"</legend>
                    {servers.into_iter().map(|(id, name)| {
                        let checked = move || fields.servers.get().contains(&id);
                        view! {
                            <label class="checkbox">
                                <input type="checkbox" value=id.to_string() prop:checked=checked
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        fields.servers.update(|s| {
                                            s.retain(|x| *x != id);
                                            if on { s.push(id); }
                                        });
                                    } />
                                {format!("{name} ({id})")}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="form-actions">
                    <button type="submit" class="button preview-mapping" disabled=move || preview.pending().get()>
                        "Preview"
                    </button>
                    " "
                    <button type="button" class="button-secondary" on:click=move |_| {
                        fields.clear();
                        preview.value().set(None);
                        save.value().set(None);
                        previewed.set(None);
                    }>"Clear"</button>
                </div>
            </form>
            <div class="action-result" aria-live="polite">
                {move || preview.value().get().map(|result| match result {
                    Ok(effect) => match current() {
                        Some((_, values)) => view! {
                            <Focused>
                                <EffectView effect heading="If you save this mapping" />
                            </Focused>
                            <button type="button" class="button save-mapping" disabled=move || save.pending().get()
                                on:click=move |_| { save.dispatch(values.clone()); }>"Save mapping"</button>
                        }.into_any(),
                        None => view! {
                            <p class="stale notice notice-warn">"The form changed since this preview: preview again before saving."</p>
                        }.into_any(),
                    },
                    Err(error) => view! { <Focused><ErrorNotice error needs="admins" /></Focused> }.into_any(),
                })}
                {move || save.value().get().map(|result| match result {
                    Ok(effect) => view! {
                        <Focused>
                            <p class="status-ok">"Mapping saved."</p>
                            <EffectView effect heading="Jobs started" />
                        </Focused>
                    }.into_any(),
                    Err(error) => view! { <Focused><ErrorNotice error needs="admins" /></Focused> }.into_any(),
                })}
            </div>
        </section>
    }
}

/// A mapping's row, with Edit and a Delete that shows its effect first.
#[component]
fn MappingRow(
    mapping: MappingView,
    fields: Fields,
    delete: ServerAction<MappingDelete>,
) -> impl IntoView {
    // Each row's own preview, so two open confirmations never show each other's effect.
    let delete_preview = ServerAction::<MappingDeletePreview>::new();
    let id = mapping.id;
    let group = mapping.group.clone();
    let admin = is_admin();
    let asking = RwSignal::new(false);
    let edit_label = format!("Edit the mapping of {group}");
    let delete_label = format!("Delete the mapping of {group}…");
    let confirm_label = format!("Delete mapping {group}");
    let open_button = NodeRef::<leptos::html::Button>::new();
    let close = move || {
        asking.set(false);
        if let Some(button) = open_button.get_untracked() {
            let _ = button.focus();
        }
    };
    let row = mapping.clone();
    view! {
        <tr data-mapping-id=id.to_string()>
            <td data-label="Group">{mapping.group.clone()}</td>
            <td data-label="Grants">{grants(&mapping)}</td>
            <td data-label="Active members" class="num">{mapping.members}</td>
            <td data-label="Changed" class="nowrap"><Timestamp at=mapping.updated_at.clone() /><br /><span class="muted">{mapping.updated_by.clone()}</span></td>
            {admin.then(|| view! {
                <td>
                    <button type="button" class="button-secondary edit-mapping" aria-label=edit_label.clone()
                        on:click=move |_| fields.load(&row)>"Edit"</button>
                    " "
                    <Show when=move || asking.get()
                        fallback=move || view! {
                            <button type="button" class="button-secondary delete-mapping-open" aria-label=delete_label.clone()
                                node_ref=open_button
                                on:click=move |_| { asking.set(true); delete_preview.dispatch(MappingDeletePreview { id }); }>"Delete…"</button>
                        }>
                        <div class="confirm" role="group" aria-label="Confirm deletion"
                            on:keydown=move |ev| if ev.key() == "Escape" { close(); }>
                            {move || delete_preview.value().get().map(|result| match result {
                                Ok(effect) => view! { <Focused><EffectView effect heading="If you delete this mapping" /></Focused> }.into_any(),
                                Err(error) => view! { <Focused><ErrorNotice error needs="admins" /></Focused> }.into_any(),
                            })}
                            <button type="button" class="button-danger delete-mapping" aria-label=confirm_label.clone()
                                disabled=move || delete.pending().get() || delete_preview.pending().get()
                                on:click=move |_| {
                                    if fields.id.get_untracked() == Some(id) {
                                        fields.clear();
                                    }
                                    delete.dispatch(MappingDelete { id });
                                }>"Delete mapping"</button>
                            " "
                            <button type="button" class="button-secondary" on:click=move |_| close()>"Cancel"</button>
                        </div>
                    </Show>
                </td>
            })}
        </tr>
    }
}

#[component]
fn JobsTable(jobs: Vec<MappingJob>, has_gateway: bool) -> impl IntoView {
    let how = if has_gateway {
        "Jobs run through the users gateway; the next users sync proves them."
    } else {
        "No users gateway is configured: each job becomes a line of a fulfilment task for a Postmark admin; the next sync proves it."
    };
    view! {
        <section aria-labelledby="mapping-jobs-heading">
            <h2 id="mapping-jobs-heading">"Jobs from mappings"</h2>
            <p class="muted">{how}</p>
            {if jobs.is_empty() {
                view! { <p class="muted">"No jobs yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Jobs from mappings">
                        <table class="data-table mapping-jobs stack-narrow">
                            <thead>
                                <tr>
                                    <th scope="col">"Started"</th>
                                    <th scope="col">"Login"</th>
                                    <th scope="col">"Change"</th>
                                    <th scope="col">"Why"</th>
                                    <th scope="col">"State"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {jobs.into_iter().map(|job| view! {
                                    <tr data-job-id=job.id.to_string()>
                                        <td data-label="Started" class="nowrap"><Timestamp at=job.created_at.clone() /></td>
                                        <td data-label="Login">{job.email}</td>
                                        <td data-label="Change">{job.what}</td>
                                        <td data-label="Why">{job.reason}</td>
                                        <td data-label="State" class="job-state">
                                            {job.status}
                                            {(job.verification != "Unverified").then(|| format!(", {}", job.verification.to_lowercase()))}
                                            {job.last_error.map(|e| view! { <br /><span class="muted">{e}</span> })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn MappingsPage() -> impl IntoView {
    let save = ServerAction::<MappingSave>::new();
    let delete = ServerAction::<MappingDelete>::new();
    // Jobs run in the background: Refresh reads their state again.
    let refresh = RwSignal::new(0u32);
    let overview = Resource::new(
        move || (save.version().get(), delete.version().get(), refresh.get()),
        |_| mappings_overview(),
    );
    // The form's choices (groups, servers) are read once: a save must not redraw the form.
    let choices = Resource::new(|| (), |_| mappings_overview());
    let fields = Fields::new();
    let admin = is_admin();
    view! {
        <Title text="Group mappings" />
        <header class="page-header">
            <p class="breadcrumb"><A href="/settings">"Settings"</A></p>
            <h1>"Group mappings"</h1>
            <p class="lede">
                "A group at your identity provider grants a Postmark account role, a permission on chosen servers, or both. Joining a mapped group starts provisioning jobs; leaving it (or a mapping's change) starts removals of what it gave. Every change shows who gains and who loses before it is saved."
            </p>
        </header>
        <div class="action-result" aria-live="polite">
            {move || delete.value().get().map(|result| match result {
                Ok(effect) => view! {
                    <Focused>
                        <p class="status-ok">"Mapping deleted."</p>
                        <EffectView effect heading="Removals started" />
                    </Focused>
                }.into_any(),
                Err(error) => view! { <Focused><ErrorNotice error needs="admins" /></Focused> }.into_any(),
            })}
        </div>
        // Transition: while a save or Refresh reads again, the page keeps what it shows.
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let mappings = overview.mappings.clone();
                        view! {
                            <section aria-labelledby="mappings-heading">
                                <h2 id="mappings-heading">"Mappings"</h2>
                                {if mappings.is_empty() {
                                    view! { <p class="muted">"No mappings yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap" tabindex="0" role="region" aria-label="Group mappings">
                                            <table class="data-table mappings stack-narrow">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Group"</th>
                                                        <th scope="col">"Grants"</th>
                                                        <th scope="col">"Active members"</th>
                                                        <th scope="col">"Changed"</th>
                                                        {admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {mappings.into_iter().map(|mapping| view! {
                                                        <MappingRow mapping fields delete />
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error needs="admins or auditors" /> }.into_any(),
                }
            })}
        </Transition>
        {admin.then(|| view! {
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(choices) => view! { <MappingFormView choices fields save /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                    }
                })}
            </Suspense>
        })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <JobsTable jobs=overview.jobs has_gateway=overview.has_gateway /> }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
        <p>
            <button type="button" class="button-secondary"
                on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
        </p>
    }
}
