//! The pages that load their own code when first opened: everything but the home page and
//! the reviewer's queue, which most people open and which stay in the main bundle.
//!
//! Each type below is a route `app.rs` registers as `Lazy::<Type>::new()`. `#[lazy_route]`
//! marks its view as a split point: the release and debug builds (`scripts/lib.sh`) cut the
//! view, and all code only it reaches, out of the main wasm into a file the browser fetches
//! when the route is first shown (code several lazy pages share goes to a chunk of its own).
//! The server renders them like any other page.

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

/// One lazily loaded route: `lazy_page!(Type, view! { … })`. The route needs no data before its
/// code arrives (each page starts its own resources), so `data()` is empty.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $name:ident, $view:expr) => {
        $(#[$doc])*
        pub struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }

            fn view(_this: Self) -> AnyView {
                $view.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/inventory`
    Inventory,
    view! { <Protected><StaffOnly title="Inventory"><InventoryPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/inventory/servers/:id`
    InventoryServer,
    view! { <Protected><StaffOnly title="Server"><ServerPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/inventory/users/:email`
    InventoryUser,
    view! { <Protected><StaffOnly title="User"><UserPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/inventory/users`
    InventoryUsers,
    view! { <Protected><StaffOnly title="Users"><UsersPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/inventory/syncs`
    InventorySyncs,
    view! { <Protected><StaffOnly title="Sync history"><SyncsPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/campaigns`
    Campaigns,
    view! { <Protected><CampaignsPage /></Protected> }
);
lazy_page!(
    /// `/campaigns/new`
    NewCampaign,
    view! { <Protected><NewCampaignPage /></Protected> }
);
lazy_page!(
    /// `/campaigns/:id`
    Campaign,
    view! { <Protected><CampaignPage /></Protected> }
);
lazy_page!(
    /// `/reviews/person`
    ReviewPerson,
    view! { <Protected><ReviewPersonPage /></Protected> }
);
lazy_page!(
    /// `/reviews/server`
    ReviewServer,
    view! { <Protected><ReviewServerPage /></Protected> }
);
lazy_page!(
    /// `/audit`
    Audit,
    view! { <Protected><StaffOnly title="Audit"><AuditPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/notifications`
    Notifications,
    view! { <Protected><StaffOnly title="Notifications"><NotificationsPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/inbox`
    Inbox,
    view! { <Protected><InboxPage /></Protected> }
);
lazy_page!(
    /// `/revocations`
    Revocations,
    view! { <Protected><StaffOnly title="Revocations"><RevocationsPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/offboarding`
    Offboarding,
    view! { <Protected><StaffOnly title="Offboarding"><OffboardingPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/tasks`
    Tasks,
    view! { <Protected><TasksPage /></Protected> }
);
lazy_page!(
    /// `/tasks/:id`
    Task,
    view! { <Protected><TaskPage /></Protected> }
);
lazy_page!(
    /// `/settings`
    Settings,
    view! { <Protected><SettingsPage /></Protected> }
);
lazy_page!(
    /// `/settings/mappings`
    Mappings,
    view! { <Protected><StaffOnly title="Group mappings"><MappingsPage /></StaffOnly></Protected> }
);
lazy_page!(
    /// `/settings/scim`
    ScimTokens,
    view! { <Protected><ScimTokensPage /></Protected> }
);
