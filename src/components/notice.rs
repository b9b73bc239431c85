//! How a page says that loading its data failed, without internal details.

use leptos::prelude::*;

use crate::error::AppError;

/// Explains an error from a server function in words a user can act on.
#[component]
pub fn ErrorNotice(error: AppError, #[prop(into)] needs: String) -> impl IntoView {
    match error {
        AppError::Unauthorized => view! {
            <div class="notice notice-warn" role="alert">
                <p>
                    "Your session has ended. " <a href="/auth/login" rel="external">
                        "Sign in again"
                    </a>
                </p>
            </div>
        }
        .into_any(),
        AppError::Forbidden => view! {
            <div class="notice notice-warn" role="alert">
                <p>{format!("This page is for {needs}. Ask an administrator if you need access.")}</p>
            </div>
        }
        .into_any(),
        other => view! {
            <div class="notice notice-error" role="alert">
                <p>{other.to_string()}</p>
            </div>
        }
        .into_any(),
    }
}
