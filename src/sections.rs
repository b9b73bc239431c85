//! The main sections reached from the navigation.
//!
//! Each section states what it holds and, while it has nothing to show, what brings data into
//! it; the features behind them fill these pages in.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    app::ShellInfo,
    auth::{page::PeopleSection, Role},
};

#[component]
fn Section(title: &'static str, summary: &'static str, empty: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{title}</h1>
            <p class="lede">{summary}</p>
        </header>
        <div class="empty-state" role="note">
            <p>{empty}</p>
        </div>
    }
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    view! {
        <Section
            title="Campaigns"
            summary="Review campaigns: scope, reviewers, progress, close and sign-off."
            empty="No campaigns yet. An administrator creates one once the inventory is in place."
        />
    }
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    view! {
        <Section
            title="My reviews"
            summary="The accesses assigned to you in open campaigns, to approve or revoke."
            empty="Nothing to review. When a campaign assigns you items, they appear here and you get an email."
        />
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let is_admin = use_context::<ShellInfo>()
        .and_then(|info| info.viewer)
        .is_some_and(|viewer| viewer.has(Role::Admin));
    view! {
        <Title text="Settings" />
        <header class="page-header">
            <h1>"Settings"</h1>
            <p class="lede">
                "The Postmark connection, the users gateway, server owners and review defaults. Deployment settings come from PAR_* environment variables and the optional config file (see the README)."
            </p>
        </header>
        {if is_admin {
            view! { <PeopleSection /> }.into_any()
        } else {
            view! {
                <div class="notice notice-warn" role="note">
                    <p>"Settings are managed by admins."</p>
                </div>
            }
            .into_any()
        }}
    }
}
