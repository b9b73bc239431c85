//! The pages that load their code when first opened: everything but the home page and the
//! reviewer's queue, which most people open and which stay in the main bundle.
//!
//! Each route type below is what `app.rs` registers as `Lazy::<Type>::new()`; `#[lazy_route]`
//! makes its view a split point. The builds (`scripts/lib.sh`) cut each view, and all code
//! only it reaches, out of the main wasm into a file of its own, and code several split points
//! share into a chunk they all fetch. The views go through one function per group of pages, by
//! who opens them: [`staff_page`] (admins and auditors), [`reviewer_page`] (a reviewer's
//! look-ups and inbox) and [`fulfilment_page`] (revocations carried out by hand). Every route
//! of a group so reaches all its pages, and the group's code lands in one chunk, fetched once
//! with the first of its pages: a split per page alone made 250 files, 132 of them for the
//! campaign page (README, "Bundle size").
//!
//! The server renders these pages like any other.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::{
    audit::page::AuditPage,
    campaigns::{
        detail::CampaignPage,
        pages::{CampaignsPage, NewCampaignPage},
    },
    components::shell::{Protected, StaffOnly},
    fulfilment::page::{TaskPage, TasksPage},
    inventory::{
        detail::{ServerPage, UserPage},
        pages::{InventoryPage, SyncsPage},
        users_page::UsersPage,
    },
    mappings::page::MappingsPage,
    notifications::page::{InboxPage, NotificationsPage},
    offboarding::page::OffboardingPage,
    reviews::lookup::{ReviewPersonPage, ReviewServerPage},
    revocations::page::RevocationsPage,
    scim::page::ScimTokensPage,
    settings_page::SettingsPage,
};

/// `lazy_pages!(group(GroupPage): Type, …)`: a lazily loaded route per page of a group, whose
/// view is `group(GroupPage::Type)`. No route needs data before its code arrives (each page
/// starts its own resources), so `data()` is empty.
macro_rules! lazy_pages {
    ($group:ident($page:ident): $($name:ident),+ $(,)?) => {$(
        #[doc = concat!("A page of [`", stringify!($group), "`].")]
        pub struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }

            fn view(_this: Self) -> AnyView {
                $group($page::$name)
            }
        }
    )+};
}

/// The pages for admins and auditors.
#[derive(Debug, Clone, Copy)]
pub enum StaffPage {
    Inventory,
    InventoryServer,
    InventoryUser,
    InventoryUsers,
    InventorySyncs,
    Campaigns,
    NewCampaign,
    Campaign,
    Audit,
    Notifications,
    Revocations,
    Offboarding,
    Settings,
    Mappings,
    ScimTokens,
}

lazy_pages!(staff_page(StaffPage): Inventory, InventoryServer, InventoryUser, InventoryUsers,
    InventorySyncs, Campaigns, NewCampaign, Campaign, Audit, Notifications, Revocations,
    Offboarding, Settings, Mappings, ScimTokens);

/// The pages for admins and auditors. Every route of the group reaches all of them through
/// here, so their code is loaded together.
pub fn staff_page(page: StaffPage) -> AnyView {
    match page {
        StaffPage::Inventory => view! {
            <Protected><StaffOnly title="Inventory"><InventoryPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::InventoryServer => view! {
            <Protected><StaffOnly title="Server"><ServerPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::InventoryUser => view! {
            <Protected><StaffOnly title="User"><UserPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::InventoryUsers => view! {
            <Protected><StaffOnly title="Users"><UsersPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::InventorySyncs => view! {
            <Protected><StaffOnly title="Sync history"><SyncsPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::Campaigns => view! { <Protected><CampaignsPage /></Protected> }.into_any(),
        StaffPage::NewCampaign => view! { <Protected><NewCampaignPage /></Protected> }.into_any(),
        StaffPage::Campaign => view! { <Protected><CampaignPage /></Protected> }.into_any(),
        StaffPage::Audit => view! {
            <Protected><StaffOnly title="Audit"><AuditPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::Notifications => view! {
            <Protected><StaffOnly title="Notifications"><NotificationsPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::Revocations => view! {
            <Protected><StaffOnly title="Revocations"><RevocationsPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::Offboarding => view! {
            <Protected><StaffOnly title="Offboarding"><OffboardingPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::Settings => view! { <Protected><SettingsPage /></Protected> }.into_any(),
        StaffPage::Mappings => view! {
            <Protected><StaffOnly title="Group mappings"><MappingsPage /></StaffOnly></Protected>
        }
        .into_any(),
        StaffPage::ScimTokens => view! { <Protected><ScimTokensPage /></Protected> }.into_any(),
    }
}

/// A reviewer's pages besides the queue: the read-only person and server look-ups the queue
/// links to, and the inbox.
#[derive(Debug, Clone, Copy)]
pub enum ReviewerPage {
    ReviewPerson,
    ReviewServer,
    Inbox,
}

lazy_pages!(reviewer_page(ReviewerPage): ReviewPerson, ReviewServer, Inbox);

/// A reviewer's pages besides the queue, loaded together (see [`staff_page`]).
pub fn reviewer_page(page: ReviewerPage) -> AnyView {
    match page {
        ReviewerPage::ReviewPerson => {
            view! { <Protected><ReviewPersonPage /></Protected> }.into_any()
        }
        ReviewerPage::ReviewServer => {
            view! { <Protected><ReviewServerPage /></Protected> }.into_any()
        }
        ReviewerPage::Inbox => view! { <Protected><InboxPage /></Protected> }.into_any(),
    }
}

/// The revocations someone carries out by hand in Postmark.
#[derive(Debug, Clone, Copy)]
pub enum FulfilmentPage {
    Tasks,
    Task,
}

lazy_pages!(fulfilment_page(FulfilmentPage): Tasks, Task);

/// The task list and a task, loaded together (see [`staff_page`]).
pub fn fulfilment_page(page: FulfilmentPage) -> AnyView {
    match page {
        FulfilmentPage::Tasks => view! { <Protected><TasksPage /></Protected> }.into_any(),
        FulfilmentPage::Task => view! { <Protected><TaskPage /></Protected> }.into_any(),
    }
}
