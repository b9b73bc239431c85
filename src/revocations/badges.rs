//! The fulfilment and verification of a revocation as badges, the same wherever a revocation
//! shows: the Revocations page, the inventory's server and user pages, the campaign dashboard
//! and "My reviews". Each badge says its meaning in words; the colour only repeats it.

use leptos::prelude::*;

use super::{views::Restored, RevocationView, Status, Verification};

pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::Done => "badge badge-ok",
        Status::Failed => "badge badge-bad",
        Status::Manual | Status::Running => "badge badge-warn",
        Status::ToRevoke | Status::Pending => "badge",
        Status::Excluded | Status::Cancelled => "badge badge-muted",
    }
}

/// What the syncs proved about a done job, in words: `(class, text)`, or nothing for a job
/// that is not done.
pub fn verification_note(row: &RevocationView) -> Option<(&'static str, String)> {
    let sync =
        |id: Option<i64>| id.map_or_else(|| "a sync".to_string(), |id| format!("sync #{id}"));
    if row.drift_at.is_some() {
        return Some((
            "badge badge-bad verification verification-drift",
            format!("Drift: access came back in {}", sync(row.drift_sync_id)),
        ));
    }
    match row.verification {
        Verification::Effective => Some((
            "badge badge-ok verification verification-effective",
            format!("Effective (gone in {})", sync(row.verified_sync_id)),
        )),
        Verification::NotEffective => Some((
            "badge badge-bad verification verification-not-effective",
            format!(
                "Not effective — still in Postmark after {}",
                sync(row.verified_sync_id)
            ),
        )),
        Verification::Unverified if row.status == Status::Done => Some((
            "badge badge-muted verification verification-unverified",
            "Not verified yet: the next sync decides".to_string(),
        )),
        Verification::Unverified => None,
    }
}

/// The status badge, then the verification badge (or, for a restored server, who restored it
/// and when: syncs no longer judge it).
#[component]
pub fn FulfilmentBadges(
    row: RevocationView,
    #[prop(optional_no_strip)] restored: Option<Restored>,
) -> impl IntoView {
    let verified = match &restored {
        Some(r) => Some((
            "badge badge-muted verification verification-restored",
            format!(
                "Restored on {} by {}",
                r.at.get(..10).unwrap_or(&r.at),
                r.by
            ),
        )),
        None => verification_note(&row),
    };
    view! {
        <span class=format!("{} fulfilment-status", status_class(row.status))>{row.status.label()}</span>
        {verified.map(|(class, text)| view! { " " <span class=class>{text}</span> })}
    }
}
